import type { Clock } from "../../src/clock.ts";

/** A realistic epoch (2027-01-15), so segment arithmetic runs on large numbers as in production. */
export const EPOCH = 1_800_000_000_000;

/** A Clock the test moves by hand: time never passes on its own. */
export class FakeClock implements Clock {
  private t: number;

  constructor(start: number = EPOCH) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  /** Jumps to an absolute time (backwards too: tests of a stepped clock). */
  set(ms: number): void {
    this.t = ms;
  }

  /** Moves time by `ms` (negative: backwards) and returns the new time. */
  advance(ms: number): number {
    this.t += ms;
    return this.t;
  }
}
