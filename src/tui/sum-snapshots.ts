/**
 * Several gateway nodes seen as one: a pure function from their snapshots to
 * one summed snapshot (same type, so every view renders it unchanged).
 *
 * Counters (requests, sent, 429s, queue, in-flight) always add up. Limits
 * depend on where limiter state lives: with a shared store (Redis) every node
 * enforces and reports the same global budget, so limits and window usage are
 * taken once (max); with per-node memory stores each node has its own budget,
 * so limits and usage add up too, and a spaced cadence gets N times faster.
 * Model lines are summed like providers (matched by model within their
 * provider), groups like keys. A learned (adaptive) rate adds up with memory
 * stores and is the largest with a shared one (see sumLearned); an upstream
 * hold is the latest of any node's (see sumUpstream).
 */
import { quantile, type HistogramSnapshot } from "../stats/histogram.ts";
import type { GroupSnapshot, KeySnapshot, ProviderSnapshot, StatsSnapshot, StoreSnapshot, WindowUsage } from "../stats/snapshot.ts";

const EMPTY: StatsSnapshot = {
  uptime_seconds: 0,
  time: 0,
  store: { kind: "none", state: "down" },
  providers: [],
  keys: [],
  groups: [],
  totals: { requests: 0, queued: 0, in_flight: 0, sent: 0, upstream_429: 0, queue_timeouts: 0 },
};

export function sumSnapshots(snaps: readonly StatsSnapshot[]): StatsSnapshot {
  if (snaps.length === 0) return EMPTY;
  if (snaps.length === 1) return snaps[0]!;
  const shared = snaps.every((s) => s.store.kind !== "memory");
  const sum = (f: (s: StatsSnapshot) => number) => snaps.reduce((a, s) => a + f(s), 0);
  return {
    // Every node has been up at least this long.
    uptime_seconds: Math.min(...snaps.map((s) => s.uptime_seconds)),
    time: Math.max(...snaps.map((s) => s.time)),
    store: sumStores(snaps.map((s) => s.store)),
    providers: groupBy(snaps.flatMap((s) => s.providers), (p) => p.provider).map((ps) => sumProviders(ps, shared)),
    keys: groupBy(snaps.flatMap((s) => s.keys), (k) => k.key).map((ks) => sumKeys(ks, shared)),
    groups: groupBy(snaps.flatMap((s) => s.groups ?? []), (g) => g.group).map((gs) => sumGroups(gs, shared)),
    totals: {
      requests: sum((s) => s.totals.requests),
      queued: sum((s) => s.totals.queued),
      in_flight: sum((s) => s.totals.in_flight),
      sent: sum((s) => s.totals.sent),
      upstream_429: sum((s) => s.totals.upstream_429),
      queue_timeouts: sum((s) => s.totals.queue_timeouts),
    },
  };
}

const STATE_RANK: Record<string, number> = { ok: 0, degraded: 1, down: 2 };

/** Distinct kinds joined; the worst state wins. */
function sumStores(stores: readonly StoreSnapshot[]): StoreSnapshot {
  const kind = [...new Set(stores.map((s) => s.kind))].join("+");
  const state = stores.reduce((w, s) => ((STATE_RANK[s.state] ?? 3) > (STATE_RANK[w] ?? 3) ? s.state : w), "ok");
  const details = [...new Set(stores.flatMap((s) => (s.detail ? [s.detail] : [])))];
  return details.length ? { kind, state, detail: details.join("; ") } : { kind, state };
}

/** The pacing and queue fields a provider's line and a model's line share. */
type LineFields = Pick<
  ProviderSnapshot,
  | "interval_seconds"
  | "capacity"
  | "tokens"
  | "rpm"
  | "queued_ahead"
  | "waiting_in_acquire"
  | "in_flight"
  | "max_concurrent"
  | "last_send_time"
  | "next_slot_in_seconds"
  | "windows"
  | "sent"
  | "queue_timeouts"
>;

