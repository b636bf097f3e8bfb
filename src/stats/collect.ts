/** Builds a StatsSnapshot from a running gateway. Reads state only; changes nothing. */
import type { WindowStatus } from "../core/policy.ts";
import type { ProviderRuntime, Runtime } from "../gateway/runtime.ts";
import type { KeyRuntime } from "../gateway/keys.ts";
import type { KeySnapshot, ProviderSnapshot, StatsSnapshot, WindowUsage } from "./snapshot.ts";

export async function collectSnapshot(rt: Runtime): Promise<StatsSnapshot> {
  const now = rt.clock.now();
  const providers = await Promise.all(rt.providers.map((p) => providerSnapshot(rt, p)));
  const keys = await Promise.all(rt.keys.all.map((k) => keySnapshot(rt, k)));
  const sum = (f: (p: ProviderSnapshot) => number) => providers.reduce((a, p) => a + f(p), 0);
  return {
    uptime_seconds: round((now - rt.startedAt) / 1000, 3),
    time: round(Date.now() / 1000, 3),
    store: rt.store.health(),
    providers,
    keys,
    totals: {
      requests: sum((p) => p.requests),
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
  const pacing = p.policy.pacing;
  const status = p.line ? await rt.store.status(p.ref).catch(() => null) : null;
  const line = p.line?.stats();
  return {
    provider: p.name,
    mode: rl.mode,
    interval_seconds: pacing ? round(pacing.intervalMs / 1000, 3) : null,
    capacity: pacing ? pacing.capacity : null,
    tokens: status?.pacing ? status.pacing.available : null,
    queued_ahead: line?.queued ?? 0,
    waiting_in_acquire: (line?.queued ?? 0) + (line?.claimed ?? 0),
    in_flight: line?.inFlight ?? 0,
    last_send_time: line?.lastSendTime != null ? round(line.lastSendTime / 1000, 3) : null,
    next_slot_in_seconds: status?.pacing ? round(status.pacing.nextSlotInMs / 1000, 3) : null,
    models: p.models,
    rpm: rl.rpm ?? null,
    max_concurrent: rl.max_concurrent,
    max_wait_seconds: rl.max_wait_seconds,
    windows: windowsOf(status?.windows ?? []),
    requests: p.counters.requests,
    sent: line?.sent ?? p.counters.requests,
    queue_timeouts: line?.timedOut ?? 0,
    cancelled: line?.cancelled ?? 0,
    upstream_429: p.counters.upstream429,
    upstream_5xx: p.counters.upstream5xx,
    retries: p.counters.retries,
    by_status: { ...p.counters.byStatus },
    tokens_in: p.counters.tokensIn,
    tokens_out: p.counters.tokensOut,
    queue_wait_ms: p.counters.queueWait.snapshot(),
    upstream_latency_ms: p.counters.upstreamLatency.snapshot(),
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
  };
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
