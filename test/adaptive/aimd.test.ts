// The AIMD rate controller, in fake time: the state machine step by step, then
// convergence against a simulated provider whose limit it does not know.
import { describe, expect, test } from "bun:test";
import { type AimdOptions, AimdController } from "../../src/adaptive/aimd.ts";
import { simulateAimd, totals } from "../../src/adaptive/provider-sim.ts";
import { prng } from "../core/prng.ts";
import { EPOCH as T0 } from "../helpers/fake-clock.ts";

const BASE: AimdOptions = { initialRpm: 600, minRpm: 6, maxRpm: 6000, increaseRpm: 60, decreaseFactor: 0.5, windowMs: 10_000, slowStart: false };

/** Answers at `rpm`, evenly spaced, over [from, to); returns `to`. */
function succeed(c: AimdController, rpm: number, from: number, to: number): number {
  const step = 60_000 / rpm;
  for (let t = from; t < to; t += step) c.onSuccess(t);
  return to;
}

describe("AimdController: options", () => {
  test("invalid options are refused at construction", () => {
    const bad: Partial<AimdOptions>[] = [
      { minRpm: 0 },
      { minRpm: Number.NaN },
      { maxRpm: 1 }, // below minRpm
      { maxRpm: Number.POSITIVE_INFINITY },
      { increaseRpm: -1 },
      { decreaseFactor: 0 },
      { decreaseFactor: 1 },
      { windowMs: 0 },
      { initialRpm: Number.NaN },
    ];
    for (const b of bad) expect(() => new AimdController({ ...BASE, ...b })).toThrow(RangeError);
  });

  test("the initial rate is clamped into the bounds", () => {
    expect(new AimdController({ ...BASE, initialRpm: 1 }).rpm(T0)).toBe(6);
    expect(new AimdController({ ...BASE, initialRpm: 1e9 }).rpm(T0)).toBe(6000);
    expect(new AimdController(BASE).rpm(T0)).toBe(600);
  });
});

describe("AimdController: additive increase", () => {
  test("each window used without a 429 adds increaseRpm", () => {
    const c = new AimdController(BASE);
    let t = succeed(c, 600, T0, T0 + 10_000);
    expect(c.rpm(t)).toBe(660);
    t = succeed(c, 660, t, t + 10_000);
    expect(c.rpm(t)).toBe(720);
  });

  test("no increase while idle, however long", () => {
    const c = new AimdController(BASE);
    c.onSuccess(T0);
    expect(c.rpm(T0 + 3_600_000)).toBe(600);
  });

  test("no increase when less than half the rate was used", () => {
    const c = new AimdController(BASE); // 600 rpm = 100 per 10-s window
    let t = succeed(c, 240, T0, T0 + 10_000); // 40 sent: under half
    expect(c.rpm(t)).toBe(600);
    t = succeed(c, 360, t, t + 10_000); // 60: used
    expect(c.rpm(t)).toBe(660);
  });

  test("no increase in a window that saw a 429", () => {
    const c = new AimdController({ ...BASE, decreaseFactor: 0.99 });
    c.onSuccess(T0);
    c.onThrottle(T0 + 1); // young: plain cut to 594
    const t = succeed(c, 600, T0 + 2, T0 + 10_000);
    expect(c.rpm(t)).toBe(594);
    expect(c.rpm(succeed(c, 600, t, t + 10_000))).toBe(654);
  });

  test("never above maxRpm", () => {
    const c = new AimdController({ ...BASE, initialRpm: 5990 });
    const t = succeed(c, 6000, T0, T0 + 60_000);
    expect(c.rpm(t)).toBe(6000);
  });

  test("slow start doubles per window until the first 429, then adds", () => {
    const c = new AimdController({ ...BASE, initialRpm: 60, slowStart: true });
    let t = T0;
    for (const expected of [120, 240, 480]) {
      t = succeed(c, c.rpm(t), t, t + 10_000);
      expect(c.rpm(t)).toBe(expected);
    }
    expect(c.snapshot(t).slowStart).toBe(true);
    c.onThrottle(t); // young: 480 × 0.5
    expect(c.rpm(t)).toBe(240);
    expect(c.snapshot(t).slowStart).toBe(false);
    t = succeed(c, 240, t + 10_000, t + 20_000);
    expect(c.rpm(t)).toBe(300);
  });

  test("slow start stops at maxRpm", () => {
    const c = new AimdController({ ...BASE, initialRpm: 4000, slowStart: true });
    expect(c.rpm(succeed(c, 4000, T0, T0 + 10_000))).toBe(6000);
  });
});

