/**
 * The shared store: limiter state in Redis, every Store method one Lua
 * script call (one round trip, atomic) over the layout in lua/layout.ts. The
 * scripts are the Lua twins of src/core, so a decision here equals the
 * memory store's given the same times.
 *
 * Acquires share script calls: a batch, decided one after another inside one
 * atomic script, each limiter read and written once. At most MAX_IN_FLIGHT
 * batches per group are out at a time; acquires made meanwhile wait for a
 * reply and then leave together as the next batch (no timer: alone, an
 * acquire goes at once; under load, batches grow with the load). That is
 * what makes tens of thousands of decisions a second from one process
 * possible: per decision the client and Redis pay a few table reads, not a
 * command and a script run each. On Cluster a batch holds only acquires of
 * one tag (one slot), and each tag has its own batches in flight.
 *
 * Time comes from Redis TIME (one clock for all gateway nodes) unless a
 * `clock` is given: then its time, read when the call is sent, goes as now_ms
 * (deterministic tests). Scripts run as EVALSHA with an EVAL fallback on
 * NOSCRIPT (lua/script.ts). Every call is bounded by `timeoutMs`.
 */
import type { Cluster } from "ioredis";
import type { Clock } from "../clock.ts";
import { ZERO_COST, type Cost, type Decision, type Policy, type Ticket } from "../core/policy.ts";
import { ACQUIRE } from "./lua/acquire.ts";
import { ESTIMATE_WAIT } from "./lua/estimate-wait.ts";
import { HOLD } from "./lua/hold.ts";
import { LEASE_DROP, LEASE_RENEW, LEASE_TAKE } from "./lua/lease.ts";
import { arg, costArgs, leaseKey, limiterKey, num, policyArgs, tagOf } from "./lua/layout.ts";
import { LuaScript } from "./lua/script.ts";
import { SETTLE } from "./lua/settle.ts";
import { STATUS } from "./lua/status.ts";
import type { RedisClient } from "./redis-client.ts";
import { Cursor, decodeDecision } from "./redis-reply.ts";
import type { AcquireItem, LeaseCap, LimiterRef, LimiterStatus, Store, StoreHealth } from "./store.ts";

/** A Redis call that took longer than the store's timeout. */
export class StoreTimeoutError extends Error {
  constructor(ms: number) {
    super(`Redis did not answer within ${ms} ms`);
    this.name = "StoreTimeoutError";
  }
}

/** A use of the store that cannot work (not an outage): e.g. one acquire over several Cluster slots. */
export class StoreUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StoreUsageError";
  }
}

export interface RedisStoreOptions {
  /** Prefix of every key (config store.prefix). */
  readonly prefix: string;
  /** Milliseconds per call before it fails (config store.timeout_ms). */
  readonly timeoutMs: number;
  /** Tests: send this clock's time as now_ms instead of reading Redis TIME. */
  readonly clock?: Clock;
}

/** A timer this late (ms) was held up by this process, not by Redis. */
const LATE_MS = 20;

/** Most acquires in one script call. */
const MAX_BATCH = 128;

/**
 * Batches of one group out at once. Two keep Redis busy while a reply travels
 * back and the next batch fills; more would only split the batches.
 */
const MAX_IN_FLIGHT = 2;

const SCRIPTS = {
  acquire: new LuaScript(ACQUIRE),
  hold: new LuaScript(HOLD),
  settle: new LuaScript(SETTLE),
  estimateWait: new LuaScript(ESTIMATE_WAIT),
  status: new LuaScript(STATUS),
  leaseTake: new LuaScript(LEASE_TAKE),
  leaseRenew: new LuaScript(LEASE_RENEW),
  leaseDrop: new LuaScript(LEASE_DROP),
};

type Reply = unknown;

interface Pending {
  readonly items: readonly AcquireItem[];
  readonly horizonMs: number;
  /** performance.now() when asked: the call's time bound counts from here, waiting for a batch included. */
  readonly at: number;
  readonly resolve: (d: Decision) => void;
  readonly reject: (e: unknown) => void;
}

