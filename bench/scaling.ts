/**
 * Scaling over one Redis: 1 → 2 → 3 gateway nodes (each its own process,
 * all with store.redis on the same redis-server and the same key prefix, so
 * they share every limit), load spread at random over the nodes by one load
 * generator.
 *
 *   throughput    100 client keys at rpm 1e9 and a provider window at rpm 1e9:
 *                 every request is decided twice in Redis (key, then provider
 *                 line) and nothing is refused; total rps per node count, as a
 *                 ratio to 1 node of the same round
 *   limit held    the same nodes, overloaded: one key with rpm N (reject mode),
 *                 then a provider with a window rpm M (max_wait 0), each hit from
 *                 all nodes for a few seconds; the mock upstream's own counter
 *                 must show exactly N (resp. M): never more (the limit held
 *                 across nodes), never fewer (nothing lost)
 *
 * On a machine with few cores every node, Redis, the mock and the load
 * generator share them: the throughput ratios then show the cost of
 * coordination more than the gain of nodes (the cores are printed).
 *
 *   bun bench/scaling.ts [--short]
 */
import { presetArgs } from "./lib/cli.ts";
import { startRedis, type TestRedis } from "../test/helpers/redis.ts";
import type { LoadResult } from "./lib/load.ts";
import { cpuMs, runScript, startServer, type ServerProc } from "./lib/proc.ts";
import { fmt, median, table } from "./lib/stats.ts";
import { headline, printSummary, type Headline } from "./lib/summary.ts";
import { CHAT_BODY, CHAT_PATH, fetchCapEnv } from "./lib/workload.ts";

export interface ScalingOptions {
  readonly rounds: number;
  readonly warmupS: number;
  readonly durationS: number;
  readonly concurrency: number;
  /** Overload duration of each exactness check, s. */
  readonly exactS: number;
  readonly keyRpm: number;
  readonly providerRpm: number;
}

export const FULL: ScalingOptions = { rounds: 3, warmupS: 1, durationS: 5, concurrency: 64, exactS: 10, keyRpm: 100, providerRpm: 150 };
export const SHORT: ScalingOptions = { rounds: 1, warmupS: 0.5, durationS: 2, concurrency: 64, exactS: 4, keyRpm: 100, providerRpm: 150 };

const ENV = fetchCapEnv(1024);
const SECTION = "6 scaling";
const NODES = 3;
const EXACT_KEY = "exact-key";
const CAPPED_BODY = JSON.stringify({ model: "gpt-4o", messages: [{ role: "user", content: "hello there" }], max_tokens: 16 });

function nodeConfig(mockUrl: string, o: ScalingOptions): Record<string, unknown> {
  const keys: Record<string, unknown> = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`bench-key-${i}`, { rpm: 1e9 }]));
  keys[EXACT_KEY] = { rpm: o.keyRpm };
  return {
    keys,
    providers: [
      // Decides every request in Redis, refuses none.
      { name: "mock", base_url: `${mockUrl}/v1`, api_key: "sk-bench", models: ["gpt-4o-mini"], rate_limit: { mode: "window", rpm: 1e9 } },
      // The provider-limit check: over M in the minute, refused at once (no waiting).
      { name: "capped", base_url: `${mockUrl}/v1`, api_key: "sk-bench", models: ["gpt-4o"], rate_limit: { mode: "window", rpm: o.providerRpm, max_wait_seconds: 0 } },
    ],
  };
}

async function mockRequests(mock: ServerProc): Promise<number> {
  const c = (await (await fetch(`${mock.url}/mock/counts`)).json()) as { requests: number; by_status: Record<string, number> };
  return c.by_status["200"] ?? 0;
}

async function load(urls: readonly string[], args: string[], o: { warmupS: number; durationS: number; concurrency: number }): Promise<LoadResult> {
  const run = runScript("load.ts", ["--urls", urls.map((u) => u + CHAT_PATH).join(","), "--concurrency", String(o.concurrency),
    "--warmup", String(o.warmupS), "--duration", String(o.durationS), ...args], (o.warmupS + o.durationS) * 1000 + 60_000, { env: ENV });
  return JSON.parse(await run.output) as LoadResult;
}