/** One line (a provider's or a model's) on several nodes, summed. */
function sumLine(ls: readonly LineFields[], shared: boolean): LineFields {
  const first = ls[0]!;
  const n = ls.length;
  const add = (f: (l: LineFields) => number) => ls.reduce((a, l) => a + f(l), 0);
  const nullable = (f: (l: LineFields) => number | null, combine: (xs: number[]) => number) => combineNullable(ls.map(f), combine);
  // A limit of null means unlimited: one unlimited node makes the whole unlimited.
  const limitSum = (f: (l: LineFields) => number | null) => (ls.some((l) => f(l) === null) ? null : add((l) => f(l)!));
  return {
    interval_seconds: shared || first.interval_seconds === null ? first.interval_seconds : round(first.interval_seconds / n),
    capacity: shared ? first.capacity : limitSum((l) => l.capacity),
    tokens: shared ? nullable((l) => l.tokens, (xs) => Math.min(...xs)) : nullable((l) => l.tokens, total),
    rpm: shared ? first.rpm : limitSum((l) => l.rpm),
    queued_ahead: add((l) => l.queued_ahead),
    waiting_in_acquire: add((l) => l.waiting_in_acquire),
    in_flight: add((l) => l.in_flight),
    // In-flight caps are kept in each process, whatever the store.
    max_concurrent: limitSum((l) => l.max_concurrent),
    last_send_time: nullable((l) => l.last_send_time, (xs) => Math.max(...xs)),
    next_slot_in_seconds: nullable((l) => l.next_slot_in_seconds, (xs) => Math.min(...xs)),
    windows: sumWindows(ls.map((l) => l.windows), shared),
    sent: add((l) => l.sent),
    queue_timeouts: add((l) => l.queue_timeouts),
  };
}

function sumProviders(ps: readonly ProviderSnapshot[], shared: boolean): ProviderSnapshot {
  const first = ps[0]!;
  const add = (f: (p: ProviderSnapshot) => number) => ps.reduce((a, p) => a + f(p), 0);
  return {
    ...first,
    ...sumLine(ps, shared),
    models: [...new Set(ps.flatMap((p) => p.models))],
    requests: add((p) => p.requests),
    cancelled: add((p) => p.cancelled),
    upstream_429: add((p) => p.upstream_429),
    upstream_5xx: add((p) => p.upstream_5xx),
    retries: add((p) => p.retries),
    by_status: sumRecords(ps.map((p) => p.by_status)),
    tokens_in: add((p) => p.tokens_in ?? 0),
    tokens_out: add((p) => p.tokens_out ?? 0),
    ...waits(sumHistograms(ps.map((p) => p.queue_wait_ms))),
    upstream_latency_ms: sumHistograms(ps.map((p) => p.upstream_latency_ms)),
    learned_rpm: sumLearned(ps.map((p) => p.learned_rpm ?? null), shared),
    upstream: sumUpstream(ps.map((p) => p.upstream ?? NO_UPSTREAM)),
    // Model lines are matched by model, in order of first appearance, and summed like providers.
    model_lines: groupBy(ps.flatMap((p) => p.model_lines ?? []), (m) => m.model).map((ms) => ({ ...ms[0]!, ...sumLine(ms, shared) })),
  };
}

/**
 * The learned rate (mode adaptive) of several nodes. Each node learns its own
 * rate from the 429s it sees. With per-node memory stores each node paces on
 * its own, so the provider gets the sum of their rates (like rpm and the
 * spaced cadence above). With a shared store every node's rate is an
 * estimate of the one global pace: the largest is taken, the fastest any node
 * may currently book at. Nodes not (yet) adaptive, null, are skipped.
 */
function sumLearned(rates: readonly (number | null)[], shared: boolean): number | null {
  return combineNullable(rates, shared ? (xs) => Math.max(...xs) : (xs) => round(total(xs)));
}

const NO_UPSTREAM: ProviderSnapshot["upstream"] = { hold_until: null, reason: null, remaining_requests: null, remaining_tokens: null };

/**
 * What the provider told each node. A hold on any node holds the provider's
 * line there: the latest hold wins, with its reason. Remaining requests and
 * tokens are the provider's own budget seen from each node at different
 * moments: the smallest (the most cautious) is kept.
 */
function sumUpstream(us: readonly ProviderSnapshot["upstream"][]): ProviderSnapshot["upstream"] {
  const held = us.filter((u) => u.hold_until !== null);
  const latest = held.reduce<ProviderSnapshot["upstream"] | null>((a, u) => (a === null || u.hold_until! > a.hold_until! ? u : a), null);
  const min = (xs: number[]) => Math.min(...xs);
  return {
    hold_until: latest?.hold_until ?? null,
    reason: latest ? latest.reason : (us.find((u) => u.reason !== null)?.reason ?? null),
    remaining_requests: combineNullable(us.map((u) => u.remaining_requests), min),
    remaining_tokens: combineNullable(us.map((u) => u.remaining_tokens), min),
  };
}

