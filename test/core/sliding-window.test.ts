// Segmented sliding window: pure functions, explicit `now`, no sleeping.
import { describe, expect, test } from "bun:test";
import * as win from "../../src/core/sliding-window.ts";
import type { WindowSpec, WindowState } from "../../src/core/sliding-window.ts";
import { EPOCH as T0 } from "../helpers/fake-clock.ts";
import { prng } from "./prng.ts";

const MIN: WindowSpec = { limit: 10, windowMs: 60_000, segments: 60 };
const SEG0 = T0 / 1000; // absolute segment of T0 (T0 is aligned to 1 s)

/** advance + fits + charge, as policy.decide does for one window. Returns the segment charged, or null. */
function tryAdmit(s: WindowState, spec: WindowSpec, now: number, cost: number): number | null {
  const seg = win.advance(s, spec, now);
  if (!win.fits(s, spec, cost)) return null;
  win.charge(s, spec, seg, cost);
  return seg;
}

function clone(s: WindowState): WindowState {
  return { ring: new Float64Array(s.ring), total: s.total, head: s.head };
}

/** Would `cost` be admitted at `now`? Decided on a copy, so the state is untouched. */
function wouldAdmit(s: WindowState, spec: WindowSpec, now: number, cost: number): boolean {
  return tryAdmit(clone(s), spec, now, cost) !== null;
}

describe("burst and boundaries", () => {
  test("admits exactly `limit` in a burst and refuses the next", () => {
    const s = win.newWindow(MIN);
    for (let i = 0; i < 10; i++) expect(tryAdmit(s, MIN, T0 + 900, 1)).toBe(SEG0);
    expect(s.total).toBe(10);
    expect(tryAdmit(s, MIN, T0 + 900, 1)).toBeNull();
    expect(tryAdmit(s, MIN, T0 + 59_999, 1)).toBeNull();
    expect(s.total).toBe(10); // a refusal charges nothing
  });

  test("a cost that exactly fills the remainder fits; one more unit does not", () => {
    const s = win.newWindow(MIN);
    tryAdmit(s, MIN, T0, 7);
    expect(win.fits(s, MIN, 3)).toBe(true);
    expect(win.fits(s, MIN, 4)).toBe(false);
  });

  test("a charge at t=0.9 s leaves the window when the current segment is 60 (t=60.0 s), not 1 ms before", () => {
    const s = win.newWindow(MIN);
    tryAdmit(s, MIN, T0 + 900, 10);
    expect(wouldAdmit(s, MIN, T0 + 59_999, 1)).toBe(false);
    expect(tryAdmit(s, MIN, T0 + 60_000, 10)).toBe(SEG0 + 60);
    // So that charge counted for 59.1 s; one made at the very start of a segment counts for the full 60 s.
    const s2 = win.newWindow(MIN);
    tryAdmit(s2, MIN, T0, 10);
    expect(wouldAdmit(s2, MIN, T0 + 59_999, 1)).toBe(false);
    expect(wouldAdmit(s2, MIN, T0 + 60_000, 10)).toBe(true);
  });

  test("segments leave one by one, oldest first", () => {
    const s = win.newWindow(MIN);
    tryAdmit(s, MIN, T0 + 100, 3); // seg 0
    tryAdmit(s, MIN, T0 + 5_500, 4); // seg 5
    tryAdmit(s, MIN, T0 + 30_000, 3); // seg 30
    win.advance(s, MIN, T0 + 59_999);
    expect(s.total).toBe(10);
    win.advance(s, MIN, T0 + 60_000);
    expect(s.total).toBe(7);
    win.advance(s, MIN, T0 + 65_000);
    expect(s.total).toBe(3);
    win.advance(s, MIN, T0 + 90_000);
    expect(s.total).toBe(0);
  });

  test("the bound is tight: two full bursts 59.001 s apart both pass (the documented one-segment error)", () => {
    const s = win.newWindow(MIN);
    expect(tryAdmit(s, MIN, T0 + 999, 10)).not.toBeNull();
    expect(tryAdmit(s, MIN, T0 + 59_999, 1)).toBeNull(); // 59.000 s later: still counted
    expect(tryAdmit(s, MIN, T0 + 60_000, 10)).not.toBeNull(); // 59.001 s later
  });

  test("greedy traffic at 10 ms steps: every 59 s span and every aligned 60-segment span holds ≤ limit", () => {
    const spec: WindowSpec = { limit: 37, windowMs: 60_000, segments: 60 };
    const s = win.newWindow(spec);
    const log: { t: number; seg: number }[] = [];
    for (let t = T0 + 3; t < T0 + 300_000; t += 10) {
      const seg = tryAdmit(s, spec, t, 1);
      if (seg !== null) log.push({ t, seg });
    }
    expect(log.length).toBeGreaterThanOrEqual(37 * 4); // it really did admit, several windows over
    for (const e of log) {
      const inSpan = log.filter((x) => x.t >= e.t - 59_000 && x.t <= e.t).length;
      expect(inSpan).toBeLessThanOrEqual(37);
      const inAligned = log.filter((x) => x.seg > e.seg - 60 && x.seg <= e.seg).length;
      expect(inAligned).toBeLessThanOrEqual(37);
    }
  });

  test("a long idle resets the ring", () => {
    const s = win.newWindow(MIN);
    tryAdmit(s, MIN, T0 + 100, 4);
    tryAdmit(s, MIN, T0 + 20_100, 6);
    win.advance(s, MIN, T0 + 3_600_000);
    expect(s.total).toBe(0);
    expect([...s.ring].every((x) => x === 0)).toBe(true);
    expect(tryAdmit(s, MIN, T0 + 3_600_000, 10)).toBe(SEG0 + 3600);
  });

  test("other segment widths: 600 × 100 ms", () => {
    const spec: WindowSpec = { limit: 5, windowMs: 60_000, segments: 600 };
    expect(win.segmentMs(spec)).toBe(100);
    const s = win.newWindow(spec);
    tryAdmit(s, spec, T0 + 950, 5); // segment of [900, 1000)
    expect(wouldAdmit(s, spec, T0 + 60_899, 1)).toBe(false);
    expect(wouldAdmit(s, spec, T0 + 60_900, 5)).toBe(true);
  });
});