export async function runScaling(o: ScalingOptions): Promise<Headline[]> {
  console.log(`\n## 6. scaling over one Redis — 1 → ${NODES} nodes, load spread at random, concurrency ${o.concurrency}, ${o.durationS}s per run, ${o.rounds} round(s); ${navigator.hardwareConcurrency} cores shared by everything`);
  const servers: ServerProc[] = [];
  let redis: TestRedis | null = null;
  const out: Headline[] = [];
  try {
    const mock = await startServer("serve-mock.ts", [], { env: ENV });
    servers.push(mock);
    redis = await startRedis();
    const config = JSON.stringify(nodeConfig(mock.url, o));
    const prefix = `bench-scale-${process.pid}`;
    const nodes: ServerProc[] = [];
    for (let i = 0; i < NODES; i++) {
      const n = await startServer("serve-gateway.ts", ["--config-json", config, "--redis", redis.url, "--prefix", prefix], { env: ENV });
      servers.push(n);
      nodes.push(n);
    }

    // Throughput: 1, 2, 3 nodes, order rotated per round.
    const counts = Array.from({ length: NODES }, (_, i) => i + 1);
    const samples = new Map<number, { rps: number; p50: number; p99: number; cpuPer1k: number; errors: number }[]>(counts.map((k) => [k, []]));
    for (let r = 0; r < o.rounds; r++) {
      for (const k of counts.map((_, i) => counts[(i + r) % counts.length]!)) {
        const used = nodes.slice(0, k);
        const cpu0 = used.reduce((a, n) => a + cpuMs(n.pid), 0);
        const res = await load(used.map((n) => n.url), ["--body", CHAT_BODY, "--keys", "100"], o);
        const cpu = used.reduce((a, n) => a + cpuMs(n.pid), 0) - cpu0;
        samples.get(k)!.push({ rps: res.rps, p50: res.p50, p99: res.p99, cpuPer1k: (cpu / Math.max(1, res.completed)) * 1000, errors: res.errors });
        console.error(`  round ${r + 1}, ${k} node(s): ${fmt(res.rps, 0)} rps, p99 ${fmt(res.p99, 2)} ms${res.errors ? `, ${res.errors} errors ${JSON.stringify(res.byStatus)}` : ""}`);
      }
    }
    const rows = [["nodes", "total rps", "× 1 node", "p50 ms", "p99 ms", "gateway CPU ms/1k req (all nodes)", "errors"]];
    const one = samples.get(1)!;
    for (const k of counts) {
      const s = samples.get(k)!;
      const ratio = median(s.map((x, i) => x.rps / (one[i]?.rps ?? Number.NaN)));
      rows.push([String(k), fmt(median(s.map((x) => x.rps)), 0), `${fmt(ratio, 3)}×`, fmt(median(s.map((x) => x.p50)), 2), fmt(median(s.map((x) => x.p99)), 2),
        fmt(median(s.map((x) => x.cpuPer1k)), 1), String(s.reduce((a, x) => a + x.errors, 0))]);
      if (k > 1) out.push(headline(SECTION, `${k} nodes over one Redis: total rps × 1 node (${navigator.hardwareConcurrency} cores)`, `${fmt(ratio, 3)}×`));
    }
    out.unshift(headline(SECTION, "1 node, Redis store, key + provider decided per request: rps", fmt(median(one.map((x) => x.rps)), 0)));
    console.log(table(rows));

    // Limit held across all nodes: exact counts at the upstream.
    const checks = [
      { name: `key rpm ${o.keyRpm} (reject)`, limit: o.keyRpm, args: ["--body", CHAT_BODY, "--headers", JSON.stringify({ authorization: `Bearer ${EXACT_KEY}` })] },
      // With keys configured every request needs one: bench-key-0 (rpm 1e9) never binds.
      { name: `provider window rpm ${o.providerRpm} (max_wait 0)`, limit: o.providerRpm, args: ["--body", CAPPED_BODY, "--keys", "1"] },
    ];
    const exactRows = [["overload over all nodes", "limit", "sent", "answered 200", "upstream 200s (mock's counter)", "upstream / limit", "refused (status: count)"]];
    for (const c of checks) {
      await fetch(`${mock.url}/mock/reset`, { method: "POST" });
      const res = await load(nodes.map((n) => n.url), c.args, { warmupS: 0, durationS: o.exactS, concurrency: 32 });
      const upstream = await mockRequests(mock);
      const sent = Object.values(res.byStatus).reduce((a, x) => a + x, 0);
      const refused = Object.entries(res.byStatus).filter(([s]) => s !== "200").map(([s, x]) => `${s}: ${x}`).join(", ");
      exactRows.push([c.name, String(c.limit), String(sent), String(res.byStatus["200"] ?? 0), String(upstream), fmt(upstream / c.limit, 3), refused]);
      out.push(headline(SECTION, `${NODES} nodes, ${c.name}, ${o.exactS}s overload: upstream / limit`, `${upstream} / ${c.limit}`, "= limit", upstream === c.limit));
    }
    console.log(table(exactRows));
    const states = await Promise.all(nodes.map(async (n) => ((await (await fetch(`${n.url}/admin/health`)).json()) as { store: { state: string } }).store.state));
    console.log(`store state on the nodes after the runs: ${states.join(", ")} (anything but ok means a node fell back to its own in-process limits)`);
    if (states.some((s) => s !== "ok")) out.push(headline(SECTION, "store state after the runs", states.join(", "), "ok", false));
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
    await redis?.close();
  }
  return out;
}

if (import.meta.main) {
  printSummary(await runScaling(presetArgs(FULL, SHORT).options));
}
