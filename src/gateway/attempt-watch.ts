/**
 * Watches a provider's upstream attempts until their response headers come:
 * times them out, and aborts them when their client leaves. One ticking timer
 * per provider replaces a timer and an abort listener per attempt (together
 * about 4 µs of a request's CPU):
 * - every attempt of a provider has the same timeout, so attempts time out in
 *   the order they were sent: a tick looks at the oldest only;
 * - a client's leaving is heard through a listener that an attempt gets at the
 *   first tick it is still waiting (so at once for a slow upstream); one that
 *   leaves before that is noticed at that tick. Answers that come within a
 *   tick, most of them, never pay for a listener.
 * A timeout fires up to a tick late; a tick is a tenth of the timeout, at
 * least 5 ms and at most 100 ms.
 */
import { systemClock, type Clock } from "../clock.ts";
import { linkLast, unlink, type Ends, type Linked } from "../limiter/linked-list.ts";
import type { AbortHook } from "../http1/pool.ts";

/**
 * Whose attempt it is: its signal is read only at a tick (Bun sets up a
 * request's signal when first asked, and gives an aborted one to a late asker).
 */
export interface Client {
  readonly signal: AbortSignal;
}

/**
 * One attempt in flight. fetch listens to `signal` (made when first read);
 * the HTTP/1.1 pool sets `onAbort` instead (no signal, no listener).
 */
export class Attempt implements Linked, AbortHook {
  prev: Attempt | null = null;
  next: Attempt | null = null;
  private controller: AbortController | null = null;
  onAbort: (() => void) | null = null;
  aborted = false;
  timedOut = false;
  /** Still in the watch's list (not ended, not timed out). */
  watched = true;
  /** Listening to the client's signal (it is this object's handleEvent). */
  listening = false;

  constructor(
    readonly client: Client,
    readonly deadline: number,
  ) {}

  get signal(): AbortSignal {
    if (this.controller === null) {
      this.controller = new AbortController();
      if (this.aborted) this.controller.abort();
    }
    return this.controller.signal;
  }

  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    this.controller?.abort();
    const hook = this.onAbort;
    this.onAbort = null;
    hook?.();
  }

  /** The client left. */
  handleEvent(): void {
    this.abort();
  }
}

export class AttemptWatch {
  private readonly list: Ends<Attempt> = { head: null, tail: null };
  /** The first attempt not yet seen by a tick (it and all after it have no listener yet). */
  private young: Attempt | null = null;
  private timer: ReturnType<typeof setInterval> | null = null;
  private idleTicks = 0;
  private count = 0;
  private readonly tickMs: number;

  constructor(
    private readonly timeoutMs: number,
    private readonly clock: Clock = systemClock,
  ) {
    this.tickMs = Math.min(100, Math.max(5, timeoutMs / 10));
  }

  /** Starts watching an attempt made for a client. */
  start(client: Client): Attempt {
    const a = new Attempt(client, this.clock.now() + this.timeoutMs);
    linkLast(this.list, a);
    this.count++;
    if (this.young === null) this.young = a;
    if (this.timer === null) {
      this.timer = setInterval(() => this.tick(), this.tickMs);
      this.timer.unref?.();
    }
    return a;
  }

  /**
   * The attempt has its response headers (or failed): no timeout any more. A
   * listener it got stays until the client's request is over, so a client
   * that leaves still aborts the body read.
   */
  end(a: Attempt): void {
    if (!a.watched) return;
    a.watched = false;
    if (a === this.young) this.young = a.next;
    unlink(this.list, a);
    this.count--;
  }

  /** Attempts being watched. */
  get size(): number {
    return this.count;
  }

  /** Whether the timer runs (it stops once idle). */
  get ticking(): boolean {
    return this.timer !== null;
  }

  private tick(): void {
    for (let a = this.young; a; a = a.next) {
      const signal = a.client.signal;
      if (signal.aborted) a.abort();
      else {
        signal.addEventListener("abort", a, { once: true });
        a.listening = true;
      }
    }
    this.young = null;
    const now = this.clock.now();
    for (let a = this.list.head; a !== null && a.deadline <= now; a = this.list.head) {
      this.end(a);
      a.timedOut = true;
      a.abort();
    }
    // Idle for two ticks in a row: stop ticking (a busy gateway keeps its timer instead of re-arming it per request).
    if (this.list.head !== null) this.idleTicks = 0;
    else if (++this.idleTicks >= 2) {
      if (this.timer !== null) clearInterval(this.timer);
      this.timer = null;
      this.idleTicks = 0;
    }
  }
}
