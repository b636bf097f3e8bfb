/**
 * `limitrate bench` with no --url: a mock provider and a gateway in this
 * process, set up so a short load shows shaping at work — the provider is
 * paced (requests queue instead of being refused), two client keys have small
 * limits (they get 429 at once), and the mock's own counter shows the
 * upstream never saw more than its pace. `explainDemo` puts the figures in
 * plain words (a pure function, like the report).
 */
import { randomBytes } from "node:crypto";
import { embeddedConfig } from "../config/embedded.ts";
import { configSchema } from "../config/schema.ts";
import { startGateway, type RunningGateway } from "../gateway/server.ts";
import { startMockUpstream, type MockCounts, type RunningMock } from "../mock/mock-upstream.ts";
import type { BenchResult } from "./result.ts";
import { okCount } from "./tally.ts";
import type { BenchKey } from "./workload.ts";

/** The demo's numbers, shown in its explanation. */
export interface DemoSetup {
  /** The mock provider's answer time, ms. */
  readonly upstreamLatencyMs: number;
  /** The mock provider's own limit, requests per minute (over it, it would answer 429). */
  readonly upstreamRpm: number;
  /** The gateway's pace towards the provider (spaced), requests per minute. */
  readonly paceRpm: number;
  /** How long a request may wait in the gateway's line before 503, s. */
  readonly maxWaitSeconds: number;
  /** Client keys by label → rpm (null: no key limit). */
  readonly keyRpm: Readonly<Record<string, number | null>>;
}

export const DEMO: DemoSetup = {
  upstreamLatencyMs: 50,
  upstreamRpm: 600,
  paceRpm: 600,
  maxWaitSeconds: 3,
  keyRpm: { alice: 5, bob: 10, carol: null },
};

export interface RunningDemo {
  readonly url: string;
  readonly keys: readonly BenchKey[];
  readonly setup: DemoSetup;
  readonly mock: RunningMock;
  readonly gateway: RunningGateway;
  stop(): Promise<void>;
}

export function startDemo(setup: DemoSetup = DEMO): RunningDemo {
  const mock = startMockUpstream({ port: 0, host: "127.0.0.1", latencyMs: setup.upstreamLatencyMs, rpm: setup.upstreamRpm });
  // Fresh random keys each run: nothing to leak, and the labels are their names.
  const keys: BenchKey[] = Object.keys(setup.keyRpm).map((label) => ({
    label,
    key: `lr-demo-${label}-${randomBytes(12).toString("hex")}`,
  }));
  // The embedded default (one mock provider), made to show shaping: a faster
  // pace with a bounded wait, plus client keys with small limits.
  const base = embeddedConfig(mock.url);
  const config = configSchema.parse({
    server: { host: "127.0.0.1", port: 0 },
    keys: Object.fromEntries(
      keys.map((k) => {
        const rpm = setup.keyRpm[k.label];
        return [k.key, rpm == null ? { name: k.label } : { name: k.label, rpm }];
      }),
    ),
    providers: base.providers.map((p) => ({
      name: p.name,
      base_url: p.base_url,
      models: p.models.map((m) => m.name),
      rate_limit: { mode: "spaced", rpm: setup.paceRpm, max_wait_seconds: setup.maxWaitSeconds },
    })),
  });
  let gateway: RunningGateway;
  try {
    gateway = startGateway(config, { host: "127.0.0.1", port: 0, drainMs: 1000 });
  } catch (e) {
    void mock.stop();
    throw e;
  }
  return {
    url: gateway.url,
    keys,
    setup,
    mock,
    gateway,
    async stop() {
      await gateway.stop();
      await mock.stop();
    },
  };
}

/** Most arrivals inside any window of `windowMs` (arrivals ascending). */
export function maxInWindow(arrivals: readonly number[], windowMs: number): number {
  let best = 0;
  let lo = 0;
  for (let hi = 0; hi < arrivals.length; hi++) {
    while (arrivals[hi]! - arrivals[lo]! >= windowMs) lo++;
    best = Math.max(best, hi - lo + 1);
  }
  return best;
}

export interface DemoFigures {
  readonly upstream_requests: number;
  readonly upstream_429: number;
  readonly upstream_max_per_second: number;
  /** Mean time between the upstream's arrivals, ms (null with fewer than two). */
  readonly upstream_mean_gap_ms: number | null;
  readonly pace_rpm: number;
  readonly upstream_rpm: number;
  readonly upstream_latency_ms: number;
  readonly max_wait_seconds: number;
  readonly key_rpm: Readonly<Record<string, number | null>>;
}

