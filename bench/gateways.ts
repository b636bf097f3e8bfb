/**
 * Gateways side by side against the same local mock upstream: throughput,
 * p50/p99 latency, RSS and CPU per request of
 *
 *   direct          load → mock
 *   minimal proxy   load → minimal Bun proxy → mock           (the floor: parse, forward, stream back)
 *   lr memory       load → limitrate, provider mode window rpm 1e9, in-process store
 *   lr redis        load → limitrate, same limit, store.redis on a redis-server started here
 *   portkey         load → Portkey's open-source gateway (npx @portkey-ai/gateway, Node) → mock
 *
 * The provider limit decides every request (the window is charged per
 * request) but never refuses, so limitrate does its full limiting work. Each
 * server and the load generator run in their own process; variants alternate
 * in every round (order rotated), ratios are taken per round against the peer
 * of the same round, and the median is reported.
 *
 * Targets: limitrate ≥ 0.9× the minimal proxy's throughput; ≥ 15× Portkey's
 * throughput with at most a tenth of its p99; Redis mode ≥ 0.75× memory mode.
 *
 *   bun bench/gateways.ts [--short] [--rounds 3] [--duration 5] [--concurrency 64] [--no-portkey]
 */
import { readFileSync } from "node:fs";
import { presetArgs } from "./lib/cli.ts";
import { startRedis, type TestRedis } from "../test/helpers/redis.ts";
import type { LoadResult } from "./lib/load.ts";
import { ensurePortkey, PORTKEY_PACKAGE, PORTKEY_VERSION, portkeyHeaders, startPortkey } from "./lib/portkey.ts";
import { cpuMs, rssKb, runScript, ServerGroup, type ServerProc } from "./lib/proc.ts";
import { fmt, median, table } from "./lib/stats.ts";
import { headline, printSummary, type Headline } from "./lib/summary.ts";
import { CHAT_BODY, CHAT_PATH, fetchCapEnv } from "./lib/workload.ts";

export interface GatewaysOptions {
  readonly rounds: number;
  readonly warmupS: number;
  readonly durationS: number;
  readonly concurrency: number;
  readonly portkey: boolean;
}

export const FULL: GatewaysOptions = { rounds: 3, warmupS: 1, durationS: 5, concurrency: 64, portkey: true };
export const SHORT: GatewaysOptions = { rounds: 2, warmupS: 0.5, durationS: 1.5, concurrency: 64, portkey: true };

const ENV = fetchCapEnv(1024);
const SECTION = "1 gateways";

interface Variant {
  readonly id: string;
  readonly name: string;
  /** The process between the load and the mock (null for direct). */
  readonly middle: ServerProc | null;
  readonly target: string;
  readonly headers?: Record<string, string>;
}

interface Sample extends LoadResult {
  readonly cpuPer1k: number | null;
  /** RSS of the middle process right after the run, KiB. */
  readonly rssKb: number | null;
  /** CPU ms per 1,000 requests spent by redis-server during the run (Redis variant only). */
  readonly redisCpuPer1k: number | null;
}

/** Peak RSS (VmHWM) of a process, KiB. */
function hwmKb(pid: number): number {
  const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) : Number.NaN;
}

async function measure(v: Variant, o: GatewaysOptions, redisPid: number | null): Promise<Sample> {
  const cpu0 = v.middle ? cpuMs(v.middle.pid) : 0;
  const rcpu0 = redisPid !== null ? cpuMs(redisPid) : 0;
  const run = runScript(
    "load.ts",
    ["--url", v.target + CHAT_PATH, "--body", CHAT_BODY, "--concurrency", String(o.concurrency),
      "--warmup", String(o.warmupS), "--duration", String(o.durationS),
      ...(v.headers ? ["--headers", JSON.stringify(v.headers)] : [])],
    (o.warmupS + o.durationS) * 1000 + 60_000,
    { env: ENV },
  );
  const result = JSON.parse(await run.output) as LoadResult;
  const per1k = (ms: number) => (ms / Math.max(1, result.completed)) * 1000;
  return {
    ...result,
    cpuPer1k: v.middle ? per1k(cpuMs(v.middle.pid) - cpu0) : null,
    rssKb: v.middle ? rssKb(v.middle.pid) : null,
    redisCpuPer1k: redisPid !== null ? per1k(cpuMs(redisPid) - rcpu0) : null,
  };
}

async function sanityCheck(v: Variant): Promise<void> {
  const res = await fetch(v.target + CHAT_PATH, { method: "POST", headers: { "content-type": "application/json", ...v.headers }, body: CHAT_BODY });
  const text = await res.text();
  if (res.status !== 200 || !text.includes("chat.completion")) throw new Error(`${v.name}: sanity request got ${res.status}: ${text.slice(0, 300)}`);
}

