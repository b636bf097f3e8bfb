// Components render what the snapshots say: names, queue numbers, bars — also after rerender.
import { afterEach, expect, test } from "bun:test";
import { cleanup, render } from "ink-testing-library";
import { Bar, barParts } from "../../src/tui/Bar.tsx";
import { KeyTable } from "../../src/tui/KeyTable.tsx";
import { ProviderTable } from "../../src/tui/ProviderTable.tsx";
import { Screen } from "../../src/tui/Screen.tsx";
import { Sparkline, sparkline } from "../../src/tui/Sparkline.tsx";
import type { NodeState } from "../../src/tui/follow-node.ts";
import { deriveView } from "../../src/tui/view-model.ts";
import { keySnap, liveNode, providerSnap, snap, win } from "./fixtures.ts";

afterEach(() => cleanup());

const openai = (extra = {}) =>
  providerSnap("openai", {
    mode: "spaced",
    interval_seconds: 2,
    waiting_in_acquire: 12,
    queued_ahead: 11,
    in_flight: 3,
    max_concurrent: 8,
    sent: 40,
    upstream_429: 2,
    queue_timeouts: 1,
    next_slot_in_seconds: 1.5,
    ...extra,
  });
const deepseek = (extra = {}) => providerSnap("deepseek", { mode: "burst", interval_seconds: 0.5, capacity: 5, sent: 7, ...extra });
const teamA = keySnap("team-a", {
  windows: { rpm: win(12, 20, 41), input_tpm: win(1200, 10000), output_tpm: win(0, 10000) },
  requests: 15,
  rejected: 3,
  rejected_by: { rpm: 3 },
});

function screen(nodes: readonly NodeState[], extra: Partial<Parameters<typeof Screen>[0]> = {}) {
  return <Screen urls={nodes.map((n) => n.url)} nodes={nodes} viewIndex={0} paused={false} columns={80} rows={24} color={false} {...extra} />;
}

test("Bar: filled and empty parts in eighths; anything above zero shows", () => {
  expect(barParts(5, 10, 10)).toEqual(["█████", "░░░░░"]);
  expect(barParts(0, 10, 4)).toEqual(["", "░░░░"]);
  expect(barParts(1, 1000, 4)).toEqual(["▏", "░░░"]);
  expect(barParts(30, 10, 4)).toEqual(["████", ""]);
  expect(barParts(3, 0, 3)).toEqual(["███", ""]);
  const { lastFrame, rerender } = render(<Bar value={2} max={4} width={8} />);
  expect(lastFrame()).toBe("████░░░░");
  rerender(<Bar value={4} max={4} width={8} />);
  expect(lastFrame()).toBe("████████");
});

test("Sparkline: zero is the baseline, non-zero at least one level up, scaled to max", () => {
  expect(sparkline([0, 1, 2, 4], 4)).toBe("▁▄▅█");
  expect(sparkline([0, 0])).toBe("▁▁");
  expect(sparkline([1, 100], 10)).toBe("▂█");
  const { lastFrame } = render(<Sparkline values={[0, 2, 4]} />);
  expect(lastFrame()).toBe("▁▅█");
});

test("ProviderTable: names, mode and limit, queue number and bar, in-flight, sent/min, 429s, 503s, next slot; rerender updates", () => {
  const node = liveNode("http://a", [snap({ uptime_seconds: 30, providers: [openai(), deepseek()] })]);
  const model = deriveView([node], 1_000_000, 10);
  const { lastFrame, rerender } = render(<ProviderTable rows={model.providers} width={80} queueScale={model.queueScale} />);
  const frame = lastFrame()!;
  const [header, row1, row2] = frame.split("\n");
  expect(header).toContain("PROVIDER");
  expect(header).toContain("queue");
  expect(header).toContain("429");
  expect(row1).toContain("openai");
  expect(row1).toContain("spaced 30/m");
  expect(row1).toMatch(/ 12 █/);
  expect(row1).toContain("3/8");
  // up for 30 s: all 40 sent count as the last minute
  expect(row1).toContain("40/30");
  expect(row1).toMatch(/ 2 +1 +1\.5s$/);
  expect(row2).toContain("deepseek");
  expect(row2).toContain("burst 5·120/m");
  expect(row2).toContain("7/120");
  expect(row2).toContain("0/∞");

  const later = liveNode("http://a", [snap({ uptime_seconds: 31, providers: [openai({ waiting_in_acquire: 3, in_flight: 8, upstream_429: 9 }), deepseek()] })]);
  const m2 = deriveView([later], 1_000_000, 10);
  rerender(<ProviderTable rows={m2.providers} width={80} queueScale={m2.queueScale} />);
  const row = lastFrame()!.split("\n")[1]!;
  expect(row).toMatch(/ 3 █/);
  expect(row).toContain("8/8");
  expect(row).toMatch(/ 9 +1 +1\.5s$/);
});