export function demoFigures(mock: MockCounts, setup: DemoSetup): DemoFigures {
  const arrivals = [...mock.arrivals].sort((a, b) => a - b);
  const n = arrivals.length;
  return {
    upstream_requests: mock.requests,
    upstream_429: mock.rejected_429,
    upstream_max_per_second: maxInWindow(arrivals, 1000),
    upstream_mean_gap_ms: n >= 2 ? Math.round(((arrivals[n - 1]! - arrivals[0]!) / (n - 1)) * 10) / 10 : null,
    pace_rpm: setup.paceRpm,
    upstream_rpm: setup.upstreamRpm,
    upstream_latency_ms: setup.upstreamLatencyMs,
    max_wait_seconds: setup.maxWaitSeconds,
    key_rpm: setup.keyRpm,
  };
}

const fmtS = (ms: number | undefined) => (ms === undefined ? "–" : ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`);

/** The demo's figures in plain words. */
export function explainDemo(r: BenchResult, f: DemoFigures): string {
  const t = r.total;
  const ok = okCount(t);
  const n503 = t.status["503"] ?? 0;
  const intervalMs = 60_000 / f.pace_rpm;
  const workers = r.settings.concurrency;
  const unshapedRps = Math.round((workers * 1000) / f.upstream_latency_ms);
  const lines: string[] = ["", "What this shows", ""];

  lines.push(
    `  • Queued, not refused. The gateway sends to the mock provider at most ${f.pace_rpm} requests per minute ` +
      `(one every ${intervalMs} ms). ${workers} workers asked for far more; their requests waited in line instead of ` +
      `being turned away: accepted answers took ${fmtS(t.latency_ok?.p50)} at the median (the provider itself answers ` +
      `in ${f.upstream_latency_ms} ms), and ${n503} gave up after ${f.max_wait_seconds} s in line (503).`,
  );

  const keyParts = Object.entries(f.key_rpm).map(([label, rpm]) => {
    const g = r.by_key[label];
    const accepted = g ? okCount(g) : 0;
    const refused = g?.status["429"] ?? 0;
    return rpm == null
      ? `${label} has no limit of its own: ${accepted} accepted, ${refused} refused`
      : `${label} (${rpm} rpm) got ${accepted} accepted and ${refused} refused`;
  });
  lines.push(
    `  • Per-key limits answer 429 at once, and a refused request costs nothing: ${keyParts.join("; ")}. ` +
      `${t.status["429"] ?? 0} of the ${t.requests} requests (${pct(t.status["429"] ?? 0, t.requests)}) were such 429s, ` +
      `which is why the overall latency is bimodal.`,
  );

  const agree =
    f.upstream_requests - f.upstream_429 === ok
      ? `the same as the ${ok} answers 200 the bench got`
      : `while the bench got ${ok} answers 200`;
  lines.push(
    `  • The upstream stayed under its limit. The mock's own counter (/mock/counts) saw ${f.upstream_requests} requests, ` +
      `${f.upstream_429} refused with 429, at most ${f.upstream_max_per_second} in any one second` +
      (f.upstream_mean_gap_ms !== null ? ` and one every ${f.upstream_mean_gap_ms} ms on average` : "") +
      ` — ${agree}. Its limit is ${f.upstream_rpm} per minute; unshaped, ${workers} workers at ` +
      `${f.upstream_latency_ms} ms would have sent about ${unshapedRps} requests per second and hit it within ` +
      `${Math.max(1, Math.ceil(f.upstream_rpm / Math.max(1, unshapedRps)))} s.`,
  );
  for (let i = 3; i < lines.length; i++) lines[i] = wrap(lines[i]!, 100);
  lines.push("", "  Your own gateway: limitrate bench --url http://127.0.0.1:8080 --api-key KEY -d 10 -c 50", "");
  return lines.join("\n");
}

/** Wraps a "  • ..." paragraph at `width` columns, continuing under its text. */
function wrap(para: string, width: number): string {
  const lead = para.length - para.trimStart().length;
  const indent = " ".repeat(lead + 2);
  const out: string[] = [];
  let line = para.slice(0, lead);
  for (const word of para.trimStart().split(" ")) {
    if (line.trim() !== "" && line.length + 1 + word.length > width) {
      out.push(line);
      line = indent + word;
    } else {
      line = line.trim() === "" ? line + word : `${line} ${word}`;
    }
  }
  out.push(line);
  return out.join("\n");
}

function pct(n: number, of: number): string {
  return of > 0 ? `${((n / of) * 100).toFixed(0)}%` : "0%";
}
