/**
 * The shared store: limiter state in Redis, every Store method one Lua
 * script (one round trip, atomic) over the layout in lua/layout.ts. The
 * scripts are the Lua twins of src/core, so a decision here equals the
 * memory store's given the same times.
 *
 * Time comes from Redis TIME (one clock for all gateway nodes) unless a
 * `clock` is given: then its time is sent as now_ms (deterministic tests).
 *
 * Scripts run as EVALSHA through ioredis `defineCommand`, which falls back to
 * EVAL on NOSCRIPT: they survive SCRIPT FLUSH and a Redis restart. Every call
 * is bounded by `timeoutMs`; it rejects with StoreTimeoutError rather than wait.
 */
import type { Cluster } from "ioredis";
import type { Clock } from "../clock.ts";
import type { Cost, Decision, Policy, Ticket, WindowStatus } from "../core/policy.ts";
import { ACQUIRE } from "./lua/acquire.ts";
import { ESTIMATE_WAIT } from "./lua/estimate-wait.ts";
import { arg, costArgs, limiterKey, num, policyArgs, tagOf } from "./lua/layout.ts";
import { SETTLE } from "./lua/settle.ts";
import { STATUS } from "./lua/status.ts";
import type { RedisClient } from "./redis-client.ts";
import type { AcquireItem, LimiterRef, LimiterStatus, Store, StoreHealth } from "./store.ts";

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

type Reply = unknown;
type ScriptFn = (numKeys: number, ...args: string[]) => Promise<Reply>;

const SCRIPTS = { lrAcquire: ACQUIRE, lrSettle: SETTLE, lrEstimateWait: ESTIMATE_WAIT, lrStatus: STATUS } as const;

export class RedisStore implements Store {
  readonly kind: "redis" | "redis-cluster";
  private readonly script: Record<keyof typeof SCRIPTS, ScriptFn>;
  private readonly keys = new WeakMap<LimiterRef, string>();
  private readyWait: Promise<void> | null = null;

  constructor(
    readonly client: RedisClient,
    private readonly opts: RedisStoreOptions,
  ) {
    this.kind = isCluster(client) ? "redis-cluster" : "redis";
    const fns = {} as Record<keyof typeof SCRIPTS, ScriptFn>;
    for (const [name, lua] of Object.entries(SCRIPTS) as [keyof typeof SCRIPTS, string][]) {
      client.defineCommand(name, { lua });
      const fn = (client as unknown as Record<string, ScriptFn>)[name]!;
      fns[name] = fn.bind(client);
    }
    this.script = fns;
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

  async acquire(items: readonly AcquireItem[], horizonMs: number): Promise<Decision> {
    if (items.length === 0) return { allowed: true, delayMs: 0, tickets: [], status: [] };
    if (this.kind === "redis-cluster") sameTag(items);
    const keys = items.map((it) => this.key(it.ref));
    const args: string[] = [this.now(), arg(horizonMs)];
    for (const it of items) args.push(...costArgs(it.cost), ...policyArgs(it.ref.policy));
    const reply = (await this.call(() => this.script.lrAcquire(keys.length, ...keys, ...args))) as [number, string, Reply[][]];
    return decodeDecision(items, reply);
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
    await this.call(() => this.script.lrSettle(1, this.key(ref), ...args));
  }

  async estimateWait(ref: LimiterRef, ahead: Cost, aheadCount: number, cost: Cost): Promise<number> {
    const args = [this.now(), ...costArgs(ahead), arg(aheadCount), ...costArgs(cost), ...policyArgs(ref.policy)];
    return num(await this.call(() => this.script.lrEstimateWait(1, this.key(ref), ...args)));
  }

  async status(ref: LimiterRef): Promise<LimiterStatus> {
    const reply = (await this.call(() =>
      this.script.lrStatus(1, this.key(ref), this.now(), ...policyArgs(ref.policy)),
    )) as [Reply[], string, string];
    return {
      windows: decodeStatus(ref.policy, reply[0]),
      pacing: reply[1] === "" ? null : { available: num(reply[1]), nextSlotInMs: num(reply[2]) },
    };
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

  /** Runs one command within the timeout, first waiting (within it) for a connection still being set up. */
  private call<T>(send: () => Promise<T>): Promise<T> {
    const ms = this.opts.timeoutMs;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new StoreTimeoutError(ms)), ms);
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

function decodeStatus(policy: Policy, flat: readonly Reply[]): WindowStatus[] {
  return policy.windows.map((w, i) => {
    const used = num(flat[2 * i]);
    return { name: w.name, dim: w.dim, limit: w.limit, used, remaining: Math.max(0, w.limit - used), resetMs: num(flat[2 * i + 1]) };
  });
}

function names(policy: Policy, idx: readonly Reply[]): string[] {
  return idx.map((i) => (Number(i) === 0 ? "pacing" : policy.windows[Number(i) - 1]!.name));
}

function decodeDecision(items: readonly AcquireItem[], reply: [number, string, Reply[][]]): Decision {
  const [allowed, time, per] = reply;
  const status = items.map((it, k) => decodeStatus(it.ref.policy, per[k]![2] as Reply[]));
  if (allowed === 1) {
    const tickets: Ticket[] = per.map((r) => ({ segments: (r[1] as Reply[]).map(num), paced: r[0] === 1 }));
    return { allowed: true, delayMs: num(time), tickets, status };
  }
  const blocked: { item: number; names: readonly string[] }[] = [];
  const never: { item: number; names: readonly string[] }[] = [];
  per.forEach((r, k) => {
    const policy = items[k]!.ref.policy;
    const b = r[0] as Reply[];
    const n = r[1] as Reply[];
    if (b.length) blocked.push({ item: k, names: names(policy, b) });
    if (n.length) never.push({ item: k, names: names(policy, n) });
  });
  return { allowed: false, waitMs: num(time), blocked, never, status };
}
