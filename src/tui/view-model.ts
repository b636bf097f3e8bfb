/**
 * What the screens show, derived from the followed nodes: rows for providers,
 * keys and nodes, with rates computed from each node's history. Pure: the
 * current time comes in, so the same nodes always give the same rows.
 */
import type { KeySnapshot, ProviderSnapshot, StatsSnapshot } from "../stats/snapshot.ts";
import type { NodeState, NodeStatus } from "./follow-node.ts";
import { compact, seconds } from "./format-units.ts";
import { addSeries, sentLastMinute, sentSeries } from "./history.ts";
import { sumSnapshots } from "./sum-snapshots.ts";

export interface ProviderRowData {
  readonly name: string;
  /** "spaced 30/m", "burst 5·60/m", "window 60/m", "none". */
  readonly mode: string;
  /** Everything waiting to be sent. */
  readonly queue: number;
  readonly inFlight: number;
  readonly maxConcurrent: number | null;
  readonly sentPerMin: number;
  /** False while the history is shorter than a minute of a node up for longer. */
  readonly sentExact: boolean;
  readonly limitPerMin: number | null;
  /** Sent per time bucket over the last minute, oldest first. */
  readonly series: readonly number[];
  readonly upstream429: number;
  readonly timeouts: number;
  readonly nextSlotSeconds: number | null;
}

export interface KeyDimension {
  readonly name: string;
  readonly used: number;
  readonly limit: number;
  readonly resetSeconds: number;
}

export interface KeyRowData {
  readonly name: string;
  readonly dims: readonly KeyDimension[];
  readonly requests: number;
  readonly rejected: number;
  readonly rejectedBy: Readonly<Record<string, number>>;
  readonly queued: number;
}

export interface NodeRowData {
  readonly url: string;
  readonly status: NodeStatus;
  readonly error: string | null;
  readonly uptimeSeconds: number | null;
  readonly store: string;
  readonly queue: number;
  readonly inFlight: number;
  readonly sentPerMin: number;
  readonly upstream429: number;
  readonly timeouts: number;
}

export interface ViewModel {
  /** All nodes' snapshots summed (null until one arrives). */
  readonly sum: StatsSnapshot | null;
  readonly providers: readonly ProviderRowData[];
  readonly keys: readonly KeyRowData[];
  readonly nodes: readonly NodeRowData[];
  readonly live: number;
  /** Nothing is live: what is shown is the last data seen. */
  readonly stale: boolean;
  /** The first error among nodes that are not live. */
  readonly error: string | null;
  /** Largest queue, rounded up to a round number: the scale of the queue bars. */
  readonly queueScale: number;
  /** Time of the newest data, epoch ms (null before any). */
  readonly updatedAt: number | null;
  readonly transport: "events" | "poll" | "mixed" | null;
}

const DIMENSION_ORDER = ["rpm", "input_tpm", "output_tpm", "tpm", "rpd", "tpd"];

export function deriveView(nodes: readonly NodeState[], now: number, sparkBuckets: number): ViewModel {
  const withData = nodes.filter((n) => n.snapshot !== null);
  const sum = withData.length ? sumSnapshots(withData.map((n) => n.snapshot!)) : null;
  const providers = (sum?.providers ?? []).map((p) => providerRow(p, withData, now, sparkBuckets));
  const notLive = nodes.filter((n) => n.status !== "live");
  const transports = new Set(withData.map((n) => n.transport).filter((t) => t !== null));
  const times = withData.map((n) => n.history[n.history.length - 1]?.at ?? 0);
  return {
    sum,
    providers,
    keys: (sum?.keys ?? []).map(keyRow),
    nodes: nodes.map((n) => nodeRow(n, now)),
    live: nodes.length - notLive.length,
    stale: notLive.length === nodes.length,
    error: notLive.find((n) => n.error)?.error ?? null,
    queueScale: roundUp(Math.max(10, ...providers.map((p) => p.queue))),
    updatedAt: times.length ? Math.max(...times) : null,
    transport: transports.size > 1 ? "mixed" : ([...transports][0] ?? null),
  };
}

