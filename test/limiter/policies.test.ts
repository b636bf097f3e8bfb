// Config limits → Policy (src/limiter/policies.ts).
import { describe, expect, test } from "bun:test";
import type { Dimension, WindowLimit } from "../../src/core/policy.ts";
import { isUnlimited, pacedPolicy, pacingIntervalMs, windowPolicy, windowsOf } from "../../src/limiter/policies.ts";

// Strict windows: one segment more than the span, so every 60 s (or 24 h) interval holds at most the limit.
const minute = (name: string, dim: Dimension, limit: number): WindowLimit => ({ name, dim, limit, windowMs: 61_000, segments: 61 });
const day = (name: string, dim: Dimension, limit: number): WindowLimit => ({ name, dim, limit, windowMs: 87_000_000, segments: 145 });

describe("pacing interval", () => {
  test("from rpm alone, interval_seconds alone, or the stricter of both", () => {
    expect(pacingIntervalMs({ mode: "spaced", rpm: 60 })).toBe(1_000);
    expect(pacingIntervalMs({ mode: "spaced", rpm: 600 })).toBe(100);
    expect(pacingIntervalMs({ mode: "spaced", interval_seconds: 2.5 })).toBe(2_500);
    expect(pacingIntervalMs({ mode: "spaced", rpm: 60, interval_seconds: 2 })).toBe(2_000); // interval stricter
    expect(pacingIntervalMs({ mode: "spaced", rpm: 20, interval_seconds: 2 })).toBe(3_000); // rpm stricter
    expect(pacingIntervalMs({ mode: "burst", rpm: 120, interval_seconds: 0.25 })).toBe(500);
  });

  test("null when neither is set", () => {
    expect(pacingIntervalMs({ mode: "spaced" })).toBeNull();
    expect(pacingIntervalMs({ mode: "spaced", tpm: 1000 })).toBeNull();
  });
});

describe("pacedPolicy", () => {
  test("spaced: capacity 1 whatever `capacity` says; rpm is paced, not windowed", () => {
    expect(pacedPolicy({ mode: "spaced", rpm: 30, capacity: 5 })).toEqual({ pacing: { intervalMs: 2_000, capacity: 1 }, windows: [] });
  });

  test("burst: capacity as configured, at least 1", () => {
    expect(pacedPolicy({ mode: "burst", rpm: 60, capacity: 10 }).pacing).toEqual({ intervalMs: 1_000, capacity: 10 });
    expect(pacedPolicy({ mode: "burst", rpm: 60 }).pacing).toEqual({ intervalMs: 1_000, capacity: 1 });
    expect(pacedPolicy({ mode: "burst", rpm: 60, capacity: 0 }).pacing).toEqual({ intervalMs: 1_000, capacity: 1 });
  });

  test("token and day limits become windows beside the pacing", () => {
    expect(pacedPolicy({ mode: "spaced", rpm: 60, input_tpm: 1_000, output_tpm: 500, tpm: 1_200, rpd: 10_000, tpd: 1_000_000 })).toEqual({
      pacing: { intervalMs: 1_000, capacity: 1 },
      windows: [
        minute("input_tpm", "input_tokens", 1_000),
        minute("output_tpm", "output_tokens", 500),
        minute("tpm", "tokens", 1_200),
        day("rpd", "requests", 10_000),
        day("tpd", "tokens", 1_000_000),
      ],
    });
  });

  test("spaced without rpm or interval: no pacing, windows only", () => {
    expect(pacedPolicy({ mode: "spaced", tpm: 1_000 })).toEqual({ pacing: null, windows: [minute("tpm", "tokens", 1_000)] });
  });

  test("window mode: rpm is a sliding window, no pacing; interval and capacity are ignored", () => {
    expect(pacedPolicy({ mode: "window", rpm: 60, tpm: 5_000, interval_seconds: 3, capacity: 4 })).toEqual({
      pacing: null,
      windows: [minute("rpm", "requests", 60), minute("tpm", "tokens", 5_000)],
    });
  });

  test("windows are 60 × 1 s for minutes and 144 × 10 min for days", () => {
    const [m, d] = pacedPolicy({ mode: "window", rpm: 1, rpd: 1 }).windows;
    expect(m!.windowMs / m!.segments).toBe(1_000);
    expect(d!.windowMs / d!.segments).toBe(600_000);
  });
});

describe("windowPolicy / windowsOf / isUnlimited", () => {
  test("a key's policy has every limit as a window, rpm included", () => {
    expect(windowPolicy({ rpm: 10, tpd: 50_000 })).toEqual({ pacing: null, windows: [minute("rpm", "requests", 10), day("tpd", "tokens", 50_000)] });
  });

  test("withRpm = false leaves rpm out", () => {
    expect(windowsOf({ rpm: 10, rpd: 100 }, false)).toEqual([day("rpd", "requests", 100)]);
    expect(windowsOf({ rpm: 10, rpd: 100 }, true).map((w) => w.name)).toEqual(["rpm", "rpd"]);
  });

  test("a limit of 0 is a limit (blocks everything), not absent", () => {
    expect(windowPolicy({ rpm: 0 }).windows).toEqual([minute("rpm", "requests", 0)]);
  });

  test("isUnlimited only without pacing and windows", () => {
    expect(isUnlimited(windowPolicy({}))).toBe(true);
    expect(isUnlimited(pacedPolicy({ mode: "spaced" }))).toBe(true);
    expect(isUnlimited(windowPolicy({ rpm: 1 }))).toBe(false);
    expect(isUnlimited(pacedPolicy({ mode: "spaced", interval_seconds: 1 }))).toBe(false);
  });
});

describe("strict minute windows (what the policies build)", () => {
  test("no 60-second interval, aligned or not, ever holds more than the limit", async () => {
    const core = await import("../../src/core/policy.ts");
    const policy = windowPolicy({ rpm: 30 });
    const st = core.newState(policy);
    const one = { requests: 1, input_tokens: 0, output_tokens: 0 };
    const admitted: number[] = [];
    // a burst at t = 0.9 s, then a request every 100 ms for 3 minutes
    for (let t = 900; t <= 180_000; t += 100) {
      const n = t === 900 ? 40 : 1;
      for (let i = 0; i < n; i++) if (core.decide([{ state: st, policy, cost: one }], t, 0).allowed) admitted.push(t);
    }
    for (const start of admitted) {
      const inSpan = admitted.filter((t) => t >= start && t < start + 60_000).length;
      expect(inSpan).toBeLessThanOrEqual(30);
    }
    // and the limit is used: over 3 minutes about 3 × 30 got through
    expect(admitted.length).toBeGreaterThanOrEqual(85);
  });
});
