/**
 * One bench run from start to report: set up the target (given nodes, or the
 * in-process demo), run the engine with the progress view attached, read the
 * key limits from /admin/stats, and write the report — text, or with `json`
 * only the JSON object, on stdout. Progress and notes go to stderr.
 */
import { startDemo, demoFigures, explainDemo } from "./demo.ts";
import { BenchEngine } from "./engine.ts";
import { checkKeyLimits, fetchNodeStats } from "./key-limits.ts";
import { attachProgress, type ProgressOut } from "./progress.ts";
import { formatReport, reportJson } from "./report.ts";
import type { BenchResult } from "./result.ts";
import { benchKeys, DEFAULT_MODEL, normalizeBase } from "./workload.ts";

export interface BenchRunOptions {
  /** Gateway base URLs; none = start the demo gateway in-process. */
  readonly urls?: readonly string[];
  readonly requests?: number;
  /** Seconds. */
  readonly duration?: number;
  readonly concurrency?: number;
  readonly rate?: number;
  readonly apiKeys?: readonly string[];
  readonly model?: string;
  readonly stream?: boolean;
  readonly maxTokens?: number;
  readonly json?: boolean;
  /** Per request, seconds (default 30). */
  readonly timeout?: number;
  /** For /admin/stats when the gateway guards it. */
  readonly adminToken?: string;
}

export interface BenchIo {
  readonly stdout: { write(s: string): unknown; readonly isTTY?: boolean };
  readonly stderr: ProgressOut;
  /** Aborting it stops the run early; the report is still written. */
  readonly signal?: AbortSignal;
}

export const DEFAULTS = {
  concurrency: 10,
  durationS: 10,
  demoConcurrency: 20,
  demoDurationS: 5,
  timeoutS: 30,
  /** Open loop without -c: at most this many seconds' worth of requests in flight. */
  openInFlightSeconds: 10,
  openInFlightMax: 10_000,
} as const;

/** The most requests a run may have in flight (for the fetch cap). */
export function inFlightNeeded(o: BenchRunOptions): number {
  const demo = (o.urls ?? []).length === 0;
  if (o.rate !== undefined) {
    return o.concurrency ?? Math.min(DEFAULTS.openInFlightMax, Math.max(1, Math.ceil(o.rate * DEFAULTS.openInFlightSeconds)));
  }
  return o.concurrency ?? (demo ? DEFAULTS.demoConcurrency : DEFAULTS.concurrency);
}

/** Runs the bench; resolves with the process exit code. */
export async function runBench(o: BenchRunOptions, io: BenchIo): Promise<number> {
  const urls = [...new Set((o.urls ?? []).map(normalizeBase))];
  const demoMode = urls.length === 0;
  if (demoMode && (o.apiKeys ?? []).length > 0) {
    io.stderr.write("limitrate bench: --api-key is ignored without --url (the demo gateway has its own keys)\n");
  }
  const demo = demoMode ? startDemo() : null;
  try {
    const targets = demo ? [demo.url] : urls;
    const keys = demo ? demo.keys : benchKeys(o.apiKeys ?? []);
    const defaultDuration = demo ? DEFAULTS.demoDurationS : DEFAULTS.durationS;
    const durationS = o.duration ?? (o.requests === undefined ? defaultDuration : undefined);
    const engine = new BenchEngine({
      urls: targets,
      keys,
      requests: o.requests ?? null,
      durationMs: durationS !== undefined ? durationS * 1000 : null,
      concurrency: inFlightNeeded(o),
      rate: o.rate ?? null,
      model: o.model ?? DEFAULT_MODEL,
      stream: o.stream ?? false,
      maxTokens: o.maxTokens ?? null,
      timeoutMs: (o.timeout ?? DEFAULTS.timeoutS) * 1000,
    });
    const target = demo
      ? `the built-in demo gateway ${demo.url} (mock provider, ${keys.length} keys)`
      : `${plural(targets.length, "node")}, ${keys.length > 0 ? plural(keys.length, "key") : "no key"}`;
    const detach = attachProgress(engine, io.stderr, { target });
    const onAbort = () => engine.stop();
    io.signal?.addEventListener("abort", onAbort);
    let result: BenchResult;
    try {
      result = await engine.run();
    } finally {
      io.signal?.removeEventListener("abort", onAbort);
      detach();
    }

    const nodes = await fetchNodeStats(targets, { adminToken: o.adminToken });
    result = { ...result, key_limits: checkKeyLimits(result.by_key, nodes, result.duration_s) };
    const figures = demo ? demoFigures(demo.mock.counts(), demo.setup) : null;

    if (o.json) {
      const out = { ...reportJson(result), ...(figures ? { demo: figures } : {}) };
      io.stdout.write(JSON.stringify(out, null, 2) + "\n");
    } else {
      io.stdout.write(formatReport(result, { colors: io.stdout.isTTY === true }));
      if (figures) io.stdout.write(explainDemo(result, figures));
    }
    return outcome(result, io);
  } finally {
    await demo?.stop();
  }
}

/** Exit 1 when nothing answered at all (wrong URL, gateway down), so scripts notice. */
function outcome(r: BenchResult, io: BenchIo): number {
  const t = r.total;
  if (t.requests > 0 && t.errors === t.requests) {
    const kinds = Object.entries(t.error_kinds).map(([k, n]) => `${k} ×${n}`).join(", ");
    io.stderr.write(`limitrate bench: no request got an HTTP answer (${kinds}). Is the gateway running at that URL?\n`);
    return 1;
  }
  return 0;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}
