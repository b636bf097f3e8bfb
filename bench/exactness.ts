/**
 * Exactness under overload: what reaches the upstream against the limits,
 * counted by the upstream (the tally mocks, one per provider, each counting
 * by the client key the gateway forwards), while clients ask for far more.
 *
 * One limitrate gateway (memory store), three providers, three load
 * generators running at once for --duration seconds:
 *   keys      4 client keys with rpm 30 / 60 / 120 / 240 (reject mode) → provider "open" (no limit)
 *   requests  provider "capped": window rpm 150, max_wait 0 (over → 503 at once)
 *   tokens    provider "tokens": window tpm 3000, max_wait 0; the mock's own
 *             prompt + completion token counter is read 55 s in (within one window)
 *
 * Minute windows are 60 segments of 1 s (src/core/sliding-window.ts): a
 * charge expires 59–60 s after it was made, so the guarantee is "≤ limit in
 * any 59 s span" (and in any 60 s span aligned to whole seconds). Checked:
 *   first 59 s   arrivals within 59 s of the first: = limit (overloaded: all of it, no more)
 *   any 59 s     the most arrivals in any 59 s span of the run: ≤ limit
 *   any 60 s     the same over 60 s spans, for scale (may reach up to 2× limit by the
 *                segment rounding when a burst lands late in a second)
 * A short run (under a minute) sees one window only: everything must equal the limit.
 *
 *   bun bench/exactness.ts [--short] [--duration 65]
 */
import { presetArgs } from "./lib/cli.ts";
import type { LoadResult } from "./lib/load.ts";
import { runScript, ServerGroup, type ServerProc } from "./lib/proc.ts";
import { fmt, table } from "./lib/stats.ts";
import { headline, printSummary, type Headline } from "./lib/summary.ts";
import { CHAT_PATH, fetchCapEnv } from "./lib/workload.ts";

export interface ExactnessOptions {
  readonly durationS: number;
}

export const FULL: ExactnessOptions = { durationS: 65 };
export const SHORT: ExactnessOptions = { durationS: 15 };

const ENV = fetchCapEnv(1024);
const SECTION = "7 exactness";
const KEY_RPM = [30, 60, 120, 240] as const;
const PROVIDER_RPM = 150;
const PROVIDER_TPM = 3000;
const TOKENS_MODEL = "gpt-4o-2024-08-06";
/** Read the token counter this far in: every charge then lies in one window. */
const TOKEN_READ_S = 55;
const SPAN_MS = 59_000;
const body = (model: string) => JSON.stringify({ model, messages: [{ role: "user", content: "hello there" }], max_tokens: 16 });

interface Arrivals {
  readonly times: number[];
  readonly keys: (string | null)[];
  readonly statuses: number[];
}

/** Most arrivals in any span of `span` ms (two pointers over sorted times). */
function maxInSpan(sorted: readonly number[], span: number): number {
  let best = 0;
  let lo = 0;
  for (let hi = 0; hi < sorted.length; hi++) {
    while (sorted[hi]! - sorted[lo]! >= span) lo++;
    best = Math.max(best, hi - lo + 1);
  }
  return best;
}

interface Counted {
  readonly first59: number;
  readonly max59: number;
  readonly max60: number;
  readonly all: number;
}

function countOf(times: number[]): Counted {
  const s = [...times].sort((a, b) => a - b);
  const t0 = s[0] ?? 0;
  return { first59: s.filter((t) => t - t0 < SPAN_MS).length, max59: maxInSpan(s, SPAN_MS), max60: maxInSpan(s, 60_000), all: s.length };
}

function gatewayConfig(open: string, capped: string, tokens: string): Record<string, unknown> {
  const keys: Record<string, unknown> = Object.fromEntries(KEY_RPM.map((rpm, i) => [`bench-key-${i}`, { rpm }]));
  keys["free-key"] = {}; // no limits: the provider checks are about providers only
  return {
    keys,
    providers: [
      { name: "open", base_url: `${open}/v1`, api_key: "sk-bench", models: ["gpt-4o-mini"] },
      { name: "capped", base_url: `${capped}/v1`, api_key: "sk-bench", models: ["gpt-4o"], rate_limit: { mode: "window", rpm: PROVIDER_RPM, max_wait_seconds: 0 } },
      { name: "tokens", base_url: `${tokens}/v1`, api_key: "sk-bench", models: [TOKENS_MODEL], rate_limit: { mode: "window", tpm: PROVIDER_TPM, max_wait_seconds: 0 } },
    ],
  };
}

