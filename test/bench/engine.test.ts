// The engine against real servers on 127.0.0.1:0 (a gateway in front of the mock, or the mock alone).
import { afterEach, expect, test } from "bun:test";
import { BenchEngine, type EngineOptions, type Progress } from "../../src/bench/engine.ts";
import type { RequestResult } from "../../src/bench/result.ts";
import { okCount } from "../../src/bench/tally.ts";
import { benchKeys, normalizeBase } from "../../src/bench/workload.ts";
import { startMockUpstream, type RunningMock } from "../../src/mock/mock-upstream.ts";
import { systemClock } from "../../src/clock.ts";
import { MemoryStore } from "../../src/store/memory-store.ts";
import { gateway, provider } from "../helpers/gateway.ts";
import { closedPort, seeded } from "./helpers.ts";

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

function mock(opts: Parameters<typeof startMockUpstream>[0] = {}): RunningMock {
  const m = startMockUpstream({ port: 0, host: "127.0.0.1", ...opts });
  cleanup.push(() => m.stop());
  return m;
}

const base = (o: Partial<EngineOptions> & Pick<EngineOptions, "urls">): EngineOptions => ({
  keys: [],
  concurrency: 1,
  model: "gpt-4o-mini",
  stream: false,
  timeoutMs: 10_000,
  random: seeded(1),
  ...o,
});

test("-n 200 -c 20 over two nodes and two keys: 200s equal what the mock received, 429s are the rest", async () => {
  const upstream = mock();
  const keys = benchKeys(["lr-bench-key-one-0001", "lr-bench-key-two-0002"]);
  const config = { keys: { [keys[0]!.key]: { rpm: 30 }, [keys[1]!.key]: { rpm: 50 } }, providers: [provider("mock", upstream.url)] };
  // Two nodes sharing one store, as nodes share Redis: one budget per key across both.
  const store = new MemoryStore(systemClock);
  const gw = gateway(config, { store });
  const gw2 = gateway(config, { store });
  cleanup.push(() => gw.stop(), () => gw2.stop());
  const urls = [gw.url, gw2.url];
  const engine = new BenchEngine(base({ urls, keys, requests: 200, concurrency: 20 }));
  const seen: RequestResult[] = [];
  engine.on("response", (r) => seen.push(r));
  const r = await engine.run();

  const counts = upstream.counts();
  expect(r.total.requests).toBe(200);
  expect(r.total.errors).toBe(0);
  expect(r.total.status["200"]).toBe(counts.requests);
  expect(counts.rejected_429).toBe(0);
  expect(r.total.status["429"]).toBe(200 - counts.requests);
  // Each key got more than its limit's worth of requests, so exactly its limit went through.
  expect(okCount(r.by_key[keys[0]!.label]!)).toBe(30);
  expect(okCount(r.by_key[keys[1]!.label]!)).toBe(50);
  expect(counts.requests).toBe(80);
  expect(seen).toHaveLength(200);
  expect(r.by_url[gw.url]!.requests + r.by_url[gw2.url]!.requests).toBe(200);
  expect(r.by_url[gw.url]!.requests).toBeGreaterThan(50);
  expect(r.by_url[gw2.url]!.requests).toBeGreaterThan(50);
  expect(r.total.latency!.count).toBe(200);
  expect(r.total.latency!.p99).toBeGreaterThanOrEqual(r.total.latency!.p50);
  expect(r.settings).toMatchObject({ mode: "closed", concurrency: 20, target_requests: 200 });
});

test("requests spread randomly over all nodes and keys", async () => {
  const a = mock();
  const b = mock();
  const keys = benchKeys(["k1", "k2", "k3"]);
  const urls = [a.url, b.url].map(normalizeBase);
  const r = await new BenchEngine(base({ urls, keys, requests: 300, concurrency: 10, random: seeded(3) })).run();
  expect(a.counts().requests + b.counts().requests).toBe(300);
  for (const u of urls) expect(r.by_url[u]!.requests).toBeGreaterThan(100);
  for (const k of keys) expect(r.by_key[k.label]!.requests).toBeGreaterThan(60);
  expect(r.by_url[urls[0]!]!.requests).toBe(a.counts().requests);
});

