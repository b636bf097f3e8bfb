/**
 * The mock's own rate limits, so it can play an upstream that answers 429
 * the way OpenAI does. A sliding 60 s window per dimension, kept as a queue
 * of (time, amount) entries: exact, and only paid for when a limit is set.
 *
 * Token cost of a request = prompt tokens + completion tokens. The mock knows
 * its completion before answering, so it charges the real amount rather than
 * reserving `max_tokens`. A single request larger than the whole `tpm` is
 * charged as `tpm` (it passes once the window is empty) instead of being
 * refused forever, so a retrying gateway cannot spin on it.
 *
 * Header semantics: `remaining` counts after this request; `reset` is the time
 * until the oldest counted entry leaves the window, i.e. until at least one
 * more unit is given back ("0s" when nothing is counted).
 */
import { formatDuration } from "../duration.ts";

const WINDOW_MS = 60_000;

/** FIFO of timed amounts with a running sum; the head index avoids O(n) shift(). */
class TimedQueue {
  private times: number[] = [];
  private amounts: number[] = [];
  private head = 0;
  sum = 0;

  get size(): number {
    return this.times.length - this.head;
  }

  oldest(): number | undefined {
    return this.times[this.head];
  }

  push(time: number, amount: number): void {
    this.times.push(time);
    this.amounts.push(amount);
    this.sum += amount;
  }

  /** Drops entries at or before `cutoff` (they have left the window). */
  evict(cutoff: number): void {
    while (this.head < this.times.length && this.times[this.head]! <= cutoff) {
      this.sum -= this.amounts[this.head]!;
      this.head++;
    }
    // Compact now and then so memory stays proportional to the window.
    if (this.head > 1024 && this.head * 2 > this.times.length) {
      this.times = this.times.slice(this.head);
      this.amounts = this.amounts.slice(this.head);
      this.head = 0;
    }
  }

  /** Time at which `need` more units have left the window (entry time + window). */
  freedBy(need: number): number {
    let freed = 0;
    for (let i = this.head; i < this.times.length; i++) {
      freed += this.amounts[i]!;
      if (freed >= need) return this.times[i]! + WINDOW_MS;
    }
    return (this.times[this.times.length - 1] ?? 0) + WINDOW_MS;
  }

  clear(): void {
    this.times = [];
    this.amounts = [];
    this.head = 0;
    this.sum = 0;
  }
}

export interface LimitSpec {
  rpm?: number;
  tpm?: number;
}

export type Admission =
  | { ok: true; headers: Record<string, string> }
  | {
      ok: false;
      type: "requests" | "tokens";
      retryAfterMs: number;
      message: string;
      headers: Record<string, string>;
    };

export class OwnLimits {
  private readonly requests = new TimedQueue();
  private readonly tokens = new TimedQueue();

  constructor(private readonly spec: LimitSpec) {}

  get active(): boolean {
    return this.spec.rpm !== undefined || this.spec.tpm !== undefined;
  }

  /** Checks every dimension first, then records in all: a refused request costs nothing. */
  admit(tokenCost: number, now: number): Admission {
    const { rpm, tpm } = this.spec;
    const cutoff = now - WINDOW_MS;
    this.requests.evict(cutoff);
    this.tokens.evict(cutoff);
    const cost = tpm === undefined ? tokenCost : Math.min(tokenCost, tpm);

    if (rpm !== undefined && this.requests.size + 1 > rpm) {
      const at = this.requests.freedBy(this.requests.size + 1 - rpm);
      return this.refuse("requests", at - now, `Limit ${rpm}, Used ${this.requests.size}, Requested 1.`, now);
    }
    if (tpm !== undefined && this.tokens.sum + cost > tpm) {
      const at = this.tokens.freedBy(this.tokens.sum + cost - tpm);
      return this.refuse("tokens", at - now, `Limit ${tpm}, Used ${this.tokens.sum}, Requested ${cost}.`, now);
    }
    if (rpm !== undefined) this.requests.push(now, 1);
    if (tpm !== undefined) this.tokens.push(now, cost);
    return { ok: true, headers: this.headers(now) };
  }

  reset(): void {
    this.requests.clear();
    this.tokens.clear();
  }

  private refuse(type: "requests" | "tokens", waitMs: number, detail: string, now: number): Admission {
    const retryAfterMs = Math.max(waitMs, 0);
    const headers = this.headers(now);
    // Whole seconds, at least 1, rounded up so a client that obeys never comes back early.
    headers["retry-after"] = String(Math.max(1, Math.ceil(retryAfterMs / 1000)));
    const dimension = type === "requests" ? "requests per min (RPM)" : "tokens per min (TPM)";
    const message =
      `Rate limit reached on the limitrate mock upstream on ${dimension}: ${detail} ` +
      `Please try again in ${formatDuration(retryAfterMs)}.`;
    return { ok: false, type, retryAfterMs, message, headers };
  }

  private headers(now: number): Record<string, string> {
    const h: Record<string, string> = {};
    const { rpm, tpm } = this.spec;
    if (rpm !== undefined) {
      h["x-ratelimit-limit-requests"] = String(rpm);
      h["x-ratelimit-remaining-requests"] = String(Math.max(0, rpm - this.requests.size));
      h["x-ratelimit-reset-requests"] = resetIn(this.requests, now);
    }
    if (tpm !== undefined) {
      h["x-ratelimit-limit-tokens"] = String(tpm);
      h["x-ratelimit-remaining-tokens"] = String(Math.max(0, tpm - this.tokens.sum));
      h["x-ratelimit-reset-tokens"] = resetIn(this.tokens, now);
    }
    return h;
  }
}

function resetIn(q: TimedQueue, now: number): string {
  const oldest = q.oldest();
  return formatDuration(oldest === undefined ? 0 : oldest + WINDOW_MS - now);
}

