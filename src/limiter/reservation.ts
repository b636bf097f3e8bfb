/**
 * Reserve, then settle. At admission a request is charged what it may cost
 * (input counted, output = max_tokens or an estimate); when its answer ends,
 * each charge is corrected to the real usage in the segment where it was
 * made. A request that was never sent gives everything back, pacing slot
 * included. Each reservation settles exactly once, whatever path ends it.
 */
import { ZERO_COST, type Cost, type Ticket } from "../core/policy.ts";
import { log } from "../log.ts";
import type { LimiterRef, Store } from "../store/store.ts";

interface Hold {
  readonly ref: LimiterRef;
  readonly ticket: Ticket;
  readonly reserved: Cost;
}

export class Reservation {
  /** Made on the first hold: most requests through an unlimited path hold nothing. */
  private holds: Hold[] | null = null;
  private done = false;

  constructor(private readonly store: Store) {}

  hold(ref: LimiterRef, ticket: Ticket, reserved: Cost): void {
    (this.holds ??= []).push({ ref, ticket, reserved });
  }

  /** Whether anything is held that must be settled. */
  get holding(): boolean {
    return this.holds !== null && !this.done;
  }

  /** Corrects every charge to what the request really cost. */
  settle(actual: Cost): void {
    if (this.done) return;
    this.done = true;
    for (const h of this.holds ?? []) {
      const delta: Cost = {
        requests: actual.requests - h.reserved.requests,
        input_tokens: actual.input_tokens - h.reserved.input_tokens,
        output_tokens: actual.output_tokens - h.reserved.output_tokens,
        usd: (actual.usd ?? 0) - (h.reserved.usd ?? 0),
      };
      if (delta.requests === 0 && delta.input_tokens === 0 && delta.output_tokens === 0 && delta.usd === 0) continue;
      this.store.settle(h.ref, h.ticket, delta).catch((e: unknown) => log.warn(`settle failed for ${h.ref.id}: ${String(e)}`));
    }
  }

  /** The request never reached the upstream: every charge and slot back. */
  giveBack(): void {
    if (this.done) return;
    this.done = true;
    for (const h of this.holds ?? []) {
      this.store.giveBack(h.ref, h.ticket, h.reserved).catch((e: unknown) => log.warn(`give-back failed for ${h.ref.id}: ${String(e)}`));
    }
  }
}

/** A sent request whose answer carried no usable usage: one request, no tokens. */
export const SENT_NOTHING_USED: Cost = { ...ZERO_COST, requests: 1 };