describe("waitToFit", () => {
  test("is Infinity when the cost alone exceeds the limit, 0 when it fits", () => {
    const s = win.newWindow(MIN);
    win.advance(s, MIN, T0);
    expect(win.waitToFit(s, MIN, T0, 11)).toBe(Infinity);
    expect(win.waitToFit(s, MIN, T0, 10)).toBe(0);
    tryAdmit(s, MIN, T0, 10);
    expect(win.waitToFit(s, MIN, T0, 11)).toBe(Infinity);
  });

  test("is the time the oldest segments that must expire do so", () => {
    const s = win.newWindow(MIN);
    tryAdmit(s, MIN, T0 + 100, 3); // seg 0, expires at 60 s
    tryAdmit(s, MIN, T0 + 5_500, 4); // seg 5, expires at 65 s
    tryAdmit(s, MIN, T0 + 30_000, 3); // seg 30, expires at 90 s
    const now = T0 + 40_250;
    win.advance(s, MIN, now);
    expect(win.waitToFit(s, MIN, now, 1)).toBe(60_000 - 40_250);
    expect(win.waitToFit(s, MIN, now, 3)).toBe(60_000 - 40_250);
    expect(win.waitToFit(s, MIN, now, 4)).toBe(65_000 - 40_250);
    expect(win.waitToFit(s, MIN, now, 8)).toBe(90_000 - 40_250);
  });

  test("is exact on random states: admitted at now + wait, refused 1 ms before", () => {
    const r = prng(7);
    for (let round = 0; round < 300; round++) {
      const spec: WindowSpec = { limit: r.int(1, 40), windowMs: 60_000, segments: r.chance(0.5) ? 60 : 12 };
      const s = win.newWindow(spec);
      let t = T0 + r.int(0, 5_000);
      for (let k = r.int(0, 30); k > 0; k--) {
        t += r.int(0, 7_000);
        tryAdmit(s, spec, t, r.int(1, spec.limit));
      }
      const now = t + r.int(0, 3_000);
      win.advance(s, spec, now);
      const cost = r.int(1, spec.limit);
      const wait = win.waitToFit(s, spec, now, cost);
      expect(wait).toBeGreaterThanOrEqual(0);
      expect(wait).toBeLessThanOrEqual(spec.windowMs);
      expect(wouldAdmit(s, spec, now + wait, cost)).toBe(true);
      if (wait > 0) expect(wouldAdmit(s, spec, now + wait - 1, cost)).toBe(false);
    }
  });
});

