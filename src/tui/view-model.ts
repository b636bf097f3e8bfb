/**
 * What the screens show, derived from the followed nodes: rows for providers,
 * keys and nodes, with rates computed from each node's history. Pure: the
 * current time comes in, so the same nodes always give the same rows.
 */
import type { GroupSnapshot, KeySnapshot, ModelLineSnapshot, ProviderSnapshot, StatsSnapshot } from "../stats/snapshot.ts";
import type { NodeState, NodeStatus } from "./follow-node.ts";
import { clockTime, compact, money, seconds, waitPair } from "./format-units.ts";
import { addSeries, sentLastMinute, sentSeries } from "./history.ts";
import { sumSnapshots } from "./sum-snapshots.ts";

/** One line of requests on screen: a provider's, or a model's with limits of its own. */
export interface LineRowData {
  readonly name: string;
  /** "spaced 30/m", "burst 5·60/m", "window 60/m", "learned 45/m", "none". */
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
  /** Null for model lines (429s are counted per provider). */
  readonly upstream429: number | null;
  readonly timeouts: number;
  readonly nextSlotSeconds: number | null;
}

/** A model's own line, shown indented under its provider. */
export type ModelRowData = LineRowData;

export interface ProviderRowData extends LineRowData {
  readonly upstream429: number;
  /** mode adaptive: the rate learned so far, per minute (null otherwise). */
  readonly learnedRpm: number | null;
  /** Queue-wait quantiles, ms (null before any request). */
  readonly waitP50Ms: number | null;
  readonly waitP99Ms: number | null;
  /** Epoch seconds until which the provider's line waits because the provider said so; null: not held. */
  readonly heldUntil: number | null;
  readonly holdReason: string | null;
  /** What the provider last said is left (rate-limit headers), null: not said. */
  readonly upstreamRequestsLeft: number | null;
  readonly upstreamTokensLeft: number | null;
  readonly models: readonly ModelRowData[];
}

export interface KeyDimension {
  /** The window's name in the snapshot, e.g. "rpm", "budget_usd_per_day". */
  readonly name: string;
  /** Its short name on screen, e.g. "rpm", "$/day". */
  readonly label: string;
  /** A budget in USD: used and limit show as money. */
  readonly money: boolean;
  readonly used: number;
  readonly limit: number;
  readonly resetSeconds: number;
}

