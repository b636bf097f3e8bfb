/**
 * Throughput of limitrate against a minimal Bun proxy, side by side.
 *
 *   (a) direct       load → mock upstream
 *   (b) proxy        load → minimal proxy → mock        (the reference)
 *   (c) gw-unlimited load → limitrate, provider without limits → mock
 *   (d) gw-window    load → limitrate, mode window rpm 1e9 (limiter on every request, never blocks)
 *   (e) gw-burst     load → limitrate, mode burst capacity 1e6 rpm 1e9 (GCRA on every request)
 *   (f) gw, 100 keys load → limitrate unlimited with 100 client keys (a key decision on every request)
 *   (g) gw-window through fetch: (d) with upstream_client fetch, the path an https:// provider takes
 *
 * limitrate sends to the plain-http mock with its own HTTP/1.1 client (c–f);
 * (g) shows what the same gateway costs when fetch carries the requests.
 *
 * Every server and the load generator run in their own processes. The box is
 * small and shared, so variants alternate within each round (order rotated
 * per round) and ratios are taken per round, then the median is reported.
 *
 *   bun bench/proxy-throughput.ts [--short] [--rounds 3] [--duration 5] [--concurrency 64]
 */
import { presetArgs } from "./lib/cli.ts";
import { cpuMs, runScript, ServerGroup, type ServerProc } from "./lib/proc.ts";
import type { LoadResult } from "./lib/load.ts";
import { fmt, median, table } from "./lib/stats.ts";
import { headline, type Headline } from "./lib/summary.ts";
import { CHAT_BODY, CHAT_PATH, fetchCapEnv } from "./lib/workload.ts";

export interface ThroughputOptions {
  readonly rounds: number;
  readonly warmupS: number;
  readonly durationS: number;
  readonly concurrency: number;
}

export const FULL: ThroughputOptions = { rounds: 3, warmupS: 1, durationS: 5, concurrency: 64 };
export const SHORT: ThroughputOptions = { rounds: 2, warmupS: 0.5, durationS: 1.5, concurrency: 64 };

interface Variant {
  readonly id: string;
  readonly name: string;
  /** The process between the load and the mock (null for direct). */
  readonly middle: ServerProc | null;
  readonly target: string;
  /** Client keys the load spreads over (the gateway has them configured). */
  readonly keys?: number;
}

interface Sample extends LoadResult {
  /** CPU ms the middle process spent per 1,000 answered requests (null for direct). */
  readonly cpuPer1k: number | null;
}

const ENV = fetchCapEnv(1024);
/** The ratios we hold limitrate to: its throughput over the minimal proxy's. */
const TARGET_RATIO = 0.9;

async function measure(v: Variant, o: ThroughputOptions): Promise<Sample> {
  const cpu0 = v.middle ? cpuMs(v.middle.pid) : 0;
  const run = runScript(
    "load.ts",
    ["--url", v.target + CHAT_PATH, "--body", CHAT_BODY, "--concurrency", String(o.concurrency),
      "--warmup", String(o.warmupS), "--duration", String(o.durationS), "--keys", String(v.keys ?? 0)],
    (o.warmupS + o.durationS) * 1000 + 30_000,
    { env: ENV },
  );
  const result = JSON.parse(await run.output) as LoadResult;
  const cpuPer1k = v.middle ? ((cpuMs(v.middle.pid) - cpu0) / Math.max(1, result.completed)) * 1000 : null;
  return { ...result, cpuPer1k };
}

export async function runThroughput(o: ThroughputOptions): Promise<Headline[]> {
  console.log(`\n## proxy throughput — non-stream chat, concurrency ${o.concurrency}, ${o.warmupS}s warm-up + ${o.durationS}s, ${o.rounds} rounds`);
  const servers = new ServerGroup({ env: ENV });
  const start = (script: string, args: string[]) => servers.start(script, args);
  try {
    const mock = await start("serve-mock.ts", []);
    const proxy = await start("serve-proxy.ts", ["--upstream", mock.url]);
    const gw = (limit: string, keys = 0, client = "auto") => start("serve-gateway.ts", ["--upstream", mock.url, "--limit", limit, "--keys", String(keys), "--client", client]);
    const [unlimited, windowed, burst, keyed, viaFetch] = [await gw("none"), await gw("window"), await gw("burst"), await gw("none", 100), await gw("window", 0, "fetch")];
    const variants: Variant[] = [
      { id: "a", name: "direct", middle: null, target: mock.url },
      { id: "b", name: "minimal proxy", middle: proxy, target: proxy.url },
      { id: "c", name: "limitrate unlimited", middle: unlimited, target: unlimited.url },
      { id: "d", name: "limitrate window rpm 1e9", middle: windowed, target: windowed.url },
      { id: "e", name: "limitrate burst 1e6 @ rpm 1e9", middle: burst, target: burst.url },
      { id: "f", name: "limitrate unlimited, 100 keys", middle: keyed, target: keyed.url, keys: 100 },
      { id: "g", name: "limitrate window, through fetch", middle: viaFetch, target: viaFetch.url },
    ];
    for (const v of variants) await sanityCheck(v);

    const samples = new Map<string, Sample[]>(variants.map((v) => [v.id, []]));
    for (let r = 0; r < o.rounds; r++) {
      // Rotate the order so no variant always runs first (or right after the same neighbour).
      const order = variants.map((_, i) => variants[(i + r) % variants.length]!);
      for (const v of order) {
        const s = await measure(v, o);
        samples.get(v.id)!.push(s);
        console.error(`  round ${r + 1} ${v.name}: ${fmt(s.rps, 0)} rps, p50 ${fmt(s.p50, 3)} ms, p99 ${fmt(s.p99, 3)} ms${s.errors ? `, ${s.errors} errors` : ""}`);
      }
    }
    return printReport(variants, samples);
  } finally {
    await servers.stopAll();
  }
}

