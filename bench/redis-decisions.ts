/**
 * Acquire decisions per second from one process: the in-process store next
 * to the Redis store (Lua, EVALSHA, ioredis auto-pipelining) on a local
 * redis-server, and optionally on a local 3-master Redis Cluster. Every
 * decision is a real one (two sliding windows advanced, checked, charged,
 * written back, TTL set), spread over many limiters, many in flight at once.
 *
 *   bun bench/redis-decisions.ts [--decisions 200000] [--concurrency 512] [--keys 1000]
 *                                [--url redis://127.0.0.1:6379] [--cluster] [--short]
 *
 * Without --url a redis-server is started on a free port (and stopped after).
 */
import { parseArgs } from "node:util";
import { systemClock } from "../src/clock.ts";
import type { Cost, Policy } from "../src/core/policy.ts";
import { MemoryStore } from "../src/store/memory-store.ts";
import { connectCluster, connectRedis } from "../src/store/redis-client.ts";
import { RedisStore } from "../src/store/redis-store.ts";
import type { AcquireItem, LimiterRef, Store } from "../src/store/store.ts";
import { startRedis, startRedisCluster } from "../test/helpers/redis.ts";
import { fmt, table } from "./lib/stats.ts";
import { headline, type Headline } from "./lib/summary.ts";

const TARGET_PER_S = 50_000;

/** The summary lines of the last run (for run-all). */
export let lastHeadlines: Headline[] = [];

/** A client key's policy: rpm and tpm, set high so every decision admits and charges. */
const POLICY: Policy = {
  pacing: null,
  windows: [
    { name: "rpm", dim: "requests", limit: 1e12, windowMs: 60_000, segments: 60 },
    { name: "tpm", dim: "tokens", limit: 1e15, windowMs: 60_000, segments: 60 },
  ],
};
const COST: Cost = { requests: 1, input_tokens: 420, output_tokens: 256 };

/** Issue 9's combined decision: key (5 windows incl. a USD budget) + its group (2) + its own model limit (1), one tag. */
const KEY_POLICY: Policy = {
  pacing: null,
  windows: [
    { name: "rpm", dim: "requests", limit: 1e12, windowMs: 61_000, segments: 61 },
    { name: "input_tpm", dim: "input_tokens", limit: 1e15, windowMs: 61_000, segments: 61 },
    { name: "output_tpm", dim: "output_tokens", limit: 1e15, windowMs: 61_000, segments: 61 },
    { name: "tpm", dim: "tokens", limit: 1e15, windowMs: 61_000, segments: 61 },
    { name: "budget_usd_per_day", dim: "usd", limit: 1e12, windowMs: 87_000_000, segments: 145 },
  ],
};
const GROUP_POLICY: Policy = { pacing: null, windows: KEY_POLICY.windows.slice(0, 1).concat(KEY_POLICY.windows.slice(4)) };
const MODEL_POLICY: Policy = { pacing: null, windows: KEY_POLICY.windows.slice(0, 1) };
const SINGLE_POLICY: Policy = { pacing: null, windows: KEY_POLICY.windows.slice(0, 1) };

/** Decisions/s of one-window decisions next to key+group+model decisions, on one store. */
async function dimensionsCost(name: string, store: Store, decisions: number, concurrency: number): Promise<[number, number]> {
  const run = async (items: (i: number) => AcquireItem[]) => {
    let next = 0;
    const worker = async () => {
      while (next < decisions) {
        const d = await store.acquire(items(next++ % 500), 0);
        if (!d.allowed) throw new Error("the bench policy should admit all");
      }
    };
    const t0 = performance.now();
    await Promise.all(Array.from({ length: concurrency }, worker));
    return decisions / ((performance.now() - t0) / 1000);
  };
  const cost = { ...COST, usd: 0.001 };
  const single = (i: number): AcquireItem[] => [{ ref: { id: `single:${name}:${i}`, policy: SINGLE_POLICY }, cost }];
  const combined = (i: number): AcquireItem[] => {
    const tag = `group:${i % 50}`;
    return [
      { ref: { id: `key:${name}:${i}`, policy: KEY_POLICY, tag }, cost },
      { ref: { id: `group:${name}:${i % 50}`, policy: GROUP_POLICY, tag }, cost },
      { ref: { id: `key:${name}:${i}:model`, policy: MODEL_POLICY, tag }, cost },
    ];
  };
  await run(single);
  await run(combined); // warm-up
  return [await run(single), await run(combined)];
}

interface Result {
  readonly name: string;
  readonly decisions: number;
  readonly seconds: number;
  readonly perS: number;
}

