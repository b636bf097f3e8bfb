/**
 * Pacing precision, measured where it matters: the gaps between requests as
 * they arrive at the upstream (the tally mock's clock, sub-ms), against the
 * interval the config asks for.
 *
 * For each case a fresh gateway (its own process) fronts the tally mock with
 * one provider limit, and a burst client opens all N requests at once, so
 * the line is never empty and the pacer alone sets the cadence:
 *   spaced 60 / 600 / 6,000 rpm    one request every 1 s / 100 ms / 10 ms
 *   burst capacity 10 at 600 rpm   10 at once, then one every 100 ms
 *   (Redis store) spaced 600 and 6,000 rpm, the slots decided in Redis
 *
 * Gap statistics are over consecutive upstream arrivals (spaced: all of
 * them; burst: those after the first `capacity`). The burst shape is the
 * spread of the first `capacity` arrivals and the wait from the first
 * arrival to the first paced one (ideally one interval).
 *
 *   bun bench/pacing.ts [--short]
 */
import { presetArgs } from "./lib/cli.ts";
import { startRedis, type TestRedis } from "../test/helpers/redis.ts";
import type { BurstResult } from "./lib/burst-client.ts";
import { runScript, startServer, type ServerProc } from "./lib/proc.ts";
import { fmt, percentile, table } from "./lib/stats.ts";
import { headline, printSummary, type Headline } from "./lib/summary.ts";
import { fetchCapEnv } from "./lib/workload.ts";

export interface PacingOptions {
  /** Requests per case, by rpm (spaced) or for the burst case. */
  readonly spaced: readonly { readonly rpm: number; readonly n: number; readonly redis: boolean }[];
  readonly burst: { readonly rpm: number; readonly capacity: number; readonly n: number };
}

export const FULL: PacingOptions = {
  spaced: [
    { rpm: 60, n: 20, redis: false },
    { rpm: 600, n: 100, redis: false },
    { rpm: 6000, n: 1000, redis: false },
    { rpm: 600, n: 100, redis: true },
    { rpm: 6000, n: 1000, redis: true },
  ],
  burst: { rpm: 600, capacity: 10, n: 40 },
};
export const SHORT: PacingOptions = {
  spaced: [
    { rpm: 60, n: 8, redis: false },
    { rpm: 600, n: 30, redis: false },
    { rpm: 6000, n: 200, redis: false },
    { rpm: 600, n: 30, redis: true },
    { rpm: 6000, n: 200, redis: true },
  ],
  burst: { rpm: 600, capacity: 10, n: 20 },
};

const SECTION = "3 pacing";
/**
 * The bench's own bars: mean gap within 1 % of the interval (the rate), and
 * no gap under half the interval (spacing: a late send must not be followed
 * by a catch-up pair). Timer jitter of a ms or two either way is expected:
 * slots are fixed in advance (GCRA), so a late send does not delay the next.
 */
const MEAN_TOLERANCE = 0.01;
const MIN_GAP_FRACTION = 0.5;
/** Burst: the first `capacity` requests should reach the upstream within this many ms of each other. */
const BURST_SPREAD_MS = 5;

interface Arrivals {
  readonly times: number[];
  readonly statuses: number[];
}

interface GapStats {
  readonly n: number;
  readonly mean: number;
  readonly p50: number;
  readonly p99: number;
  readonly min: number;
  readonly max: number;
}

function gapStats(times: readonly number[]): GapStats {
  const gaps = times.slice(1).map((t, i) => t - times[i]!);
  const s = [...gaps].sort((a, b) => a - b);
  const mean = gaps.reduce((a, x) => a + x, 0) / Math.max(1, gaps.length);
  return { n: gaps.length, mean, p50: percentile(s, 50), p99: percentile(s, 99), min: s[0] ?? Number.NaN, max: s[s.length - 1] ?? Number.NaN };
}

/** One case: gateway with `rateLimit` in front of the tally mock, N requests at once; the upstream arrival times. */
async function runCase(mock: ServerProc, rateLimit: Record<string, unknown>, n: number, redis: TestRedis | null): Promise<{ arrivals: number[]; burst: BurstResult }> {
  const args = ["--upstream", mock.url, "--rate-limit", JSON.stringify(rateLimit)];
  if (redis) args.push("--redis", redis.url, "--prefix", `bench-pace-${process.pid}-${Math.random().toString(36).slice(2, 8)}`);
  const gw = await startServer("serve-gateway.ts", args, { env: fetchCapEnv(4096) });
  try {
    await fetch(`${mock.url}/bench/reset`, { method: "POST" });
    const intervalMs = 60_000 / Number(rateLimit.rpm);
    const client = runScript("burst-client.ts", ["--gateway", gw.url, "--n", String(n), "--batch", String(n)], n * intervalMs + 60_000, {
      env: fetchCapEnv(n + 1000),
    });
    const burst = JSON.parse(await client.output) as BurstResult;
    const a = (await (await fetch(`${mock.url}/bench/arrivals`)).json()) as Arrivals;
    const ok = a.times.filter((_, i) => a.statuses[i] === 200).sort((x, y) => x - y);
    if ((burst.statuses["200"] ?? 0) !== n) throw new Error(`pacing case ${JSON.stringify(rateLimit)}: answers ${JSON.stringify(burst.statuses)}`);
    return { arrivals: ok, burst };
  } finally {
    await gw.stop();
  }
}