async function sanityCheck(v: Variant): Promise<void> {
  const auth: Record<string, string> = v.keys ? { authorization: "Bearer bench-key-0" } : {};
  const res = await fetch(v.target + CHAT_PATH, { method: "POST", headers: { "content-type": "application/json", ...auth }, body: CHAT_BODY });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${v.name}: sanity request got ${res.status}: ${text.slice(0, 200)}`);
}

function printReport(variants: readonly Variant[], samples: ReadonlyMap<string, readonly Sample[]>): Headline[] {
  const out: Headline[] = [];
  const of = (id: string) => samples.get(id) ?? [];
  const rows = [["variant", "rps (median)", "p50 ms", "p99 ms", "middle CPU ms/1k req", "errors"]];
  for (const v of variants) {
    const s = of(v.id);
    const cpu = s.map((x) => x.cpuPer1k).filter((x): x is number => x !== null);
    rows.push([
      `(${v.id}) ${v.name}`,
      fmt(median(s.map((x) => x.rps)), 0),
      fmt(median(s.map((x) => x.p50)), 3),
      fmt(median(s.map((x) => x.p99)), 3),
      cpu.length ? fmt(median(cpu), 1) : "-",
      String(s.reduce((a, x) => a + x.errors, 0)),
    ]);
  }
  console.log(table(rows));
  // Paired per round: both sides of a ratio ran minutes apart at most, under similar noise.
  const base = of("b");
  for (const id of ["c", "d", "e"]) {
    const ratios = of(id).map((x, i) => x.rps / (base[i]?.rps ?? Number.NaN));
    const m = median(ratios);
    const verdict = m >= TARGET_RATIO ? "ok" : `BELOW target ${TARGET_RATIO}`;
    console.log(`ratio ${id}/b rps: ${fmt(m, 3)} (rounds: ${ratios.map((x) => fmt(x, 3)).join(", ")}) ${verdict}`);
    out.push(headline("1b throughput", `${variants.find((v) => v.id === id)?.name} rps / minimal proxy`, `${fmt(m, 3)}×`, `≥ ${TARGET_RATIO}×`, m >= TARGET_RATIO));
  }
  // CPU per request is the steadier figure on a shared box: throughput moves with neighbours, CPU cost much less.
  const cpuOf = (x: Sample) => x.cpuPer1k ?? Number.NaN;
  for (const id of ["c", "d", "e"]) {
    const ratios = of(id).map((x, i) => cpuOf(x) / cpuOf(base[i] ?? x));
    const extraUs = of(id).map((x, i) => cpuOf(x) - cpuOf(base[i] ?? x));
    console.log(`CPU per request ${id}/b: ${fmt(median(ratios), 2)}x (+${fmt(median(extraUs), 1)} µs per request over the minimal proxy)`);
  }
  // Issue 4: 100 client keys configured must cost at most 10 % against the same gateway without keys.
  const unkeyed = of("c");
  const keyedRatios = of("f").map((x, i) => x.rps / (unkeyed[i]?.rps ?? Number.NaN));
  const km = median(keyedRatios);
  console.log(`ratio f/c rps (100 keys over no keys): ${fmt(km, 3)} (rounds: ${keyedRatios.map((x) => fmt(x, 3)).join(", ")}) ${km >= TARGET_RATIO ? "ok" : `BELOW target ${TARGET_RATIO}`}`);
  out.push(headline("1b throughput", "limitrate 100 keys rps / no keys", `${fmt(km, 3)}×`, `≥ ${TARGET_RATIO}×`, km >= TARGET_RATIO));
  // For scale: the same window-limited gateway when fetch carries its requests (https:// providers).
  const fetchRatios = of("g").map((x, i) => x.rps / (base[i]?.rps ?? Number.NaN));
  console.log(`ratio g/b rps (window-limited, through fetch, for scale): ${fmt(median(fetchRatios), 3)} (rounds: ${fetchRatios.map((x) => fmt(x, 3)).join(", ")})`);
  const direct = of("a");
  const proxyOverDirect = base.map((x, i) => x.rps / (direct[i]?.rps ?? Number.NaN));
  console.log(`ratio b/a rps (minimal proxy over direct, for scale): ${fmt(median(proxyOverDirect), 3)}`);
  return out;
}

if (import.meta.main) {
  await runThroughput(presetArgs(FULL, SHORT, { rounds: "rounds", duration: "durationS", concurrency: "concurrency" }).options);
}
