/**
 * Everything a running gateway holds, built once from a validated config:
 * the store, each provider with its limiter and waiting line, the router.
 */
import { AttemptWatch } from "./attempt-watch.ts";
import { systemClock, type Clock } from "../clock.ts";
import type { Policy } from "../core/policy.ts";
import type { Config, ProviderConfig } from "../config/schema.ts";
import { ConcurrencyGate } from "../limiter/concurrency-gate.ts";
import { Dispatcher } from "../limiter/dispatcher.ts";
import { isUnlimited, pacedPolicy } from "../limiter/policies.ts";
import { MemoryStore } from "../store/memory-store.ts";
import type { LimiterRef, Store } from "../store/store.ts";
import { AimdController } from "../adaptive/aimd.ts";
import { Histogram } from "../stats/histogram.ts";
import { KeyRing } from "./keys.ts";
import { PriceList } from "./pricing.ts";
import { Router } from "./route.ts";
import { upstreamClient, type UpstreamClient } from "./upstream-client.ts";

export interface ProviderCounters {
  requests: number;
  upstream429: number;
  upstream5xx: number;
  retries: number;
  byStatus: Record<string, number>;
  tokensIn: number;
  tokensOut: number;
  readonly queueWait: Histogram;
  readonly upstreamLatency: Histogram;
}

/** Where requests for one model of a provider wait, and the limiters they must fit. */
export interface ModelLine {
  /** The model's name, or null for the provider's shared line (models without limits of their own). */
  readonly model: string | null;
  /** Provider first, then the model's own limiter if it has one: one atomic decision. */
  readonly refs: readonly LimiterRef[];
  /** null when nothing on this path limits: requests go straight through. */
  readonly line: Dispatcher | null;
  readonly countsTokens: boolean;
}

export interface ProviderRuntime {
  readonly name: string;
  readonly config: ProviderConfig;
  readonly models: readonly string[];
  /** base_url without a trailing slash. */
  readonly baseUrl: string;
  readonly timeoutMs: number;
  /** Times out the provider's attempts in flight and aborts those whose client left. */
  readonly attempts: AttemptWatch;
  /** How its requests travel (own HTTP/1.1 pool or fetch). */
  readonly client: UpstreamClient;
  /** The provider's limiter; its policy is the live one (adaptive mode and reloads replace it). */
  readonly ref: LimiterRef;
  /** The provider's shared line: models without limits of their own wait here. */
  readonly line: Dispatcher | null;
  /** Lines of models with limits of their own, by model name. */
  readonly modelLines: ReadonlyMap<string, ModelLine>;
  readonly shared: ModelLine;
  /** The provider's max_concurrent, shared by all its lines (null: none). */
  readonly gate: ConcurrencyGate | null;
  /** Whether its limits count tokens (then each request's tokens are counted and settled). */
  readonly countsTokens: boolean;
  readonly counters: ProviderCounters;
  /** What the provider last said about its own limits (for stats). */
  upstream: { holdUntil: number | null; reason: string | null; remainingRequests: number | null; remainingTokens: number | null };
  /** Holds every line of this provider for `forMs` (shared through the store). */
  readonly hold: (forMs: number) => void;
  /** Upstream header problems already logged (each once). */
  readonly warned: Set<string>;
  /** mode adaptive: learns the provider's real rate from its 429s (null otherwise). */
  readonly adaptive: AimdController | null;
}

/** Config, providers, router and keys are swapped as a whole on reload (see reload.ts). */
export interface Runtime {
  config: Config;
  readonly clock: Clock;
  readonly store: Store;
  providers: readonly ProviderRuntime[];
  router: Router<ProviderRuntime>;
  keys: KeyRing;
  /** USD per 1M tokens, per model (config pricing over the built-in table). */
  prices: PriceList;
  readonly startedAt: number;
  /** Routed requests received (/v1 POSTs), whatever became of them. */
  received: number;
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
    keys: new KeyRing(config.keys, config.groups, store, clock),
    prices: new PriceList(config.pricing),
    startedAt: clock.now(),
    received: 0,
  };
}