/** Redis mode must really have used Redis: a failover to the in-process store would flatter it. */
async function storeState(url: string): Promise<string> {
  const h = (await (await fetch(`${url}/admin/health`)).json()) as { store: { kind: string; state: string } };
  return `${h.store.kind} ${h.store.state}`;
}

export async function runGateways(o: GatewaysOptions): Promise<Headline[]> {
  console.log(`\n## 1. gateways side by side — non-stream chat, concurrency ${o.concurrency}, ${o.warmupS}s warm-up + ${o.durationS}s, ${o.rounds} rounds, same mock upstream`);
  const servers = new ServerGroup({ env: ENV });
  let redis: TestRedis | null = null;
  const start = (script: string, args: string[]) => servers.start(script, args);
  const out: Headline[] = [];
  try {
    const mock = await start("serve-mock.ts", []);
    const proxy = await start("serve-proxy.ts", ["--upstream", mock.url]);
    const memory = await start("serve-gateway.ts", ["--upstream", mock.url, "--limit", "window"]);
    redis = await startRedis();
    const redisPid = await redisServerPid(redis.port);
    const viaRedis = await start("serve-gateway.ts", ["--upstream", mock.url, "--limit", "window", "--redis", redis.url, "--prefix", `bench-gw-${process.pid}`]);
    const variants: Variant[] = [
      { id: "direct", name: "direct (mock)", middle: null, target: mock.url },
      { id: "proxy", name: "minimal Bun proxy", middle: proxy, target: proxy.url },
      { id: "memory", name: "limitrate, memory store", middle: memory, target: memory.url },
      { id: "redis", name: "limitrate, Redis store", middle: viaRedis, target: viaRedis.url },
    ];
    let portkeyNote: string | null = null;
    if (o.portkey) {
      const inst = await ensurePortkey();
      if (!inst.ok) portkeyNote = inst.reason;
      else {
        try {
          const pk = await startPortkey(inst);
          servers.add(pk);
          variants.push({ id: "portkey", name: `Portkey ${PORTKEY_VERSION} (node ${inst.nodeVersion})`, middle: pk, target: pk.url, headers: portkeyHeaders(`${mock.url}/v1`) });
        } catch (e) {
          portkeyNote = (e as Error).message;
        }
      }
    } else portkeyNote = "skipped (--no-portkey)";
    for (const v of variants) await sanityCheck(v);
    const idleRss = new Map(variants.map((v) => [v.id, v.middle ? rssKb(v.middle.pid) : null]));

    const samples = new Map<string, Sample[]>(variants.map((v) => [v.id, []]));
    for (let r = 0; r < o.rounds; r++) {
      const order = variants.map((_, i) => variants[(i + r) % variants.length]!);
      for (const v of order) {
        const s = await measure(v, o, v.id === "redis" ? redisPid : null);
        samples.get(v.id)!.push(s);
        console.error(`  round ${r + 1} ${v.name}: ${fmt(s.rps, 0)} rps, p50 ${fmt(s.p50, 3)} ms, p99 ${fmt(s.p99, 3)} ms${s.errors ? `, ${s.errors} errors ${JSON.stringify(s.byStatus)}` : ""}`);
      }
    }
    const redisStore = await storeState(viaRedis.url);
    const peaks = new Map(variants.map((v) => [v.id, v.middle ? hwmKb(v.middle.pid) : null]));
    out.push(...report(variants, samples, idleRss, peaks, redisStore, portkeyNote));
  } finally {
    await servers.stopAll();
    await redis?.close();
  }
  return out;
}

/** The pid of the redis-server listening on `port` (for its CPU time). */
async function redisServerPid(port: number): Promise<number | null> {
  const p = Bun.spawn(["redis-cli", "-h", "127.0.0.1", "-p", String(port), "info", "server"], { stdout: "pipe", stderr: "ignore" });
  const [text] = await Promise.all([new Response(p.stdout).text(), p.exited]);
  const m = /^process_id:(\d+)/m.exec(text);
  return m ? Number(m[1]) : null;
}

