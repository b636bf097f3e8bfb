// useSnapshots against real servers on real sockets: SSE delivery, reconnecting after a restart,
// polling where /admin/events is missing, the admin token.
import { afterEach, expect, test } from "bun:test";
import { Text } from "ink";
import { cleanup, render } from "ink-testing-library";
import type { FollowOptions } from "../../src/tui/follow-node.ts";
import { useSnapshots } from "../../src/tui/use-snapshots.ts";
import { eventually, providerSnap, snap } from "./fixtures.ts";
import { type FakeStatsServer, fakeStatsServer } from "./sse-server.ts";

const servers: FakeStatsServer[] = [];
afterEach(async () => {
  cleanup();
  while (servers.length) await servers.pop()!.stop();
});

const FAST: FollowOptions = { intervalMs: 100, minBackoffMs: 50, maxBackoffMs: 300 };

/** Shows each node as "status transport uptime queue history-length error". */
function Probe({ urls, options }: { readonly urls: readonly string[]; readonly options: FollowOptions }) {
  const nodes = useSnapshots(urls, options);
  return (
    <Text>
      {nodes
        .map((n) => `${n.status} ${n.transport ?? "-"} up=${n.snapshot?.uptime_seconds ?? "-"} q=${n.snapshot?.providers[0]?.waiting_in_acquire ?? "-"} h=${n.history.length} ${n.error ?? ""}`.trim())
        .join("\n")}
    </Text>
  );
}

const s1 = snap({ uptime_seconds: 1, providers: [providerSnap("openai", { waiting_in_acquire: 4 })] });
const s2 = snap({ uptime_seconds: 2, providers: [providerSnap("openai", { waiting_in_acquire: 9 })] });

function start(opts: Parameters<typeof fakeStatsServer>[0]) {
  const s = fakeStatsServer(opts);
  servers.push(s);
  return s;
}

test("delivers the snapshots of the SSE stream in order, with a history", async () => {
  const server = start({ snapshots: [s1, s2], gapMs: 150 });
  const { lastFrame, frames } = render(<Probe urls={[server.url]} options={FAST} />);
  expect(lastFrame()).toContain("connecting");
  await eventually(() => lastFrame()!.includes("up=2"), 10_000, "second snapshot");
  expect(lastFrame()).toBe("live events up=2 q=9 h=2");
  const firstSeen = frames.findIndex((f) => f.includes("live events up=1 q=4 h=1"));
  expect(firstSeen).toBeGreaterThan(-1);
  expect(firstSeen).toBeLessThan(frames.findIndex((f) => f.includes("up=2")));
  expect(server.requests[0]).toBe("/admin/events?interval_ms=100");
});

test("reconnects by itself after the server restarts, showing reconnecting… meanwhile", async () => {
  const first = start({ snapshots: [s1] });
  const { port } = first;
  const { lastFrame } = render(<Probe urls={[first.url]} options={FAST} />);
  await eventually(() => lastFrame()!.includes("live events up=1"), 10_000, "first server");
  await servers.splice(servers.indexOf(first), 1)[0]!.stop();
  await eventually(() => lastFrame()!.startsWith("reconnecting"), 10_000, "reconnecting");
  // the last data stays while reconnecting
  expect(lastFrame()).toContain("up=1 q=4");
  expect(lastFrame()).toMatch(/127\.0\.0\.1:\d+/);
  await Bun.sleep(400);
  let second: FakeStatsServer | undefined;
  for (let i = 0; i < 50 && !second; i++) {
    try {
      second = start({ port, snapshots: [snap({ uptime_seconds: 0.5, providers: [providerSnap("openai", { waiting_in_acquire: 2 })] })] });
    } catch {
      await Bun.sleep(100); // port not free yet
    }
  }
  expect(second).toBeDefined();
  // a restarted node (uptime went back) starts a fresh history
  await eventually(() => lastFrame() === "live events up=0.5 q=2 h=1", 10_000, "reconnected");
});

test("falls back to polling /admin/stats where /admin/events is 404", async () => {
  const server = start({ snapshots: [s1, s2], events: false });
  const { lastFrame } = render(<Probe urls={[server.url]} options={FAST} />);
  await eventually(() => lastFrame()!.includes("live poll up=2"), 10_000, "polled snapshots");
  expect(server.requests).toContain("/admin/events?interval_ms=100");
  expect(server.requests.filter((r) => r === "/admin/stats").length).toBeGreaterThanOrEqual(2);
});

test("sends the admin token; without it says how to pass one", async () => {
  const server = start({ snapshots: [s1], token: "admin-secret" });
  const without = render(<Probe urls={[server.url]} options={FAST} />);
  await eventually(() => without.lastFrame()!.includes("--token"), 10_000, "token hint");
  expect(without.lastFrame()).toStartWith("reconnecting");
  without.unmount();
  const withToken = render(<Probe urls={[server.url]} options={{ ...FAST, token: "admin-secret" }} />);
  await eventually(() => withToken.lastFrame()!.includes("live events up=1"), 10_000, "authorised stream");
});

test("follows several nodes at once; an unreachable one does not hold back the others", async () => {
  const a = start({ snapshots: [s1] });
  const b = start({ snapshots: [s2], events: false });
  const dead = start({ snapshots: [s1] });
  const deadUrl = dead.url;
  await servers.splice(servers.indexOf(dead), 1)[0]!.stop();
  const { lastFrame } = render(<Probe urls={[a.url, b.url, deadUrl]} options={FAST} />);
  await eventually(() => {
    const [la, lb, lc] = lastFrame()!.split("\n");
    return la!.startsWith("live events up=1") && lb!.startsWith("live poll up=2") && lc!.startsWith("reconnecting");
  }, 10_000, "three nodes");
  expect(lastFrame()).toContain("connection refused");
});
