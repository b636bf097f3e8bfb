// The report is a pure function: hand-written results in, exact text and JSON out.
import { expect, test } from "bun:test";
import { formatMs, formatReport, reportJson } from "../../src/bench/report.ts";
import type { BenchResult } from "../../src/bench/result.ts";
import { group } from "./helpers.ts";

const A = "http://127.0.0.1:8080";
const B = "http://127.0.0.1:8081";

const result: BenchResult = {
  settings: {
    mode: "closed",
    concurrency: 20,
    rate: null,
    model: "gpt-4o-mini",
    stream: false,
    max_tokens: null,
    target_requests: 200,
    target_duration_s: null,
  },
  duration_s: 2,
  total: group({ "200": 80, "429": 110, "503": 8 }, 2, [0.5, 1500, 2010, 2500], [1800, 2000, 2010, 2500]),
  by_url: {
    [A]: group({ "200": 40, "429": 55, "503": 4 }, 1),
    [B]: group({ "200": 40, "429": 55, "503": 4 }, 1),
  },
  by_key: {
    "key:1a2b3c4d": group({ "200": 30, "429": 70 }),
    "key:9f8e7d6c": group({ "200": 50, "429": 40, "503": 8 }, 2),
  },
  unsent: 0,
  unfinished: 0,
  key_limits: [
    { key: "key:1a2b3c4d", dimension: "rpm", limit: 30, allowed: 30, accepted: 30, ok: true },
    { key: "key:9f8e7d6c", dimension: "rpm", limit: 40, allowed: 40, accepted: 50, ok: false },
  ],
};

const lat = (p50: number, p90: number, p99: number, max: number, count: number) => ({
  p50,
  p90,
  p99,
  max,
  min: p50 / 2,
  mean: p50,
  count,
});

test("reportJson: the DESIGN.md contract fields, with by_url and by_key", () => {
  const j = reportJson(result);
  expect(j).toEqual({
    requests: 200,
    rps: 100,
    status: { "200": 80, "429": 110, "503": 8 },
    errors: 2,
    latency_ms: lat(0.5, 1500, 2010, 2500, 198),
    latency_ok_ms: lat(1800, 2000, 2010, 2500, 80),
    duration_s: 2,
    error_kinds: { connection_refused: 2 },
    share_429: 0.55,
    share_503: 0.04,
    by_url: {
      [A]: { requests: 100, rps: 50, status: { "200": 40, "429": 55, "503": 4 }, errors: 1, latency_ms: lat(10, 20, 40, 50, 99), latency_ok_ms: lat(10, 20, 40, 50, 40) },
      [B]: { requests: 100, rps: 50, status: { "200": 40, "429": 55, "503": 4 }, errors: 1, latency_ms: lat(10, 20, 40, 50, 99), latency_ok_ms: lat(10, 20, 40, 50, 40) },
    },
    by_key: {
      "key:1a2b3c4d": { requests: 100, rps: 50, status: { "200": 30, "429": 70 }, errors: 0, latency_ms: lat(10, 20, 40, 50, 100), latency_ok_ms: lat(10, 20, 40, 50, 30) },
      "key:9f8e7d6c": { requests: 100, rps: 50, status: { "200": 50, "429": 40, "503": 8 }, errors: 2, latency_ms: lat(10, 20, 40, 50, 98), latency_ok_ms: lat(10, 20, 40, 50, 50) },
    },
    key_limits: result.key_limits,
    unsent: 0,
    unfinished: 0,
    settings: result.settings,
  });
  // A script can rely on it surviving a round trip.
  expect(JSON.parse(JSON.stringify(j))).toEqual(j);
  expect(j).not.toHaveProperty("ttft_ms");
});

