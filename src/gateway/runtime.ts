/**
 * Everything a running gateway holds, built once from a validated config:
 * the store, each provider with its limiter and waiting line, the router.
 */
import { systemClock, type Clock } from "../clock.ts";
import type { Policy } from "../core/policy.ts";
import type { Config, ProviderConfig } from "../config/schema.ts";
import { Dispatcher } from "../limiter/dispatcher.ts";
import { isUnlimited, pacedPolicy } from "../limiter/policies.ts";
import { MemoryStore } from "../store/memory-store.ts";
import type { LimiterRef, Store } from "../store/store.ts";
import { Histogram } from "../stats/histogram.ts";
import { KeyRing } from "./keys.ts";
import { Router } from "./route.ts";

export interface ProviderCounters {
  requests: number;
  upstream429: number;
  upstream5xx: number;
  retries: number;
  errors: number;
  byStatus: Record<string, number>;
  tokensIn: number;
  tokensOut: number;
  readonly queueWait: Histogram;
  readonly upstreamLatency: Histogram;
}

export interface ProviderRuntime {
  readonly name: string;
  readonly config: ProviderConfig;
  readonly models: readonly string[];
  /** base_url without a trailing slash. */
  readonly baseUrl: string;
  readonly timeoutMs: number;
  readonly policy: Policy;
  readonly ref: LimiterRef;
  /** null when the provider has no limits at all: requests go straight through. */
  readonly line: Dispatcher | null;
  /** Whether its limits count tokens (then each request's tokens are counted and settled). */
  readonly countsTokens: boolean;
  readonly counters: ProviderCounters;
}

export interface Runtime {
  readonly config: Config;
  readonly clock: Clock;
  readonly store: Store;
  readonly providers: readonly ProviderRuntime[];
  readonly router: Router<ProviderRuntime>;
  readonly keys: KeyRing;
  readonly startedAt: number;
  /** Requests being handled right now (for graceful shutdown). */
  active: number;
}

export interface RuntimeOptions {
  readonly clock?: Clock;
  readonly store?: Store;
}

export function createRuntime(config: Config, opts: RuntimeOptions = {}): Runtime {
  const clock = opts.clock ?? systemClock;
  const store = opts.store ?? new MemoryStore(clock);
  const providers = config.providers.map((p) => providerRuntime(p, store, clock));
  return {
    config,
    clock,
    store,
    providers,
    router: new Router(providers),
    keys: new KeyRing(config.keys, store, clock),
    startedAt: clock.now(),
    active: 0,
  };
}

function providerRuntime(p: ProviderConfig, store: Store, clock: Clock): ProviderRuntime {
  const rl = p.rate_limit;
  const policy = pacedPolicy(rl);
  const ref: LimiterRef = { id: `prov:${p.name}`, policy };
  const line =
    isUnlimited(policy) && rl.max_concurrent === null
      ? null
      : new Dispatcher({
          name: p.name,
          subject: `provider '${p.name}'`,
          store,
          clock,
          maxWaitMs: rl.max_wait_seconds === null ? null : rl.max_wait_seconds * 1000,
          maxConcurrent: rl.max_concurrent,
        });
  return {
    name: p.name,
    config: p,
    models: p.models.map((m) => m.name),
    baseUrl: p.base_url.replace(/\/+$/, ""),
    timeoutMs: p.timeout_seconds * 1000,
    policy,
    ref,
    line,
    countsTokens: policy.windows.some((w) => w.dim !== "requests"),
    counters: {
      requests: 0,
      upstream429: 0,
      upstream5xx: 0,
      retries: 0,
      errors: 0,
      byStatus: {},
      tokensIn: 0,
      tokensOut: 0,
      queueWait: new Histogram(),
      upstreamLatency: new Histogram(),
    },
  };
}

export function closeRuntime(rt: Runtime): void {
  for (const p of rt.providers) p.line?.close();
  rt.keys.close();
}
