/** Builds a StatsSnapshot from a running gateway. Reads state only; changes nothing. */
import type { WindowStatus } from "../core/policy.ts";
import type { ModelLine, ProviderRuntime, Runtime } from "../gateway/runtime.ts";
import type { DispatcherStats } from "../limiter/dispatcher.ts";
import { quantile, type HistogramSnapshot } from "./histogram.ts";
import type { KeyRuntime } from "../gateway/keys.ts";
import type { Policy } from "../core/policy.ts";
import type { LimiterStatus } from "../store/store.ts";
import type { GroupSnapshot, KeySnapshot, LineSnapshot, ModelLineSnapshot, ProviderSnapshot, StatsSnapshot, WindowUsage } from "./snapshot.ts";

export async function collectSnapshot(rt: Runtime): Promise<StatsSnapshot> {
  const now = rt.clock.now();
  const providers = await Promise.all(rt.providers.map((p) => providerSnapshot(rt, p)));
  const keys = await Promise.all(rt.keys.all.map((k) => keySnapshot(rt, k)));
  const groups = await Promise.all(
    rt.keys.groups.map(async (g): Promise<GroupSnapshot> => {
      const status = await rt.store.status(g.ref).catch(() => null);
      return {
        group: g.name,
        windows: windowsOf(status?.windows ?? []),
        requests: g.counters.requests,
        rejected: g.counters.rejected,
        rejected_by: { ...g.counters.rejectedBy },
        tokens_in: g.counters.tokensIn,
        tokens_out: g.counters.tokensOut,
        spend_usd: round(g.counters.spendUsd, 6),
      };
    }),
  );
  const sum = (f: (p: ProviderSnapshot) => number) => providers.reduce((a, p) => a + f(p), 0);
  return {
    uptime_seconds: round((now - rt.startedAt) / 1000, 3),
    time: round(Date.now() / 1000, 3),
    store: rt.store.health(),
    providers,
    keys,
    groups,
    totals: {
      requests: rt.received,
      queued: sum((p) => p.waiting_in_acquire),
      in_flight: sum((p) => p.in_flight),
      sent: sum((p) => p.sent),
      upstream_429: sum((p) => p.upstream_429),
      queue_timeouts: sum((p) => p.queue_timeouts),
    },
  };
}

/** The fields every line reports, from its live policy, its store status and its dispatchers' counts. */
function lineSnapshot(
  mode: string,
  policy: Policy,
  status: LimiterStatus | null,
  lines: readonly DispatcherStats[],
  limits: { readonly rpm?: number | undefined; readonly max_concurrent?: number | null | undefined },
): LineSnapshot {
  const pacing = policy.pacing;
  const sum = (f: (s: DispatcherStats) => number) => lines.reduce((a, s) => a + f(s), 0);
  const lastSend = lines.reduce<number | null>((a, s) => (s.lastSendTime !== null && (a === null || s.lastSendTime > a) ? s.lastSendTime : a), null);
  return {
    mode,
    interval_seconds: pacing ? round(pacing.intervalMs / 1000, 3) : null,
    capacity: pacing ? pacing.capacity : null,
    tokens: status?.pacing ? status.pacing.available : null,
    queued_ahead: sum((s) => s.queued),
    waiting_in_acquire: sum((s) => s.queued + s.claimed),
    in_flight: sum((s) => s.inFlight),
    last_send_time: lastSend !== null ? round(lastSend / 1000, 3) : null,
    next_slot_in_seconds: status?.pacing ? round(status.pacing.nextSlotInMs / 1000, 3) : null,
    rpm: limits.rpm ?? null,
    max_concurrent: limits.max_concurrent ?? null,
    windows: windowsOf(status?.windows ?? []),
    sent: sum((s) => s.sent),
    queue_timeouts: sum((s) => s.timedOut),
  };
}

async function providerSnapshot(rt: Runtime, p: ProviderRuntime): Promise<ProviderSnapshot> {
  const rl = p.config.rate_limit;
  const limited = p.line !== null || p.modelLines.size > 0;
  const status = limited ? await rt.store.status(p.ref).catch(() => null) : null;
  const lines = [p.line, ...[...p.modelLines.values()].map((l) => l.line)].flatMap((l) => (l ? [l.stats()] : []));
  const modelLines = await Promise.all([...p.modelLines.values()].map((l) => modelLineSnapshot(rt, p, l)));
  // p.ref.policy is the live policy (adaptive mode and reloads change it).
  const line = lineSnapshot(rl.mode, p.ref.policy, status, lines, rl);
  return {
    ...line,
    provider: p.name,
    models: p.models,
    max_wait_seconds: rl.max_wait_seconds,
    requests: p.counters.requests,
    sent: lines.length ? line.sent : p.counters.requests,
    cancelled: lines.reduce((a, s) => a + s.cancelled, 0),
    upstream_429: p.counters.upstream429,
    upstream_5xx: p.counters.upstream5xx,
    retries: p.counters.retries,
    by_status: { ...p.counters.byStatus },
    tokens_in: p.counters.tokensIn,
    tokens_out: p.counters.tokensOut,
    ...waits(p.counters.queueWait.snapshot()),
    upstream_latency_ms: p.counters.upstreamLatency.snapshot(),
    model_lines: modelLines,
    learned_rpm: p.adaptive ? round(p.adaptive.rpm(Date.now()), 1) : null,
    upstream: {
      hold_until: p.upstream.holdUntil !== null && p.upstream.holdUntil > Date.now() ? round(p.upstream.holdUntil / 1000, 3) : null,
      reason: p.upstream.reason,
      remaining_requests: p.upstream.remainingRequests,
      remaining_tokens: p.upstream.remainingTokens,
    },
  };
}

async function modelLineSnapshot(rt: Runtime, p: ProviderRuntime, l: ModelLine): Promise<ModelLineSnapshot> {
  const mref = l.refs[1]!;
  const mrl = p.config.models.find((m) => m.name === l.model)?.rate_limit;
  const status = await rt.store.status(mref).catch(() => null);
  const stats = l.line ? [l.line.stats()] : [];
  return { ...lineSnapshot(mrl?.mode ?? "spaced", mref.policy, status, stats, mrl ?? {}), model: l.model ?? "" };
}

async function keySnapshot(rt: Runtime, k: KeyRuntime): Promise<KeySnapshot> {
  const status = await rt.store.status(k.ref).catch(() => null);
  return {
    key: k.label,
    mode: k.mode,
    windows: windowsOf(status?.windows ?? []),
    requests: k.counters.requests,
    rejected: k.counters.rejected,
    rejected_by: { ...k.counters.rejectedBy },
    queued: k.line?.stats().queued ?? 0,
    by_status: { ...k.counters.byStatus },
    tokens_in: k.counters.tokensIn,
    tokens_out: k.counters.tokensOut,
    spend_usd: round(k.counters.spendUsd, 6),
    ...waits(k.counters.queueWait.snapshot()),
  };
}

function waits(h: HistogramSnapshot) {
  return { queue_wait_ms: h, queue_wait_p50_ms: quantile(h, 0.5), queue_wait_p99_ms: quantile(h, 0.99) };
}

export function windowsOf(ws: readonly WindowStatus[]): Record<string, WindowUsage> {
  const out: Record<string, WindowUsage> = {};
  for (const w of ws) {
    out[w.name] = { limit: w.limit, used: w.used, remaining: w.remaining, reset_seconds: round(w.resetMs / 1000, 3) };
  }
  return out;
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
