// Snapshot builders for TUI tests: valid StatsSnapshots with only the fields a test cares about set.
import type { GroupSnapshot, KeySnapshot, ModelLineSnapshot, ProviderSnapshot, StatsSnapshot, WindowUsage } from "../../src/stats/snapshot.ts";
import type { NodeState } from "../../src/tui/follow-node.ts";
import type { Sample } from "../../src/tui/history.ts";

/** What a provider's line and a model's own line both show, idle. */
const IDLE_LINE = {
  mode: "spaced",
  capacity: 1,
  tokens: 0,
  queued_ahead: 0,
  waiting_in_acquire: 0,
  in_flight: 0,
  last_send_time: null,
  next_slot_in_seconds: 0,
  rpm: null,
  max_concurrent: null,
  windows: {},
  sent: 0,
  queue_timeouts: 0,
} satisfies Partial<ProviderSnapshot> & Partial<ModelLineSnapshot>;

export function providerSnap(name: string, extra: Partial<ProviderSnapshot> = {}): ProviderSnapshot {
  return {
    ...IDLE_LINE,
    provider: name,
    interval_seconds: 2,
    models: ["gpt-4o-mini"],
    max_wait_seconds: null,
    requests: 0,
    cancelled: 0,
    upstream_429: 0,
    upstream_5xx: 0,
    retries: 0,
    by_status: {},
    model_lines: [],
    learned_rpm: null,
    upstream: { hold_until: null, reason: null, remaining_requests: null, remaining_tokens: null },
    tokens_in: 0,
    tokens_out: 0,
    queue_wait_ms: { le: [100, 1000], counts: [0, 0, 0], sum: 0, count: 0 },
    queue_wait_p50_ms: null,
    queue_wait_p99_ms: null,
    upstream_latency_ms: { le: [100, 1000], counts: [0, 0, 0], sum: 0, count: 0 },
    ...extra,
  };
}

/** A model line of its own (spaced, 6 s apart = 10/m, unless told). */
export function modelLine(model: string, extra: Partial<ModelLineSnapshot> = {}): ModelLineSnapshot {
  return {
    ...IDLE_LINE,
    model,
    interval_seconds: 6,
    ...extra,
  };
}

export function groupSnap(name: string, extra: Partial<GroupSnapshot> = {}): GroupSnapshot {
  return { group: name, windows: {}, requests: 0, rejected: 0, rejected_by: {}, tokens_in: 0, tokens_out: 0, spend_usd: 0, ...extra };
}

/** A wait histogram on the gateway's buckets with `counts` per bucket (not cumulative), and its p50/p99. */
export function waitHist(perBucket: Record<number, number>) {
  const le = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000];
  let acc = 0;
  const counts = [...le.map((b) => (acc += perBucket[b] ?? 0)), acc];
  return { le, counts, sum: 0, count: acc };
}

export function win(used: number, limit: number, reset_seconds = 30): WindowUsage {
  return { limit, used, remaining: Math.max(0, limit - used), reset_seconds };
}

export function keySnap(name: string, extra: Partial<KeySnapshot> = {}): KeySnapshot {
  return { key: name, mode: "reject", windows: {}, requests: 0, rejected: 0, rejected_by: {}, queued: 0, by_status: {}, tokens_in: 0, tokens_out: 0, spend_usd: 0, queue_wait_ms: { le: [100, 1000], counts: [0, 0, 0], sum: 0, count: 0 }, queue_wait_p50_ms: null, queue_wait_p99_ms: null, ...extra };
}

export function snap(extra: Partial<StatsSnapshot> = {}): StatsSnapshot {
  const providers = extra.providers ?? [];
  const sum = (f: (p: ProviderSnapshot) => number) => providers.reduce((a, p) => a + f(p), 0);
  return {
    uptime_seconds: 100,
    time: 1_700_000_000,
    store: { kind: "memory", state: "ok" },
    keys: [],
    groups: [],
    totals: {
      requests: sum((p) => p.requests),
      queued: sum((p) => p.waiting_in_acquire),
      in_flight: sum((p) => p.in_flight),
      sent: sum((p) => p.sent),
      upstream_429: sum((p) => p.upstream_429),
      queue_timeouts: sum((p) => p.queue_timeouts),
    },
    ...extra,
    providers,
  };
}

/** A live node whose history is the given snapshots, one second apart, ending at `end` ms. */
export function liveNode(url: string, snaps: readonly StatsSnapshot[], end = 1_000_000, extra: Partial<NodeState> = {}): NodeState {
  const history: Sample[] = snaps.map((snapshot, i) => ({ at: end - (snaps.length - 1 - i) * 1000, snapshot }));
  return { url, status: "live", transport: "events", error: null, snapshot: snaps[snaps.length - 1] ?? null, history, ...extra };
}

/** Polls `check` until it returns true (or throws the last failure at the deadline). */
export async function eventually(check: () => boolean | void, timeoutMs = 10_000, what = "condition"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      if (check() !== false) return;
      last = new Error(`timed out waiting for ${what}`);
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw last;
    await Bun.sleep(25);
  }
}