async function drive(store: Store, refs: readonly LimiterRef[], decisions: number, concurrency: number): Promise<number> {
  let next = 0;
  let refused = 0;
  const worker = async () => {
    while (next < decisions) {
      const ref = refs[next++ % refs.length]!;
      const d = await store.acquire([{ ref, cost: COST }], 0);
      if (!d.allowed) refused++;
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - t0) / 1000;
  if (refused) throw new Error(`${refused} decisions refused: the bench policy should admit all`);
  return seconds;
}

async function measure(name: string, store: Store, o: { decisions: number; concurrency: number; keys: number }): Promise<Result> {
  const refs = Array.from({ length: o.keys }, (_, i): LimiterRef => ({ id: `bench:${name}:${i}`, policy: POLICY }));
  await drive(store, refs, Math.min(20_000, o.decisions), o.concurrency); // warm-up: JIT, scripts loaded, keys created
  const seconds = await drive(store, refs, o.decisions, o.concurrency);
  return { name, decisions: o.decisions, seconds, perS: o.decisions / seconds };
}

export async function runRedisDecisions(argv: string[] = process.argv.slice(2)): Promise<Result[]> {
  const { values } = parseArgs({
    args: argv,
    options: {
      decisions: { type: "string" },
      concurrency: { type: "string", default: "512" },
      keys: { type: "string", default: "1000" },
      url: { type: "string" },
      cluster: { type: "boolean", default: false },
      short: { type: "boolean", default: false },
    },
  });
  const o = {
    decisions: Number(values.decisions ?? (values.short ? 50_000 : 200_000)),
    concurrency: Number(values.concurrency),
    keys: Number(values.keys),
  };
  console.log(
    `\n## 2b. store decisions — one process, ${o.decisions} acquires over ${o.keys} limiters (2 windows each), ${o.concurrency} in flight`,
  );
  const results: Result[] = [];
  results.push(await measure("memory", new MemoryStore(systemClock), o));

  const server = values.url === undefined ? await startRedis() : null;
  const url = values.url ?? server!.url;
  try {
    const client = connectRedis(url, 1000);
    const store = new RedisStore(client, { prefix: `bench${process.pid}`, timeoutMs: 1000 });
    results.push(await measure("redis", store, o));
    await store.close();
  } finally {
    await server?.close();
  }

  if (values.cluster) {
    const cluster = await startRedisCluster();
    try {
      const store = new RedisStore(connectCluster(cluster.urls, 1000), { prefix: `bench${process.pid}`, timeoutMs: 1000 });
      results.push(await measure("redis-cluster (3 masters)", store, o));
      await store.close();
    } finally {
      await cluster.close();
    }
  }

  // Issue 9: the cost of the extra dimensions per decision, memory and Redis, same run.
  {
    const n = Math.min(o.decisions, 50_000);
    const [memOne, memAll] = await dimensionsCost("memory", new MemoryStore(systemClock), n * 4, o.concurrency);
    const srv = values.url === undefined ? await startRedis() : null;
    try {
      const store = new RedisStore(connectRedis(values.url ?? srv!.url, 1000), { prefix: `dims${process.pid}`, timeoutMs: 1000 });
      const [redisOne, redisAll] = await dimensionsCost("redis", store, n, o.concurrency);
      await store.close();
      console.log(
        table([
          ["store", "1 window /s", "key+group+model (8 windows) /s", "ratio"],
          ["memory", fmt(memOne, 0), fmt(memAll, 0), `${fmt(memAll / memOne, 3)}×`],
          ["redis", fmt(redisOne, 0), fmt(redisAll, 0), `${fmt(redisAll / redisOne, 3)}×`],
        ]),
      );
    } finally {
      await srv?.close();
    }
  }

  const mem = results[0]!.perS;
  console.log(
    table([
      ["store", "decisions", "seconds", "decisions/s", "vs memory"],
      ...results.map((r) => [r.name, String(r.decisions), fmt(r.seconds), fmt(r.perS, 0), `${fmt(r.perS / mem, 3)}×`]),
    ]),
  );
  const redis = results[1]!.perS;
  console.log(`redis: ${fmt(redis, 0)} decisions/s — target ≥ ${TARGET_PER_S}: ${redis >= TARGET_PER_S ? "met" : "NOT met"}`);
  lastHeadlines = results.slice(1).map((r) =>
    r.name === "redis"
      ? headline("2 decisions", `Redis store (one process, ${o.concurrency} in flight): decisions/s; × memory`, `${fmt(r.perS, 0)}; ${fmt(r.perS / mem, 3)}×`, `≥ ${TARGET_PER_S}`, r.perS >= TARGET_PER_S)
      : headline("2 decisions", `${r.name}: decisions/s; × memory`, `${fmt(r.perS, 0)}; ${fmt(r.perS / mem, 3)}×`));
  return results;
}

if (import.meta.main) await runRedisDecisions();
