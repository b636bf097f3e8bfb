/**
 * Redis with a rule for when it is gone (config store.on_failure):
 *
 * - "local": the first failed or timed-out call switches every limiter to the
 *   in-process store (health "degraded": each node now enforces the full
 *   limits on its own); a PING every second finds Redis again and switches
 *   back. Each switch is logged once.
 * - "reject": while Redis is down every call fails with 503 store_unavailable
 *   (health "down"); the same probe ends it.
 *
 * Start-up with Redis down follows the same rule: an immediate probe at
 * construction, bounded by the call timeout like every call.
 *
 * A ticket is settled or given back in the store that issued it: a charge
 * made in memory during an outage is refunded in memory after Redis is back.
 * A Redis ticket whose settle comes while Redis is down is dropped (local)
 * or rejected (reject): that correction cannot be made anywhere.
 */
import type { Clock } from "../clock.ts";
import type { Cost, Decision, Ticket } from "../core/policy.ts";
import { errors } from "../errors.ts";
import { log } from "../log.ts";
import type { MemoryStore } from "./memory-store.ts";
import { StoreUsageError, type RedisStore } from "./redis-store.ts";
import type { AcquireItem, LeaseCap, LimiterRef, LimiterStatus, Store, StoreHealth } from "./store.ts";

export interface FailoverOptions {
  readonly onFailure: "local" | "reject";
  /** Where Redis is, already masked (maskUrl): for logs and health. */
  readonly where: string;
  /** Passwords to scrub from error messages before they are logged. */
  readonly secrets?: readonly string[];
  readonly clock: Clock;
  /** Milliseconds between probes while Redis is down (default 1000). */
  readonly probeMs?: number;
  /** How long calls at start-up wait for the first connection before the on_failure rule applies (default 2000). */
  readonly connectMs?: number;
}

export class FailoverStore implements Store {
  private up = true;
  private downSince = 0;
  private reason = "";
  private probe: ReturnType<typeof setInterval> | null = null;
  private probing = false;
  private closed = false;
  /** Tickets the in-process store issued (during an outage); every other ticket is Redis's. */
  private readonly issuedLocally = new WeakSet<Ticket>();

  constructor(
    private readonly redis: RedisStore,
    private readonly local: MemoryStore,
    private readonly opts: FailoverOptions,
  ) {
    // A connection still being set up is not an outage: calls at start-up wait for it
    // (bounded), so nodes that start together do not each begin on a private budget.
    this.connecting = this.firstConnection(opts.connectMs ?? 2000);
  }

  private connecting: Promise<void> | null;

  private async firstConnection(withinMs: number): Promise<void> {
    const deadline = this.opts.clock.now() + withinMs;
    let last: unknown = null;
    while (!this.closed) {
      try {
        await this.redis.ping();
        this.connecting = null;
        return;
      } catch (e) {
        last = e;
      }
      if (this.opts.clock.now() >= deadline) break;
      await Bun.sleep(25);
    }
    this.connecting = null;
    if (!this.closed) this.failed(last ?? new Error("no connection"));
  }

  acquire(items: readonly AcquireItem[], horizonMs: number): Promise<Decision> {
    return this.use((s) => (s === this.local ? s.acquire(items, horizonMs).then((d) => this.markLocal(d)) : s.acquire(items, horizonMs)));
  }

  private markLocal(d: Decision): Decision {
    if (d.allowed) for (const t of d.tickets) this.issuedLocally.add(t);
    return d;
  }

  hold(ref: LimiterRef, forMs: number): Promise<void> {
    return this.use(async (s) => s.hold?.(ref, forMs));
  }

  settle(ref: LimiterRef, ticket: Ticket, delta: Cost): Promise<void> {
    return this.toIssuer(ticket, (s) => s.settle(ref, ticket, delta));
  }

  giveBack(ref: LimiterRef, ticket: Ticket, cost: Cost): Promise<void> {
    return this.toIssuer(ticket, (s) => s.giveBack(ref, ticket, cost));
  }

  estimateWait(ref: LimiterRef, ahead: Cost, aheadCount: number, cost: Cost): Promise<number> {
    return this.use((s) => s.estimateWait(ref, ahead, aheadCount, cost));
  }

  status(ref: LimiterRef): Promise<LimiterStatus> {
    return this.use((s) => s.status(ref));
  }