export class RedisStore implements Store {
  readonly kind: "redis" | "redis-cluster";
  private readonly keys = new WeakMap<LimiterRef, string>();
  /** Acquires waiting for a batch, by group ("" on standalone, the tag on Cluster). */
  private readonly pending = new Map<string, Pending[]>();
  /** Batches out per group. */
  private readonly inFlight = new Map<string, number>();
  private flushQueued = false;
  private readyWait: Promise<void> | null = null;

  constructor(
    readonly client: RedisClient,
    private readonly opts: RedisStoreOptions,
  ) {
    this.kind = client.isCluster ? "redis-cluster" : "redis";
  }

  acquire(items: readonly AcquireItem[], horizonMs: number): Promise<Decision> {
    if (items.length === 0) return Promise.resolve({ allowed: true, delayMs: 0, tickets: [], status: [] });
    const cluster = this.kind === "redis-cluster";
    return new Promise<Decision>((resolve, reject) => {
      if (cluster) sameTag(items); // throws: rejects
      const group = cluster ? tagOf(items[0]!.ref) : "";
      let batch = this.pending.get(group);
      if (batch === undefined) {
        batch = [];
        this.pending.set(group, batch);
      }
      batch.push({ items, horizonMs, at: performance.now(), resolve, reject });
      if (!this.flushQueued) {
        this.flushQueued = true;
        queueMicrotask(this.flush);
      }
    });
  }

  /** Sends what waits, as far as each group's batches in flight allow. */
  private readonly flush = (): void => {
    this.flushQueued = false;
    for (const [group, waiting] of this.pending) {
      let out = this.inFlight.get(group) ?? 0;
      while (waiting.length > 0 && out < MAX_IN_FLIGHT) {
        out++;
        this.sendAcquires(group, waiting.length <= MAX_BATCH ? waiting.splice(0) : waiting.splice(0, MAX_BATCH));
      }
      this.inFlight.set(group, out);
      if (waiting.length === 0) this.pending.delete(group);
    }
  };

  /** A batch of group came back: its place goes to what waits. */
  private landed(group: string): void {
    const out = (this.inFlight.get(group) ?? 1) - 1;
    if (out === 0) this.inFlight.delete(group);
    else this.inFlight.set(group, out);
    if (this.pending.has(group) && !this.flushQueued) {
      this.flushQueued = true;
      queueMicrotask(this.flush);
    }
  }

  /**
   * Sends a batch, split where a limiter comes back with another policy (a
   * config reload between two acquires): a script keeps one state per key,
   * read under the first policy it meets.
   */
  private sendAcquires(group: string, batch: readonly Pending[]): void {
    const parts: (readonly Pending[])[] = [];
    const seen = new Map<string, Policy>();
    let from = 0;
    batch.forEach((p, i) => {
      const clash = p.items.some((it) => {
        const had = seen.get(this.key(it.ref));
        return had !== undefined && had !== it.ref.policy;
      });
      if (clash) {
        parts.push(batch.slice(from, i));
        seen.clear();
        from = i;
      }
      for (const it of p.items) if (!seen.has(this.key(it.ref))) seen.set(this.key(it.ref), it.ref.policy);
    });
    parts.push(from === 0 ? batch : batch.slice(from));
    let left = parts.length;
    const done = () => {
      if (--left === 0) this.landed(group);
    };
    for (const part of parts) this.sendBatch(part, done);
  }

