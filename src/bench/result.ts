/**
 * What a bench run produces: plain data (no histograms, no classes), so the
 * report is a pure function of it and tests can write one by hand.
 */
import type { Percentiles } from "./histogram.ts";

export type { Percentiles } from "./histogram.ts";

/** One finished request, as the engine emits it. */
export interface RequestResult {
  /** Gateway base URL the request went to. */
  readonly url: string;
  /** The key's short label ("(none)" without a key). */
  readonly key: string;
  /** HTTP status; 0 when no response came (see `error`). */
  readonly status: number;
  /** Network failure kind (timeout, connection_refused, ...), if any. */
  readonly error?: string;
  /** ms from the intended send time to the last byte of the answer. */
  readonly latencyMs: number;
  /** Streams only: ms from the intended send time to the first SSE data chunk. */
  readonly ttftMs?: number;
  /** ms the request waited to be sent after its intended time (open loop; 0 in closed loop). */
  readonly sendDelayMs: number;
}

/** Counts and latencies of one slice of the run: all of it, one URL, or one key. */
export interface GroupStats {
  /** Answered + failed requests. */
  readonly requests: number;
  /** HTTP status → count. */
  readonly status: Readonly<Record<string, number>>;
  /** Requests with no HTTP answer (network errors, timeouts). */
  readonly errors: number;
  readonly error_kinds: Readonly<Record<string, number>>;
  /** Every HTTP answer, whatever its status; null when there was none. */
  readonly latency: Percentiles | null;
  /** 2xx answers only. */
  readonly latency_ok: Percentiles | null;
  /** Streams only: time to the first SSE data chunk of 2xx answers. */
  readonly ttft: Percentiles | null;
}

/** Whether a key stayed within a request limit the gateway reports for it. */
export interface KeyLimitCheck {
  readonly key: string;
  /** "rpm" or "rpd". */
  readonly dimension: string;
  readonly limit: number;
  /** Most 2xx answers the limit allows over the run (limit × windows the run spans × unshared nodes). */
  readonly allowed: number;
  /** 2xx answers this key got. */
  readonly accepted: number;
  readonly ok: boolean;
}

export interface BenchSettings {
  readonly mode: "closed" | "open";
  /** Closed loop: workers; open loop: most requests in flight. */
  readonly concurrency: number;
  /** Open loop: requests per second; null in closed loop. */
  readonly rate: number | null;
  readonly model: string;
  readonly stream: boolean;
  readonly max_tokens: number | null;
  /** -n, if given. */
  readonly target_requests: number | null;
  /** -d in seconds, if given. */
  readonly target_duration_s: number | null;
}

export interface BenchResult {
  readonly settings: BenchSettings;
  /** Wall time from the first send to the last answer, s. */
  readonly duration_s: number;
  readonly total: GroupStats;
  readonly by_url: Readonly<Record<string, GroupStats>>;
  readonly by_key: Readonly<Record<string, GroupStats>>;
  /** Open loop: requests due but never sent before the run ended. */
  readonly unsent: number;
  /** Requests still waiting for an answer when the run ended (cut off, not counted). */
  readonly unfinished: number;
  /** Filled in after the run from the gateways' /admin/stats; empty when unknown. */
  readonly key_limits: readonly KeyLimitCheck[];
}
