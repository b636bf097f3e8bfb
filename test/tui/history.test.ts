// Rates derived client-side from a node's snapshot history (pure, no clock).
import { expect, test } from "bun:test";
import { type Sample, appendSample, sentLastMinute, sentSeries } from "../../src/tui/history.ts";
import { modelLine, providerSnap, snap } from "./fixtures.ts";

const at = (t: number, sent: number, uptime = 1000): Sample => ({ at: t, snapshot: snap({ uptime_seconds: uptime, providers: [providerSnap("p", { sent })] }) });

test("sent in the last minute: difference from the newest sample at least a minute old", () => {
  const h = [at(0, 10), at(30_000, 40), at(61_000, 70), at(90_000, 100)];
  expect(sentLastMinute(h, "p", 90_000)).toEqual({ count: 60, exact: true });
  expect(sentLastMinute(h, "q", 90_000)).toEqual({ count: 0, exact: true });
});

test("a node up for less than a minute: everything it sent counts, exactly", () => {
  expect(sentLastMinute([at(5_000, 12, 20)], "p", 5_000)).toEqual({ count: 12, exact: true });
});

test("a short history of an older node: seen part plus the lifetime average for the rest, marked inexact", () => {
  // 600 sent over 600 s (1/s) before; 10 seen in the last 10 s; 50 s unseen at 1/s.
  const r = sentLastMinute([at(0, 600, 600), at(10_000, 610, 610)], "p", 10_000);
  expect(r).toEqual({ count: 60, exact: false });
});

test("sparkline series: deltas land in absolute time buckets, oldest first", () => {
  const h = [at(0, 0), at(10_000, 5), at(20_000, 5), at(50_000, 8), at(59_000, 9)];
  // 6 buckets of 10 s ending with the one holding `now` = 59 s: [0,10) [10,20) … [50,60)
  expect(sentSeries(h, "p", 59_000, 6)).toEqual([0, 5, 0, 0, 0, 4]);
  expect(sentSeries(h, "p", 59_000, 0)).toEqual([]);
});

test("appendSample: keeps ~75 s plus one base sample, merges bursts, restarts on a node restart", () => {
  let h: Sample[] = [];
  for (let t = 0; t <= 100_000; t += 1000) h = appendSample(h, at(t, t / 1000, 1000 + t / 1000));
  expect(h[0]!.at).toBe(25_000);
  expect(h[h.length - 1]!.at).toBe(100_000);
  const merged = appendSample(h, at(100_050, 101, 1100.05));
  expect(merged.length).toBe(h.length);
  expect(merged[merged.length - 1]!.at).toBe(100_050);
  expect(appendSample(h, at(101_000, 0, 0.5))).toHaveLength(1);
});

test("a model line's rate and series come from its own sent counter", () => {
  const m = (t: number, sent: number, model: number): Sample => ({
    at: t,
    snapshot: snap({ uptime_seconds: 1000, providers: [providerSnap("p", { sent, model_lines: [modelLine("gpt-4o", { sent: model })] })] }),
  });
  const h = [m(0, 10, 1), m(61_000, 70, 4), m(90_000, 100, 9)];
  expect(sentLastMinute(h, "p", 90_000, "gpt-4o")).toEqual({ count: 8, exact: true });
  expect(sentLastMinute(h, "p", 90_000, "o1")).toEqual({ count: 0, exact: true });
  expect(sentSeries(h, "p", 90_000, 3, "gpt-4o")).toEqual([0, 3, 5]);
});
