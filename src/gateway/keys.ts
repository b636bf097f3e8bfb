/**
 * Client API keys: who is calling, what they may use, and their own budget.
 * A key's limits run on the same engine as a provider's (one Policy type, one
 * Store): reject mode asks the store once and answers 429 when over; queue
 * mode waits in a line of its own, like a provider.
 *
 * Keys are looked up by their sha256, so the lookup time says nothing about
 * how close a guess was, and the key itself is kept nowhere else.
 */
import { Histogram } from "../stats/histogram.ts";
import type { Clock } from "../clock.ts";
import type { Cost, Policy, Ticket, WindowStatus } from "../core/policy.ts";
import type { GroupPolicy, KeyPolicy } from "../config/rate-limit-schema.ts";
import { keyLabel } from "../config/secrets.ts";
import { sleep } from "../sleep.ts";
import { errors } from "../errors.ts";
import { LeaseBook } from "../limiter/lease-book.ts";
import { Dispatcher } from "../limiter/dispatcher.ts";
import { isUnlimited, windowPolicy } from "../limiter/policies.ts";
import type { LimiterRef, Store } from "../store/store.ts";
import { bearer } from "./auth.ts";
import { describeLimit, rateLimitHeaders } from "./ratelimit-headers.ts";

export interface KeyCounters {
  /** Time this key's requests waited in provider lines, ms. */
  readonly queueWait: Histogram;
  requests: number;
  rejected: number;
  rejectedBy: Record<string, number>;
  byStatus: Record<string, number>;
  tokensIn: number;
  tokensOut: number;
  /** USD spent (settled), since start. */
  spendUsd: number;
}

/** A group of keys (a team) with limits they share. */
export interface GroupRuntime {
  readonly name: string;
  readonly ref: LimiterRef;
  readonly policy: Policy;
  readonly counters: KeyCounters;
}

export interface KeyRuntime {
  /** The key's name, or "key:" + a short hash: all that is ever shown. */
  readonly label: string;
  readonly ref: LimiterRef;
  readonly policy: Policy;
  readonly mode: "reject" | "queue";
  /** Queue mode only. */
  readonly line: Dispatcher | null;
  /** Models (or provider/model) this key may use; null = all. */
  readonly models: ReadonlySet<string> | null;
  /** This key's own limits on particular models. */
  readonly modelRefs: ReadonlyMap<string, LimiterRef>;
  readonly group: GroupRuntime | null;
  /** Share of a busy provider line relative to other keys. */
  readonly weight: number;
  readonly priority: number;
  readonly allowPriorityHeader: boolean;
  /** Requests of this key being served at once, and how many more may wait (null: no cap). */
  readonly slots: KeySlots | null;
  /** Whether its limits count tokens (else only requests are counted: no tokenizer on its path). */
  readonly countsTokens: boolean;
  readonly counters: KeyCounters;
}

/** One limiter a key's request must fit, and how messages name it. */
export interface KeyItem {
  readonly ref: LimiterRef;
  readonly subject: string;
  readonly counters: KeyCounters;
}

/** What a key's admission charged, to settle later. */
export interface KeyCharge {
  readonly refs: readonly LimiterRef[];
  readonly tickets: readonly Ticket[];
  /** The key's own windows after the charge (for the rate-limit headers). */
  readonly status: readonly WindowStatus[];
}

/** Hex sha256 (Bun's one-shot hasher: a third of node:crypto's createHash cost per request). */
const sha256 = (s: string) => Bun.SHA256.hash(s, "hex") as string;
const newCounters = (): KeyCounters => ({ queueWait: new Histogram(), requests: 0, rejected: 0, rejectedBy: {}, byStatus: {}, tokensIn: 0, tokensOut: 0, spendUsd: 0 });
const countsTokens = (p: Policy) => p.windows.some((w) => w.dim !== "requests");

export class KeyRing {
  private readonly byHash = new Map<string, KeyRuntime>();
  all: readonly KeyRuntime[];
  groups: readonly GroupRuntime[];

