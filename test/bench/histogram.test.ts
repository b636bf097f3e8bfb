// Percentile math: the bucketed histogram against exact nearest-rank percentiles.
import { expect, test } from "bun:test";
import { exactPercentile, LatencyHistogram } from "../../src/bench/histogram.ts";
import { seeded } from "./helpers.ts";

const PS = [1, 10, 25, 50, 75, 90, 95, 99, 99.9, 100];

function check(samples: number[]): void {
  const h = new LatencyHistogram();
  for (const s of samples) h.record(s);
  const sorted = Float64Array.from(samples).sort();
  for (const p of PS) {
    const exact = exactPercentile(sorted, p);
    const got = h.percentile(p);
    // ±1 %, or ±1 µs below the histogram's resolution
    expect(Math.abs(got - exact)).toBeLessThanOrEqual(Math.max(exact * 0.01, 0.001));
  }
  const s = h.summary()!;
  expect(s.count).toBe(samples.length);
  expect(s.max).toBe(sorted[sorted.length - 1]!);
  expect(s.min).toBe(sorted[0]!);
  expect(s.mean).toBeCloseTo(samples.reduce((a, b) => a + b, 0) / samples.length, 6);
}

test("exact nearest-rank percentile of a sorted list", () => {
  const xs = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  expect(exactPercentile(xs, 50)).toBe(5);
  expect(exactPercentile(xs, 90)).toBe(9);
  expect(exactPercentile(xs, 99)).toBe(10);
  expect(exactPercentile(xs, 100)).toBe(10);
  expect(exactPercentile(xs, 0)).toBe(1);
  expect(exactPercentile([], 50)).toBeNaN();
});

test("uniform, log-normal and bimodal samples: every percentile within ±1 %", () => {
  const rnd = seeded(42);
  check(Array.from({ length: 20_000 }, () => 1 + rnd() * 999));
  // log-normal around 50 ms with a long tail
  check(Array.from({ length: 20_000 }, () => {
    const z = Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
    return Math.exp(Math.log(50) + z);
  }));
  // fast 429s (~0.3 ms) and slow queued answers (~2 s), as the demo produces
  check(Array.from({ length: 10_000 }, () => (rnd() < 0.6 ? 0.2 + rnd() * 0.2 : 1900 + rnd() * 200)));
});

test("few samples, identical samples, sub-microsecond and huge values", () => {
  check([42]);
  check([7, 7, 7, 7]);
  check([0, 0.0001, 5, 1e9]);
  const h = new LatencyHistogram();
  expect(h.summary()).toBeNull();
  expect(h.percentile(50)).toBeNaN();
  h.record(Number.NaN);
  h.record(-3); // a clock step backwards counts as 0, never as negative latency
  expect(h.summary()!.min).toBe(0);
  expect(h.count).toBe(1);
});

test("merging two histograms equals recording everything in one", () => {
  const rnd = seeded(7);
  const a = new LatencyHistogram();
  const b = new LatencyHistogram();
  const all = new LatencyHistogram();
  for (let i = 0; i < 5000; i++) {
    const v = rnd() * 300;
    (i % 3 === 0 ? a : b).record(v);
    all.record(v);
  }
  a.merge(b);
  expect(a.summary()).toEqual(all.summary());
});
