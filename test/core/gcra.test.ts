// GCRA pacing: pure functions, explicit `now`.
import { describe, expect, test } from "bun:test";
import * as gcra from "../../src/core/gcra.ts";
import type { PacingSpec, PacingState } from "../../src/core/gcra.ts";
import { EPOCH as T0 } from "../helpers/fake-clock.ts";
import { prng } from "./prng.ts";

const SPACED: PacingSpec = { intervalMs: 1000, capacity: 1 };
const BURST: PacingSpec = { intervalMs: 1000, capacity: 5 };

/** Claims `n` slots at the same `now`. */
function claimN(s: PacingState, spec: PacingSpec, now: number, n: number): number[] {
  return Array.from({ length: n }, () => gcra.claim(s, spec, now));
}

describe("spaced (capacity 1)", () => {
  test("the first request goes at once; the next waits exactly one interval", () => {
    const s = gcra.newPacing();
    expect(gcra.nextSlot(s, SPACED, T0)).toBe(T0);
    expect(gcra.claim(s, SPACED, T0)).toBe(T0);
    expect(gcra.nextSlot(s, SPACED, T0)).toBe(T0 + 1000);
    expect(gcra.nextSlot(s, SPACED, T0 + 999)).toBe(T0 + 1000);
    expect(gcra.nextSlot(s, SPACED, T0 + 1000)).toBe(T0 + 1000);
    expect(gcra.claim(s, SPACED, T0 + 1000)).toBe(T0 + 1000);
    expect(gcra.nextSlot(s, SPACED, T0 + 1000)).toBe(T0 + 2000);
  });

  test("claims made at one instant get slots exactly one interval apart", () => {
    const s = gcra.newPacing();
    expect(claimN(s, SPACED, T0, 4)).toEqual([T0, T0 + 1000, T0 + 2000, T0 + 3000]);
  });

  test("claiming a future slot just ahead of time (a horizon) keeps the cadence exact", () => {
    const s = gcra.newPacing();
    const spec: PacingSpec = { intervalMs: 250, capacity: 1 };
    const slots: number[] = [];
    let now = T0;
    for (let i = 0; i < 20; i++) {
      const next = gcra.nextSlot(s, spec, now);
      now = Math.max(now, next - 20); // the dispatcher wakes 20 ms before the slot
      slots.push(gcra.claim(s, spec, now));
    }
    slots.forEach((t, i) => expect(t).toBe(T0 + i * 250));
  });

  test("a late claim (timer jitter) sends late and the cadence restarts from it", () => {
    const s = gcra.newPacing();
    gcra.claim(s, SPACED, T0);
    expect(gcra.claim(s, SPACED, T0 + 1_007)).toBe(T0 + 1_007);
    expect(gcra.nextSlot(s, SPACED, T0 + 1_007)).toBe(T0 + 2_007);
  });

  test("a long idle does not bank slots", () => {
    const s = gcra.newPacing();
    gcra.claim(s, SPACED, T0);
    const later = T0 + 3_600_000;
    expect(claimN(s, SPACED, later, 3)).toEqual([later, later + 1000, later + 2000]);
  });
});

describe("burst (capacity 5)", () => {
  test("admits capacity at once, then one per interval", () => {
    const s = gcra.newPacing();
    expect(claimN(s, BURST, T0, 5)).toEqual([T0, T0, T0, T0, T0]);
    expect(gcra.available(s, BURST, T0)).toBe(0);
    expect(gcra.nextSlot(s, BURST, T0)).toBe(T0 + 1000);
    expect(claimN(s, BURST, T0, 3)).toEqual([T0 + 1000, T0 + 2000, T0 + 3000]);
  });

  test("refills one per interval and caps at capacity after idle", () => {
    const s = gcra.newPacing();
    claimN(s, BURST, T0, 5);
    expect(gcra.available(s, BURST, T0 + 999)).toBe(0);
    expect(gcra.available(s, BURST, T0 + 1000)).toBe(1);
    expect(gcra.available(s, BURST, T0 + 2500)).toBe(2);
    expect(gcra.available(s, BURST, T0 + 5000)).toBe(5);
    const later = T0 + 100_000;
    expect(gcra.available(s, BURST, later)).toBe(5);
    expect(claimN(s, BURST, later, 6)).toEqual([later, later, later, later, later, later + 1000]);
  });

  test("partial refill: 2.5 intervals after an empty bucket, two go at once and the third waits", () => {
    const s = gcra.newPacing();
    claimN(s, BURST, T0, 5);
    const now = T0 + 2500;
    expect(claimN(s, BURST, now, 3)).toEqual([now, now, T0 + 3000]);
  });

  test("available() on a fresh state is the capacity", () => {
    expect(gcra.available(gcra.newPacing(), BURST, T0)).toBe(5);
    expect(gcra.available(gcra.newPacing(), SPACED, T0)).toBe(1);
  });
});