export async function runExactness(o: ExactnessOptions): Promise<Headline[]> {
  const oneWindow = o.durationS < 59;
  console.log(`\n## 7. exactness under overload — ${o.durationS} s, memory store, counted at the upstream; ${oneWindow ? "one window (short run)" : "past the first minute"}`);
  const servers = new ServerGroup({ env: ENV });
  const start = (script: string, args: string[]) => servers.start(script, args);
  const out: Headline[] = [];
  try {
    const open = await start("serve-tally-mock.ts", []);
    const capped = await start("serve-tally-mock.ts", []);
    const tokens = await start("serve-tally-mock.ts", ["--models", TOKENS_MODEL]);
    const gw = await start("serve-gateway.ts", ["--config-json", JSON.stringify(gatewayConfig(open.url, capped.url, tokens.url))]);
    for (const m of [open, capped, tokens]) await fetch(`${m.url}/bench/reset`, { method: "POST" });

    const free = JSON.stringify({ authorization: "Bearer free-key" });
    const common = ["--url", gw.url + CHAT_PATH, "--warmup", "0", "--duration", String(o.durationS)];
    const timeout = o.durationS * 1000 + 60_000;
    const runs = [
      runScript("load.ts", [...common, "--body", body("gpt-4o-mini"), "--keys", String(KEY_RPM.length), "--tag-keys", "--concurrency", "16"], timeout, { env: ENV }),
      runScript("load.ts", [...common, "--body", body("gpt-4o"), "--headers", free, "--concurrency", "8"], timeout, { env: ENV }),
      runScript("load.ts", [...common, "--body", body(TOKENS_MODEL), "--headers", free, "--concurrency", "8"], timeout, { env: ENV }),
    ];
    // The token counter, read while every charge is still inside the first window.
    await Bun.sleep(Math.min(o.durationS, TOKEN_READ_S) * 1000 - (oneWindow ? 500 : 0));
    const early = (await (await fetch(`${tokens.url}/mock/counts`)).json()) as { prompt_tokens: number; completion_tokens: number; requests: number };
    const loads = await Promise.all(runs.map(async (r) => JSON.parse(await r.output) as LoadResult));

    const arrivalsOf = async (m: ServerProc) => (await (await fetch(`${m.url}/bench/arrivals`)).json()) as Arrivals;
    const [a, b] = [await arrivalsOf(open), await arrivalsOf(capped)];
    const ok = (x: Arrivals, key?: string) => x.times.filter((_, i) => x.statuses[i] === 200 && (key === undefined || x.keys[i] === key));

    const rows = [["limit", "limit", "client 200s", "upstream, first 59 s", "max in any 59 s", "max in any 60 s", `upstream, all ${o.durationS} s`, "first 59 s / limit"]];
    const check = (name: string, limit: number, clientOk: number, c: Counted) => {
      rows.push([name, String(limit), String(clientOk), String(c.first59), String(c.max59), String(c.max60), String(c.all), fmt(c.first59 / limit, 3)]);
      const exact = c.first59 === limit && c.max59 <= limit;
      out.push(headline(SECTION, `${name}: upstream first 59 s; max any 59 s`, `${c.first59}; ${c.max59} (limit ${limit})`, "= limit; ≤ limit", exact));
    };
    // Client-side 200s per key: the load generator spreads round-robin, so count at the upstream, per forwarded key.
    KEY_RPM.forEach((rpm, i) => check(`key bench-key-${i} rpm ${rpm}`, rpm, ok(a, `bench-key-${i}`).length, countOf(ok(a, `bench-key-${i}`))));
    check(`provider "capped" rpm ${PROVIDER_RPM}`, PROVIDER_RPM, loads[1]!.byStatus["200"] ?? 0, countOf(ok(b)));
    console.log(table(rows));

    const usedTokens = early.prompt_tokens + early.completion_tokens;
    const perRequest = early.requests > 0 ? usedTokens / early.requests : Number.NaN;
    console.log(`provider "tokens" tpm ${PROVIDER_TPM}: the mock counted ${usedTokens} tokens (prompt ${early.prompt_tokens} + completion ${early.completion_tokens}) ` +
      `in ${early.requests} requests by ${fmt(Math.min(o.durationS, TOKEN_READ_S), 0)} s (~${fmt(perRequest, 1)} tokens each); ` +
      `${fmt(usedTokens / PROVIDER_TPM, 3)} of the limit; client 200s over the whole run: ${loads[2]!.byStatus["200"] ?? 0}`);
    // Under overload the window fills to within one request of the limit, never past it.
    const tokensOk = usedTokens <= PROVIDER_TPM && usedTokens > PROVIDER_TPM - 2 * perRequest;
    out.push(headline(SECTION, `provider "tokens" tpm ${PROVIDER_TPM}: upstream tokens in one window`, `${usedTokens} (${fmt(usedTokens / PROVIDER_TPM, 3)}×)`, "≤ limit, within 2 requests of it", tokensOk));
    const offered = loads.map((l) => Object.values(l.byStatus).reduce((x, y) => x + y, 0));
    console.log(`offered load: keys ${offered[0]} requests, capped ${offered[1]}, tokens ${offered[2]} in ${o.durationS} s ` +
      `(${loads.map((l) => JSON.stringify(l.byStatus)).join("; ")})`);
  } finally {
    await servers.stopAll();
  }
  return out;
}

if (import.meta.main) {
  printSummary(await runExactness(presetArgs(FULL, SHORT, { duration: "durationS" }).options));
}