/** A client key, or a group of keys (a team) — same rows, groups have no queue wait. */
export interface KeyRowData {
  readonly name: string;
  readonly dims: readonly KeyDimension[];
  readonly requests: number;
  readonly rejected: number;
  readonly rejectedBy: Readonly<Record<string, number>>;
  readonly queued: number;
  /** USD spent since start. */
  readonly spendUsd: number;
  /** Queue-wait quantiles, ms (null before any request, and for groups). */
  readonly waitP50Ms: number | null;
  readonly waitP99Ms: number | null;
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
  readonly groups: readonly KeyRowData[];
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

const DIMENSION_ORDER = ["rpm", "input_tpm", "output_tpm", "tpm", "rpd", "tpd", "budget_usd_per_day", "budget_usd_per_month"];
/** Windows counted in USD, and their short names on screen. */
const MONEY_LABELS: Readonly<Record<string, string>> = { budget_usd_per_day: "$/day", budget_usd_per_month: "$/month" };

/** A window's short name on screen: "$/day" for budget_usd_per_day, else its name. */
export function dimensionLabel(name: string): string {
  return MONEY_LABELS[name] ?? name;
}

/** "12/20", or money for USD budgets: "$12.34/$50". */
export function usedOfLimit(d: KeyDimension): string {
  return d.money ? `${money(d.used)}/${money(d.limit)}` : `${compact(d.used)}/${compact(d.limit)}`;
}

export function deriveView(nodes: readonly NodeState[], now: number, sparkBuckets: number): ViewModel {
  const withData = nodes.filter((n) => n.snapshot !== null);
  const sum = withData.length ? sumSnapshots(withData.map((n) => n.snapshot!)) : null;
  const providers = (sum?.providers ?? []).map((p) => providerRow(p, sum!.time, withData, now, sparkBuckets));
  const notLive = nodes.filter((n) => n.status !== "live");
  const transports = new Set(withData.map((n) => n.transport).filter((t) => t !== null));
  const times = withData.map((n) => n.history[n.history.length - 1]?.at ?? 0);
  return {
    sum,
    providers,
    keys: (sum?.keys ?? []).map(keyRow),
    groups: (sum?.groups ?? []).map(groupRow),
    nodes: nodes.map((n) => nodeRow(n, now)),
    live: nodes.length - notLive.length,
    stale: notLive.length === nodes.length,
    error: notLive.find((n) => n.error)?.error ?? null,
    queueScale: roundUp(Math.max(10, ...providers.map((p) => p.queue))),
    updatedAt: times.length ? Math.max(...times) : null,
    transport: transports.size > 1 ? "mixed" : ([...transports][0] ?? null),
  };
}

function providerRow(p: ProviderSnapshot, time: number, nodes: readonly NodeState[], now: number, buckets: number): ProviderRowData {
  const up = p.upstream ?? null;
  // The gateway reports a hold only while it lasts; a summed or older snapshot is checked against its own time.
  const held = up?.hold_until != null && up.hold_until > time;
  return {
    ...lineRow(p.provider, p, nodes, now, buckets),
    upstream429: p.upstream_429,
    learnedRpm: p.learned_rpm ?? null,
    waitP50Ms: p.queue_wait_p50_ms ?? null,
    waitP99Ms: p.queue_wait_p99_ms ?? null,
    heldUntil: held ? up.hold_until : null,
    holdReason: held ? up.reason : null,
    upstreamRequestsLeft: up?.remaining_requests ?? null,
    upstreamTokensLeft: up?.remaining_tokens ?? null,
    models: (p.model_lines ?? []).map((m) => lineRow(p.provider, m, nodes, now, buckets, m.model)),
  };
}

/** The row of a provider's line, or of one of its model lines when `model` is given. */
function lineRow(
  provider: string,
  l: ProviderSnapshot | ModelLineSnapshot,
  nodes: readonly NodeState[],
  now: number,
  buckets: number,
  model?: string,
): LineRowData {
  const rates = nodes.map((n) => sentLastMinute(n.history, provider, now, model));
  return {
    name: model ?? provider,
    mode: modeLabel(l),
    queue: l.waiting_in_acquire,
    inFlight: l.in_flight,
    maxConcurrent: l.max_concurrent,
    sentPerMin: rates.reduce((a, r) => a + r.count, 0),
    sentExact: rates.every((r) => r.exact),
    limitPerMin: limitPerMinute(l),
    series: addSeries(nodes.map((n) => sentSeries(n.history, provider, now, buckets, model))),
    upstream429: "upstream_429" in l ? l.upstream_429 : null,
    timeouts: l.queue_timeouts,
    nextSlotSeconds: l.next_slot_in_seconds,
  };
}

/** Lines a provider takes on screen: its row, its detail line if it has one, a row per model line. */
export function providerLines(row: ProviderRowData): number {
  return 1 + (providerDetail(row).length > 0 ? 1 : 0) + row.models.length;
}

/**
 * The provider's detail line, in parts: "held until 12:00:03 (reason)" while
 * the provider holds its line, "wait p50/p99 25ms/250ms" once requests have
 * waited, "upstream left 95 req 12k tok" once it said so. Empty: no line.
 */
export function providerDetail(row: ProviderRowData): { kind: "held" | "wait" | "left"; text: string }[] {
  const parts: { kind: "held" | "wait" | "left"; text: string }[] = [];
  if (row.heldUntil !== null) parts.push({ kind: "held", text: heldText(row) });
  if (row.waitP50Ms !== null || row.waitP99Ms !== null) parts.push({ kind: "wait", text: `wait p50/p99 ${waitPair(row.waitP50Ms, row.waitP99Ms)}` });
  const left = [
    row.upstreamRequestsLeft === null ? null : `${compact(row.upstreamRequestsLeft)} req`,
    row.upstreamTokensLeft === null ? null : `${compact(row.upstreamTokensLeft)} tok`,
  ].filter((x) => x !== null);
  if (left.length) parts.push({ kind: "left", text: `upstream left ${left.join(" ")}` });
  return parts;
}

/** "held until 12:00:03 (requests exhausted)" — local time. */
export function heldText(row: ProviderRowData): string {
  if (row.heldUntil === null) return "";
  return `held until ${clockTime(row.heldUntil * 1000)}${row.holdReason ? ` (${row.holdReason})` : ""}`;
}

/** Requests per minute the provider may be sent, if paced or windowed by requests. */
export function limitPerMinute(p: ProviderSnapshot | ModelLineSnapshot): number | null {
  if (p.interval_seconds) return 60 / p.interval_seconds;
  return p.windows.rpm?.limit ?? p.rpm ?? null;
}

export function modeLabel(p: ProviderSnapshot | ModelLineSnapshot): string {
  // mode adaptive: the rate it has learned (its pace follows it).
  const learned = "learned_rpm" in p ? p.learned_rpm : null;
  if (learned != null && learned > 0) return `learned ${learned >= 1 ? `${compact(round1(learned))}/m` : `1/${seconds(60 / learned)}`}`;
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

/** "3 rpm:2 $/day:1", most frequent reason first (`short` false: full window names, "budget_usd_per_day:1"). */
export function rejectedText(row: KeyRowData, short = true): string {
  if (row.rejected === 0) return "0";
  const by = Object.entries(row.rejectedBy)
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1])
    .map(([dim, n]) => `${short ? dimensionLabel(dim) : dim}:${compact(n)}`);
  return [compact(row.rejected), ...by].join(" ");
}

function dimensions(windows: KeySnapshot["windows"]): KeyDimension[] {
  const rank = (name: string) => {
    const i = DIMENSION_ORDER.indexOf(name);
    return i === -1 ? DIMENSION_ORDER.length : i;
  };
  return Object.entries(windows)
    .sort(([a], [b]) => rank(a) - rank(b))
    .map(([name, w]) => ({ name, label: dimensionLabel(name), money: name in MONEY_LABELS, used: w.used, limit: w.limit, resetSeconds: w.reset_seconds }));
}

function keyRow(k: KeySnapshot): KeyRowData {
  return {
    name: k.key,
    dims: dimensions(k.windows),
    requests: k.requests,
    rejected: k.rejected,
    rejectedBy: k.rejected_by,
    queued: k.queued ?? 0,
    spendUsd: k.spend_usd ?? 0,
    waitP50Ms: k.queue_wait_p50_ms ?? null,
    waitP99Ms: k.queue_wait_p99_ms ?? null,
  };
}

function groupRow(g: GroupSnapshot): KeyRowData {
  return {
    name: g.group,
    dims: dimensions(g.windows),
    requests: g.requests,
    rejected: g.rejected,
    rejectedBy: g.rejected_by ?? {},
    queued: 0,
    spendUsd: g.spend_usd ?? 0,
    waitP50Ms: null,
    waitP99Ms: null,
  };
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
