// Property test: random traffic (same-instant bursts, idles, backwards clock steps,
// refunds) against a brute-force reference model of the counted window.
//
// Reference: time is clamped to the newest time seen (τ = max of all `now` so far),
// the current segment is E = floor(τ / g), and the counted window at E is the
// segments (E − S, E]. A cost is admitted iff (sum counted) + cost ≤ limit — both
// ways: the limiter must admit exactly what the reference admits.
import { describe, expect, test } from "bun:test";
import * as win from "../../src/core/sliding-window.ts";
import type { WindowSpec } from "../../src/core/sliding-window.ts";
import { EPOCH as T0 } from "../helpers/fake-clock.ts";
import { prng } from "./prng.ts";

interface Event {
  tau: number;
  seg: number;
  cost: number;
}

class Reference {
  /** Segment → amount still counted there (refunds applied per segment, floored at 0). */
  readonly amounts = new Map<number, number>();
  maxSeen = -Infinity;

  constructor(readonly spec: WindowSpec) {}

  get g(): number {
    return this.spec.windowMs / this.spec.segments;
  }

  see(now: number): number {
    this.maxSeen = Math.max(this.maxSeen, now);
    const seg = Math.floor(this.maxSeen / this.g);
    for (const k of [...this.amounts.keys()]) if (k <= seg - this.spec.segments) this.amounts.delete(k);
    return seg;
  }

  /** Sum counted when the current segment is `cur`. */
  counted(cur: number): number {
    let sum = 0;
    for (const [k, v] of this.amounts) if (k > cur - this.spec.segments && k <= cur) sum += v;
    return sum;
  }

  /** Brute force: the first current segment at which `cost` fits, as a wait from `now`. */
  wait(cur: number, now: number, cost: number): number {
    if (cost > this.spec.limit) return Infinity;
    for (let e = cur; ; e++) {
      if (this.counted(e) + cost <= this.spec.limit) return e === cur ? 0 : Math.max(0, e * this.g - now);
    }
  }

  /** Newest segment still holding something → when it leaves. */
  resetIn(cur: number, now: number): number {
    let newest = -Infinity;
    for (const [k, v] of this.amounts) if (v > 0 && k > cur - this.spec.segments) newest = Math.max(newest, k);
    return newest === -Infinity ? 0 : Math.max(0, (newest + this.spec.segments) * this.g - now);
  }
}

function run(spec: WindowSpec, seed: number, steps: number, refunds: boolean): { admitted: number; refused: number } {
  const r = prng(seed);
  const ref = new Reference(spec);
  const s = win.newWindow(spec);
  const log: Event[] = [];
  let now = T0 + r.int(0, 999);
  let admitted = 0;
  let refused = 0;
  for (let i = 0; i < steps; i++) {
    const p = r.next();
    if (p < 0.25) now += 0;
    else if (p < 0.8) now += r.int(1, 900);
    else if (p < 0.9) now += r.int(1_000, 15_000);
    else if (p < 0.95) now += r.int(spec.windowMs, 2 * spec.windowMs);
    else now -= r.int(1, 20_000); // the clock steps back

    const cur = ref.see(now);
    expect(win.advance(s, spec, now)).toBe(cur);
    expect(s.total).toBeCloseTo(ref.counted(cur), 9);

    if (refunds && log.length > 0 && r.chance(0.15)) {
      const e = log[r.int(Math.max(0, log.length - 20), log.length - 1)]!;
      const delta = -r.int(1, e.cost + 2);
      win.adjust(s, spec, e.seg, delta);
      if (e.seg > cur - spec.segments && ref.amounts.has(e.seg)) {
        ref.amounts.set(e.seg, Math.max(0, ref.amounts.get(e.seg)! + delta));
      }
      expect(s.total).toBeCloseTo(ref.counted(cur), 9);
      continue;
    }

    const cost = r.chance(0.03) ? spec.limit + r.int(1, 5) : r.int(1, Math.ceil(spec.limit / 3));
    expect(win.waitToFit(s, spec, now, cost)).toBe(ref.wait(cur, now, cost));
    expect(win.resetIn(s, spec, now)).toBe(ref.resetIn(cur, now));
    const refAdmits = ref.counted(cur) + cost <= spec.limit;
    const ok = win.fits(s, spec, cost);
    expect(ok).toBe(refAdmits);
    if (ok) {
      win.charge(s, spec, cur, cost);
      ref.amounts.set(cur, (ref.amounts.get(cur) ?? 0) + cost);
      log.push({ tau: ref.maxSeen, seg: cur, cost });
      admitted++;
    } else refused++;
    expect(s.total).toBeLessThanOrEqual(spec.limit);
  }

  if (!refunds) {
    // The promise in time: over any closed span of W − g (in clamped time), admitted ≤ limit;
    // and in every S-segment aligned span, admitted ≤ limit.
    const span = spec.windowMs - spec.windowMs / spec.segments;
    let lo = 0;
    let sum = 0;
    let loSeg = 0;
    let sumSeg = 0;
    for (let hi = 0; hi < log.length; hi++) {
      const e = log[hi]!;
      sum += e.cost;
      while (log[lo]!.tau < e.tau - span) sum -= log[lo++]!.cost;
      expect(sum).toBeLessThanOrEqual(spec.limit);
      sumSeg += e.cost;
      while (log[loSeg]!.seg <= e.seg - spec.segments) sumSeg -= log[loSeg++]!.cost;
      expect(sumSeg).toBeLessThanOrEqual(spec.limit);
    }
  }
  return { admitted, refused };
}

describe("sliding window against a brute-force reference", () => {
  const specs: WindowSpec[] = [
    { limit: 20, windowMs: 6_000, segments: 6 },
    { limit: 50, windowMs: 60_000, segments: 60 },
    { limit: 15, windowMs: 10_000, segments: 40 },
  ];
  for (const spec of specs) {
    for (const seed of [1, 2, 3]) {
      test(`limit ${spec.limit}, ${spec.segments} × ${spec.windowMs / spec.segments} ms, seed ${seed}: exact both ways`, () => {
        const { admitted, refused } = run(spec, seed, 3_000, false);
        // The run must exercise both outcomes, or it proves nothing.
        expect(admitted).toBeGreaterThan(100);
        expect(refused).toBeGreaterThan(100);
      });
      test(`limit ${spec.limit}, ${spec.segments} × ${spec.windowMs / spec.segments} ms, seed ${seed}: with refunds`, () => {
        const { admitted, refused } = run(spec, 100 + seed, 3_000, true);
        expect(admitted).toBeGreaterThan(100);
        expect(refused).toBeGreaterThan(50);
      });
    }
  }
});
