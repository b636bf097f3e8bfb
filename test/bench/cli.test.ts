// `bench` as a user runs it: a real process (a fresh commander program with registerBench), real ports.
import { afterEach, expect, test } from "bun:test";
import { resolve } from "node:path";
import { ENV_VAR } from "../../src/bench/fetch-cap.ts";
import { keyLabel } from "../../src/bench/workload.ts";
import { startMockUpstream } from "../../src/mock/mock-upstream.ts";
import { gateway, provider } from "../helpers/gateway.ts";
import { closedPort } from "./helpers.ts";

const ROOT = resolve(import.meta.dir, "../..");
const BUN = resolve(ROOT, "node_modules/.bin/bun");
const CLI = resolve(import.meta.dir, "fixtures/bench-cli.ts");

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

/** Runs the CLI without blocking this process (its servers must keep answering). */
async function bench(args: string[], env: Record<string, string | undefined> = {}) {
  const baseEnv: Record<string, string | undefined> = { ...process.env, NO_COLOR: "1" };
  delete baseEnv[ENV_VAR];
  const p = Bun.spawn([BUN, CLI, "bench", ...args], { cwd: ROOT, env: { ...baseEnv, ...env }, stdout: "pipe", stderr: "pipe" });
  cleanup.push(() => p.kill("SIGKILL"));
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { out, err, code };
}

const KEY1 = "lr-cli-secret-key-aaaa1111";
const KEY2 = "lr-cli-secret-key-bbbb2222";

function keyedGateway() {
  const mock = startMockUpstream({ port: 0, host: "127.0.0.1" });
  const gw = gateway({ keys: { [KEY1]: { rpm: 5 }, [KEY2]: { rpm: 8 } }, providers: [provider("mock", mock.url)] });
  cleanup.push(() => mock.stop(), () => gw.stop());
  return { mock, gw };
}

test("--json writes exactly one parseable JSON object on stdout, with the contract fields; keys never shown", async () => {
  const { mock, gw } = keyedGateway();
  const r = await bench(["--url", gw.url, "-n", "40", "-c", "4", "--api-key", KEY1, "--api-key", KEY2, "--json"]);
  expect(r.code).toBe(0);
  const j = JSON.parse(r.out);
  for (const f of ["requests", "duration_s", "rps", "status", "errors", "latency_ms", "by_url", "by_key"]) expect(j).toHaveProperty(f);
  for (const f of ["p50", "p90", "p99", "max"]) expect(typeof j.latency_ms[f]).toBe("number");
  expect(j.requests).toBe(40);
  expect(j.status["200"]).toBe(mock.counts().requests);
  expect(j.status["200"] + j.status["429"]).toBe(40);
  expect(Object.keys(j.by_url)).toEqual([gw.url]);
  expect(Object.keys(j.by_key).sort()).toEqual([keyLabel(KEY1), keyLabel(KEY2)].sort());
  expect(j.by_key[keyLabel(KEY1)].status["200"]).toBe(5);
  // Limits read from /admin/stats and checked.
  expect(j.key_limits).toHaveLength(2);
  expect(j.key_limits.every((k: { ok: boolean }) => k.ok)).toBe(true);
  expect(j).not.toHaveProperty("ttft_ms");
  for (const s of [r.out, r.err]) {
    expect(s).not.toContain(KEY1);
    expect(s).not.toContain("secret-key");
  }
  // Progress and notes went to stderr, not stdout.
  expect(r.err).toContain("limitrate bench:");
  expect(r.out.trim().startsWith("{")).toBe(true);
  expect(r.out.trim().endsWith("}")).toBe(true);
});

test("--stream --json adds ttft_ms", async () => {
  const mock = startMockUpstream({ port: 0, host: "127.0.0.1", latencyMs: 30 });
  cleanup.push(() => mock.stop());
  const r = await bench(["--url", mock.url, "-n", "6", "-c", "2", "--stream", "--max-tokens", "5", "--json"]);
  expect(r.code).toBe(0);
  const j = JSON.parse(r.out);
  expect(j.ttft_ms.count).toBe(6);
  expect(j.ttft_ms.p50).toBeGreaterThanOrEqual(25);
  expect(j.settings).toMatchObject({ stream: true, max_tokens: 5 });
});

test("the text report goes to stdout, progress to stderr (one plain line when not a terminal)", async () => {
  const { gw } = keyedGateway();
  const r = await bench(["--url", gw.url, "-n", "30", "-c", "3", "--api-key", KEY1]);
  expect(r.code).toBe(0);
  expect(r.out).toContain("limitrate bench: 30 requests in");
  expect(r.out).toContain("by node");
  expect(r.out).toContain(`${keyLabel(KEY1)}  rpm 5: accepted 5 ≤ 5 allowed over the run  ✓ within the limit`);
  expect(r.out).not.toContain("\x1b[");
  expect(r.err).not.toContain("by node");
  expect(r.err).not.toContain("\r");
});

test("with no --url: the built-in demo, and --json carries the mock's own counts", async () => {
  const r = await bench(["-d", "1", "-c", "4", "--json"]);
  expect(r.code).toBe(0);
  const j = JSON.parse(r.out);
  expect(j.demo.upstream_requests - j.demo.upstream_429).toBe(j.status["200"]);
  expect(j.demo.upstream_max_per_second).toBeLessThanOrEqual(11);
  expect(Object.keys(j.by_key)).toEqual(["alice", "bob", "carol"]);
  expect(j.key_limits.map((k: { key: string }) => k.key)).toEqual(["alice", "bob"]);
  expect(r.out).not.toContain("lr-demo-");
  expect(r.err).not.toContain("lr-demo-");
}, 20_000);

test("above 256 in flight it re-runs itself with BUN_CONFIG_MAX_HTTP_REQUESTS, so the concurrency is real", async () => {
  const mock = startMockUpstream({ port: 0, host: "127.0.0.1", latencyMs: 400 });
  cleanup.push(() => mock.stop());
  const r = await bench(["--url", mock.url, "-n", "300", "-c", "300", "--json"]);
  expect(r.code).toBe(0);
  expect(JSON.parse(r.out).status["200"]).toBe(300);
  expect(mock.counts().max_in_flight).toBeGreaterThan(256);

  // Set too low by the user: a hint, no re-run, and fetch keeps its cap.
  mock.reset();
  const low = await bench(["--url", mock.url, "-n", "300", "-c", "300", "--json"], { [ENV_VAR]: "256" });
  expect(low.code).toBe(0);
  expect(low.err).toContain(`${ENV_VAR}=300`);
  expect(mock.counts().max_in_flight).toBeLessThanOrEqual(256);
}, 20_000);

test("usage errors and an unreachable gateway exit non-zero with a plain message", async () => {
  const both = await bench(["-n", "5", "-d", "1", "--url", "http://127.0.0.1:1"]);
  expect(both.code).not.toBe(0);
  expect(both.err).toContain("cannot be used with");
  const bad = await bench(["-c", "0", "--url", "http://127.0.0.1:1"]);
  expect(bad.code).not.toBe(0);
  expect(bad.err).toContain("integer");

  const port = await closedPort();
  const down = await bench(["--url", `http://127.0.0.1:${port}`, "-n", "3", "--json"]);
  expect(down.code).toBe(1);
  expect(JSON.parse(down.out).errors).toBe(3);
  expect(down.err).toContain("no request got an HTTP answer");
});