describe("giveBack", () => {
  test("returns the last claimed slot to the next claimer", () => {
    const s = gcra.newPacing();
    expect(claimN(s, SPACED, T0, 3)).toEqual([T0, T0 + 1000, T0 + 2000]);
    gcra.giveBack(s, SPACED);
    expect(gcra.claim(s, SPACED, T0)).toBe(T0 + 2000);
  });

  test("after an idle claim, giving it back leaves the bucket full again", () => {
    const s = gcra.newPacing();
    gcra.claim(s, BURST, T0);
    gcra.claim(s, BURST, T0 + 50_000);
    expect(gcra.available(s, BURST, T0 + 50_000)).toBe(4);
    gcra.giveBack(s, BURST);
    expect(gcra.available(s, BURST, T0 + 50_000)).toBe(5);
    expect(gcra.nextSlot(s, BURST, T0 + 50_000)).toBe(T0 + 50_000);
  });

  test("burst: a slot given back is available at once", () => {
    const s = gcra.newPacing();
    claimN(s, BURST, T0, 5);
    gcra.giveBack(s, BURST);
    expect(gcra.available(s, BURST, T0)).toBe(1);
    expect(gcra.claim(s, BURST, T0)).toBe(T0);
    expect(gcra.claim(s, BURST, T0)).toBe(T0 + 1000);
  });
});

// Known gap (see report): giveBack moves tat back one interval whichever slot
// is returned. Returning the *last* claim is exact (tests above); returning an
// earlier one while a later claim stands makes the next claim share that later
// slot — two sends at once on a spaced line, looser than the doc comment says.
test.failing("giving back an earlier slot never lets two later claims share a send time", () => {
  const s = gcra.newPacing();
  const [, b] = claimN(s, SPACED, T0, 2); // a at T0, b at T0 + 1 s (both claimed)
  gcra.giveBack(s, SPACED); // a leaves unsent
  const c = gcra.claim(s, SPACED, T0);
  expect(c - b!).toBeGreaterThanOrEqual(1000);
});

/** A random state reachable by real use: claims at increasing times, some given back. */
function randomState(r: ReturnType<typeof prng>, spec: PacingSpec): { s: PacingState; now: number } {
  const s = gcra.newPacing();
  let now = T0;
  for (let k = r.int(0, 12); k > 0; k--) {
    now += r.chance(0.5) ? 0 : r.int(0, 3 * spec.intervalMs);
    gcra.claim(s, spec, now);
    if (r.chance(0.1)) gcra.giveBack(s, spec);
  }
  return { s, now: now + (r.chance(0.3) ? 0 : r.int(0, 4 * spec.intervalMs)) };
}

describe("slotOf and available against simulation", () => {
  test("slotOf(n) is the slot the (n+1)-th of successive claims at `now` gets", () => {
    const r = prng(42);
    for (let round = 0; round < 500; round++) {
      const spec: PacingSpec = { intervalMs: r.int(1, 5) * 100, capacity: r.int(1, 6) };
      const { s, now } = randomState(r, spec);
      const n = r.int(0, 10);
      const sim: PacingState = { tat: s.tat };
      const slots = claimN(sim, spec, now, n + 1);
      expect(gcra.slotOf(s, spec, now, n)).toBe(slots[n]!);
      expect(gcra.slotOf(s, spec, now, 0)).toBe(gcra.nextSlot(s, spec, now));
    }
  });

  test("available() is how many successive claims at `now` go at `now`", () => {
    const r = prng(43);
    for (let round = 0; round < 500; round++) {
      const spec: PacingSpec = { intervalMs: r.int(1, 5) * 100, capacity: r.int(1, 6) };
      const { s, now } = randomState(r, spec);
      const sim: PacingState = { tat: s.tat };
      const slots = claimN(sim, spec, now, spec.capacity + 1);
      const immediate = slots.findIndex((t) => t > now);
      expect(gcra.available(s, spec, now)).toBe(immediate === -1 ? spec.capacity + 1 : immediate);
    }
  });
});

describe("clock going backwards", () => {
  test("spaced: slot times stay ≥ one interval apart whatever `now` does", () => {
    const r = prng(9);
    const s = gcra.newPacing();
    let now = T0;
    let prev = -Infinity;
    for (let i = 0; i < 2_000; i++) {
      now += r.chance(0.15) ? -r.int(1, 10_000) : r.int(0, 2_500);
      const slot = gcra.claim(s, SPACED, now);
      expect(slot).toBeGreaterThanOrEqual(now);
      expect(slot - prev).toBeGreaterThanOrEqual(1000);
      prev = slot;
    }
  });

  test("burst: any n claims in sequence span at least (n − capacity) intervals", () => {
    const r = prng(10);
    const spec: PacingSpec = { intervalMs: 100, capacity: 4 };
    const s = gcra.newPacing();
    const slots: number[] = [];
    let now = T0;
    for (let i = 0; i < 600; i++) {
      now += r.chance(0.15) ? -r.int(1, 2_000) : r.int(0, 150);
      const slot = gcra.claim(s, spec, now);
      expect(slot).toBeGreaterThanOrEqual(now);
      slots.push(slot);
    }
    for (let k = 0; k < slots.length; k++) {
      for (let j = Math.max(0, k - 40); j < k; j++) {
        expect(slots[k]! - slots[j]!).toBeGreaterThanOrEqual((k - j + 1 - spec.capacity) * spec.intervalMs);
      }
    }
  });

  test("a step back makes the wait longer, never shorter", () => {
    const s = gcra.newPacing();
    gcra.claim(s, SPACED, T0 + 10_000);
    expect(gcra.nextSlot(s, SPACED, T0)).toBe(T0 + 11_000);
    expect(gcra.claim(s, SPACED, T0)).toBe(T0 + 11_000);
    expect(gcra.available(s, SPACED, T0)).toBe(0);
  });
});
