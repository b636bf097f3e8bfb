/**
 * In-process store: a Map from limiter id to its state. Every decision is
 * one synchronous call into the pure core, so it is atomic by construction.
 */
import type { Clock } from "../clock.ts";
import * as core from "../core/policy.ts";
import type { Cost, Decision, LimiterState, Policy, Ticket } from "../core/policy.ts";
import type { AcquireItem, LimiterRef, LimiterStatus, Store, StoreHealth } from "./store.ts";

interface Entry {
  policy: Policy;
  state: LimiterState;
}

export class MemoryStore implements Store {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly clock: Clock) {}

  /** State of a limiter; a changed policy starts it afresh. */
  private entry(ref: LimiterRef): Entry {
    let e = this.entries.get(ref.id);
    if (e === undefined || (e.policy !== ref.policy && !samePolicy(e.policy, ref.policy))) {
      e = { policy: ref.policy, state: core.newState(ref.policy) };
      this.entries.set(ref.id, e);
    } else if (e.policy !== ref.policy) {
      rescalePacing(e.state, e.policy, ref.policy, this.clock.now());
      e.policy = ref.policy;
    }
    return e;
  }

  acquireNow(items: readonly AcquireItem[], horizonMs: number): Decision {
    const inputs = new Array<core.ItemInput>(items.length);
    for (let i = 0; i < items.length; i++) {
      const it = items[i]!;
      inputs[i] = { state: this.entry(it.ref).state, policy: it.ref.policy, cost: it.cost };
    }
    return core.decide(inputs, this.clock.now(), horizonMs);
  }

  async acquire(items: readonly AcquireItem[], horizonMs: number): Promise<Decision> {
    return this.acquireNow(items, horizonMs);
  }

  async hold(ref: LimiterRef, forMs: number): Promise<void> {
    core.hold(this.entry(ref).state, this.clock.now() + forMs);
  }

  async settle(ref: LimiterRef, ticket: Ticket, delta: Cost): Promise<void> {
    core.settle(this.entry(ref).state, ref.policy, ticket, delta, this.clock.now());
  }

  async giveBack(ref: LimiterRef, ticket: Ticket, cost: Cost): Promise<void> {
    core.giveBack(this.entry(ref).state, ref.policy, ticket, cost, this.clock.now());
  }

  async estimateWait(ref: LimiterRef, ahead: Cost, aheadCount: number, cost: Cost): Promise<number> {
    return core.estimateWait(this.entry(ref).state, ref.policy, ahead, aheadCount, cost, this.clock.now());
  }

  async status(ref: LimiterRef): Promise<LimiterStatus> {
    return this.statusSync(ref);
  }

  statusSync(ref: LimiterRef): LimiterStatus {
    const now = this.clock.now();
    const { state } = this.entry(ref);
    const available = core.pacingAvailable(state, ref.policy, now);
    const next = core.pacingNextSlot(state, ref.policy, now);
    return {
      windows: core.status(state, ref.policy, now),
      pacing: available === null || next === null ? null : { available, nextSlotInMs: next - now },
    };
  }

  health(): StoreHealth {
    return { kind: "memory", state: "ok" };
  }

  async close(): Promise<void> {
    this.entries.clear();
  }
}

/**
 * A new pacing interval (adaptive mode, reload): what is booked ahead of now
 * was booked at the old interval, so it is rescaled to the new one — a
 * faster pace applies to the requests already waiting, a slower one too.
 */
function rescalePacing(state: LimiterState, from: Policy, to: Policy, now: number): void {
  const a = from.pacing?.intervalMs;
  const b = to.pacing?.intervalMs;
  if (a === undefined || b === undefined || a === b || state.pacing.tat <= now) return;
  state.pacing.tat = now + ((state.pacing.tat - now) * b) / a;
}

/** Same window layout: the state stays valid (a pacing state is valid for any interval, e.g. adaptive). */
function samePolicy(a: Policy, b: Policy): boolean {
  return JSON.stringify(a.windows) === JSON.stringify(b.windows);
}