export function providerRuntime(p: ProviderConfig, store: Store, clock: Clock): ProviderRuntime {
  const rl = p.rate_limit;
  const policy = pacedPolicy(rl);
  const tag = `prov:${p.name}`; // a provider and its models share one Cluster slot: one script decides both
  // Mutable on purpose: an adaptive rate (or a reload) swaps the policy, and waiting requests see the new one.
  const ref: { id: string; tag: string; policy: Policy } = { id: tag, policy, tag };
  const countsTokens = (pol: Policy) => pol.windows.some((w) => w.dim !== "requests");
  const modelsWithLimits = p.models.filter((m) => m.rate_limit !== undefined);
  // With per-model lines, the provider's max_concurrent is a gate all of them share.
  const gate = rl.max_concurrent !== null && modelsWithLimits.length > 0 ? new ConcurrencyGate(rl.max_concurrent) : null;
  // `own`: the limiter whose leases carry a line's max_concurrent across nodes (shared store only).
  const lineFor = (name: string, subject: string, own: LimiterRef, pols: readonly Policy[], maxWait: number | null, maxConcurrent: number | null) =>
    pols.every(isUnlimited) && maxConcurrent === null && gate === null
      ? null
      : new Dispatcher({
          name,
          subject,
          store,
          clock,
          maxWaitMs: maxWait === null ? null : maxWait * 1000,
          maxConcurrent,
          gates: gate ? [gate] : undefined,
          leases: { own, gates: gate ? [ref] : undefined },
        });
  const line = lineFor(p.name, `provider '${p.name}'`, ref, [policy], rl.max_wait_seconds, gate ? null : rl.max_concurrent);
  const shared: ModelLine = { model: null, refs: [ref], line, countsTokens: countsTokens(policy) };
  const modelLines = new Map<string, ModelLine>();
  for (const m of modelsWithLimits) {
    const mrl = m.rate_limit!;
    const mpolicy = pacedPolicy(mrl);
    const mref: LimiterRef = { id: `model:${p.name}:${m.name}`, policy: mpolicy, tag };
    // The model waits for the later of its own slot and its provider's; the stricter max_wait applies.
    const maxWait = [mrl.max_wait_seconds, rl.max_wait_seconds].filter((x): x is number => x !== null);
    modelLines.set(m.name, {
      model: m.name,
      refs: [ref, mref],
      line: lineFor(`${p.name}/${m.name}`, `model '${m.name}' at provider '${p.name}'`, mref, [policy, mpolicy], maxWait.length ? Math.min(...maxWait) : null, mrl.max_concurrent),
      countsTokens: countsTokens(policy) || countsTokens(mpolicy),
    });
  }
  return {
    name: p.name,
    config: p,
    models: p.models.map((m) => m.name),
    baseUrl: p.base_url.replace(/\/+$/, ""),
    timeoutMs: p.timeout_seconds * 1000,
    attempts: new AttemptWatch(p.timeout_seconds * 1000),
    client: upstreamClient(p.base_url, p.upstream_client),
    ref,
    line,
    modelLines,
    shared,
    gate,
    countsTokens: shared.countsTokens || [...modelLines.values()].some((l) => l.countsTokens),
    upstream: { holdUntil: null, reason: null, remainingRequests: null, remainingTokens: null },
    hold: (forMs) => void store.hold?.(ref, forMs)?.catch(() => {}),
    warned: new Set(),
    adaptive:
      rl.mode === "adaptive" && rl.rpm !== undefined
        ? new AimdController({
            initialRpm: rl.rpm,
            minRpm: rl.min_rpm ?? Math.max(1, rl.rpm / 10),
            maxRpm: rl.max_rpm ?? rl.rpm * 4,
            // Additive step: a tenth of the starting rate per minute, whatever the adjustment window,
            // so the sawtooth after a cut climbs back slowly and 429s stay rare.
            increaseRpm: Math.max(0.1, (rl.rpm / 10) * ((rl.adjust_every_seconds ?? 10) / 60)),
            decreaseFactor: 0.9,
            windowMs: (rl.adjust_every_seconds ?? 10) * 1000,
          })
        : null,
    counters: {
      requests: 0,
      upstream429: 0,
      upstream5xx: 0,
      retries: 0,
      byStatus: {},
      tokensIn: 0,
      tokensOut: 0,
      queueWait: new Histogram(),
      upstreamLatency: new Histogram(),
    },
  };
}

/** Sets a provider's pace (adaptive mode): the same ref, a new policy, so waiting requests follow it. */
export function setProviderRpm(p: ProviderRuntime, rpm: number): void {
  const ref = p.ref as { policy: Policy };
  const pacing = ref.policy.pacing;
  const intervalMs = 60_000 / rpm;
  if (pacing && Math.abs(pacing.intervalMs - intervalMs) < 1e-6) return;
  ref.policy = { ...ref.policy, pacing: { intervalMs, capacity: pacing?.capacity ?? 1 } };
}

/** The line a request for `model` at provider `p` waits in. */
export function lineOf(p: ProviderRuntime, model: string): ModelLine {
  return p.modelLines.get(model) ?? p.shared;
}

export function closeRuntime(rt: Runtime): void {
  for (const p of rt.providers) {
    p.line?.close();
    for (const l of p.modelLines.values()) l.line?.close();
  }
  rt.keys.close();
}
