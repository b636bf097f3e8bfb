/**
 * Latency limitrate adds to one request, next to what a minimal proxy adds:
 * sequential requests (concurrency 1) direct to the mock, through the
 * minimal proxy, and through limitrate (unlimited, and with a never-blocking
 * window limit). Runs alternate in chunks; each chunk's p50 is compared with
 * the direct p50 of the same round, and the median over rounds is reported.
 *
 *   bun bench/added-latency.ts [--short] [--requests 3000] [--rounds 6]
 */
import { presetArgs } from "./lib/cli.ts";
import type { LoadResult } from "./lib/load.ts";
import { runScript, ServerGroup } from "./lib/proc.ts";
import { fmt, median, table } from "./lib/stats.ts";
import { headline, type Headline } from "./lib/summary.ts";
import { CHAT_BODY, CHAT_PATH, fetchCapEnv } from "./lib/workload.ts";

export interface LatencyOptions {
  /** Measured requests per variant, split evenly over the rounds. */
  readonly requests: number;
  readonly rounds: number;
  /** Unmeasured requests at the start of each run (JIT, connection set-up). */
  readonly warmup: number;
}

export const FULL: LatencyOptions = { requests: 3000, rounds: 6, warmup: 200 };
export const SHORT: LatencyOptions = { requests: 600, rounds: 3, warmup: 100 };

const ENV = fetchCapEnv(1024);
/** Added p50 over direct, ms: limitrate's target, and what the minimal proxy adds for reference. */
const TARGET_ADDED_MS = 0.15;

interface Variant {
  readonly id: string;
  readonly name: string;
  readonly target: string;
}

export async function runAddedLatency(o: LatencyOptions): Promise<Headline[]> {
  const perRun = Math.ceil(o.requests / o.rounds);
  console.log(`\n## added latency — sequential non-stream chat, ${perRun * o.rounds} requests per variant in ${o.rounds} rounds`);
  const servers = new ServerGroup({ env: ENV });
  const start = (script: string, args: string[]) => servers.start(script, args);
  try {
    const mock = await start("serve-mock.ts", []);
    const proxy = await start("serve-proxy.ts", ["--upstream", mock.url]);
    const unlimited = await start("serve-gateway.ts", ["--upstream", mock.url, "--limit", "none"]);
    const windowed = await start("serve-gateway.ts", ["--upstream", mock.url, "--limit", "window"]);
    const variants: Variant[] = [
      { id: "direct", name: "direct", target: mock.url },
      { id: "proxy", name: "minimal proxy", target: proxy.url },
      { id: "gw", name: "limitrate unlimited", target: unlimited.url },
      { id: "gw-window", name: "limitrate window rpm 1e9", target: windowed.url },
    ];
    const results = new Map<string, LoadResult[]>(variants.map((v) => [v.id, []]));
    for (let r = 0; r < o.rounds; r++) {
      const order = variants.map((_, i) => variants[(i + r) % variants.length]!);
      for (const v of order) {
        const run = runScript(
          "load.ts",
          ["--url", v.target + CHAT_PATH, "--body", CHAT_BODY, "--concurrency", "1",
            "--warmup-count", String(o.warmup), "--count", String(perRun)],
          150_000,
          { env: ENV },
        );
        const res = JSON.parse(await run.output) as LoadResult;
        if (res.errors > 0) throw new Error(`${v.name}: ${res.errors} failed requests`);
        results.get(v.id)!.push(res);
      }
    }
    return printReport(variants, results);
  } finally {
    await servers.stopAll();
  }
}

function printReport(variants: readonly Variant[], results: ReadonlyMap<string, readonly LoadResult[]>): Headline[] {
  const direct = results.get("direct") ?? [];
  const rows = [["variant", "p50 ms", "p90 ms", "p99 ms", "added p50 ms", "added per round"]];
  const added = new Map<string, number>();
  for (const v of variants) {
    const rs = results.get(v.id) ?? [];
    // Paired with the direct run of the same round, so slow phases of the box cancel out.
    const diffs = rs.map((x, i) => x.p50 - (direct[i]?.p50 ?? Number.NaN));
    added.set(v.id, median(diffs));
    rows.push([
      v.name,
      fmt(median(rs.map((x) => x.p50)), 3),
      fmt(median(rs.map((x) => x.p90)), 3),
      fmt(median(rs.map((x) => x.p99)), 3),
      v.id === "direct" ? "-" : fmt(median(diffs), 3),
      v.id === "direct" ? "" : diffs.map((d) => fmt(d, 3)).join(" "),
    ]);
  }
  console.log(table(rows));
  const gw = added.get("gw") ?? Number.NaN;
  const proxy = added.get("proxy") ?? Number.NaN;
  console.log(`added p50: minimal proxy ${fmt(proxy, 3)} ms, limitrate ${fmt(gw, 3)} ms ` +
    `(${gw <= TARGET_ADDED_MS ? "ok" : "OVER"} target ${TARGET_ADDED_MS} ms), limitrate+window ${fmt(added.get("gw-window") ?? Number.NaN, 3)} ms`);
  // The absolute figures move with the box's load; limitrate's own share is the difference.
  console.log(`limitrate over the minimal proxy: +${fmt(gw - proxy, 3)} ms (unlimited), +${fmt((added.get("gw-window") ?? Number.NaN) - proxy, 3)} ms (window)`);
  const win = added.get("gw-window") ?? Number.NaN;
  return [
    headline("1c latency", "added p50 over direct, limitrate unlimited (minimal proxy adds)", `${fmt(gw, 3)} ms (${fmt(proxy, 3)} ms)`, `≤ ${TARGET_ADDED_MS} ms`, gw <= TARGET_ADDED_MS),
    headline("1c latency", "added p50 over direct, limitrate window (× minimal proxy's)", `${fmt(win, 3)} ms (${fmt(win / proxy, 2)}×)`),
  ];
}

if (import.meta.main) {
  await runAddedLatency(presetArgs(FULL, SHORT, { requests: "requests", rounds: "rounds" }).options);
}
