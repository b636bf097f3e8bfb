/**
 * The Store holds all limiter state and makes each decision atomically: the
 * memory store in one synchronous step, the Redis store (later) in one Lua
 * script. Results carry relative times only (delayMs, waitMs, resetMs), so a
 * store may keep its own clock (Redis TIME) without the caller caring.
 *
 * Kept async even in memory so both stores behave alike to their callers.
 */
import type { Cost, Decision, Policy, Ticket, WindowStatus } from "../core/policy.ts";

/** One limiter: where its state lives, and the policy it enforces. */
export interface LimiterRef {
  /** Storage id, unique per limiter, e.g. "prov:openai" or "key:1a2b3c4d". */
  readonly id: string;
  readonly policy: Policy;
  /**
   * Hash-tag group (default: the id). The Redis store keeps limiters that
   * share a tag in one Redis Cluster slot, and one acquire runs as one script
   * on one slot: so on Cluster, all items of one acquire must share a tag —
   * the caller arranges it (a key and its group, a provider and its models).
   * Standalone Redis and the memory store accept any mix.
   */
  readonly tag?: string;
}

export interface AcquireItem {
  readonly ref: LimiterRef;
  readonly cost: Cost;
}

export interface PacingStatus {
  /** Requests that could go at once now (burst tokens left). */
  readonly available: number;
  /** Milliseconds until the next request could go (0 = now). */
  readonly nextSlotInMs: number;
}

export interface LimiterStatus {
  readonly windows: readonly WindowStatus[];
  readonly pacing: PacingStatus | null;
}

/** A cap on requests in flight on a limiter, across every node sharing the store. */
export interface LeaseCap {
  readonly ref: LimiterRef;
  readonly max: number;
}

export interface StoreHealth {
  readonly kind: string;
  readonly state: "ok" | "degraded" | "down";
  readonly detail?: string;
}

export interface Store {
  /** All-or-nothing over the items; `horizonMs`: how far ahead a pacing slot may be claimed. */
  acquire(items: readonly AcquireItem[], horizonMs: number): Promise<Decision>;
  /**
   * Optional synchronous acquire (in-process stores only): lets an empty line
   * admit a request without a queue entry or a promise round.
   */
  acquireNow?(items: readonly AcquireItem[], horizonMs: number): Decision;
  /**
   * Admits nothing on this limiter for `forMs` from now (store time): the
   * upstream said it is exhausted. Shared by every node using the store.
   */
  hold?(ref: LimiterRef, forMs: number): Promise<void>;
  /** Corrects a charge by actual − reserved (per dimension). */
  settle(ref: LimiterRef, ticket: Ticket, delta: Cost): Promise<void>;
  /** Undoes a charge whose request was never sent (refund + pacing slot back). */
  giveBack(ref: LimiterRef, ticket: Ticket, cost: Cost): Promise<void>;
  /** Wait estimate for `cost` behind `ahead` (summed cost of `aheadCount` waiting requests). */
  estimateWait(ref: LimiterRef, ahead: Cost, aheadCount: number, cost: Cost): Promise<number>;
  status(ref: LimiterRef): Promise<LimiterStatus>;
  /**
   * Shared stores only (Redis): concurrency leases, so that `max_concurrent`
   * holds across nodes. `takeLease` takes one slot under every cap for
   * `ttlMs`, or none: 0 when taken, else ms after which to ask again at the
   * latest. A lease lives until dropped or until its time to live passes
   * without a renewal (a crashed node's leases expire). An in-process store
   * has none: its node's own count is the whole count.
   */
  takeLease?(caps: readonly LeaseCap[], id: string, ttlMs: number): Promise<number>;
  renewLeases?(caps: readonly LeaseCap[], ids: readonly string[], ttlMs: number): Promise<void>;
  dropLease?(caps: readonly LeaseCap[], id: string): Promise<void>;
  health(): StoreHealth;
  close(): Promise<void>;
}