  // Leases: Redis's while it answers; while it is down (local) the node's own count is
  // the whole count, so every lease is granted; with reject, 503 as for any decision.
  takeLease(caps: readonly LeaseCap[], id: string, ttlMs: number): Promise<number> {
    return this.use((s) => s.takeLease?.(caps, id, ttlMs) ?? Promise.resolve(0));
  }

  async renewLeases(caps: readonly LeaseCap[], ids: readonly string[], ttlMs: number): Promise<void> {
    if (this.up && this.connecting === null) await this.redis.renewLeases(caps, ids, ttlMs);
  }

  async dropLease(caps: readonly LeaseCap[], id: string): Promise<void> {
    if (this.up && this.connecting === null) await this.redis.dropLease(caps, id);
  }

  health(): StoreHealth {
    const kind = this.redis.kind;
    if (this.up) return { kind, state: "ok", detail: this.opts.where };
    const since = `Redis (${this.opts.where}) unreachable since ${new Date(this.downSince).toISOString()}: ${this.reason}`;
    return this.opts.onFailure === "local"
      ? { kind, state: "degraded", detail: `${since}; per-node limits are in force (in-process store), each node admits the full limits on its own` }
      : { kind, state: "down", detail: `${since}; requests are rejected with 503 (store.on_failure: reject)` };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.stopProbe();
    await this.redis.close();
    await this.local.close();
  }

  /**
   * Redis while it answers; on an outage the local store or a 503, per on_failure.
   * Redis up and connected (the common case): straight to it, no async layer.
   */
  private use<T>(op: (s: Store) => Promise<T>): Promise<T> {
    if (this.up && this.connecting === null) return op(this.redis).catch((e: unknown) => this.afterFailure(e, op));
    return this.useWhenUnsure(op);
  }

  private async useWhenUnsure<T>(op: (s: Store) => Promise<T>): Promise<T> {
    if (this.connecting) await this.connecting;
    if (this.up) {
      try {
        return await op(this.redis);
      } catch (e) {
        return this.afterFailure(e, op);
      }
    }
    return this.fallback(op);
  }

  private afterFailure<T>(e: unknown, op: (s: Store) => Promise<T>): Promise<T> {
    if (e instanceof StoreUsageError) throw e;
    this.failed(e);
    return this.fallback(op);
  }

  private fallback<T>(op: (s: Store) => Promise<T>): Promise<T> {
    if (this.opts.onFailure === "reject") throw errors.storeUnavailable();
    return op(this.local);
  }

  private async toIssuer(ticket: Ticket, op: (s: Store) => Promise<void>): Promise<void> {
    if (this.issuedLocally.has(ticket)) return op(this.local);
    if (this.up) {
      try {
        return await op(this.redis);
      } catch (e) {
        if (e instanceof StoreUsageError) throw e;
        this.failed(e);
      }
    }
    // A Redis charge that cannot be corrected while Redis is down.
    if (this.opts.onFailure === "reject") throw errors.storeUnavailable();
    log.debug("store: a settle for a Redis charge was dropped while Redis is down");
  }

  private failed(e: unknown): void {
    if (!this.up || this.closed) return;
    this.up = false;
    this.downSince = this.opts.clock.now();
    this.reason = this.scrub(e instanceof Error ? e.message : String(e));
    log.warn(
      this.opts.onFailure === "local"
        ? `store: Redis (${this.opts.where}) failed: ${this.reason}. Switching to the in-process store: per-node limits are in force until Redis answers again.`
        : `store: Redis (${this.opts.where}) failed: ${this.reason}. Rejecting requests with 503 until Redis answers again (store.on_failure: reject).`,
    );
    this.startProbe();
  }

  private startProbe(): void {
    if (this.probe) return;
    this.probe = setInterval(() => void this.tryRedis(), this.opts.probeMs ?? 1000);
    this.probe.unref?.();
  }

  private stopProbe(): void {
    if (this.probe) clearInterval(this.probe);
    this.probe = null;
  }

  private async tryRedis(): Promise<void> {
    if (this.probing || this.up || this.closed) return;
    this.probing = true;
    try {
      await this.redis.ping();
      if (this.closed) return;
      this.up = true;
      this.stopProbe();
      log.info(`store: Redis (${this.opts.where}) answers again; shared limits are back in force.`);
    } catch {
      // still down: the next probe tries again
    } finally {
      this.probing = false;
    }
  }

  private scrub(message: string): string {
    let m = message;
    for (const s of this.opts.secrets ?? []) if (s !== "") m = m.split(s).join("***");
    return m;
  }
}