test("KeyTable: a line per dimension with usage bar and used/limit, rejections on the first", () => {
  const model = deriveView([liveNode("http://a", [snap({ keys: [teamA, keySnap("free-tier")] })])], 1_000_000, 0);
  const { lastFrame, rerender } = render(<KeyTable rows={model.keys} width={80} />);
  const lines = lastFrame()!.split("\n");
  expect(lines[0]).toContain("KEY");
  expect(lines[1]).toContain("team-a");
  expect(lines[1]).toContain("rpm");
  expect(lines[1]).toContain("12/20");
  expect(lines[1]).toContain("█");
  expect(lines[1]).toContain("41s");
  expect(lines[1]).toContain("3 rpm:3");
  expect(lines[2]).toContain("input_tpm");
  expect(lines[2]).toContain("1.2k/10k");
  expect(lines[3]).toContain("output_tpm");
  expect(lines[3]).toContain("0/10k");
  expect(lines[4]).toContain("free-tier");
  expect(lines[4]).toContain("no limits");

  const m2 = deriveView([liveNode("http://a", [snap({ keys: [{ ...teamA, windows: { rpm: win(20, 20) }, rejected: 7, rejected_by: { rpm: 7 } }] })])], 1_000_000, 0);
  rerender(<KeyTable rows={m2.keys} width={80} />);
  expect(lastFrame()!.split("\n")[1]).toMatch(/████ +20\/20 .*7 rpm:7/);
});

test("Screen at 80×24: header with uptime and store, providers and keys, footer; fits the terminal", () => {
  const node = liveNode("http://127.0.0.1:8080", [snap({ uptime_seconds: 100, providers: [openai(), deepseek()], keys: [teamA] })]);
  const { lastFrame, rerender } = render(screen([node]));
  const frame = lastFrame()!;
  expect(frame).toContain("limitrate stats 127.0.0.1:8080");
  expect(frame).toContain("up 1m40s");
  expect(frame).toContain("store memory ok");
  expect(frame).toContain("queued 12");
  expect(frame).toContain("● live");
  expect(frame).toContain("openai");
  expect(frame).toContain("team-a");
  expect(frame).toContain("q quit");
  const lines = frame.split("\n");
  expect(lines.length).toBeLessThanOrEqual(23);
  for (const line of lines) expect(line.length).toBeLessThanOrEqual(79);

  rerender(screen([node], { paused: true }));
  expect(lastFrame()).toContain("PAUSED");
  expect(lastFrame()).toContain("p resume");
});

test("Screen: a lost connection says reconnecting… and keeps the last data", () => {
  const node = liveNode("http://127.0.0.1:8080", [snap({ providers: [openai()] })], 1_000_000, {
    status: "reconnecting",
    error: "cannot reach http://127.0.0.1:8080: connection refused",
  });
  const frame = render(screen([node])).lastFrame()!;
  expect(frame).toContain("reconnecting…");
  expect(frame).toContain("connection refused");
  expect(frame).toContain("openai");
  expect(frame).toMatch(/ 12 █/);
});

test("Screen: several nodes are summed in the overview; tab reaches the per-node view", () => {
  const a = liveNode("http://10.0.0.1:8080", [snap({ uptime_seconds: 500, providers: [openai()] })]);
  const b = liveNode("http://10.0.0.2:8080", [snap({ uptime_seconds: 400, providers: [openai({ waiting_in_acquire: 5, in_flight: 1 })] })], 1_000_000, {
    status: "reconnecting",
    error: "cannot reach http://10.0.0.2:8080: connection refused",
  });
  const { lastFrame, rerender } = render(screen([a, b]));
  let frame = lastFrame()!;
  expect(frame).toContain("2 nodes (summed)");
  expect(frame).toContain("1/2 live");
  expect(frame).toMatch(/openai .* 17 █/);
  expect(frame).toContain("4/16");
  expect(frame).toContain("tab per node");

  rerender(screen([a, b], { viewIndex: 1 }));
  frame = lastFrame()!;
  expect(frame).toContain("NODE");
  expect(frame).toMatch(/10\.0\.0\.1:8080 +live +8m20s +12 /);
  expect(frame).toMatch(/10\.0\.0\.2:8080 +reconnecting… +6m40s +5 /);
  expect(frame).toContain("tab overview");
});

test("Screen: when providers and keys do not fit, tab switches between them", () => {
  const providers = Array.from({ length: 8 }, (_, i) => providerSnap(`prov-${i}`, { waiting_in_acquire: i }));
  const keys = Array.from({ length: 4 }, (_, i) => keySnap(`key-${i}`, { windows: { rpm: win(i, 10), input_tpm: win(i, 100) } }));
  const node = liveNode("http://a", [snap({ providers, keys })]);
  const { lastFrame, rerender } = render(screen([node]));
  let frame = lastFrame()!;
  expect(frame).toContain("prov-7");
  expect(frame).not.toContain("key-0");
  expect(frame).toContain("tab keys");
  rerender(screen([node], { viewIndex: 1 }));
  frame = lastFrame()!;
  expect(frame).toContain("key-3");
  expect(frame).not.toContain("prov-0");
  expect(frame).toContain("tab providers");
  // a taller terminal shows everything at once
  rerender(screen([node], { rows: 40 }));
  frame = lastFrame()!;
  expect(frame).toContain("prov-7");
  expect(frame).toContain("key-3");
  expect(frame).not.toContain("tab ");
});

test("Screen follows the width: narrower columns, no sparkline below ~70 columns", () => {
  const node = liveNode("http://a", [snap({ providers: [openai()] })]);
  const { lastFrame, rerender } = render(screen([node], { columns: 100 }));
  expect(lastFrame()).toContain("last 60s");
  for (const line of lastFrame()!.split("\n")) expect(line.length).toBeLessThanOrEqual(99);
  rerender(screen([node], { columns: 60 }));
  expect(lastFrame()).not.toContain("last 60s");
  expect(lastFrame()).toContain("openai");
  for (const line of lastFrame()!.split("\n")) expect(line.length).toBeLessThanOrEqual(59);
});