function report(
  variants: readonly Variant[],
  samples: ReadonlyMap<string, readonly Sample[]>,
  idleRss: ReadonlyMap<string, number | null>,
  peaks: ReadonlyMap<string, number | null>,
  redisStore: string,
  portkeyNote: string | null,
): Headline[] {
  const of = (id: string) => samples.get(id) ?? [];
  const med = (id: string, f: (s: Sample) => number) => median(of(id).map(f));
  const mb = (kb: number | null | undefined) => (kb === null || kb === undefined ? "-" : fmt(kb / 1024, 1));
  const has = (id: string) => of(id).length > 0;
  /** Median over rounds of (a / b) paired by round. */
  const paired = (a: string, b: string, f: (s: Sample) => number) => {
    const bs = of(b);
    return median(of(a).map((x, i) => f(x) / f(bs[i] ?? x)));
  };
  const rows = [["variant", "rps", "× proxy", "p50 ms", "p99 ms", "p99 × proxy", "RSS idle MB", "RSS after load MB", "peak RSS MB", "CPU ms/1k req", "errors"]];
  for (const v of variants) {
    const s = of(v.id);
    const cpu = s.map((x) => x.cpuPer1k).filter((x): x is number => x !== null);
    const rss = s.map((x) => x.rssKb).filter((x): x is number => x !== null);
    rows.push([
      v.name,
      fmt(med(v.id, (x) => x.rps), 0),
      `${fmt(paired(v.id, "proxy", (x) => x.rps), 3)}×`,
      fmt(med(v.id, (x) => x.p50), 3),
      fmt(med(v.id, (x) => x.p99), 3),
      `${fmt(paired(v.id, "proxy", (x) => x.p99), 2)}×`,
      mb(idleRss.get(v.id)),
      rss.length ? mb(median(rss)) : "-",
      mb(peaks.get(v.id)),
      cpu.length ? fmt(median(cpu), 1) : "-",
      String(s.reduce((a, x) => a + x.errors, 0)),
    ]);
  }
  console.log(table(rows));
  const redisCpu = of("redis").map((x) => x.redisCpuPer1k).filter((x): x is number => x !== null);
  if (redisCpu.length) console.log(`redis-server CPU during the Redis runs: ${fmt(median(redisCpu), 1)} ms per 1k requests (on top of the gateway's); store after the runs: ${redisStore}`);

  const out: Headline[] = [];
  const vsProxy = paired("memory", "proxy", (x) => x.rps);
  out.push(headline(SECTION, "limitrate (memory) rps / minimal proxy", `${fmt(vsProxy, 3)}×`, "≥ 0.9×", vsProxy >= 0.9));
  const redisOk = redisStore.endsWith(" ok");
  const redisVsMem = paired("redis", "memory", (x) => x.rps);
  out.push(headline(SECTION, "limitrate Redis-mode rps / memory mode", `${fmt(redisVsMem, 3)}×${redisOk ? "" : ` (store ${redisStore}!)`}`, "≥ 0.75×", redisOk && redisVsMem >= 0.75));
  const redisVsProxy = paired("redis", "proxy", (x) => x.rps);
  out.push(headline(SECTION, "limitrate (Redis) rps / minimal proxy", `${fmt(redisVsProxy, 3)}×`));
  if (has("portkey")) {
    const rpsX = paired("memory", "portkey", (x) => x.rps);
    const p99X = paired("memory", "portkey", (x) => x.p99);
    const rssX = median(of("memory").map((x, i) => (x.rssKb ?? Number.NaN) / (of("portkey")[i]?.rssKb ?? Number.NaN)));
    out.push(headline(SECTION, "limitrate (memory) rps / Portkey", `${fmt(rpsX, 2)}×`, "≥ 15×", rpsX >= 15));
    out.push(headline(SECTION, "limitrate (memory) p99 / Portkey p99", `${fmt(p99X, 3)}×`, "≤ 0.1×", p99X <= 0.1));
    out.push(headline(SECTION, "limitrate (memory) RSS / Portkey RSS (after load)", `${fmt(rssX, 2)}×`));
    const rpsR = paired("redis", "portkey", (x) => x.rps);
    const p99R = paired("redis", "portkey", (x) => x.p99);
    out.push(headline(SECTION, "limitrate (Redis) rps / Portkey", `${fmt(rpsR, 2)}×`, "≥ 15×", rpsR >= 15));
    out.push(headline(SECTION, "limitrate (Redis) p99 / Portkey p99", `${fmt(p99R, 3)}×`, "≤ 0.1×", p99R <= 0.1));
    console.log(`limitrate over Portkey, paired per round: rps ${fmt(rpsX, 2)}× (memory), ${fmt(rpsR, 2)}× (Redis); p99 ${fmt(p99X, 3)}× (memory), ${fmt(p99R, 3)}× (Redis)`);
  } else {
    console.log(`Portkey (${PORTKEY_PACKAGE}@${PORTKEY_VERSION}) not measured: ${portkeyNote}`);
    out.push(headline(SECTION, "limitrate rps / Portkey", `not measured: ${portkeyNote}`, "≥ 15×", null));
  }
  console.log(`limitrate memory over the minimal proxy: rps ${fmt(vsProxy, 3)}× (target ≥ 0.9); Redis over memory: ${fmt(redisVsMem, 3)}× (target ≥ 0.75)`);
  return out;
}

if (import.meta.main) {
  const { options, flags } = presetArgs(FULL, SHORT, { rounds: "rounds", duration: "durationS", concurrency: "concurrency" }, ["no-portkey"]);
  printSummary(await runGateways({ ...options, portkey: flags["no-portkey"] !== true }));
}
