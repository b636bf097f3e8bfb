// What providers say about their limits, read defensively from response headers.
import { describe, expect, test } from "bun:test";
import { parseUpstreamLimits } from "../../src/adaptive/upstream-limits.ts";
import type { WindowStatus } from "../../src/core/policy.ts";
import { rateLimitHeaders } from "../../src/gateway/ratelimit-headers.ts";
import { prng } from "../core/prng.ts";
import { EPOCH as NOW } from "../helpers/fake-clock.ts";

const iso = (ms: number): string => new Date(ms).toISOString();
const httpDate = (ms: number): string => new Date(ms).toUTCString();
const parse = (status: number, h: Record<string, string>, now = NOW) => parseUpstreamLimits(status, new Headers(h), now);

/** A real OpenAI 200 answer's rate-limit headers. */
const OPENAI_OK = {
  "x-ratelimit-limit-requests": "10000",
  "x-ratelimit-limit-tokens": "2000000",
  "x-ratelimit-remaining-requests": "9999",
  "x-ratelimit-remaining-tokens": "1999985",
  "x-ratelimit-reset-requests": "6ms",
  "x-ratelimit-reset-tokens": "0s",
};

describe("parseUpstreamLimits: OpenAI", () => {
  test("a normal answer: limits read, nothing held, no warnings", () => {
    expect(parse(200, OPENAI_OK)).toEqual({
      holdUntil: null,
      reason: null,
      limits: {
        requests: { limit: 10_000, remaining: 9_999, resetAt: NOW + 6 },
        tokens: { limit: 2_000_000, remaining: 1_999_985, resetAt: NOW },
      },
      warnings: [],
    });
  });

  test("requests exhausted: hold until their reset", () => {
    const s = parse(200, { ...OPENAI_OK, "x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "6m0s" });
    expect(s.holdUntil).toBe(NOW + 360_000);
    expect(s.reason).toBe("requests exhausted");
  });

  test("both exhausted: the later reset wins", () => {
    const s = parse(429, {
      "x-ratelimit-remaining-requests": "0",
      "x-ratelimit-reset-requests": "1.5s",
      "x-ratelimit-remaining-tokens": "0",
      "x-ratelimit-reset-tokens": "1m2.25s",
    });
    expect(s.holdUntil).toBe(NOW + 62_250);
    expect(s.reason).toBe("tokens exhausted");
  });

  test("fractional milliseconds round up: never early", () => {
    expect(parse(200, { "x-ratelimit-reset-requests": "1500us" }).limits.requests!.resetAt).toBe(NOW + 2);
  });

  test("exhausted, but resetting now: nothing to hold", () => {
    const s = parse(200, { "x-ratelimit-remaining-tokens": "0", "x-ratelimit-reset-tokens": "0s" });
    expect(s.holdUntil).toBeNull();
    expect(s.reason).toBeNull();
  });

  test("only some headers: only those fields", () => {
    expect(parse(200, { "x-ratelimit-remaining-tokens": "12" }).limits).toEqual({ tokens: { remaining: 12 } });
    expect(parse(200, {}).limits).toEqual({});
  });

  test("limitrate's own headers read back (one gateway behind another)", () => {
    const windows: WindowStatus[] = [
      { name: "rpm", dim: "requests", limit: 60, used: 60, remaining: 0, resetMs: 12_345.2 },
      { name: "input_tpm", dim: "input_tokens", limit: 100_000, used: 10, remaining: 99_990, resetMs: 30_000 },
      { name: "output_tpm", dim: "output_tokens", limit: 20_000, used: 0, remaining: 20_000, resetMs: 0 },
    ] as WindowStatus[];
    const s = parse(429, rateLimitHeaders(windows));
    expect(s.limits).toEqual({
      requests: { limit: 60, remaining: 0, resetAt: NOW + 12_346 },
      tokens: { limit: 100_000, remaining: 99_990, resetAt: NOW + 30_000 }, // the input limit stands in for tpm
      input_tokens: { limit: 100_000, remaining: 99_990, resetAt: NOW + 30_000 },
      output_tokens: { limit: 20_000, remaining: 20_000, resetAt: NOW },
    });
    expect(s.holdUntil).toBe(NOW + 12_346);
    expect(s.warnings).toEqual([]);
  });
});

describe("parseUpstreamLimits: Anthropic", () => {
  const ANTHROPIC = {
    "anthropic-ratelimit-requests-limit": "4000",
    "anthropic-ratelimit-requests-remaining": "3999",
    "anthropic-ratelimit-requests-reset": iso(NOW + 15),
    "anthropic-ratelimit-tokens-limit": "480000",
    "anthropic-ratelimit-tokens-remaining": "480000",
    "anthropic-ratelimit-tokens-reset": iso(NOW),
    "anthropic-ratelimit-input-tokens-limit": "400000",
    "anthropic-ratelimit-input-tokens-remaining": "400000",
    "anthropic-ratelimit-input-tokens-reset": iso(NOW),
    "anthropic-ratelimit-output-tokens-limit": "80000",
    "anthropic-ratelimit-output-tokens-remaining": "79000",
    "anthropic-ratelimit-output-tokens-reset": iso(NOW + 750),
  };

  test("all four dimensions, resets as RFC 3339 times", () => {
    expect(parse(200, ANTHROPIC)).toEqual({
      holdUntil: null,
      reason: null,
      limits: {
        requests: { limit: 4000, remaining: 3999, resetAt: NOW + 15 },
        tokens: { limit: 480_000, remaining: 480_000, resetAt: NOW },
        input_tokens: { limit: 400_000, remaining: 400_000, resetAt: NOW },
        output_tokens: { limit: 80_000, remaining: 79_000, resetAt: NOW + 750 },
      },
      warnings: [],
    });
  });

  test("output tokens exhausted: hold until their reset", () => {
    const s = parse(429, { ...ANTHROPIC, "anthropic-ratelimit-output-tokens-remaining": "0", "anthropic-ratelimit-output-tokens-reset": iso(NOW + 42_000) });
    expect(s.holdUntil).toBe(NOW + 42_000);
    expect(s.reason).toBe("output_tokens exhausted");
  });

  test("RFC 3339 variants: offsets, lower-case, a space, long fractions (rounded up)", () => {
    const at = (v: string) => parse(200, { "anthropic-ratelimit-requests-reset": v }).limits.requests?.resetAt;
    expect(at("2027-01-15T09:00:30+01:00")).toBe(NOW + 30_000);
    expect(at("2027-01-15t08:00:30z")).toBe(NOW + 30_000);
    expect(at("2027-01-15 08:00:30Z")).toBe(NOW + 30_000);
    expect(at("2027-01-15T08:00:30.0000001Z")).toBe(NOW + 30_001);
    expect(at("2027-01-15T03:00:30-05:00")).toBe(NOW + 30_000);
  });

  test("not RFC 3339: ignored with a warning", () => {
    for (const v of ["2027-01-15T08:00:30", "2027-02-30T00:00:00Z", "2027-01-15T24:00:00Z", "2027-01-15T08:00:60Z", "tomorrow", "1800000030", "2027-01-15T08:00:30+25:00"]) {
      const s = parse(200, { "anthropic-ratelimit-requests-reset": v });
      expect(s.limits).toEqual({});
      expect(s.warnings).toEqual(["anthropic-ratelimit-requests-reset: not an RFC 3339 time"]);
    }
  });

  test("a proxy passing both vendors' headers: the more cautious reading", () => {
    const s = parse(200, {
      "x-ratelimit-limit-requests": "100",
      "x-ratelimit-remaining-requests": "50",
      "x-ratelimit-reset-requests": "10s",
      "anthropic-ratelimit-requests-limit": "80",
      "anthropic-ratelimit-requests-remaining": "60",
      "anthropic-ratelimit-requests-reset": iso(NOW + 20_000),
    });
    expect(s.limits.requests).toEqual({ limit: 80, remaining: 50, resetAt: NOW + 20_000 });
  });
});

describe("parseUpstreamLimits: Retry-After", () => {
  test("seconds on a 429", () => {
    const s = parse(429, { "retry-after": "20" });
    expect(s.holdUntil).toBe(NOW + 20_000);
    expect(s.reason).toBe("429 Retry-After");
  });

  test("on a 503 too, but not on other statuses", () => {
    expect(parse(503, { "retry-after": "3" }).holdUntil).toBe(NOW + 3_000);
    expect(parse(503, { "retry-after": "3" }).reason).toBe("503 Retry-After");
    for (const status of [200, 500, 502, 301]) expect(parse(status, { "retry-after": "3" }).holdUntil).toBeNull();
  });

  test("an HTTP date", () => {
    expect(parse(429, { "retry-after": httpDate(NOW + 90_000) }).holdUntil).toBe(NOW + 90_000);
    expect(parse(429, { "retry-after": "Friday, 15-Jan-27 08:01:30 GMT" }).holdUntil).toBe(NOW + 90_000); // RFC 850
  });

  test("retry-after-ms is more precise and wins; if not believed, Retry-After still counts", () => {
    expect(parse(429, { "retry-after-ms": "1234.5", "retry-after": "2" }).holdUntil).toBe(NOW + 1_235);
    const bad = parse(429, { "retry-after-ms": "soon", "retry-after": "2" });
    expect(bad.holdUntil).toBe(NOW + 2_000);
    expect(bad.warnings).toEqual(["retry-after-ms: not a number"]);
  });

  test("the latest of Retry-After and exhausted resets", () => {
    const later = parse(429, { "retry-after": "30", "x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "10s" });
    expect([later.holdUntil, later.reason]).toEqual([NOW + 30_000, "429 Retry-After"]);
    const earlier = parse(429, { "retry-after": "5", "x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "10s" });
    expect([earlier.holdUntil, earlier.reason]).toEqual([NOW + 10_000, "requests exhausted"]);
  });

  test("a 429 with nothing to go on holds nothing (the caller backs off on its own)", () => {
    expect(parse(429, {}).holdUntil).toBeNull();
    expect(parse(429, { "retry-after": "0" }).holdUntil).toBeNull();
  });
});

describe("parseUpstreamLimits: defensive", () => {
  test("negative, not a number, malformed: ignored, each with a warning", () => {
    const s = parse(429, {
      "x-ratelimit-limit-requests": "-5",
      "x-ratelimit-remaining-requests": "NaN",
      "x-ratelimit-reset-requests": "-3s",
      "x-ratelimit-limit-tokens": "Infinity",
      "x-ratelimit-remaining-tokens": "1e3",
      "x-ratelimit-reset-tokens": "soon",
      "retry-after": "-1",
    });
    expect(s.limits).toEqual({});
    expect(s.holdUntil).toBeNull();
    expect(s.warnings.sort()).toEqual(
      [
        "x-ratelimit-limit-requests: negative",
        "x-ratelimit-remaining-requests: not a number",
        "x-ratelimit-reset-requests: negative",
        "x-ratelimit-limit-tokens: not a number",
        "x-ratelimit-remaining-tokens: not a number",
        "x-ratelimit-reset-tokens: not a duration",
        "retry-after: negative",
      ].sort(),
    );
  });

  test("absurdly far ahead: a reset over 1 h, a Retry-After over 24 h", () => {
    const s = parse(429, { "x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "1h0m1s", "retry-after": String(25 * 3600) });
    expect(s.holdUntil).toBeNull();
    expect(s.limits).toEqual({ requests: { remaining: 0 } });
    expect(s.warnings.sort()).toEqual(
      ["x-ratelimit-reset-requests: more than 1h0m0s ahead", "requests: 0 remaining but no usable reset", "retry-after: more than 24h0m0s ahead"].sort(),
    );
    expect(parse(429, { "retry-after": httpDate(NOW + 2 * 86_400_000) }).warnings).toEqual(["retry-after: more than 24h0m0s ahead"]);
    expect(parse(429, { "retry-after-ms": "1e400" }).warnings).toEqual(["retry-after-ms: not a number"]);
    expect(parse(429, { "retry-after-ms": "9".repeat(40) }).warnings).toEqual(["retry-after-ms: more than 24h0m0s ahead"]);
  });

  test("exactly at the caps is still believed; the caps are options", () => {
    expect(parse(200, { "x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "1h" }).holdUntil).toBe(NOW + 3_600_000);
    expect(parse(429, { "retry-after": "86400" }).holdUntil).toBe(NOW + 86_400_000);
    const strict = parseUpstreamLimits(429, new Headers({ "retry-after": "120" }), NOW, { maxRetryAfterMs: 60_000 });
    expect([strict.holdUntil, strict.warnings]).toEqual([null, ["retry-after: more than 1m0s ahead"]]);
    const lax = parseUpstreamLimits(200, new Headers({ "x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "3h" }), NOW, { maxResetMs: 86_400_000 });
    expect(lax.holdUntil).toBe(NOW + 3 * 3_600_000);
  });

  test("times in the past: a few seconds is clock skew (now), more is ignored with a warning", () => {
    const skew = parse(429, { "anthropic-ratelimit-requests-remaining": "0", "anthropic-ratelimit-requests-reset": iso(NOW - 2_000), "retry-after": httpDate(NOW - 3_000) });
    expect(skew.limits.requests).toEqual({ remaining: 0, resetAt: NOW });
    expect(skew.holdUntil).toBeNull();
    expect(skew.warnings).toEqual([]);
    const stale = parse(429, { "anthropic-ratelimit-requests-reset": iso(NOW - 60_000), "retry-after": httpDate(NOW - 60_000) });
    expect(stale.limits).toEqual({});
    expect(stale.warnings.sort()).toEqual(["anthropic-ratelimit-requests-reset: in the past", "retry-after: in the past"]);
  });

  test("Retry-After that is neither seconds nor an HTTP date", () => {
    for (const v of ["soon", "1e3", "2027-01-15T08:01:30Z", "12abc", "0x10"]) {
      expect(parse(429, { "retry-after": v }).warnings).toEqual(["retry-after: not seconds or an HTTP date"]);
    }
  });

  test("remaining above the limit is kept, with a warning", () => {
    const s = parse(200, { "x-ratelimit-limit-requests": "10", "x-ratelimit-remaining-requests": "11" });
    expect(s.limits.requests).toEqual({ limit: 10, remaining: 11 });
    expect(s.warnings).toEqual(["x-ratelimit-remaining-requests: more than the limit"]);
  });

  test("repeated headers (joined with commas) and overlong values", () => {
    const h = new Headers();
    h.append("x-ratelimit-remaining-requests", "5");
    h.append("x-ratelimit-remaining-requests", "5");
    h.set("x-ratelimit-reset-requests", "1s".repeat(100));
    const s = parseUpstreamLimits(200, h, NOW);
    expect(s.limits).toEqual({});
    expect(s.warnings.sort()).toEqual(["x-ratelimit-remaining-requests: not a number", "x-ratelimit-reset-requests: value too long"]);
  });

  test("warnings name the header and the problem, never the value: one log line per kind", () => {
    const a = parse(429, { "x-ratelimit-reset-requests": "banana", "retry-after": String(30 * 86_400) });
    const b = parse(429, { "x-ratelimit-reset-requests": "apple", "retry-after": String(40 * 86_400) });
    expect(a.warnings).toEqual(b.warnings);
  });

  test("never throws; whatever it returns is sane (random garbage headers)", () => {
    const names = [
      ...["limit", "remaining", "reset"].flatMap((k) => ["requests", "tokens", "input-tokens", "output-tokens"].map((d) => `x-ratelimit-${k}-${d}`)),
      ...["limit", "remaining", "reset"].flatMap((k) => ["requests", "tokens", "input-tokens", "output-tokens"].map((d) => `anthropic-ratelimit-${d}-${k}`)),
      "retry-after",
      "retry-after-ms",
    ];
    const r = prng(7);
    const pieces = ["0", "1", "-", ".", "5", "s", "m", "h", "ms", "µs", "T", "Z", ":", "+", "e", "9", " ", "Mon, ", "GMT", "2027-01-15", "NaN", "Infinity", "\t", ","];
    const junk = () => Array.from({ length: r.int(0, 8) }, () => pieces[r.int(0, pieces.length - 1)]).join("");
    const values = () => [junk(), String(r.int(-10, 100_000)), `${r.int(0, 90)}m${r.int(0, 59)}.${r.int(0, 999)}s`, iso(NOW + r.int(-120_000, 7_200_000)), httpDate(NOW + r.int(-120_000, 90_000_000))];
    for (let i = 0; i < 3000; i++) {
      const h = new Headers();
      for (const n of names) if (r.chance(0.3)) h.set(n, values()[r.int(0, 4)]!);
      const status = [200, 429, 503, 500][r.int(0, 3)]!;
      const s = parseUpstreamLimits(status, h, NOW);
      if (s.holdUntil !== null) {
        expect(s.holdUntil).toBeGreaterThan(NOW);
        expect(s.holdUntil).toBeLessThanOrEqual(NOW + 86_400_000);
        expect(s.reason).not.toBeNull();
      } else {
        expect(s.reason).toBeNull();
      }
      for (const w of Object.values(s.limits)) {
        for (const v of [w.limit, w.remaining]) if (v !== undefined) expect(Number.isFinite(v) && v >= 0).toBe(true);
        if (w.resetAt !== undefined) {
          expect(w.resetAt).toBeGreaterThanOrEqual(NOW);
          expect(w.resetAt).toBeLessThanOrEqual(NOW + 3_600_000);
        }
      }
      expect(new Set(s.warnings).size).toBe(s.warnings.length);
    }
  });
});
