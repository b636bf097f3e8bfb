/**
 * Decoding the scripts' flat replies (lua/acquire.ts, lua/status.ts) into the
 * core's shapes: Decision, WindowStatus. Window names, dimensions and limits
 * come from the policy; the reply carries only numbers.
 */
import type { Decision, Policy, Ticket, WindowStatus } from "../core/policy.ts";
import { num } from "./lua/layout.ts";
import type { AcquireItem } from "./store.ts";

/** Reads a flat script reply left to right. */
export class Cursor {
  private i = 0;
  constructor(private readonly r: readonly unknown[]) {}
  int(): number {
    return Number(this.r[this.i++]);
  }
  num(): number {
    return num(this.r[this.i++]);
  }
  /** A count, then that many integers. */
  ints(): number[] {
    const n = this.int();
    const out: number[] = [];
    for (let j = 0; j < n; j++) out.push(this.int());
    return out;
  }
  /** n, then n × (used, reset_ms): a limiter's windows. */
  status(policy: Policy): WindowStatus[] {
    const n = this.int();
    const out: WindowStatus[] = [];
    for (let j = 0; j < n; j++) {
      const w = policy.windows[j]!;
      const used = this.num();
      out.push({ name: w.name, dim: w.dim, limit: w.limit, used, remaining: Math.max(0, w.limit - used), resetMs: this.num() });
    }
    return out;
  }
}

function names(policy: Policy, idx: readonly number[]): string[] {
  return idx.map((i) => (i === 0 ? "pacing" : i === -1 ? "hold" : policy.windows[i - 1]!.name));
}

/** One decision of the acquire script's reply (lua/acquire.ts). */
export function decodeDecision(items: readonly AcquireItem[], c: Cursor): Decision {
  const allowed = c.int() === 1;
  const time = c.num();
  if (allowed) {
    const tickets: Ticket[] = items.map(() => {
      const paced = c.int() === 1;
      const n = c.int();
      const segments: number[] = [];
      for (let j = 0; j < n; j++) segments.push(c.num());
      return { segments, paced };
    });
    const status = items.map((it) => c.status(it.ref.policy));
    return { allowed: true, delayMs: time, tickets, status };
  }
  const blocked: { item: number; names: readonly string[] }[] = [];
  const never: { item: number; names: readonly string[] }[] = [];
  const status = items.map((it, k) => {
    const b = c.ints();
    const n = c.ints();
    if (b.length) blocked.push({ item: k, names: names(it.ref.policy, b) });
    if (n.length) never.push({ item: k, names: names(it.ref.policy, n) });
    return c.status(it.ref.policy);
  });
  return { allowed: false, waitMs: time, blocked, never, status };
}