test("reportJson: streams add ttft_ms; no answers give null latencies, not NaN", () => {
  const streamed: BenchResult = {
    ...result,
    settings: { ...result.settings, stream: true },
    total: group({ "200": 10 }, 0, [300, 400, 500, 600], [300, 400, 500, 600], [100, 110, 150, 160]),
  };
  expect(reportJson(streamed).ttft_ms).toEqual(lat(100, 110, 150, 160, 10));
  expect(reportJson(streamed).by_url[A]!.ttft_ms).toEqual({ p50: null, p90: null, p99: null, max: null, min: null, mean: null, count: 0 });

  const dead: BenchResult = { ...result, total: group({}, 5, null, null), by_url: {}, by_key: {}, key_limits: [] };
  const j = reportJson(dead);
  expect(j.latency_ms).toEqual({ p50: null, p90: null, p99: null, max: null, min: null, mean: null, count: 0 });
  expect(j.errors).toBe(5);
  expect(j.share_429).toBe(0);
  expect(JSON.stringify(j)).not.toContain("NaN");
});

test("formatReport: the exact text, no colours unless asked", () => {
  expect(formatReport(result)).toBe(
    [
      "limitrate bench: 200 requests in 2.00 s (20 workers, 200 requests, model gpt-4o-mini)",
      "",
      "  throughput  100.0 req/s   (2xx: 40.0 req/s)",
      "  status      200: 80 (40.0%)   429: 110 (55.0%)   503: 8 (4.0%)",
      "  refused     429: 55.0%   503: 4.0%",
      "  errors      2  (connection_refused: 2)",
      "  latency     p50 0.50 ms   p90 1.50 s   p99 2.01 s   max 2.50 s   all answers",
      "              p50 1.80 s   p90 2.00 s   p99 2.01 s   max 2.50 s   2xx only",
      "",
      "  by node",
      "    url                    requests  req/s  2xx  429  503  other  errors      p50      p99  2xx p50",
      "    http://127.0.0.1:8080       100   50.0   40   55    4      0       1  10.0 ms  40.0 ms  10.0 ms",
      "    http://127.0.0.1:8081       100   50.0   40   55    4      0       1  10.0 ms  40.0 ms  10.0 ms",
      "",
      "  by key",
      "    key           requests  req/s  2xx  429  503  other  errors      p50      p99  2xx p50",
      "    key:1a2b3c4d       100   50.0   30   70    0      0       0  10.0 ms  40.0 ms  10.0 ms",
      "    key:9f8e7d6c       100   50.0   50   40    8      0       2  10.0 ms  40.0 ms  10.0 ms",
      "",
      "  key limits (from the gateway's /admin/stats)",
      "    key:1a2b3c4d  rpm 30: accepted 30 ≤ 30 allowed over the run  ✓ within the limit",
      "    key:9f8e7d6c  rpm 40: accepted 50 > 40 allowed over the run  ✗ OVER the limit",
      "",
    ].join("\n"),
  );
  expect(formatReport(result)).not.toContain("\x1b[");
  expect(formatReport(result, { colors: true })).toContain("\x1b[");
});

test("formatReport: open loop, streams, unsent and cut-off requests are explained", () => {
  const open: BenchResult = {
    ...result,
    settings: { ...result.settings, mode: "open", rate: 50, concurrency: 500, stream: true, target_requests: null, target_duration_s: 1 },
    total: group({ "200": 10 }, 0, [300, 400, 500, 600], [300, 400, 500, 600], [100, 110, 150, 160]),
    by_key: {},
    key_limits: [],
    unsent: 3,
    unfinished: 4,
  };
  const text = formatReport(open);
  expect(text).toContain("(open loop at 50 req/s (≤ 500 in flight), 1 s, model gpt-4o-mini, streaming)");
  expect(text).toContain("  first token p50 100 ms   p90 110 ms   p99 150 ms   max 160 ms   2xx streams");
  expect(text).toContain("latency runs from each request's intended send time");
  expect(text).toContain("3 requests were due but never sent");
  expect(text).toContain("4 requests still had no answer when the run ended");
  expect(text).not.toContain("by key");
  expect(text).not.toContain("key limits");
});

test("formatMs picks a readable unit", () => {
  expect(formatMs(0.123)).toBe("0.12 ms");
  expect(formatMs(12.34)).toBe("12.3 ms");
  expect(formatMs(123.4)).toBe("123 ms");
  expect(formatMs(1234)).toBe("1.23 s");
  expect(formatMs(null)).toBe("–");
  expect(formatMs(Number.NaN)).toBe("–");
});