  /** One script call for a batch of acquires (lua/acquire.ts). */
  private sendBatch(batch: readonly Pending[], done: () => void): void {
    const policies = new Map<Policy, number>();
    const policyBlocks: string[] = [];
    const keys: string[] = [];
    const decisions: string[] = [String(batch.length)];
    for (const p of batch) {
      decisions.push(arg(p.horizonMs), String(p.items.length));
      for (const it of p.items) {
        const policy = it.ref.policy;
        let n = policies.get(policy);
        if (n === undefined) {
          n = policies.size + 1;
          policies.set(policy, n);
          for (const a of policyArgs(policy)) policyBlocks.push(a);
        }
        keys.push(this.key(it.ref));
        decisions.push(String(n), ...costArgs(it.cost));
      }
    }
    const args = [this.now(), String(policies.size), ...policyBlocks, ...decisions];
    this.call(() => SCRIPTS.acquire.run(this.client, keys, args), batch[0]!.at).then(
      (reply) => {
        done();
        const c = new Cursor(reply as Reply[]);
        let decisions: Decision[];
        try {
          decisions = batch.map((p) => decodeDecision(p.items, c));
        } catch (e) {
          for (const p of batch) p.reject(e);
          return;
        }
        batch.forEach((p, i) => p.resolve(decisions[i]!));
      },
      (e: unknown) => {
        done();
        for (const p of batch) p.reject(e);
      },
    );
  }

  async hold(ref: LimiterRef, forMs: number): Promise<void> {
    const args = [this.now(), arg(forMs), ...policyArgs(ref.policy)];
    await this.call(() => SCRIPTS.hold.run(this.client, [this.key(ref)], args));
  }

  async settle(ref: LimiterRef, ticket: Ticket, delta: Cost): Promise<void> {
    await this.adjust(ref, ticket, delta, false);
  }

  async giveBack(ref: LimiterRef, ticket: Ticket, cost: Cost): Promise<void> {
    const neg: Cost = { requests: -cost.requests, input_tokens: -cost.input_tokens, output_tokens: -cost.output_tokens };
    await this.adjust(ref, ticket, neg, ticket.paced);
  }

  private async adjust(ref: LimiterRef, ticket: Ticket, delta: Cost, giveBackSlot: boolean): Promise<void> {
    const args = [
      this.now(),
      giveBackSlot ? "1" : "0",
      ...costArgs(delta),
      String(ticket.segments.length),
      ...ticket.segments.map(arg),
      ...policyArgs(ref.policy),
    ];
    await this.call(() => SCRIPTS.settle.run(this.client, [this.key(ref)], args));
  }

  async estimateWait(ref: LimiterRef, ahead: Cost, aheadCount: number, cost: Cost): Promise<number> {
    const args = [this.now(), ...costArgs(ahead), arg(aheadCount), ...costArgs(cost), ...policyArgs(ref.policy)];
    return num(await this.call(() => SCRIPTS.estimateWait.run(this.client, [this.key(ref)], args)));
  }

  async status(ref: LimiterRef): Promise<LimiterStatus> {
    const args = [this.now(), ...policyArgs(ref.policy)];
    const reply = (await this.call(() => SCRIPTS.status.run(this.client, [this.key(ref)], args))) as Reply[];
    return {
      windows: new Cursor(reply.slice(2)).status(ref.policy),
      pacing: reply[0] === "" ? null : { available: num(reply[0]), nextSlotInMs: num(reply[1]) },
    };
  }

  async takeLease(caps: readonly LeaseCap[], id: string, ttlMs: number): Promise<number> {
    const keys = this.leaseKeys(caps);
    return num(await this.call(() => SCRIPTS.leaseTake.run(this.client, keys, [this.now(), arg(ttlMs), id, ...caps.map((c) => arg(c.max))])));
  }

  async renewLeases(caps: readonly LeaseCap[], ids: readonly string[], ttlMs: number): Promise<void> {
    if (ids.length === 0) return;
    const keys = this.leaseKeys(caps);
    await this.call(() => SCRIPTS.leaseRenew.run(this.client, keys, [this.now(), arg(ttlMs), ...ids]));
  }

  async dropLease(caps: readonly LeaseCap[], id: string): Promise<void> {
    const keys = this.leaseKeys(caps);
    await this.call(() => SCRIPTS.leaseDrop.run(this.client, keys, [id]));
  }