export async function runPacing(o: PacingOptions): Promise<Headline[]> {
  console.log(`\n## 3. pacing precision — gaps between arrivals at the upstream vs the configured interval (all requests opened at once)`);
  const mock = await startServer("serve-tally-mock.ts", []);
  let redis: TestRedis | null = null;
  const out: Headline[] = [];
  try {
    const rows = [["case", "n", "interval ms", "mean ms", "mean / interval", "p50 ms", "p99 ms", "min ms", "max ms", "p99 − interval", "min / interval"]];
    for (const c of o.spaced) {
      if (c.redis && !redis) redis = await startRedis();
      const intervalMs = 60_000 / c.rpm;
      const { arrivals } = await runCase(mock, { mode: "spaced", rpm: c.rpm }, c.n, c.redis ? redis : null);
      const g = gapStats(arrivals);
      const label = `spaced ${c.rpm} rpm${c.redis ? ", Redis store" : ""}`;
      console.error(`  ${label}: mean gap ${fmt(g.mean, 3)} ms (interval ${fmt(intervalMs, 1)})`);
      rows.push([label, String(arrivals.length), fmt(intervalMs, 1), fmt(g.mean, 3), `${fmt(g.mean / intervalMs, 4)}×`, fmt(g.p50, 3), fmt(g.p99, 3), fmt(g.min, 3), fmt(g.max, 3),
        fmt(g.p99 - intervalMs, 3), `${fmt(g.min / intervalMs, 3)}×`]);
      const ratio = g.mean / intervalMs;
      out.push(headline(SECTION, `${label}: mean gap / interval (${g.n} gaps)`, `${fmt(ratio, 4)}×`, `1 ± ${MEAN_TOLERANCE}`, Math.abs(ratio - 1) <= MEAN_TOLERANCE));
      out.push(headline(SECTION, `${label}: min gap / interval (p99 − interval)`, `${fmt(g.min / intervalMs, 3)}× (+${fmt(g.p99 - intervalMs, 2)} ms)`,
        `min ≥ ${MIN_GAP_FRACTION}×`, g.min >= MIN_GAP_FRACTION * intervalMs));
    }
    console.log(table(rows));

    const b = o.burst;
    const intervalMs = 60_000 / b.rpm;
    const { arrivals, burst } = await runCase(mock, { mode: "burst", rpm: b.rpm, capacity: b.capacity }, b.n, null);
    const t0 = arrivals[0] ?? Number.NaN;
    const first = arrivals.slice(0, b.capacity);
    const spread = (first[first.length - 1] ?? Number.NaN) - t0;
    const within1 = arrivals.filter((t) => t - t0 <= 1).length;
    const firstPaced = (arrivals[b.capacity] ?? Number.NaN) - t0;
    const rest = gapStats(arrivals.slice(b.capacity));
    console.log(`\nburst capacity ${b.capacity} at ${b.rpm} rpm (interval ${fmt(intervalMs, 1)} ms), ${b.n} requests opened at once (client had them all at the gateway in ${fmt(burst.fillMs, 1)} ms):`);
    console.log(table([
      ["shape", "value", "ideal"],
      [`arrivals within 1 ms of the first`, String(within1), String(b.capacity)],
      [`first ${b.capacity} arrivals spread over, ms`, fmt(spread, 3), "0"],
      [`first paced arrival (#${b.capacity + 1}) after the first, ms`, fmt(firstPaced, 3), fmt(intervalMs, 1)],
      [`then gaps: mean / p50 / p99 ms`, `${fmt(rest.mean, 3)} / ${fmt(rest.p50, 3)} / ${fmt(rest.p99, 3)}`, fmt(intervalMs, 1)],
      [`then gaps: min / max ms`, `${fmt(rest.min, 3)} / ${fmt(rest.max, 3)}`, fmt(intervalMs, 1)],
      [`offsets of the first ${b.capacity + 2}, ms`, arrivals.slice(0, b.capacity + 2).map((t) => fmt(t - t0, 1)).join(" "), ""],
    ]));
    out.push(headline(SECTION, `burst ${b.capacity}: first ${b.capacity} arrivals spread`, `${fmt(spread, 2)} ms (${within1} within 1 ms)`, `≤ ${BURST_SPREAD_MS} ms`, spread <= BURST_SPREAD_MS));
    out.push(headline(SECTION, `burst ${b.capacity}: first paced arrival / interval`, `${fmt(firstPaced / intervalMs, 3)}×`, "1 ± 0.05", Math.abs(firstPaced / intervalMs - 1) <= 0.05));
    out.push(headline(SECTION, `burst ${b.capacity}: later gaps mean / interval`, `${fmt(rest.mean / intervalMs, 4)}×`, `1 ± ${MEAN_TOLERANCE}`, Math.abs(rest.mean / intervalMs - 1) <= MEAN_TOLERANCE));
  } finally {
    await mock.stop();
    await redis?.close();
  }
  return out;
}

if (import.meta.main) {
  printSummary(await runPacing(presetArgs(FULL, SHORT).options));
}