describe("clock going backwards", () => {
  test("clamps to the newest segment: never admits more, recovers when time catches up", () => {
    const s = win.newWindow(MIN);
    tryAdmit(s, MIN, T0 + 10_000, 6); // seg 10
    expect(tryAdmit(s, MIN, T0 + 2_000, 4)).toBe(SEG0 + 10); // charged into seg 10, not seg 2
    expect(s.head).toBe(SEG0 + 10);
    expect(tryAdmit(s, MIN, T0 + 2_000, 1)).toBeNull();
    // From the stepped-back clock, the wait counts the catch-up too.
    expect(win.waitToFit(s, MIN, T0 + 2_000, 1)).toBe(68_000);
    // Seg 2 + 60 would be 62 s: nothing is released there, the charge sits in seg 10.
    expect(tryAdmit(s, MIN, T0 + 62_000, 1)).toBeNull();
    expect(tryAdmit(s, MIN, T0 + 69_999, 1)).toBeNull();
    expect(tryAdmit(s, MIN, T0 + 70_000, 10)).toBe(SEG0 + 70);
  });

  test("a far backwards jump does not reset a full window", () => {
    const s = win.newWindow(MIN);
    tryAdmit(s, MIN, T0 + 500_000, 10);
    expect(tryAdmit(s, MIN, T0, 1)).toBeNull();
    expect(tryAdmit(s, MIN, T0 - 86_400_000, 1)).toBeNull();
    expect(s.total).toBe(10);
  });
});

describe("adjust (settle / refund)", () => {
  test("refunds in the original segment while it is counted", () => {
    const s = win.newWindow(MIN);
    const a = tryAdmit(s, MIN, T0 + 100, 6)!;
    tryAdmit(s, MIN, T0 + 30_000, 4);
    win.advance(s, MIN, T0 + 40_000);
    win.adjust(s, MIN, a, -5);
    expect(s.total).toBe(5);
    expect(win.fits(s, MIN, 5)).toBe(true);
    // The refunded segment still holds 1 and leaves at 60 s.
    win.advance(s, MIN, T0 + 60_000);
    expect(s.total).toBe(4);
  });

  test("a positive delta adds to the original segment (actual above reserved)", () => {
    const s = win.newWindow(MIN);
    const a = tryAdmit(s, MIN, T0 + 100, 2)!;
    win.advance(s, MIN, T0 + 20_000);
    win.adjust(s, MIN, a, 3);
    expect(s.total).toBe(5);
    win.advance(s, MIN, T0 + 60_000);
    expect(s.total).toBe(0); // it left with its segment
  });

  test("never goes below zero, per segment and in total", () => {
    const s = win.newWindow(MIN);
    const a = tryAdmit(s, MIN, T0 + 100, 3)!;
    tryAdmit(s, MIN, T0 + 1_100, 4);
    win.adjust(s, MIN, a, -100);
    expect(s.total).toBe(4);
    expect(win.fits(s, MIN, 6)).toBe(true);
    expect(win.fits(s, MIN, 7)).toBe(false);
  });

  test("is a no-op once the segment left the window, and does not touch the ring slot's new occupant", () => {
    const s = win.newWindow(MIN);
    const a = tryAdmit(s, MIN, T0 + 100, 5)!;
    tryAdmit(s, MIN, T0 + 60_100, 7); // seg 60: same ring slot as seg 0
    win.adjust(s, MIN, a, -5);
    expect(s.total).toBe(7);
    win.adjust(s, MIN, a + 1000, -5); // a segment in the future: ignored too
    expect(s.total).toBe(7);
  });

  test("fractional refunds leave no negative dust", () => {
    const spec: WindowSpec = { limit: 1, windowMs: 60_000, segments: 60 };
    const s = win.newWindow(spec);
    const a = tryAdmit(s, spec, T0, 0.1)!;
    tryAdmit(s, spec, T0, 0.2);
    win.adjust(s, spec, a, -0.3);
    expect(s.total).toBe(0);
    win.advance(s, spec, T0 + 60_000);
    expect(s.total).toBe(0);
  });
});

describe("resetIn", () => {
  test("is 0 when empty, else until the newest charge leaves", () => {
    const s = win.newWindow(MIN);
    win.advance(s, MIN, T0);
    expect(win.resetIn(s, MIN, T0)).toBe(0);
    const a = tryAdmit(s, MIN, T0 + 2_300, 2)!;
    const b = tryAdmit(s, MIN, T0 + 7_800, 2)!;
    expect(win.resetIn(s, MIN, T0 + 10_000)).toBe(67_000 - 10_000);
    win.adjust(s, MIN, b, -2); // newest refunded away: the older one decides
    expect(win.resetIn(s, MIN, T0 + 10_000)).toBe(62_000 - 10_000);
    win.adjust(s, MIN, a, -2);
    expect(win.resetIn(s, MIN, T0 + 10_000)).toBe(0);
  });
});