  constructor(
    keys: Readonly<Record<string, KeyPolicy>> | undefined,
    groups: Readonly<Record<string, GroupPolicy>> | undefined,
    store: Store,
    clock: Clock,
  ) {
    const groupRts = new Map<string, GroupRuntime>();
    for (const [name, g] of Object.entries(groups ?? {})) {
      const policy = windowPolicy(g);
      // A group's keys share its hash tag, so key and group are decided by one script on Redis Cluster.
      groupRts.set(name, { name, ref: { id: `group:${name}`, policy, tag: `group:${name}` }, policy, counters: newCounters() });
    }
    const all: KeyRuntime[] = [];
    for (const [key, p] of Object.entries(keys ?? {})) {
      const hash = sha256(key);
      const id = `key:${hash.slice(0, 16)}`;
      const policy = windowPolicy(p);
      const label = keyLabel(key, p.name);
      const group = p.group !== undefined ? (groupRts.get(p.group) ?? null) : null;
      const tag = group ? group.ref.tag! : id;
      const modelRefs = new Map<string, LimiterRef>();
      if (p.models !== undefined && !Array.isArray(p.models)) {
        for (const [model, limits] of Object.entries(p.models)) {
          const mp = windowPolicy(limits);
          if (!isUnlimited(mp)) modelRefs.set(model, { id: `${id}:model:${model}`, policy: mp, tag });
        }
      }
      const rt: KeyRuntime = {
        label,
        ref: { id, policy, tag },
        policy,
        mode: p.mode,
        line:
          p.mode === "queue"
            ? new Dispatcher({
                name: label,
                subject: `key '${label}'`,
                store,
                clock,
                maxWaitMs: p.max_wait_seconds === null ? null : p.max_wait_seconds * 1000,
                maxConcurrent: null,
              })
            : null,
        models: p.models === undefined ? null : new Set(Array.isArray(p.models) ? p.models : Object.keys(p.models)),
        modelRefs,
        group,
        weight: p.weight,
        priority: p.priority,
        allowPriorityHeader: p.allow_priority_header,
        slots:
          p.max_concurrent !== null || p.max_queued !== null
            ? new KeySlots(label, p.max_concurrent, p.max_queued, leaseBook(store, { id, policy, tag }, p.max_concurrent))
            : null,
        countsTokens: countsTokens(policy) || (group !== null && countsTokens(group.policy)) || [...modelRefs.values()].some((r) => countsTokens(r.policy)),
        counters: newCounters(),
      };
      this.byHash.set(hash, rt);
      all.push(rt);
    }
    this.all = all;
    this.groups = [...groupRts.values()];
  }

  get enabled(): boolean {
    return this.all.length > 0;
  }

  /**
   * Config reload: this (new) ring takes over what the old one knew of keys
   * and groups that are still configured — their counters, their place in
   * the store (the same limiter ids, so their windows go on) and the
   * requests waiting in their lines, which now see the new limits.
   */
  adopt(old: KeyRing): void {
    const oldGroups = new Map(old.groups.map((g) => [g.name, g]));
    const groups = this.groups.map((g) => {
      const prev = oldGroups.get(g.name);
      if (!prev) return g;
      (prev.ref as { policy: Policy }).policy = g.policy;
      return { ...g, ref: prev.ref, counters: prev.counters };
    });
    const groupByName = new Map(groups.map((g) => [g.name, g]));
    const all: KeyRuntime[] = [];
    for (const [hash, k] of this.byHash) {
      const prev = old.byHash.get(hash);
      const group = k.group ? (groupByName.get(k.group.name) ?? k.group) : null;
      let next: KeyRuntime = { ...k, group };
      if (prev) {
        (prev.ref as { policy: Policy }).policy = k.policy;
        let line = k.line;
        if (prev.line && k.line) {
          prev.line.update({ maxWaitMs: k.line.maxWaitMs, subject: `key '${k.label}'` });
          k.line.close();
          line = prev.line;
        } else if (prev.line) {
          prev.line.close(); // no longer queue mode: its waiting requests are answered 503
        }
        next = { ...next, ref: prev.ref, counters: prev.counters, line };
      }
      this.byHash.set(hash, next);
      all.push(next);
    }
    for (const [hash, prev] of old.byHash) if (!this.byHash.has(hash)) prev.line?.close();
    this.all = all;
    this.groups = groups;
  }

