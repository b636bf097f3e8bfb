/** Builds a StatsSnapshot from a running gateway. Reads state only; changes nothing. */
import type { WindowStatus } from "../core/policy.ts";
import type { ModelLine, ProviderRuntime, Runtime } from "../gateway/runtime.ts";
import type { DispatcherStats } from "../limiter/dispatcher.ts";
import { quantile, type HistogramSnapshot } from "./histogram.ts";
import type { KeyRuntime } from "../gateway/keys.ts";
import type { GroupSnapshot, KeySnapshot, ModelLineSnapshot, ProviderSnapshot, StatsSnapshot, WindowUsage } from "./snapshot.ts";

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

async function providerSnapshot(rt: Runtime, p: ProviderRuntime): Promise<ProviderSnapshot> {
  const rl = p.config.rate_limit;
  const pacing = p.ref.policy.pacing; // the live policy (adaptive mode changes it)
  const limited = p.line !== null || p.modelLines.size > 0;
  const status = limited ? await rt.store.status(p.ref).catch(() => null) : null;
  const lines = [p.line, ...[...p.modelLines.values()].map((l) => l.line)].flatMap((l) => (l ? [l.stats()] : []));
  const sum = (f: (s: DispatcherStats) => number) => lines.reduce((a, s) => a + f(s), 0);
  const lastSend = lines.reduce<number | null>((a, s) => (s.lastSendTime !== null && (a === null || s.lastSendTime > a) ? s.lastSendTime : a), null);
  const modelLines = await Promise.all([...p.modelLines.values()].map((l) => modelLineSnapshot(rt, p, l)));
  return {
    provider: p.name,
    mode: rl.mode,
    interval_seconds: pacing ? round(pacing.intervalMs / 1000, 3) : null,
    capacity: pacing ? pacing.capacity : null,
    tokens: status?.pacing ? status.pacing.available : null,
    queued_ahead: sum((s) => s.queued),
    waiting_in_acquire: sum((s) => s.queued + s.claimed),
    in_flight: sum((s) => s.inFlight),
    last_send_time: lastSend !== null ? round(lastSend / 1000, 3) : null,
    next_slot_in_seconds: status?.pacing ? round(status.pacing.nextSlotInMs / 1000, 3) : null,
    models: p.models,
    rpm: rl.rpm ?? null,
    max_concurrent: rl.max_concurrent,
    max_wait_seconds: rl.max_wait_seconds,
    windows: windowsOf(status?.windows ?? []),
    requests: p.counters.requests,
    sent: lines.length ? sum((s) => s.sent) : p.counters.requests,
    queue_timeouts: sum((s) => s.timedOut),
    cancelled: sum((s) => s.cancelled),
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
  const s = l.line?.stats();
  const pacing = mref.policy.pacing;
  return {
    model: l.model ?? "",
    mode: mrl?.mode ?? "spaced",
    interval_seconds: pacing ? round(pacing.intervalMs / 1000, 3) : null,
    capacity: pacing ? pacing.capacity : null,
    tokens: status?.pacing ? status.pacing.available : null,
    queued_ahead: s?.queued ?? 0,
    waiting_in_acquire: (s?.queued ?? 0) + (s?.claimed ?? 0),
    in_flight: s?.inFlight ?? 0,
    last_send_time: s?.lastSendTime != null ? round(s.lastSendTime / 1000, 3) : null,
    next_slot_in_seconds: status?.pacing ? round(status.pacing.nextSlotInMs / 1000, 3) : null,
    rpm: mrl?.rpm ?? null,
    max_concurrent: mrl?.max_concurrent ?? null,
    windows: windowsOf(status?.windows ?? []),
    sent: s?.sent ?? 0,
    queue_timeouts: s?.timedOut ?? 0,
  };
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
