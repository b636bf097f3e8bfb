/**
 * Closed-loop load generator, run as its own process: C workers each POST a
 * fixed JSON body, wait for the whole answer, and go again. Either for a
 * time (`--duration`, after `--warmup` seconds not counted) or for a number
 * of requests (`--count`, after `--warmup-count`). Prints one JSON LoadResult
 * line on stdout; anything else goes to stderr.
 *
 *   bun bench/lib/load.ts --url http://127.0.0.1:PORT/v1/chat/completions \
 *     --concurrency 64 --warmup 1 --duration 5 --body '{"model":"gpt-4o-mini",...}'
 *
 * `--urls A,B,C` instead of `--url` sends each request to one of them picked
 * at random (load spread over gateway nodes); `--headers '{"x-h":"v"}'` adds
 * headers to every request; `--tag-keys` also names the client key in an
 * `x-bench-key` header, which the gateway forwards, so an upstream can count
 * per key.
 */
import { parseArgs } from "node:util";
import { percentile } from "./stats.ts";

export interface LoadResult {
  /** Requests counted (started and finished inside the measured span). */
  readonly requests: number;
  /** Every 200 answer of the run, warm-up and edges included (for CPU per request). */
  readonly completed: number;
  /** Non-200 answers and network errors during the whole run, warm-up included. */
  readonly errors: number;
  /** Answers by status ("error" for network errors), whole run, warm-up included. */
  readonly byStatus: Record<string, number>;
  readonly seconds: number;
  readonly rps: number;
  /** Latencies in ms. */
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly mean: number;
}

/** Bounds memory whatever the run length. */
const MAX_SAMPLES = 4_000_000;
/** Hard stop for count mode, whatever happens. */
const COUNT_MODE_CAP_MS = 120_000;

const { values } = parseArgs({
  options: {
    url: { type: "string" },
    urls: { type: "string" },
    headers: { type: "string" },
    "tag-keys": { type: "boolean", default: false },
    body: { type: "string" },
    concurrency: { type: "string", default: "1" },
    warmup: { type: "string", default: "1" },
    duration: { type: "string" },
    count: { type: "string" },
    "warmup-count": { type: "string", default: "0" },
    /** Spread requests round-robin over client keys bench-key-0 … bench-key-(N−1). */
    keys: { type: "string", default: "0" },
  },
});
if ((values.url === undefined) === (values.urls === undefined) || !values.body) throw new Error("give --body and exactly one of --url and --urls");
if ((values.duration === undefined) === (values.count === undefined)) throw new Error("give exactly one of --duration and --count");
const urls = values.url !== undefined ? [values.url] : values.urls!.split(",").filter((u) => u !== "");
if (urls.length === 0) throw new Error("--urls is empty");
const urlFor = urls.length === 1 ? () => urls[0]! : () => urls[Math.floor(Math.random() * urls.length)]!;
const body = values.body;
const concurrency = Number(values.concurrency);
const keyCount = Number(values.keys);
const plain: Record<string, string> = { "content-type": "application/json", ...(values.headers ? (JSON.parse(values.headers) as Record<string, string>) : {}) };
const keyed = Array.from({ length: keyCount }, (_, i) => ({
  ...plain,
  authorization: `Bearer bench-key-${i}`,
  ...(values["tag-keys"] ? { "x-bench-key": `bench-key-${i}` } : {}),
}));
let nextKey = 0;
const headersFor = () => (keyCount > 0 ? keyed[nextKey++ % keyCount]! : plain);

const samples = new Float64Array(MAX_SAMPLES);
let sampled = 0;
let errors = 0;
let completed = 0;
const byStatus: Record<string, number> = {};

/** One request, answer read to the end; its latency in ms, or null on error. */
async function once(): Promise<number | null> {
  const t = performance.now();
  try {
    const res = await fetch(urlFor(), { method: "POST", headers: headersFor(), body });
    await res.arrayBuffer();
    byStatus[res.status] = (byStatus[res.status] ?? 0) + 1;
    if (res.status !== 200) {
      errors++;
      return null;
    }
    completed++;
    return performance.now() - t;
  } catch {
    errors++;
    byStatus.error = (byStatus.error ?? 0) + 1;
    return null;
  }
}

function report(seconds: number): LoadResult {
  const sorted = samples.subarray(0, sampled).sort();
  let sum = 0;
  for (const x of sorted) sum += x;
  return {
    requests: sampled,
    completed,
    errors,
    byStatus,
    seconds,
    rps: sampled / seconds,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    mean: sum / Math.max(1, sampled),
  };
}

async function byDuration(warmupS: number, durationS: number): Promise<LoadResult> {
  const start = performance.now();
  const measureFrom = start + warmupS * 1000;
  const measureTo = measureFrom + durationS * 1000;
  const worker = async () => {
    while (performance.now() < measureTo) {
      const t = performance.now();
      const ms = await once();
      // Only requests wholly inside the measured span count: same edge loss for every variant.
      if (ms !== null && t >= measureFrom && t + ms <= measureTo && sampled < MAX_SAMPLES) samples[sampled++] = ms;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return report(durationS);
}

async function byCount(warmupCount: number, count: number): Promise<LoadResult> {
  const cap = performance.now() + COUNT_MODE_CAP_MS;
  let issued = 0;
  const run = async (n: number, record: boolean) => {
    issued = 0;
    const worker = async () => {
      while (issued < n && performance.now() < cap) {
        issued++;
        const ms = await once();
        if (record && ms !== null && sampled < MAX_SAMPLES) samples[sampled++] = ms;
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
  };
  await run(warmupCount, false);
  const t0 = performance.now();
  await run(count, true);
  return report((performance.now() - t0) / 1000);
}

const result =
  values.duration !== undefined
    ? await byDuration(Number(values.warmup), Number(values.duration))
    : await byCount(Number(values["warmup-count"]), Number(values.count));
process.stdout.write(`${JSON.stringify(result)}\n`);
