/**
 * A short client-side history of one node's snapshots, and the rates derived
 * from it. The gateway reports counters since start (sent, 429s); "sent in
 * the last minute" and the sparkline come from differences between samples.
 * Pure: the current time comes in as an argument.
 */
import type { StatsSnapshot } from "../stats/snapshot.ts";

export interface Sample {
  /** When the snapshot arrived, epoch ms (client clock, so nodes compare). */
  readonly at: number;
  readonly snapshot: StatsSnapshot;
}

/** How far back rates look, ms. */
export const RATE_WINDOW_MS = 60_000;
/** History kept per node, ms: a full rate window plus a margin for its base sample. */
export const HISTORY_MS = 75_000;
/** Samples closer than this replace the previous one (bursts of change events). */
const MIN_SPACING_MS = 200;

export function appendSample(history: readonly Sample[], sample: Sample, keepMs = HISTORY_MS): Sample[] {
  const last = history[history.length - 1];
  // A restarted node (uptime went back) starts a new history: its counters restarted.
  if (last && sample.snapshot.uptime_seconds < last.snapshot.uptime_seconds) return [sample];
  const kept = last && sample.at - last.at < MIN_SPACING_MS && history.length > 1 ? history.slice(0, -1) : history.slice();
  kept.push(sample);
  const cutoff = sample.at - keepMs;
  let drop = 0;
  // Keep the newest sample older than the cutoff: it is the base of the oldest difference.
  while (drop + 1 < kept.length && kept[drop + 1]!.at <= cutoff) drop++;
  return drop ? kept.slice(drop) : kept;
}

export interface Rate {
  readonly count: number;
  /** False while the history covers less than the window of a node up for longer. */
  readonly exact: boolean;
}

/** What a line has sent so far in a sample: the provider's, or one of its model lines' when `model` is given. */
function sentBy(provider: string, model?: string): (s: Sample) => number {
  return (s) => {
    const p = s.snapshot.providers.find((x) => x.provider === provider);
    if (model === undefined) return p?.sent ?? 0;
    return (p?.model_lines ?? []).find((m) => m.model === model)?.sent ?? 0;
  };
}

/** Requests a provider (or one of its model lines) sent in the last minute, from a node's history. */
export function sentLastMinute(history: readonly Sample[], provider: string, now: number, model?: string): Rate {
  const last = history[history.length - 1];
  if (!last) return { count: 0, exact: false };
  const sentAt = sentBy(provider, model);
  const since = now - RATE_WINDOW_MS;
  let base = -1;
  for (let i = 0; i < history.length; i++) if (history[i]!.at <= since) base = i;
  if (base >= 0) return { count: sentAt(last) - sentAt(history[base]!), exact: true };
  // The node started within the window: everything it ever sent counts.
  const age = (now - last.at) / 1000 + last.snapshot.uptime_seconds;
  if (age <= RATE_WINDOW_MS / 1000) return { count: sentAt(last), exact: true };
  // History shorter than the window of an older node: what it saw, plus the rest of the
  // minute at the node's lifetime average before that.
  const first = history[0]!;
  const seen = sentAt(last) - sentAt(first);
  const unseenS = Math.max(0, RATE_WINDOW_MS - (now - first.at)) / 1000;
  const average = first.snapshot.uptime_seconds > 0 ? sentAt(first) / first.snapshot.uptime_seconds : 0;
  return { count: Math.round(seen + unseenS * average), exact: false };
}

/**
 * Requests sent per time bucket over the last minute, oldest first. Buckets
 * are aligned to absolute time, so series of several nodes add up.
 */
export function sentSeries(history: readonly Sample[], provider: string, now: number, buckets: number, model?: string): number[] {
  const out = new Array<number>(Math.max(0, buckets)).fill(0);
  if (buckets <= 0) return out;
  const size = RATE_WINDOW_MS / buckets;
  const end = Math.floor(now / size) + 1;
  const sentAt = sentBy(provider, model);
  for (let i = 1; i < history.length; i++) {
    const a = history[i - 1]!;
    const b = history[i]!;
    const slot = buckets - (end - Math.floor(b.at / size));
    if (slot >= 0 && slot < buckets) out[slot]! += Math.max(0, sentAt(b) - sentAt(a));
  }
  return out;
}

/** Element-wise sum of equally long series. */
export function addSeries(series: readonly (readonly number[])[]): number[] {
  const len = Math.max(0, ...series.map((s) => s.length));
  const out = new Array<number>(len).fill(0);
  for (const s of series) s.forEach((v, i) => (out[i]! += v));
  return out;
}