describe("AimdController: multiplicative decrease", () => {
  test("a burst of 429s from one overload cuts once", () => {
    const c = new AimdController(BASE);
    c.onSuccess(T0);
    const cuts = Array.from({ length: 50 }, (_, i) => c.onThrottle(T0 + 100 + i * 100));
    expect(cuts.filter(Boolean)).toHaveLength(1);
    expect(cuts[0]).toBe(true);
    expect(c.rpm(T0 + 5_000)).toBe(300);
    expect(c.snapshot(T0 + 5_000).lastCutAt).toBe(T0 + 100);
  });

  test("another 429 a window later cuts again (young: plain factor)", () => {
    const c = new AimdController(BASE);
    c.onThrottle(T0);
    expect(c.onThrottle(T0 + 9_999)).toBe(false);
    expect(c.onThrottle(T0 + 10_000)).toBe(true);
    expect(c.rpm(T0 + 10_000)).toBe(150);
  });

  test("never below minRpm", () => {
    const c = new AimdController(BASE);
    for (let i = 0; i < 20; i++) c.onThrottle(T0 + i * 10_000);
    expect(c.rpm(T0 + 200_000)).toBe(6);
    expect(c.onThrottle(T0 + 300_000)).toBe(false); // at the floor: nothing to cut
  });

  test("after a full minute at the rate, a 429 cuts to decreaseFactor × what the provider accepted", () => {
    const c = new AimdController({ ...BASE, initialRpm: 3000, increaseRpm: 0, decreaseFactor: 0.9 });
    const t = succeed(c, 1600, T0, T0 + 60_000); // the provider let 1,600 through in the minute
    const accepted = c.snapshot(t).acceptedLastMinute;
    expect(accepted).toBeGreaterThan(1550);
    expect(c.onThrottle(t)).toBe(true);
    expect(c.rpm(t)).toBeCloseTo(0.9 * accepted, 6); // at once, not 3000 → 2700 → 2430 → …
  });

  test("429s while the provider's minute drains an earlier surplus cut little more", () => {
    const c = new AimdController({ ...BASE, initialRpm: 1000, increaseRpm: 0, decreaseFactor: 0.9 });
    let t = succeed(c, 1000, T0, T0 + 60_000); // a minute at 1000, all accepted
    const accepted = c.snapshot(t).acceptedLastMinute; // ~1000 (the ring drops whole seconds)
    expect(c.onThrottle(t)).toBe(true);
    const cut = c.rpm(t);
    expect(cut).toBeCloseTo(0.9 * accepted, 6);
    // A window later the provider still refuses one (its minute holds the old rate):
    // the rate follows what was accepted, which has barely moved — not another × 0.9.
    t = succeed(c, cut, t, t + 10_000);
    c.onThrottle(t);
    expect(c.rpm(t)).toBeGreaterThan(0.97 * cut);
    // Once the rate is below decreaseFactor × accepted, such a 429 cuts nothing.
    const low = new AimdController({ ...BASE, initialRpm: 400, increaseRpm: 0, decreaseFactor: 0.9 });
    const t2 = succeed(low, 1000, T0, T0 + 60_000); // 1000 accepted while allowed 400 (e.g. a lowered maxRpm)
    expect(low.onThrottle(t2)).toBe(false);
    expect(low.rpm(t2)).toBe(400);
  });

  test("a minute crowded with 429s does not collapse the rate: the recent peak of accepted counts", () => {
    // Providers that count refused requests against the limit can refuse everything for a while.
    const c = new AimdController({ ...BASE, initialRpm: 600, increaseRpm: 0, decreaseFactor: 0.9 });
    succeed(c, 600, T0, T0 + 60_000); // ~600 accepted per minute: the peak
    for (let i = 0; i < 1200; i++) c.onThrottle(T0 + 60_000 + i * 100); // two minutes of refusals
    const end = T0 + 180_000;
    expect(c.snapshot(end).acceptedLastMinute).toBe(0);
    // Cuts followed the falling accepted count until the minute was mostly 429s, then held:
    expect(c.rpm(end)).toBeGreaterThan(0.4 * 600);
    expect(c.rpm(end)).toBeLessThan(600);
    // Without the peak, four cuts a minute at 0.9 would leave 600 × 0.9^12 ≈ 170, and "0.9 × accepted" would be the floor.
  });

  test("a 429 after mostly idle time is a plain cut, not a collapse to what little was sent", () => {
    const c = new AimdController({ ...BASE, increaseRpm: 0, decreaseFactor: 0.9 });
    succeed(c, 600, T0, T0 + 60_000);
    c.onSuccess(T0 + 600_000); // ten idle minutes, then one answer...
    expect(c.onThrottle(T0 + 600_001)).toBe(true); // ...and a 429
    expect(c.rpm(T0 + 600_001)).toBeCloseTo(0.9 * 600, 6); // not 0.9 × 1
  });
});