test("open loop: with 1 slot and a 100 ms upstream, latency counts from the intended send time", async () => {
  const slow = mock({ latencyMs: 100 });
  const urls = [normalizeBase(slow.url)];
  const engine = new BenchEngine(base({ urls, rate: 50, durationMs: 1000, concurrency: 1, graceMs: 10_000 }));
  const ticks: Progress[] = [];
  engine.on("tick", (p) => ticks.push(p));
  const r = await engine.run();
  // 50 requests due over 1 s, served one at a time in ~5 s: the last waited ~4 s to be sent.
  expect(r.total.status["200"]).toBe(50);
  expect(r.settings).toMatchObject({ mode: "open", rate: 50, concurrency: 1 });
  expect(slow.counts().max_in_flight).toBe(1);
  expect(r.total.latency!.p50).toBeGreaterThan(1500);
  expect(r.total.latency!.p99).toBeGreaterThan(3500);
  expect(r.total.latency!.min).toBeGreaterThanOrEqual(95);
  expect(r.duration_s).toBeGreaterThan(4.5);
  expect(Math.max(...ticks.map((t) => t.waiting))).toBeGreaterThan(20);

  // The same server in a closed loop hides the wait: each request is timed from its own (late) start.
  const closed = await new BenchEngine(base({ urls, requests: 10, concurrency: 1 })).run();
  expect(closed.total.latency!.p99).toBeLessThan(400);
}, 20_000);

test("open loop keeps its pace when slots are free: rate × duration requests, barely delayed", async () => {
  const m = mock({ latencyMs: 20 });
  const sendDelays: number[] = [];
  const engine = new BenchEngine(base({ urls: [normalizeBase(m.url)], rate: 100, durationMs: 500, concurrency: 50 }));
  engine.on("response", (r) => sendDelays.push(r.sendDelayMs));
  const r = await engine.run();
  expect(r.total.requests).toBe(50);
  expect(m.counts().requests).toBe(50);
  expect(r.total.latency!.p50).toBeLessThan(200);
  expect(Math.max(...sendDelays)).toBeLessThan(100);
});

test("streams: time to first token and total time", async () => {
  const m = mock({ latencyMs: 80, chunkDelayMs: 15 });
  const r = await new BenchEngine(base({ urls: [normalizeBase(m.url)], requests: 6, concurrency: 3, stream: true, maxTokens: 8 })).run();
  expect(r.total.status["200"]).toBe(6);
  const ttft = r.total.ttft!;
  const total = r.total.latency_ok!;
  expect(ttft.count).toBe(6);
  expect(ttft.p50).toBeGreaterThanOrEqual(75);
  expect(total.p50).toBeGreaterThan(ttft.p50 + 15);
});

test("network errors are counted by kind, not as answers", async () => {
  const port = await closedPort();
  const r = await new BenchEngine(base({ urls: [`http://127.0.0.1:${port}`], requests: 5, concurrency: 2 })).run();
  expect(r.total.requests).toBe(5);
  expect(r.total.errors).toBe(5);
  expect(r.total.error_kinds).toEqual({ connection_refused: 5 });
  expect(r.total.latency).toBeNull();
});

test("-d: stops sending at the deadline and cuts off answers still pending after the grace time", async () => {
  const stuck = mock({ latencyMs: 5000 });
  const t0 = performance.now();
  const r = await new BenchEngine(base({ urls: [normalizeBase(stuck.url)], durationMs: 200, graceMs: 200, concurrency: 3 })).run();
  expect(performance.now() - t0).toBeLessThan(1500);
  expect(r.total.requests).toBe(0);
  expect(r.unfinished).toBe(3);
});

test("stop() ends a run early and still resolves with the result", async () => {
  const m = mock({ latencyMs: 10 });
  const engine = new BenchEngine(base({ urls: [normalizeBase(m.url)], durationMs: 30_000, concurrency: 4 }));
  setTimeout(() => engine.stop(), 300);
  const t0 = performance.now();
  const r = await engine.run();
  expect(performance.now() - t0).toBeLessThan(2000);
  expect(r.total.requests).toBeGreaterThan(10);
  // Cut-off requests may or may not have reached the server; answered ones all did.
  expect(m.counts().requests).toBeGreaterThanOrEqual(r.total.requests);
  expect(m.counts().requests).toBeLessThanOrEqual(r.total.requests + r.unfinished);
});

test("options are checked", () => {
  expect(() => new BenchEngine(base({ urls: [] , requests: 1 }))).toThrow();
  expect(() => new BenchEngine(base({ urls: ["http://127.0.0.1:1"] }))).toThrow(/count or a duration/);
  expect(() => new BenchEngine(base({ urls: ["http://127.0.0.1:1"], requests: 1, concurrency: 0 }))).toThrow();
});
