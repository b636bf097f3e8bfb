import type { HistogramSnapshot } from "./histogram.ts";

/**
 * The one stats snapshot type, shared by /admin/stats, /admin/events, the
 * TUI and /metrics. Field names of the providers/keys entries are a contract
 * (DESIGN.md): add fields, never rename.
 */
export interface WindowUsage {
  readonly limit: number;
  readonly used: number;
  readonly remaining: number;
  readonly reset_seconds: number;
}

/** What every waiting line reports: a provider's, or a model's under it. */
export interface LineSnapshot {
  readonly mode: string;
  /** Seconds between paced requests (null: not paced). */
  readonly interval_seconds: number | null;
  /** Burst capacity (1 for spaced; null: not paced). */
  readonly capacity: number | null;
  /** Requests that could go at once right now. */
  readonly tokens: number | null;
  /** Requests waiting in line, not yet given a slot. */
  readonly queued_ahead: number;
  /** Everything waiting to be sent: in line plus slots claimed but not yet due. */
  readonly waiting_in_acquire: number;
  readonly in_flight: number;
  /** Epoch seconds of the last request released to the upstream, or null. */
  readonly last_send_time: number | null;
  readonly next_slot_in_seconds: number | null;
  readonly rpm: number | null;
  readonly max_concurrent: number | null;
  readonly windows: Readonly<Record<string, WindowUsage>>;
  readonly sent: number;
  readonly queue_timeouts: number;
}

/** A model with limits of its own: its line, under its provider. */
export interface ModelLineSnapshot extends LineSnapshot {
  readonly model: string;
}

export interface ProviderSnapshot extends LineSnapshot {
  readonly provider: string;
  readonly models: readonly string[];
  readonly max_wait_seconds: number | null;
  readonly requests: number;
  readonly cancelled: number;
  readonly upstream_429: number;
  readonly upstream_5xx: number;
  readonly retries: number;
  readonly by_status: Readonly<Record<string, number>>;
  /** Tokens really used (settled), since start. */
  readonly tokens_in: number;
  readonly tokens_out: number;
  /** Time spent waiting in line before being sent, ms. */
  readonly queue_wait_ms: HistogramSnapshot;
  /** Quantiles of queue_wait_ms (bucket upper bounds), null before any request. */
  readonly queue_wait_p50_ms: number | null;
  readonly queue_wait_p99_ms: number | null;
  /** Upstream time to response headers, ms. */
  readonly upstream_latency_ms: HistogramSnapshot;
  /** mode adaptive: the rate learned so far, rpm (null in other modes). */
  readonly learned_rpm: number | null;
  /** What the provider itself last said about its limits (rate-limit headers). */
  readonly upstream: {
    /** Epoch seconds until which its line holds because it said it is exhausted; null: no hold. */
    readonly hold_until: number | null;
    readonly reason: string | null;
    readonly remaining_requests: number | null;
    readonly remaining_tokens: number | null;
  };
  /** Lines of models with limits of their own (their numbers are included in the provider's). */
  readonly model_lines: readonly ModelLineSnapshot[];
}

export interface KeySnapshot {
  /** The key's configured name, or "key:" + a short hash. Never the key. */
  readonly key: string;
  readonly mode: string;
  readonly windows: Readonly<Record<string, WindowUsage>>;
  readonly requests: number;
  readonly rejected: number;
  readonly rejected_by: Readonly<Record<string, number>>;
  /** Waiting in the key's own line (queue mode). */
  readonly queued: number;
  readonly by_status: Readonly<Record<string, number>>;
  readonly tokens_in: number;
  readonly tokens_out: number;
  /** USD spent (settled, priced per model) since start. */
  readonly spend_usd: number;
  /** Time this key's requests waited in provider lines, ms. */
  readonly queue_wait_ms: HistogramSnapshot;
  readonly queue_wait_p50_ms: number | null;
  readonly queue_wait_p99_ms: number | null;
}

/** A group of keys (a team): usage of the limits they share. */
export interface GroupSnapshot {
  readonly group: string;
  readonly windows: Readonly<Record<string, WindowUsage>>;
  readonly requests: number;
  readonly rejected: number;
  readonly rejected_by: Readonly<Record<string, number>>;
  readonly tokens_in: number;
  readonly tokens_out: number;
  readonly spend_usd: number;
}

export interface StoreSnapshot {
  readonly kind: string;
  readonly state: string;
  readonly detail?: string;
}

export interface Totals {
  readonly requests: number;
  readonly queued: number;
  readonly in_flight: number;
  readonly sent: number;
  readonly upstream_429: number;
  readonly queue_timeouts: number;
}

export interface StatsSnapshot {
  readonly uptime_seconds: number;
  readonly time: number;
  readonly store: StoreSnapshot;
  readonly providers: readonly ProviderSnapshot[];
  readonly keys: readonly KeySnapshot[];
  readonly groups: readonly GroupSnapshot[];
  readonly totals: Totals;
}