describe("AimdController: time", () => {
  test("a clock that steps backwards reads as the latest time seen", () => {
    const c = new AimdController(BASE);
    c.onThrottle(T0 + 20_000);
    expect(c.onThrottle(T0)).toBe(false); // still within the window after the cut
    expect(c.rpm(T0 - 1_000_000)).toBe(300);
  });

  test("snapshot counts the last minute only", () => {
    const c = new AimdController(BASE);
    succeed(c, 600, T0, T0 + 30_000); // 300 answers
    c.onThrottle(T0 + 30_000);
    expect(c.snapshot(T0 + 30_000)).toMatchObject({ acceptedLastMinute: 300, sentLastMinute: 301 });
    // At 75 s the last minute is the 1-s segments from 16 s on: answers at 16.0–29.9 s.
    expect(c.snapshot(T0 + 75_000)).toMatchObject({ acceptedLastMinute: 140, sentLastMinute: 141 });
    expect(c.snapshot(T0 + 200_000)).toMatchObject({ acceptedLastMinute: 0, sentLastMinute: 0 });
  });

  test("bounds hold under random answers and random time steps", () => {
    for (const seed of [11, 12, 13]) {
      const r = prng(seed);
      const opts: AimdOptions = { initialRpm: 100, minRpm: 5, maxRpm: 700, increaseRpm: 25, decreaseFactor: 0.7, windowMs: 5_000, slowStart: r.chance(0.5) };
      const c = new AimdController(opts);
      let t = T0;
      for (let i = 0; i < 20_000; i++) {
        t += r.chance(0.01) ? r.int(-5_000, 120_000) : r.int(0, 500);
        if (r.chance(0.1)) c.onThrottle(t);
        else c.onSuccess(t);
        const rpm = c.rpm(t);
        expect(rpm).toBeGreaterThanOrEqual(5);
        expect(rpm).toBeLessThanOrEqual(700);
      }
    }
  });
});

describe("AimdController: convergence against a provider whose limit it does not know", () => {
  // One configuration for every limit: the controller is told nothing about the provider.
  const controller = (initialRpm: number): AimdOptions => ({ initialRpm, minRpm: 1, maxRpm: 100_000, increaseRpm: 2, decreaseFactor: 0.9, windowMs: 10_000 });

  for (const trueRpm of [60, 600, 3000]) {
    for (const initialRpm of [trueRpm / 4, trueRpm * 3]) {
      test(`true limit ${trueRpm} rpm, starting at ${initialRpm}: within 20 % in minutes, 429s rare after`, () => {
        const run = simulateAimd({ controller: controller(initialRpm), trueRpm, minutes: 40, latencyMs: 500 });
        expect(run.settledAfterMs).not.toBeNull();
        expect(run.settledAfterMs!).toBeLessThanOrEqual(5 * 60_000);
        // After settling, every minute admits 80–100 % of the limit (the provider admits no more than 100 %).
        const from = Math.ceil(run.settledAfterMs! / 60_000) + 1;
        for (const m of run.minutes.slice(from)) {
          expect(m.accepted).toBeGreaterThanOrEqual(0.8 * trueRpm);
          expect(m.accepted).toBeLessThanOrEqual(trueRpm);
        }
        expect(totals(run.minutes, from).throttledShare).toBeLessThan(0.05);
      });
    }
  }

  test("with 2-s answers the same holds", () => {
    const run = simulateAimd({ controller: controller(150), trueRpm: 600, minutes: 40, latencyMs: 2_000 });
    expect(run.settledAfterMs!).toBeLessThanOrEqual(5 * 60_000);
    expect(totals(run.minutes, 10).throttledShare).toBeLessThan(0.05);
  });

  for (const trueRpm of [600, 3000]) {
    test(`a provider that counts refused requests too (${trueRpm} rpm, starting 3× above) is also found`, () => {
      const run = simulateAimd({ controller: controller(trueRpm * 3), trueRpm, minutes: 40, rejectedCount: true });
      expect(run.settledAfterMs!).toBeLessThanOrEqual(5 * 60_000);
      expect(totals(run.minutes, 10).throttledShare).toBeLessThan(0.05);
    });
  }

  test("decreaseFactor 0.5 settles lower, as the sawtooth predicts (about 75 % of the limit)", () => {
    const run = simulateAimd({ controller: { ...controller(600), decreaseFactor: 0.5, increaseRpm: 10 }, trueRpm: 600, minutes: 60 });
    const late = totals(run.minutes, 20);
    const share = late.accepted / 40 / 600;
    expect(share).toBeGreaterThan(0.65);
    expect(share).toBeLessThan(0.85);
  });

  test("a run replays exactly", () => {
    const a = simulateAimd({ controller: controller(150), trueRpm: 600, minutes: 10 });
    const b = simulateAimd({ controller: controller(150), trueRpm: 600, minutes: 10 });
    expect(a).toEqual(b);
  });
});