  /** The calling key; null when no keys are configured. Unknown or missing → 401. */
  identify(req: Request): KeyRuntime | null {
    if (!this.enabled) return null;
    const token = bearer(req);
    const key = token === null ? undefined : this.byHash.get(sha256(token));
    if (!key) throw errors.unauthorized("Incorrect or missing API key. Use one of the client keys configured in limitrate.");
    key.counters.requests++;
    if (key.group) key.group.counters.requests++;
    return key;
  }

  close(): void {
    for (const k of this.all) k.line?.close();
  }
}

/**
 * A key's own cap on requests being served at once (max_concurrent) and on
 * requests waiting (max_queued: beyond it, 429 at once rather than an
 * unbounded line). A slot is held from admission until the answer ends.
 */
export class KeySlots {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  /** `leases`: with a shared store, the key's max_concurrent holds across nodes too. */
  constructor(
    private readonly label: string,
    private readonly maxConcurrent: number | null,
    private readonly maxQueued: number | null,
    private readonly leases: LeaseBook | null = null,
  ) {}

  get queued(): number {
    return this.waiting.length;
  }

  private full() {
    return errors.rateLimited(
      `Too many requests of key '${this.label}' are pending (max_queued ${this.maxQueued}${this.maxConcurrent !== null ? `, max_concurrent ${this.maxConcurrent}` : ""}).`,
      "requests",
      1000,
      {},
    );
  }

  /**
   * Resolves with a release function once this key may go on. Without
   * max_concurrent, max_queued caps the key's requests pending in the
   * gateway (waiting or in flight) instead.
   */
  async take(signal: AbortSignal): Promise<() => void> {
    const local = await this.takeLocal(signal);
    const leases = this.leases;
    if (leases === null) return local;
    // The node's slot is taken; now one across the nodes (asked again while all are busy elsewhere).
    try {
      for (;;) {
        const got = await leases.take();
        if ("id" in got) {
          const id = got.id;
          return once(() => {
            leases.drop(id);
            local();
          });
        }
        if (await sleep(got.retryInMs, signal)) throw errors.clientClosed();
      }
    } catch (e) {
      local();
      throw e;
    }
  }

  private async takeLocal(signal: AbortSignal): Promise<() => void> {
    const release = once(() => {
      this.active--;
      this.waiting.shift()?.();
    });
    if (this.maxConcurrent === null) {
      if (this.maxQueued !== null && this.active >= this.maxQueued) throw this.full();
      this.active++;
      return release;
    }
    if (this.active < this.maxConcurrent) {
      this.active++;
      return release;
    }
    if (this.maxQueued !== null && this.waiting.length >= this.maxQueued) throw this.full();
    await new Promise<void>((resolve, reject) => {
      const go = () => {
        signal.removeEventListener("abort", leave);
        this.active++;
        resolve();
      };
      const leave = () => {
        const i = this.waiting.indexOf(go);
        if (i >= 0) this.waiting.splice(i, 1);
        reject(errors.clientClosed());
      };
      this.waiting.push(go);
      signal.addEventListener("abort", leave, { once: true });
    });
    return release;
  }
}

/** A key's max_concurrent across nodes, when the store is shared (Redis). */
function leaseBook(store: Store, ref: LimiterRef, maxConcurrent: number | null): LeaseBook | null {
  if (maxConcurrent === null || !store.takeLease) return null;
  const caps = [{ ref, max: maxConcurrent }];
  return new LeaseBook(store, () => caps);
}