function providerRow(p: ProviderSnapshot, nodes: readonly NodeState[], now: number, buckets: number): ProviderRowData {
  const rates = nodes.map((n) => sentLastMinute(n.history, p.provider, now));
  return {
    name: p.provider,
    mode: modeLabel(p),
    queue: p.waiting_in_acquire,
    inFlight: p.in_flight,
    maxConcurrent: p.max_concurrent,
    sentPerMin: rates.reduce((a, r) => a + r.count, 0),
    sentExact: rates.every((r) => r.exact),
    limitPerMin: limitPerMinute(p),
    series: addSeries(nodes.map((n) => sentSeries(n.history, p.provider, now, buckets))),
    upstream429: p.upstream_429,
    timeouts: p.queue_timeouts,
    nextSlotSeconds: p.next_slot_in_seconds,
  };
}

/** Requests per minute the provider may be sent, if paced or windowed by requests. */
export function limitPerMinute(p: ProviderSnapshot): number | null {
  if (p.interval_seconds) return 60 / p.interval_seconds;
  return p.windows.rpm?.limit ?? p.rpm ?? null;
}

export function modeLabel(p: ProviderSnapshot): string {
  const perMin = limitPerMinute(p);
  const rate = perMin === null ? "" : perMin >= 1 ? `${compact(round1(perMin))}/m` : `1/${seconds(p.interval_seconds ?? 60 / perMin)}`;
  if (p.mode === "burst") return `burst ${p.capacity ?? "?"}·${rate}`;
  if (p.mode === "window") {
    const first = Object.entries(p.windows)[0];
    return `window ${rate || (first ? `${compact(first[1].limit)} ${first[0]}` : "")}`.trim();
  }
  if (perMin === null) return "none";
  return `${p.mode} ${rate}`;
}

/** "3 rpm:2 output_tpm:1", most frequent reason first. */
export function rejectedText(row: KeyRowData): string {
  if (row.rejected === 0) return "0";
  const by = Object.entries(row.rejectedBy)
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1])
    .map(([dim, n]) => `${dim}:${compact(n)}`);
  return [compact(row.rejected), ...by].join(" ");
}

function keyRow(k: KeySnapshot): KeyRowData {
  const rank = (name: string) => {
    const i = DIMENSION_ORDER.indexOf(name);
    return i === -1 ? DIMENSION_ORDER.length : i;
  };
  const dims = Object.entries(k.windows)
    .sort(([a], [b]) => rank(a) - rank(b))
    .map(([name, w]) => ({ name, used: w.used, limit: w.limit, resetSeconds: w.reset_seconds }));
  return { name: k.key, dims, requests: k.requests, rejected: k.rejected, rejectedBy: k.rejected_by, queued: k.queued ?? 0 };
}

function nodeRow(n: NodeState, now: number): NodeRowData {
  const s = n.snapshot;
  return {
    url: n.url,
    status: n.status,
    error: n.error,
    uptimeSeconds: s ? s.uptime_seconds : null,
    store: s ? `${s.store.kind} ${s.store.state}` : "–",
    queue: s?.totals.queued ?? 0,
    inFlight: s?.totals.in_flight ?? 0,
    sentPerMin: (s?.providers ?? []).reduce((a, p) => a + sentLastMinute(n.history, p.provider, now).count, 0),
    upstream429: s?.totals.upstream_429 ?? 0,
    timeouts: s?.totals.queue_timeouts ?? 0,
  };
}

/** 10, 20, 50, 100, 200, 500, … at or above x. */
function roundUp(x: number): number {
  let step = 10;
  for (;;) {
    for (const m of [1, 2, 5]) if (step * m >= x) return step * m;
    step *= 10;
  }
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}
