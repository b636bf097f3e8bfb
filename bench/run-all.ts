/**
 * Runs every benchmark in sequence, then prints one summary table of the
 * headline figures, each with its target and ok/BELOW ("-" when the figure
 * has no target and is there for scale). Every figure is measured in this
 * run, on this machine, against the same local mock upstream as its peer.
 *
 *   bun bench/run-all.ts            full runs (~10–15 minutes)
 *   bun bench/run-all.ts --short    CI-sized runs (a few minutes)
 *   bun bench/run-all.ts --only gateways,pacing   a subset (names below)
 *   bun bench/run-all.ts --no-portkey             skip Portkey (no Node/npm, or offline)
 *
 *   1  gateways      direct, minimal proxy, limitrate (memory, Redis), Portkey: rps, p50/p99, RSS
 *   1b throughput    limitrate variants and 100 keys against the minimal proxy
 *   1c latency       added p50 at concurrency 1
 *   2  decisions     memory store (in-process) and Redis store decisions/s
 *   3  pacing        gap statistics at 60, 600, 6,000 rpm spaced; burst shape
 *   4  queue         memory per waiting request: 10,000 over HTTP, 10,000 and 100,000 in-process
 *   5  tokenizer     token counting throughput, event-loop lag
 *   6  scaling       1 → 3 nodes over one Redis; global limits held exactly
 *   7  exactness     accepted vs limit per key and per provider under overload
 *
 * Exits 1 when some bench failed to run (a crash, not a figure below target).
 */
import { parseArgs } from "node:util";
import * as latency from "./added-latency.ts";
import { runDecisions } from "./decisions.ts";
import * as exactness from "./exactness.ts";
import * as gateways from "./gateways.ts";
import { describeMachine, machine } from "./lib/machine.ts";
import { headline, renderSummary, type Headline } from "./lib/summary.ts";
import * as pacing from "./pacing.ts";
import * as throughput from "./proxy-throughput.ts";
import * as queue from "./queue-memory.ts";
import * as redisDecisions from "./redis-decisions.ts";
import * as scaling from "./scaling.ts";
import { runTokenizer } from "./tokenizer.ts";

const { values } = parseArgs({
  options: {
    short: { type: "boolean", default: false },
    only: { type: "string" },
    "no-portkey": { type: "boolean", default: false },
  },
});
const short = values.short === true;
const only = values.only ? new Set(values.only.split(",").map((s) => s.trim())) : null;

const benches: { name: string; run: () => Promise<Headline[]> }[] = [
  { name: "gateways", run: () => gateways.runGateways({ ...(short ? gateways.SHORT : gateways.FULL), portkey: !values["no-portkey"] }) },
  { name: "throughput", run: () => throughput.runThroughput(short ? throughput.SHORT : throughput.FULL) },
  { name: "latency", run: () => latency.runAddedLatency(short ? latency.SHORT : latency.FULL) },
  {
    name: "decisions",
    run: async () => {
      const mem = await runDecisions(short ? 1 : 2);
      await redisDecisions.runRedisDecisions(short ? ["--short"] : ["--cluster"]);
      return [...mem, ...redisDecisions.lastHeadlines];
    },
  },
  { name: "pacing", run: () => pacing.runPacing(short ? pacing.SHORT : pacing.FULL) },
  { name: "queue", run: () => queue.runQueueMemory(short ? queue.SHORT : queue.FULL) },
  { name: "tokenizer", run: () => runTokenizer({ runs: short ? 3 : 5, encoding: "o200k_base" }) },
  { name: "scaling", run: () => scaling.runScaling(short ? scaling.SHORT : scaling.FULL) },
  { name: "exactness", run: () => exactness.runExactness(short ? exactness.SHORT : exactness.FULL) },
];
if (only) {
  const unknown = [...only].filter((n) => !benches.some((b) => b.name === n));
  if (unknown.length) throw new Error(`unknown bench ${unknown.join(", ")}; choose from ${benches.map((b) => b.name).join(", ")}`);
}

const t0 = performance.now();
console.log(`# limitrate benchmarks (${short ? "short" : "full"})`);
console.log(describeMachine(await machine()));
const heads: Headline[] = [];
const timings: string[] = [];
let failed = 0;
for (const b of benches) {
  if (only && !only.has(b.name)) continue;
  const tb = performance.now();
  try {
    heads.push(...(await b.run()));
  } catch (e) {
    failed++;
    console.log(`\n!! ${b.name} failed: ${(e as Error).stack ?? e}`);
    heads.push(headline(b.name, "bench failed to run", (e as Error).message.slice(0, 80), "runs", false));
  }
  timings.push(`${b.name} ${((performance.now() - tb) / 1000).toFixed(0)} s`);
}

console.log(`\n# summary (${short ? "short" : "full"} run, ${navigator.hardwareConcurrency} cores; ratios are against the peer measured in this run)`);
console.log(renderSummary(heads));
const below = heads.filter((h) => h.ok === false).length;
const met = heads.filter((h) => h.ok === true).length;
console.log(`\n${met} met, ${below} below target, ${heads.length - met - below} for scale; ${failed} bench(es) failed to run`);
console.log(`time: ${timings.join(", ")}; total ${((performance.now() - t0) / 1000).toFixed(0)} s`);
process.exit(failed > 0 ? 1 : 0);