  /** `{<prefix>:<tag>}:lease:<id>` per cap; on Cluster all caps of one call must share a tag. */
  private leaseKeys(caps: readonly LeaseCap[]): string[] {
    if (this.kind === "redis-cluster") sameTag(caps.map((c) => ({ ref: c.ref, cost: ZERO_COST })));
    return caps.map((c) => leaseKey(this.opts.prefix, c.ref));
  }

  /** PING (every master on Cluster), bounded by the timeout: the failover store's probe. */
  async ping(): Promise<void> {
    const c = this.client;
    await this.call(() =>
      isCluster(c) ? Promise.all(c.nodes("master").map((n) => n.ping())).then(() => undefined) : c.ping(),
    );
  }

  health(): StoreHealth {
    return { kind: this.kind, state: this.client.status === "ready" ? "ok" : "down" };
  }

  async close(): Promise<void> {
    this.client.disconnect();
  }

  /** now_ms for a script: the test clock, or -1 (use Redis TIME). */
  private now(): string {
    return this.opts.clock ? arg(this.opts.clock.now()) : "-1";
  }

  private key(ref: LimiterRef): string {
    let k = this.keys.get(ref);
    if (k === undefined) {
      k = limiterKey(this.opts.prefix, ref);
      this.keys.set(ref, k);
    }
    return k;
  }

  /**
   * Runs one command within the timeout counted from `start` (default now),
   * first waiting (within it) for a connection still being set up.
   */
  private call<T>(send: () => Promise<T>, start = performance.now()): Promise<T> {
    const ms = this.opts.timeoutMs;
    return new Promise<T>((resolve, reject) => {
      let graced = false;
      const expire = () => {
        // A timer that fires late means this process was busy (a long synchronous
        // step), not that Redis was slow: the answer may be waiting unread. Give
        // I/O a moment once before calling it a failure.
        if (!graced && performance.now() - start > ms + LATE_MS) {
          graced = true;
          timer = setTimeout(expire, LATE_MS);
          return;
        }
        reject(new StoreTimeoutError(ms));
      };
      let timer = setTimeout(expire, Math.max(1, start + ms - performance.now()));
      const ok = (v: T) => {
        clearTimeout(timer);
        resolve(v);
      };
      const fail = (e: unknown) => {
        clearTimeout(timer);
        reject(e);
      };
      const ready = this.whenReady();
      if (ready === null) send().then(ok, fail);
      else ready.then(() => send().then(ok, fail), fail);
    });
  }

  /** null when ready; a promise while connecting; a rejection when the connection is down. */
  private whenReady(): Promise<void> | null {
    const c = this.client;
    const s = c.status;
    if (s === "ready") return null;
    if (s !== "wait" && s !== "connecting" && s !== "connect") {
      return Promise.reject(new Error(`Redis connection is ${s}`));
    }
    this.readyWait ??= new Promise<void>((resolve, reject) => {
      const done = (e?: Error) => {
        c.off("ready", onReady);
        c.off("close", onClose);
        this.readyWait = null;
        if (e) reject(e);
        else resolve();
      };
      const onReady = () => done();
      const onClose = () => done(new Error("Redis connection closed while connecting"));
      c.on("ready", onReady);
      c.on("close", onClose);
    });
    return this.readyWait;
  }
}

function isCluster(c: RedisClient): c is Cluster {
  return c.isCluster;
}

function sameTag(items: readonly AcquireItem[]): void {
  const tag = tagOf(items[0]!.ref);
  const other = items.find((it) => tagOf(it.ref) !== tag);
  if (other) {
    throw new StoreUsageError(
      `one acquire on Redis Cluster must keep its limiters in one slot, but '${items[0]!.ref.id}' has tag '${tag}' ` +
        `and '${other.ref.id}' has tag '${tagOf(other.ref)}': give the limiters of one acquire the same LimiterRef.tag`,
    );
  }
}