function once(f: () => void): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    f();
  };
}

/** A key limited to some models may use them by plain name or as provider/model. */
export function checkModelAllowed(key: KeyRuntime, requested: string, provider: string, upstreamModel: string): void {
  const m = key.models;
  if (m === null || m.has(requested) || m.has(upstreamModel) || m.has(`${provider}/${upstreamModel}`)) return;
  throw errors.forbidden(`This API key may not use the model '${requested}'.`);
}

/** The limiters a request of `key` for `model` must fit together: the key, its group, its own limit on the model. */
export function keyItems(key: KeyRuntime, requested: string, provider: string, model: string): KeyItem[] {
  const items: KeyItem[] = [{ ref: key.ref, subject: `key '${key.label}'`, counters: key.counters }];
  if (key.group) items.push({ ref: key.group.ref, subject: `group '${key.group.name}'`, counters: key.group.counters });
  const m = key.modelRefs.get(requested) ?? key.modelRefs.get(model) ?? key.modelRefs.get(`${provider}/${model}`);
  if (m) items.push({ ref: m, subject: `key '${key.label}' on model '${model}'`, counters: key.counters });
  return items.filter((it) => !isUnlimited(it.ref.policy));
}

/** Charges the key (and its group and model limit) for this request, or answers 429 (reject mode) / waits (queue mode). */
export async function admitKey(
  store: Store,
  key: KeyRuntime,
  items: readonly KeyItem[],
  cost: Cost,
  signal: AbortSignal,
): Promise<KeyCharge | null> {
  if (items.length === 0) return null;
  const acquire = items.map((it) => ({ ref: it.ref, cost }));
  const refs = items.map((it) => it.ref);
  const ownStatus = (all: readonly (readonly WindowStatus[])[]) => (items[0]!.ref === key.ref ? (all[0] ?? []) : []);
  if (key.line) {
    try {
      const permit = await key.line.admit({ items: acquire, signal });
      permit.release(); // a key's line limits budget, not concurrency
      return { refs, tickets: permit.tickets, status: ownStatus(permit.status) };
    } catch (e) {
      key.counters.rejected++;
      throw e;
    }
  }
  const d = store.acquireNow ? store.acquireNow(acquire, 0) : await store.acquire(acquire, 0);
  if (d.allowed) return { refs, tickets: d.tickets, status: ownStatus(d.status) };
  key.counters.rejected++;
  const headers = rateLimitHeaders(ownStatus(d.status));
  const parts: string[] = [];
  const names: string[] = [];
  for (const b of d.blocked) {
    const it = items[b.item]!;
    if (it.counters !== key.counters) it.counters.rejected++;
    const windows = d.status[b.item] ?? [];
    for (const n of b.names) {
      names.push(n);
      it.counters.rejectedBy[n] = (it.counters.rejectedBy[n] ?? 0) + 1;
      const w = windows.find((x) => x.name === n);
      parts.push(`${it.subject}: ${describeLimit(n)}${w ? `, limit ${w.limit}, used ${Math.ceil(w.used)}` : ""}`);
    }
  }
  if (d.waitMs === Infinity) {
    const never = d.never.map((n) => `${items[n.item]!.subject} (${n.names.join(", ")})`);
    throw errors.neverFits(never.join(" and "), d.never.flatMap((n) => n.names), headers);
  }
  if (names.some((n) => n.startsWith("budget_"))) {
    const at = new Date(Date.now() + d.waitMs).toISOString();
    throw errors.budgetExceeded(`Budget exceeded for ${parts.join("; ")}. Budget frees up at ${at}.`, d.waitMs, headers);
  }
  const kind = names.every((n) => n === "rpm" || n === "rpd") ? "requests" : "tokens";
  throw errors.rateLimited(
    `Rate limit reached for ${parts.join("; ")}. Please try again in ${(d.waitMs / 1000).toFixed(1)} s.`,
    kind,
    d.waitMs,
    headers,
  );
}
