// Go durations as providers send them in reset headers.
import { describe, expect, test } from "bun:test";
import { parseDuration } from "../../src/adaptive/duration-parse.ts";
import { formatDuration } from "../../src/duration.ts";
import { prng } from "../core/prng.ts";

describe("parseDuration", () => {
  test("the forms OpenAI sends", () => {
    const cases: [string, number][] = [
      ["6m0s", 360_000],
      ["20ms", 20],
      ["1.5s", 1_500],
      ["1h2m3.5s", 3_723_500],
      ["0s", 0],
      ["0", 0],
      ["1s", 1_000],
      ["59.999s", 59_999],
      ["7.66s", 7_660],
      ["2m59.56s", 179_560],
      ["1h0m0s", 3_600_000],
    ];
    for (const [s, ms] of cases) expect(parseDuration(s)).toBeCloseTo(ms, 9);
  });

  test("every Go unit, fractions, repeats and a leading +", () => {
    expect(parseDuration("1500us")).toBeCloseTo(1.5, 9);
    expect(parseDuration("1500µs")).toBeCloseTo(1.5, 9); // micro sign
    expect(parseDuration("1500μs")).toBeCloseTo(1.5, 9); // Greek mu
    expect(parseDuration("2000000ns")).toBeCloseTo(2, 9);
    expect(parseDuration(".5s")).toBe(500);
    expect(parseDuration("1.s")).toBe(1_000);
    expect(parseDuration("1s1s")).toBe(2_000); // Go adds repeated pieces
    expect(parseDuration("1s2h")).toBe(7_201_000); // in any order
    expect(parseDuration("+3s")).toBe(3_000);
    expect(parseDuration("  3s ")).toBe(3_000); // header whitespace
  });

  test("not durations: null", () => {
    for (const s of ["", " ", "5", "1.5", "-1s", "-0s", "1x", "1 s", "s", "ms", "1e3s", "NaNs", "Infinitys", "1s-", "0x10s", "1,5s", "1h 2m", "++1s", "1d", "6m0s, 6m0s"]) {
      expect(parseDuration(s)).toBeNull();
    }
  });

  test("overlong or overflowing input: null, quickly", () => {
    expect(parseDuration("1".repeat(400) + "h")).toBeNull();
    expect(parseDuration("1s".repeat(40))).toBeNull(); // longer than any real header
    // Within the length a value is always finite, if absurd: the caller's cap ("more than 1 h ahead") handles it.
    expect(parseDuration("9".repeat(60) + "h")).toBeGreaterThan(1e60);
  });

  test("reads back what formatDuration writes (our own reset headers)", () => {
    const r = prng(42);
    for (let i = 0; i < 2000; i++) {
      const ms = r.chance(0.5) ? r.int(0, 5_000) : r.int(0, 10 * 3_600_000);
      const back = parseDuration(formatDuration(ms));
      expect(back).not.toBeNull();
      expect(Math.abs(back! - ms)).toBeLessThan(1e-6 * Math.max(1, ms)); // exact up to float rounding
    }
    expect(parseDuration(formatDuration(0.2))).toBe(1); // formatDuration rounds up to whole ms
  });
});