/** Groups of keys: their windows are a shared budget (taken once with a shared store, like keys); counters add up. */
function sumGroups(gs: readonly GroupSnapshot[], shared: boolean): GroupSnapshot {
  const add = (f: (g: GroupSnapshot) => number) => gs.reduce((a, g) => a + f(g), 0);
  return {
    ...gs[0]!,
    windows: sumWindows(gs.map((g) => g.windows), shared),
    requests: add((g) => g.requests),
    rejected: add((g) => g.rejected),
    rejected_by: sumRecords(gs.map((g) => g.rejected_by ?? {})),
    tokens_in: add((g) => g.tokens_in ?? 0),
    tokens_out: add((g) => g.tokens_out ?? 0),
    spend_usd: roundUsd(add((g) => g.spend_usd ?? 0)),
  };
}

/** Combines the non-null values; null when there are none. */
function combineNullable(values: readonly (number | null)[], combine: (xs: number[]) => number): number | null {
  const xs = values.filter((x): x is number => x !== null);
  return xs.length ? combine(xs) : null;
}

/** A summed wait histogram and its quantiles, recomputed (quantiles do not add up). */
function waits(h: HistogramSnapshot) {
  return { queue_wait_ms: h, queue_wait_p50_ms: quantile(h, 0.5), queue_wait_p99_ms: quantile(h, 0.99) };
}

function sumKeys(ks: readonly KeySnapshot[], shared: boolean): KeySnapshot {
  const add = (f: (k: KeySnapshot) => number) => ks.reduce((a, k) => a + f(k), 0);
  return {
    ...ks[0]!,
    windows: sumWindows(ks.map((k) => k.windows), shared),
    requests: add((k) => k.requests),
    rejected: add((k) => k.rejected),
    rejected_by: sumRecords(ks.map((k) => k.rejected_by)),
    queued: add((k) => k.queued ?? 0),
    by_status: sumRecords(ks.map((k) => k.by_status ?? {})),
    tokens_in: add((k) => k.tokens_in ?? 0),
    tokens_out: add((k) => k.tokens_out ?? 0),
    spend_usd: roundUsd(add((k) => k.spend_usd ?? 0)),
    ...waits(sumHistograms(ks.map((k) => k.queue_wait_ms))),
  };
}

function sumWindows(all: readonly Readonly<Record<string, WindowUsage>>[], shared: boolean): Record<string, WindowUsage> {
  const out: Record<string, WindowUsage> = {};
  for (const ws of all) {
    for (const [name, w] of Object.entries(ws)) {
      const o = out[name];
      if (!o) out[name] = w;
      else if (shared) {
        out[name] = {
          limit: Math.max(o.limit, w.limit),
          used: Math.max(o.used, w.used),
          remaining: Math.min(o.remaining, w.remaining),
          reset_seconds: Math.min(o.reset_seconds, w.reset_seconds),
        };
      } else {
        out[name] = {
          limit: o.limit + w.limit,
          used: o.used + w.used,
          remaining: o.remaining + w.remaining,
          reset_seconds: Math.min(o.reset_seconds, w.reset_seconds),
        };
      }
    }
  }
  return out;
}

function sumRecords(rs: readonly Readonly<Record<string, number>>[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of rs) for (const [k, v] of Object.entries(r)) out[k] = (out[k] ?? 0) + v;
  return out;
}

/** Histograms with the same buckets add up bucket by bucket; others cannot, so the first stands. */
function sumHistograms(hs: readonly (HistogramSnapshot | undefined)[]): HistogramSnapshot {
  const present = hs.filter((h): h is HistogramSnapshot => h !== undefined);
  const first = present[0] ?? { le: [], counts: [0], sum: 0, count: 0 };
  const same = present.every((h) => h.le.length === first.le.length && h.le.every((b, i) => b === first.le[i]));
  if (!same) return first;
  return {
    le: first.le,
    counts: first.counts.map((_, i) => present.reduce((a, h) => a + (h.counts[i] ?? 0), 0)),
    sum: Math.round(present.reduce((a, h) => a + h.sum, 0) * 1000) / 1000,
    count: present.reduce((a, h) => a + h.count, 0),
  };
}

/** Items grouped by key, groups in order of first appearance. */
function groupBy<T>(items: readonly T[], key: (t: T) => string): T[][] {
  const groups = new Map<string, T[]>();
  for (const it of items) {
    const k = key(it);
    const g = groups.get(k);
    if (g) g.push(it);
    else groups.set(k, [it]);
  }
  return [...groups.values()];
}

function total(xs: readonly number[]): number {
  return xs.reduce((a, x) => a + x, 0);
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** USD to a millionth (as the gateway reports it), so sums of floats stay clean. */
function roundUsd(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
