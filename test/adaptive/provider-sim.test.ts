// The simulated provider the AIMD tests run against: check it before trusting it.
import { describe, expect, test } from "bun:test";
import { simulateAimd, totals } from "../../src/adaptive/provider-sim.ts";

/** A controller pinned to one rate (minRpm = maxRpm), so the provider alone decides. */
const pinned = (rpm: number) => ({ initialRpm: rpm, minRpm: rpm, maxRpm: rpm, increaseRpm: 0, decreaseFactor: 0.5, windowMs: 10_000 });

describe("simulateAimd's provider", () => {
  test("below its limit it admits everything", () => {
    const run = simulateAimd({ controller: pinned(300), trueRpm: 600, minutes: 5 });
    expect(run.minutes.map((m) => [m.accepted, m.throttled])).toEqual(Array(5).fill([300, 0]));
  });

  test("above its limit it admits exactly the limit per minute, refusing the rest", () => {
    const run = simulateAimd({ controller: pinned(1200), trueRpm: 600, minutes: 5 });
    for (const m of run.minutes) {
      expect(m.accepted).toBe(600);
      expect(m.throttled).toBe(600);
    }
    expect(totals(run.minutes).throttledShare).toBeCloseTo(0.5, 6);
  });

  test("when refused requests count too, sending above the limit starves", () => {
    const run = simulateAimd({ controller: pinned(1200), trueRpm: 600, minutes: 5, rejectedCount: true });
    expect(run.minutes[0]!.accepted).toBe(600);
    expect(run.minutes.slice(1).every((m) => m.accepted === 0)).toBe(true);
  });

  test("settledAfterMs: the time from which every trailing minute held at least 80 % of the limit", () => {
    // One send per 100 ms: the 479th (at 47.8 s) is the last with fewer than 480 in its minute.
    expect(simulateAimd({ controller: pinned(600), trueRpm: 600, minutes: 3 }).settledAfterMs).toBe(47_800);
    expect(simulateAimd({ controller: pinned(300), trueRpm: 600, minutes: 3 }).settledAfterMs).toBeNull();
  });
});
