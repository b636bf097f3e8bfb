/**
 * Config reload without dropping anything: a new config is validated first
 * (a bad one is refused, the old stays in force), then swapped in.
 * Providers and keys that stay keep their waiting lines, counters and
 * limiter state; their new limits apply at once, to waiting requests too
 * (the lines keep the same limiter refs, whose policies are replaced).
 * Removed providers drain: what waits in their lines is answered 503.
 */
import type { Config } from "../config/schema.ts";
import type { Policy } from "../core/policy.ts";
import { errors } from "../errors.ts";
import { KeyRing } from "./keys.ts";
import { PriceList } from "./pricing.ts";
import { Router } from "./route.ts";
import { providerRuntime, type ModelLine, type ProviderRuntime, type Runtime } from "./runtime.ts";

export interface ReloadSummary {
  readonly added: readonly string[];
  readonly removed: readonly string[];
  readonly kept: readonly string[];
  readonly keys: number;
}

export function reloadRuntime(rt: Runtime, next: Config): ReloadSummary {
  const old = new Map(rt.providers.map((p) => [p.name, p]));
  const providers = next.providers.map((pc) => {
    const fresh = providerRuntime(pc, rt.store, rt.clock);
    const prev = old.get(pc.name);
    return prev ? carryOver(prev, fresh) : fresh;
  });
  const names = new Set(providers.map((p) => p.name));
  const removed = [...old.values()].filter((p) => !names.has(p.name));
  for (const p of removed) closeLines(p, () => errors.providerRemoved(p.name));

  const keys = new KeyRing(next.keys, next.groups, rt.store, rt.clock);
  keys.adopt(rt.keys);

  rt.config = next;
  rt.providers = providers;
  rt.router = new Router(providers);
  rt.keys = keys;
  rt.prices = new PriceList(next.pricing);
  return {
    added: providers.filter((p) => !old.has(p.name)).map((p) => p.name),
    removed: removed.map((p) => p.name),
    kept: providers.filter((p) => old.has(p.name)).map((p) => p.name),
    keys: keys.all.length,
  };
}

/** The provider as newly configured, but with the old one's lines, counters and limiter refs. */
function carryOver(prev: ProviderRuntime, fresh: ProviderRuntime): ProviderRuntime {
  setPolicy(prev.ref, fresh.ref.policy);
  const rl = fresh.config.rate_limit;
  let gate = prev.gate;
  if (gate && fresh.gate) gate.resize(fresh.gate.max);
  else gate = fresh.gate;
  const line = adoptLine(prev.shared, fresh.shared, rl.max_wait_seconds, fresh.gate ? null : rl.max_concurrent);
  const modelLines = new Map<string, ModelLine>();
  for (const [model, f] of fresh.modelLines) {
    const p = prev.modelLines.get(model);
    if (!p) {
      modelLines.set(model, f);
      continue;
    }
    setPolicy(p.refs[1]!, f.refs[1]!.policy);
    const mrl = fresh.config.models.find((m) => m.name === model)?.rate_limit;
    const waits = [mrl?.max_wait_seconds ?? null, rl.max_wait_seconds].filter((x): x is number => x !== null);
    modelLines.set(model, {
      ...f,
      refs: [prev.ref, p.refs[1]!],
      line: adoptLine(p, f, waits.length ? Math.min(...waits) : null, mrl?.max_concurrent ?? null),
    });
  }
  for (const [model, p] of prev.modelLines) if (!fresh.modelLines.has(model)) p.line?.close(() => errors.providerRemoved(`${prev.name}/${model}`));
  const shared: ModelLine = { ...fresh.shared, refs: [prev.ref], line };
  return {
    ...fresh,
    ref: prev.ref,
    line,
    shared,
    modelLines,
    gate,
    counters: prev.counters,
    adaptive: prev.adaptive && fresh.adaptive ? prev.adaptive : fresh.adaptive,
    warned: prev.warned,
    upstream: prev.upstream,
  };
}

/** Keeps the old line (and its waiting requests) with the new options; a line that was not needed before is the new one. */
function adoptLine(prev: ModelLine, fresh: ModelLine, maxWaitS: number | null, maxConcurrent: number | null) {
  if (!prev.line) return fresh.line;
  fresh.line?.close();
  prev.line.update({ maxWaitMs: maxWaitS === null ? null : maxWaitS * 1000, maxConcurrent });
  return prev.line;
}

function closeLines(p: ProviderRuntime, err: () => ReturnType<typeof errors.providerRemoved>): void {
  p.line?.close(err);
  for (const l of p.modelLines.values()) l.line?.close(err);
}

function setPolicy(ref: { readonly policy: Policy }, policy: Policy): void {
  (ref as { policy: Policy }).policy = policy;
}
