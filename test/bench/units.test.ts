// Small pure pieces: workload, fetch-cap plan, progress line, demo figures and explanation.
import { expect, test } from "bun:test";
import pc from "picocolors";
import { demoFigures, DEMO, explainDemo, maxInWindow } from "../../src/bench/demo.ts";
import type { Progress } from "../../src/bench/engine.ts";
import { ENV_VAR, planFetchCap } from "../../src/bench/fetch-cap.ts";
import { progressLine } from "../../src/bench/progress.ts";
import type { BenchResult } from "../../src/bench/result.ts";
import { benchKeys, chatBody, keyLabel, normalizeBase, pick } from "../../src/bench/workload.ts";
import type { MockCounts } from "../../src/mock/mock-upstream.ts";
import { group } from "./helpers.ts";

test("node URLs are normalized to the gateway base", () => {
  expect(normalizeBase("http://127.0.0.1:8080/")).toBe("http://127.0.0.1:8080");
  expect(normalizeBase("http://127.0.0.1:8080/v1")).toBe("http://127.0.0.1:8080");
  expect(normalizeBase("127.0.0.1:8080")).toBe("http://127.0.0.1:8080");
});

test("keys are labelled by a sha256 prefix, never shown in full, duplicates dropped", () => {
  const keys = benchKeys(["sk-secret-aaaaaaaaaaaa", "sk-secret-aaaaaaaaaaaa", "other-key-bbbbbbbb"]);
  expect(keys).toHaveLength(2);
  expect(keys[0]!.label).toMatch(/^key:[0-9a-f]{8}$/);
  expect(keys[0]!.label).toBe(keyLabel("sk-secret-aaaaaaaaaaaa"));
  expect(keys[0]!.label).not.toContain("secret");
});

test("the request body: model, one short user message, max_tokens and stream only when asked", () => {
  expect(JSON.parse(chatBody({ model: "m", stream: false }))).toEqual({ model: "m", messages: [{ role: "user", content: expect.any(String) }] });
  expect(JSON.parse(chatBody({ model: "m", stream: true, maxTokens: 16 }))).toMatchObject({ stream: true, max_tokens: 16 });
});

test("pick spreads uniformly and never runs off the end", () => {
  expect(pick(["a", "b"], () => 0.999999999)).toBe("b");
  expect(pick(["a", "b"], () => 0)).toBe("a");
});

test("fetch cap: fine up to 256; above it, re-run with the variable set (script or compiled executable)", () => {
  const base = { env: { PATH: "/bin" }, execPath: "/usr/bin/bun", main: "/app/bin/limitrate", argv: ["bun", "/app/bin/limitrate", "bench", "-c", "1000"] };
  expect(planFetchCap(256, base)).toEqual({ kind: "ok" });
  expect(planFetchCap(1000, base)).toEqual({
    kind: "reexec",
    argv: ["/usr/bin/bun", "/app/bin/limitrate", "bench", "-c", "1000"],
    env: { PATH: "/bin", [ENV_VAR]: "1000" },
    cap: 1000,
  });
  const compiled = { ...base, execPath: "/usr/local/bin/limitrate", main: "/$bunfs/root/limitrate", argv: ["bun", "/$bunfs/root/limitrate", "bench", "-c", "1000"] };
  expect(planFetchCap(1000, compiled)).toMatchObject({ kind: "reexec", argv: ["/usr/local/bin/limitrate", "bench", "-c", "1000"] });
  // Already set high enough (the re-run child): go on. Set too low by the user: a hint, no loop.
  expect(planFetchCap(1000, { ...base, env: { [ENV_VAR]: "2000" } })).toEqual({ kind: "ok" });
  const hint = planFetchCap(1000, { ...base, env: { [ENV_VAR]: "300" } });
  expect(hint.kind).toBe("hint");
  expect(hint.kind === "hint" && hint.message).toContain(`${ENV_VAR}=1000`);
});

const settings: BenchResult["settings"] = {
  mode: "closed",
  concurrency: 4,
  rate: null,
  model: "gpt-4o-mini",
  stream: false,
  max_tokens: null,
  target_requests: null,
  target_duration_s: 10,
};

test("progress line: fraction, elapsed, rate, in flight and status counts", () => {
  const p: Progress = { elapsedMs: 2500, done: 120, inFlight: 4, waiting: 0, rps: 47.6, status: { "429": 20, "200": 100 }, errors: 1, fraction: 0.25, settings };
  const c = pc.createColors(false);
  expect(progressLine(p, c, false)).toBe("[ 25%]  2.5s  120 done  48 rps  4 in flight  200:100 429:20 err:1");
  expect(progressLine(p, c, true)).toBe(`${"█".repeat(6)}${"░".repeat(18)}  25%  2.5s  120 done  48 rps  4 in flight  200:100 429:20 err:1`);
  expect(progressLine({ ...p, fraction: 1, elapsedMs: 11_000 }, c, false)).toContain("waiting for 4 answers");
});

test("most arrivals in any one-second window", () => {
  expect(maxInWindow([], 1000)).toBe(0);
  expect(maxInWindow([0, 100, 200, 999, 1000, 1999], 1000)).toBe(4);
  expect(maxInWindow(Array.from({ length: 50 }, (_, i) => i * 100), 1000)).toBe(10);
});

test("the demo explanation states the figures in plain words", () => {
  const mock: MockCounts = {
    requests: 50, by_path: {}, by_status: { "200": 50 }, prompt_tokens: 0, completion_tokens: 0, rejected_429: 0,
    in_flight: 0, max_in_flight: 1, first_request_at: 0, last_request_at: 4900,
    arrivals: Array.from({ length: 50 }, (_, i) => i * 100),
  };
  const f = demoFigures(mock, DEMO);
  expect(f).toMatchObject({ upstream_requests: 50, upstream_429: 0, upstream_max_per_second: 10, upstream_mean_gap_ms: 100 });
  const r: BenchResult = {
    settings: { ...settings, concurrency: 20, target_duration_s: 5 },
    duration_s: 6,
    total: group({ "200": 50, "429": 40 }, 0, [1, 1900, 2000, 2100], [1900, 2000, 2000, 2100]),
    by_url: {},
    by_key: { alice: group({ "200": 5, "429": 25 }), bob: group({ "200": 10, "429": 15 }), carol: group({ "200": 35 }) },
    unsent: 0,
    unfinished: 0,
    key_limits: [],
  };
  const wrapped = explainDemo(r, f);
  expect(Math.max(...wrapped.split("\n").map((l) => l.length))).toBeLessThanOrEqual(100);
  const text = wrapped.replace(/\s+/g, " ");
  expect(text).toContain("Queued, not refused");
  expect(text).toContain("at most 600 requests per minute (one every 100 ms)");
  expect(text).toContain("accepted answers took 1.9 s at the median (the provider itself answers in 50 ms), and 0 gave up");
  expect(text).toContain("alice (5 rpm) got 5 accepted and 25 refused; bob (10 rpm) got 10 accepted and 15 refused; carol has no limit of its own: 35 accepted, 0 refused");
  expect(text).toContain("/mock/counts) saw 50 requests, 0 refused with 429, at most 10 in any one second");
  expect(text).toContain("the same as the 50 answers 200 the bench got");
});
