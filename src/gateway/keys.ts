/**
 * Client API keys: who is calling, what they may use, and their own budget.
 * A key's limits run on the same engine as a provider's (one Policy type, one
 * Store): reject mode asks the store once and answers 429 when over; queue
 * mode waits in a line of its own, like a provider.
 *
 * Keys are looked up by their sha256, so the lookup time says nothing about
 * how close a guess was, and the key itself is kept nowhere else.
 */
import { createHash } from "node:crypto";
import type { Clock } from "../clock.ts";
import type { Cost, Policy, Ticket, WindowStatus } from "../core/policy.ts";
import type { KeyPolicy } from "../config/rate-limit-schema.ts";
import { keyLabel } from "../config/secrets.ts";
import { errors } from "../errors.ts";
import { Dispatcher } from "../limiter/dispatcher.ts";
import { isUnlimited, windowPolicy } from "../limiter/policies.ts";
import type { LimiterRef, Store } from "../store/store.ts";
import { bearer } from "./auth.ts";
import { describeLimit, rateLimitHeaders } from "./ratelimit-headers.ts";

export interface KeyCounters {
  requests: number;
  rejected: number;
  rejectedBy: Record<string, number>;
  byStatus: Record<string, number>;
  tokensIn: number;
  tokensOut: number;
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
  /** Whether its limits count tokens (else only requests are counted: no tokenizer on its path). */
  readonly countsTokens: boolean;
  readonly counters: KeyCounters;
}

/** What a key's admission charged, to settle later. */
export interface KeyCharge {
  readonly ticket: Ticket;
  readonly status: readonly WindowStatus[];
}

const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");

export class KeyRing {
  private readonly byHash = new Map<string, KeyRuntime>();
  readonly all: readonly KeyRuntime[];

  constructor(keys: Readonly<Record<string, KeyPolicy>> | undefined, store: Store, clock: Clock) {
    const all: KeyRuntime[] = [];
    for (const [key, p] of Object.entries(keys ?? {})) {
      const hash = sha256(key);
      const policy = windowPolicy(p);
      const label = keyLabel(key, p.name);
      const rt: KeyRuntime = {
        label,
        ref: { id: `key:${hash.slice(0, 16)}`, policy },
        policy,
        mode: p.mode,
        line:
          p.mode === "queue" && !isUnlimited(policy)
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
        countsTokens: policy.windows.some((w) => w.dim !== "requests"),
        counters: { requests: 0, rejected: 0, rejectedBy: {}, byStatus: {}, tokensIn: 0, tokensOut: 0 },
      };
      this.byHash.set(hash, rt);
      all.push(rt);
    }
    this.all = all;
  }

  get enabled(): boolean {
    return this.all.length > 0;
  }

  /** The calling key; null when no keys are configured. Unknown or missing → 401. */
  identify(req: Request): KeyRuntime | null {
    if (!this.enabled) return null;
    const token = bearer(req);
    const key = token === null ? undefined : this.byHash.get(sha256(token));
    if (!key) throw errors.unauthorized("Incorrect or missing API key. Use one of the client keys configured in limitrate.");
    key.counters.requests++;
    return key;
  }

  close(): void {
    for (const k of this.all) k.line?.close();
  }
}

/** A key limited to some models may use them by plain name or as provider/model. */
export function checkModelAllowed(key: KeyRuntime, requested: string, provider: string, upstreamModel: string): void {
  const m = key.models;
  if (m === null || m.has(requested) || m.has(upstreamModel) || m.has(`${provider}/${upstreamModel}`)) return;
  throw errors.forbidden(`This API key may not use the model '${requested}'.`);
}

/** Charges the key for this request, or answers 429 (reject mode) / waits (queue mode). */
export async function admitKey(store: Store, key: KeyRuntime, cost: Cost, signal: AbortSignal): Promise<KeyCharge | null> {
  if (isUnlimited(key.policy)) return null;
  const item = { ref: key.ref, cost };
  if (key.line) {
    try {
      const permit = await key.line.admit({ items: [item], signal });
      permit.release(); // a key's line limits budget, not concurrency
      return { ticket: permit.tickets[0]!, status: permit.status[0] ?? [] };
    } catch (e) {
      key.counters.rejected++;
      throw e;
    }
  }
  const d = await store.acquire([item], 0);
  if (d.allowed) return { ticket: d.tickets[0]!, status: d.status[0] ?? [] };
  key.counters.rejected++;
  const names = d.blocked.flatMap((b) => b.names);
  for (const n of names) key.counters.rejectedBy[n] = (key.counters.rejectedBy[n] ?? 0) + 1;
  const headers = rateLimitHeaders(d.status[0] ?? []);
  if (d.waitMs === Infinity) {
    throw errors.neverFits(`key '${key.label}'`, d.never.flatMap((n) => n.names), headers);
  }
  const windows = d.status[0] ?? [];
  const detail = names
    .map((n) => {
      const w = windows.find((x) => x.name === n);
      return w ? `${describeLimit(n)}: limit ${w.limit}, used ${Math.ceil(w.used)}` : describeLimit(n);
    })
    .join("; ");
  const kind = names.every((n) => n === "rpm" || n === "rpd") ? "requests" : "tokens";
  throw errors.rateLimited(
    `Rate limit reached for key '${key.label}' on ${detail}. Please try again in ${(d.waitMs / 1000).toFixed(1)} s.`,
    kind,
    d.waitMs,
    headers,
  );
}
