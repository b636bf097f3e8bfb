// The App with its keys, on real servers: p pauses, tab switches views, q quits and unsubscribes.
import { afterEach, expect, test } from "bun:test";
import { cleanup, render } from "ink-testing-library";
import { App } from "../../src/tui/App.tsx";
import { eventually, keySnap, providerSnap, snap, win } from "./fixtures.ts";
import { type FakeStatsServer, fakeStatsServer } from "./sse-server.ts";

const servers: FakeStatsServer[] = [];
afterEach(async () => {
  cleanup();
  while (servers.length) await servers.pop()!.stop();
});

const OPTIONS = { intervalMs: 100, minBackoffMs: 50, maxBackoffMs: 300 };
const node = (queue: number) =>
  snap({
    uptime_seconds: 10,
    providers: [providerSnap("openai", { waiting_in_acquire: queue, in_flight: 2, max_concurrent: 4 })],
    keys: [keySnap("team-a", { windows: { rpm: win(5, 20) } })],
  });

test("one node: live data on screen; p freezes and resumes; q quits and closes the stream", async () => {
  const server = fakeStatsServer({ snapshots: [node(6)] });
  servers.push(server);
  const { lastFrame, stdin } = render(<App urls={[server.url]} options={OPTIONS} color={false} />);
  await eventually(() => /openai .* 6 █/.test(lastFrame()!), 10_000, "the provider row");
  expect(lastFrame()).toContain("team-a");
  expect(lastFrame()).toContain("2/4");
  expect(server.open()).toBe(1);
  stdin.write("p");
  await eventually(() => lastFrame()!.includes("PAUSED"), 5_000, "PAUSED");
  stdin.write("p");
  await eventually(() => !lastFrame()!.includes("PAUSED"), 5_000, "resumed");
  stdin.write("q");
  await eventually(() => server.open() === 0, 5_000, "the stream to close");
});

test("two nodes: the overview sums them; tab shows each node", async () => {
  const a = fakeStatsServer({ snapshots: [node(6)] });
  const b = fakeStatsServer({ snapshots: [node(4)] });
  servers.push(a, b);
  const { lastFrame, stdin } = render(<App urls={[a.url, b.url]} options={OPTIONS} color={false} />);
  await eventually(() => lastFrame()!.includes("2/2 live") && /openai .* 10 █/.test(lastFrame()!), 10_000, "summed overview");
  expect(lastFrame()).toContain("2 nodes (summed)");
  expect(lastFrame()).toContain("4/8");
  stdin.write("\t");
  await eventually(() => lastFrame()!.includes("NODE"), 5_000, "the per-node view");
  expect(lastFrame()).toContain(a.url.replace("http://", ""));
  expect(lastFrame()).toContain(b.url.replace("http://", ""));
  stdin.write("\t");
  await eventually(() => lastFrame()!.includes("PROVIDER"), 5_000, "back to the overview");
});
