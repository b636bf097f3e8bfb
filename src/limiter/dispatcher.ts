/**
 * One waiting line per provider. Requests that cannot go at once wait here
 * and are released at the cadence the store allows. The dispatcher claims a
 * slot only for the head of the line, and only when that slot is near
 * (`horizonMs`), so leaving the line, reordering it or changing a limit
 * needs no undo: until its claim, a waiting request is plain data.
 */
import type { Clock } from "../clock.ts";
import { ZERO_COST, costOf, type Cost, type Decision, type Ticket, type WindowStatus } from "../core/policy.ts";
import { ApiError, errors } from "../errors.ts";
import { sleep } from "../sleep.ts";
import type { AcquireItem, LeaseCap, LimiterRef, Store } from "../store/store.ts";
import type { ConcurrencyGate } from "./concurrency-gate.ts";
import { FairQueue, type FairNode } from "./fair-queue.ts";
import { LeaseBook, type LeaseTake } from "./lease-book.ts";

export interface DispatcherOptions {
  readonly name: string;
  /** How errors name this line, e.g. "provider 'openai'" (default: the name quoted). */
  readonly subject?: string;
  readonly store: Store;
  readonly clock: Clock;
  /** null = wait as long as it takes. */
  readonly maxWaitMs: number | null;
  /** null = no cap on requests in flight upstream. */
  readonly maxConcurrent: number | null;
  /** How far ahead of its slot the head claims it, so timer jitter does not slow the cadence. */
  readonly horizonMs?: number;
  /** Caps shared with other lines (e.g. the provider's max_concurrent across its models' lines). */
  readonly gates?: readonly ConcurrencyGate[];
  /**
   * With a shared store (one that has takeLease): the limiters whose leases
   * make maxConcurrent (`own`) and each gate (`gates[i]`) hold across every
   * node, not just this one. Each node still keeps its own count too.
   */
  readonly leases?: { readonly own: LimiterRef; readonly gates?: readonly LimiterRef[] };
}

export interface AdmitRequest {
  /** The limiters this request must fit, with its cost in each (first: the line's own). */
  readonly items: readonly AcquireItem[];
  readonly signal?: AbortSignal;
  /** A retry keeps its place ahead of newcomers. */
  readonly front?: boolean;
  /** Whose request this is (the client key): the line is shared fairly between flows. */
  readonly flow?: string;
  /** The flow's share relative to others (default 1). */
  readonly weight?: number;
  /** Higher goes first (default 0). */
  readonly priority?: number;
}

export interface Permit {
  readonly items: readonly AcquireItem[];
  readonly tickets: readonly Ticket[];
  /** Per item, its windows after this charge. */
  readonly status: readonly (readonly WindowStatus[])[];
  /** Time spent waiting in line, ms. */
  readonly waitedMs: number;
  /**
   * Whether the line caps requests in flight (max_concurrent, or a gate shared
   * with other lines): then release() must wait for the end of the answer.
   * Otherwise releasing early only moves the in-flight count.
   */
  readonly capped: boolean;
  /** Frees the concurrency slot; call once the upstream exchange has ended. Idempotent. */
  release(): void;
}

/** A permit as a class: one object per request, no closure. */
class LinePermit implements Permit {
  private done = false;

  constructor(
    private readonly line: Dispatcher,
    readonly items: readonly AcquireItem[],
    readonly tickets: readonly Ticket[],
    readonly status: readonly (readonly WindowStatus[])[],
    readonly waitedMs: number,
    readonly capped: boolean,
    private readonly lease: string | null,
  ) {}

  release(): void {
    if (this.done) return;
    this.done = true;
    this.line.released(this.lease);
  }
}

/**
 * A request waiting in the line. It is its own abort listener (handleEvent):
 * no closure per waiter, since thousands may wait at once.
 */
class Waiter implements FairNode {
  prev: Waiter | null = null;
  next: Waiter | null = null;
  queued = false;
  phase: "queued" | "claimed" | "done" = "queued";
  timer: ReturnType<typeof setTimeout> | null = null;
  tickets: readonly Ticket[] | null = null;
  status: readonly (readonly WindowStatus[])[] = NO_STATUS;
  /** Whether it listens for its client's abort. */
  listening = false;
  /** Its shared concurrency lease, once taken (leases across nodes). */
  lease: string | null = null;
  readonly flow: string;
  readonly weight: number;
  readonly priority: number;
  readonly items: readonly AcquireItem[];
  readonly signal: AbortSignal | undefined;

  constructor(
    private readonly line: Dispatcher,
    req: AdmitRequest,
    readonly enqueuedAt: number,
    readonly deadline: number | null,
    readonly resolve: (p: Permit) => void,
    readonly reject: (e: Error) => void,
  ) {
    this.flow = req.flow ?? "";
    this.weight = req.weight ?? 1;
    this.priority = req.priority ?? 0;
    this.items = req.items;
    this.signal = req.signal;
  }

  /** The client went away. */
  handleEvent(): void {
    this.line.clientLeft(this);
  }
}

const NO_STATUS: readonly (readonly WindowStatus[])[] = [];

export interface DispatcherStats {
  readonly queued: number;
  /** Slots claimed, waiting for their send time. */
  readonly claimed: number;
  readonly inFlight: number;
  readonly lastSendTime: number | null;
  readonly sent: number;
  readonly timedOut: number;
  readonly cancelled: number;
}

const DEFAULT_HORIZON_MS = 20;

/** A store's failure as the client sees it: its own ApiError (on_failure), else 503 store unavailable. */
function asApiError(e: unknown): ApiError {
  return e instanceof ApiError ? e : errors.storeUnavailable();
}
/** Spaced pacing: the least gap between two sends of a line, as a fraction of the interval. */
const SPACED_MIN_GAP = 0.5;

export class Dispatcher {
  /** Fair between client keys (weighted deficit round robin), strict by priority, FIFO within a key. */
  private readonly queue = new FairQueue<Waiter>();
  private aheadCost: Cost = ZERO_COST;
  private inFlight = 0;
  /** Heads whose slot is held while the store decides (counted in inFlight, not yet sent). */
  private deciding = 0;
  /** Slot claimed, send time not yet reached. */
  private readonly claimedSet = new Set<Waiter>();
  private pumping = false;
  private wake: ReturnType<typeof setTimeout> | null = null;
  private closed = false;
  private lastSend: number | null = null;
  private counters = { sent: 0, timedOut: 0, cancelled: 0 };
  private opts: DispatcherOptions;
  /** Shared leases of claimed waiters and requests in flight (leases across nodes). */
  private readonly leases: LeaseBook;

  constructor(opts: DispatcherOptions) {
    this.opts = opts;
    this.leases = new LeaseBook(opts.store, () => this.leaseCaps());
  }

  /** A shared gate freed a slot this line was turned away for. */
  private readonly onGateFree = (): void => {
    if (this.queue.size > 0) this.pump();
  };

  /** The line waits for room: its own cap wakes it through released(), a full shared gate through whenFree. */
  private waitForRoom(): void {
    const gates = this.opts.gates;
    if (gates) for (const g of gates) if (!g.hasRoom()) g.whenFree(this.onGateFree);
  }

  /** Room for one more request in flight, here and in every shared gate. */
  private hasRoom(): boolean {
    const { maxConcurrent, gates } = this.opts;
    if (maxConcurrent !== null && this.inFlight >= maxConcurrent) return false;
    return gates === undefined || gates.every((g) => g.hasRoom());
  }

  private takeSlot(): void {
    this.inFlight++;
    const gates = this.opts.gates;
    if (gates) for (const g of gates) g.take();
  }

  private freeSlot(): void {
    this.inFlight--;
    const gates = this.opts.gates;
    if (gates) for (const g of gates) g.release();
  }

  get name(): string {
    return this.opts.name;
  }

  get maxWaitMs(): number | null {
    return this.opts.maxWaitMs;
  }

  private get subject(): string {
    return this.opts.subject ?? `'${this.opts.name}'`;
  }

  /** Waits for this request's turn. Rejects with an ApiError (503 queue timeout, shutdown) or on abort. */
  admit(req: AdmitRequest): Promise<Permit> {
    if (this.closed) return Promise.reject(errors.shuttingDown());
    const now = this.opts.clock.now();
    const { store } = this.opts;
    // Fast path: nobody waiting, a slot free, an in-process store that decides synchronously.
    // (It does not ask whether the client is still there: reading a request's signal costs,
    // and a client gone before its first turn is caught by its upstream attempt's watch.)
    // (With shared leases every request goes through the line, where its lease is taken.)
    if (this.leasing()) return this.enqueueWaiter(req, now);
    if (store.acquireNow && this.queue.size === 0 && !this.pumping && !req.front && this.hasRoom() && this.spacingWaitMs(req.items) < 1) {
      const d = store.acquireNow(req.items, this.opts.horizonMs ?? DEFAULT_HORIZON_MS);
      if (d.allowed && d.delayMs < 1) {
        this.takeSlot();
        return Promise.resolve(this.permit(req.items, d.tickets, d.status, now, now));
      }
      if (d.allowed) this.giveBack(req.items, d.tickets);
    } else if (!store.acquireNow && this.queue.size === 0 && this.asking === 0 && !this.pumping && !req.front && this.hasRoom()) {
      return this.askDirectly(req, now);
    }
    return this.enqueueWaiter(req, now);
  }

  /** Set while a direct ask was refused and its request is joining the line, so newcomers queue behind it. */
  private asking = 0;

  /**
   * Fast path for a remote store (Redis): while nobody waits, concurrent
   * arrivals ask the store directly instead of one at a time through the
   * line, so the store can batch their decisions. One that is refused joins
   * the line like any other; from then on newcomers queue behind it.
   */
  private async askDirectly(req: AdmitRequest, now: number): Promise<Permit> {
    if (req.signal?.aborted) throw errors.clientClosed();
    this.takeSlot();
    let d: Decision;
    try {
      d = await this.opts.store.acquire(req.items, this.opts.horizonMs ?? DEFAULT_HORIZON_MS);
    } catch (e) {
      this.freeSlot();
      throw asApiError(e);
    }
    if (d.allowed) {
      const tickets = d.tickets;
      // Its slot is near (or spacing asks for a moment more): wait for it here, leaving it if the client goes.
      for (let wait = Math.max(d.delayMs, this.spacingWaitMs(req.items)); wait >= 1; wait = this.spacingWaitMs(req.items)) {
        if (await sleep(wait, req.signal)) {
          this.giveBack(req.items, tickets);
          this.freeSlot();
          this.counters.cancelled++;
          throw errors.clientClosed();
        }
      }
      if (this.closed) {
        this.giveBack(req.items, tickets);
        this.freeSlot();
        throw errors.shuttingDown();
      }
      return this.permit(req.items, tickets, d.status, now, this.opts.clock.now());
    }
    this.freeSlot();
    if (d.waitMs === Infinity) throw errors.neverFits(this.subject, d.never.flatMap((n) => n.names));
    if (req.signal?.aborted) throw errors.clientClosed();
    const wait = d.waitMs;
    if (this.opts.maxWaitMs !== null && wait > this.opts.maxWaitMs && this.queue.size === 0) {
      this.counters.timedOut++;
      throw errors.queueTimeout(this.subject, wait, `next slot in ${fmtS(wait)}, over max_wait_seconds`);
    }
    this.asking++;
    try {
      return await this.enqueueWaiter(req, now);
    } finally {
      this.asking--;
    }
  }

  private enqueueWaiter(req: AdmitRequest, now: number): Promise<Permit> {
    if (req.signal?.aborted) return Promise.reject(errors.clientClosed());
    const { maxWaitMs } = this.opts;
    return new Promise<Permit>((resolve, reject) => {
      const w = new Waiter(this, req, now, maxWaitMs === null ? null : now + maxWaitMs, resolve, reject);
      if (req.signal) {
        req.signal.addEventListener("abort", w, { once: true });
        w.listening = true;
      }
      const wasEmpty = this.queue.size === 0;
      if (!wasEmpty && maxWaitMs !== null && !req.front) {
        // Behind others: if the wait is knowable and too long, say so now.
        void this.estimateAndEnqueue(w, maxWaitMs);
        return;
      }
      this.enqueue(w, req.front === true);
    });
  }

  private async estimateAndEnqueue(w: Waiter, maxWaitMs: number): Promise<void> {
    const first = w.items[0];
    // In a fair line a light key behind another key's burst has few ahead of it: count those only.
    const aheadCount = this.queue.aheadOf(w);
    const share = this.queue.size > 0 ? aheadCount / this.queue.size : 0;
    const ahead = scale(this.aheadCost, share);
    let wait = 0;
    try {
      if (first) wait = await this.opts.store.estimateWait(first.ref, ahead, aheadCount, first.cost);
    } catch {
      wait = 0; // estimate unavailable: let the line decide
    }
    if (w.phase === "done") return; // aborted meanwhile
    if (this.closed) {
      // Closed while estimating: close() could not see this waiter.
      this.finish(w);
      w.reject(errors.shuttingDown());
      return;
    }
    if (wait === Infinity && first) {
      // Larger than a whole window: a 429 now, as at the head, not a 503 with Retry-After: Infinity.
      this.finish(w);
      w.reject(errors.neverFits(this.subject, first.ref.policy.windows.filter((x) => costOf(first.cost, x.dim) > x.limit).map((x) => x.name)));
      return;
    }
    if (wait > maxWaitMs) {
      this.counters.timedOut++;
      this.finish(w);
      w.reject(errors.queueTimeout(this.subject, wait, `${aheadCount} requests ahead, expected wait ${fmtS(wait)}`));
      return;
    }
    this.enqueue(w, false);
  }

  private enqueue(w: Waiter, front: boolean): void {
    const wasEmpty = this.queue.size === 0;
    if (front) this.queue.unshift(w);
    else this.queue.push(w);
    this.aheadCost = add(this.aheadCost, w.items[0]?.cost ?? ZERO_COST, 1);
    if (w.deadline !== null) {
      const ms = Math.max(0, w.deadline - this.opts.clock.now());
      w.timer = setTimeout(() => this.expire(w), ms);
    }
    // A newcomer behind a blocked head changes nothing until the head moves.
    if (wasEmpty || front || this.wake === null) this.pump();
  }

  /** Deadline reached while still in line. */
  private expire(w: Waiter): void {
    if (w.phase !== "queued") return;
    let position = 0;
    for (const n of this.queue) {
      if (n === w) break;
      position++;
    }
    this.leave(w, errors.queueTimeout(this.subject, this.opts.maxWaitMs ?? 0, `still ${position} requests ahead after the maximum wait`), "timedOut");
  }

  /** A waiter's client went away (Waiter.handleEvent). */
  clientLeft(w: Waiter): void {
    this.leave(w, errors.clientClosed(), "cancelled");
  }

  /** A waiter leaves before being sent: out of the line, slot given back, next one considered. */
  private leave(w: Waiter, err: ApiError, why: "cancelled" | "timedOut"): void {
    if (w.phase === "done") return;
    const wasHead = this.queue.peek() === w;
    if (w.phase === "claimed") this.unclaim(w);
    this.counters[why]++;
    this.finish(w);
    w.reject(err);
    if (wasHead || why === "cancelled") this.pump();
  }

  /** Returns a claimed slot that will not be used. */
  private unclaim(w: Waiter): void {
    this.claimedSet.delete(w);
    this.freeSlot();
    this.giveBack(w.items, w.tickets ?? []);
  }

  /** Gives the store back what a decision charged (a request that will not be sent). */
  private giveBack(items: readonly AcquireItem[], tickets: readonly (Ticket | undefined)[]): void {
    tickets.forEach((t, i) => {
      if (t) void this.opts.store.giveBack(items[i]!.ref, t, items[i]!.cost).catch(() => {});
    });
  }

  /** Takes a waiter out of every structure; it will not be touched again. */
  private finish(w: Waiter): void {
    if (w.queued) {
      this.queue.remove(w);
      this.aheadCost = add(this.aheadCost, w.items[0]?.cost ?? ZERO_COST, -1);
    }
    if (w.timer) clearTimeout(w.timer);
    w.timer = null;
    if (w.listening) w.signal?.removeEventListener("abort", w);
    w.listening = false;
    this.dropLease(w);
    w.phase = "done";
  }

  private pump(): void {
    if (this.pumping || this.closed) return;
    if (this.wake) {
      clearTimeout(this.wake);
      this.wake = null;
    }
    this.pumping = true;
    void this.run().catch((e: unknown) => {
      this.pumping = false;
      throw e;
    });
  }

  /**
   * Ends a run. The flag must drop in the same step as the run's last look at
   * the line: dropped a microtask later (a `.finally` on the run's promise), a
   * waiter enqueued in between would pump into a still-set flag and never be served.
   */
  private idle(): void {
    this.pumping = false;
  }

  private async run(): Promise<void> {
    const { clock } = this.opts;
    const horizon = this.opts.horizonMs ?? DEFAULT_HORIZON_MS;
    for (;;) {
      const head = this.queue.peek();
      if (!head || this.closed) return this.idle();
      if (!this.hasRoom()) {
        this.waitForRoom();
        return this.idle();
      }
      // The slot is held while the store decides: a line sharing a gate runs in those
      // awaits too, and checking room before and taking it after let both through.
      this.takeSlot();
      this.deciding++;
      const d = await this.decide(head, horizon);
      this.deciding--;
      const left = head.phase !== "queued" || this.queue.peek() !== head;
      // Only a head about to be sent keeps the slot.
      if (d === null || d === "retry" || !d.allowed || left) this.freeSlot();
      if (d === null) continue;
      if (d === "retry") return this.idle();
      if (left) {
        // It left (or was displaced) while the store was deciding: undo and look again.
        if (d.allowed) this.giveBack(head.items, d.tickets);
        continue;
      }
      if (!d.allowed) {
        if (d.waitMs === Infinity) {
          this.finish(head);
          head.reject(errors.neverFits(this.subject, d.never.flatMap((n) => n.names)));
          continue;
        }
        const now = clock.now();
        if (head.deadline !== null && now + d.waitMs > head.deadline) {
          this.counters.timedOut++;
          this.finish(head);
          head.reject(errors.queueTimeout(this.subject, d.waitMs, `next slot in ${fmtS(d.waitMs)}, over max_wait_seconds`));
          continue;
        }
        // Not its turn yet: its shared lease goes back meanwhile, for other nodes to use.
        this.dropLease(head);
        // waitMs already ends when the slot comes within the horizon (policy.check).
        this.sleep(Math.max(1, d.waitMs));
        return this.idle();
      }
      this.queue.remove(head);
      this.aheadCost = add(this.aheadCost, head.items[0]?.cost ?? ZERO_COST, -1);
      head.tickets = d.tickets;
      head.status = d.status;
      this.sendAfter(head, d.delayMs);
    }
  }

  /**
   * Sends a head whose slot is taken once `delayMs` has passed and, under
   * spaced pacing, no sooner than half an interval after this line's last
   * send. Slots are fixed in advance (the rate stays exact), so a send whose
   * timer fired late would otherwise be followed by the next one on time:
   * two requests a few ms apart where the config promised one per interval.
   */
  private sendAfter(w: Waiter, delayMs: number): void {
    const wait = Math.max(delayMs, this.spacingWaitMs(w.items));
    if (wait < 1) {
      this.claimedSet.delete(w);
      return this.grant(w);
    }
    if (w.phase === "queued") {
      w.phase = "claimed";
      this.claimedSet.add(w);
    }
    if (w.timer) clearTimeout(w.timer); // its slot is claimed: the deadline no longer applies
    w.timer = setTimeout(() => {
      w.timer = null;
      this.sendAfter(w, 0);
    }, wait);
  }

  /** How long spaced pacing (capacity 1) still holds the next send of these items back: half an interval after the last. */
  private spacingWaitMs(items: readonly AcquireItem[]): number {
    if (this.lastSend === null) return 0;
    let gap = 0;
    for (const it of items) {
      const p = it.ref.policy.pacing;
      if (p !== null && p.capacity <= 1 && p.intervalMs > gap) gap = p.intervalMs;
    }
    if (gap === 0) return 0;
    // At most half an interval, even if the clock stepped back since the last send.
    return Math.min(gap * SPACED_MIN_GAP, this.lastSend + gap * SPACED_MIN_GAP - this.opts.clock.now());
  }

  /**
   * The store's decision for the head, after its shared lease when leasing;
   * null: the head left or the store failed it meanwhile (look at the line
   * again); "retry": the shared caps are full across nodes (a look is scheduled).
   */
  private async decide(head: Waiter, horizon: number): Promise<Decision | null | "retry"> {
    if (head.lease === null && this.leasing()) {
      const taken = await this.takeLeaseFor(head);
      if (taken !== "ok") return taken === "retry" ? "retry" : null;
    }
    try {
      return await this.opts.store.acquire(head.items, horizon);
    } catch (e) {
      this.storeFailed(head, e);
      return null;
    }
  }

  private sleep(ms: number): void {
    if (this.wake) clearTimeout(this.wake);
    this.wake = setTimeout(() => {
      this.wake = null;
      this.pump();
    }, ms);
  }

  private grant(w: Waiter): void {
    const now = this.opts.clock.now();
    const lease = w.lease;
    w.lease = null; // the permit holds it now
    this.finish(w);
    w.resolve(this.permit(w.items, w.tickets ?? [], w.status, w.enqueuedAt, now, lease));
  }

  /** Whether this line caps requests in flight, itself or through a gate shared with other lines. */
  private capped(): boolean {
    return this.opts.maxConcurrent !== null || (this.opts.gates?.length ?? 0) > 0;
  }

  /** Whether this line's caps are shared across nodes (a shared store, and a cap). */
  private leasing(): boolean {
    return this.opts.leases !== undefined && this.opts.store.takeLease !== undefined && this.capped();
  }

  /** The shared caps of this line (none unless leasing). */
  private leaseCaps(): LeaseCap[] {
    const { leases, maxConcurrent, gates } = this.opts;
    if (!leases || !this.leasing()) return [];
    const caps: LeaseCap[] = [];
    if (maxConcurrent !== null) caps.push({ ref: leases.own, max: maxConcurrent });
    (gates ?? []).forEach((g, i) => {
      const ref = leases.gates?.[i];
      if (ref) caps.push({ ref, max: g.max });
    });
    return caps;
  }

  /**
   * Takes a shared lease for the head (when leasing): "ok" (taken), "retry"
   * (full across the nodes: a look is scheduled), "gone" (the head left or the
   * store failed it meanwhile: look at the line again).
   */
  private async takeLeaseFor(head: Waiter): Promise<"ok" | "retry" | "gone"> {
    let got: LeaseTake;
    try {
      got = await this.leases.take();
    } catch (e) {
      this.storeFailed(head, e);
      return "gone";
    }
    if ("retryInMs" in got) {
      this.sleep(got.retryInMs);
      return "retry";
    }
    if (head.phase !== "queued" || this.queue.peek() !== head || this.closed) {
      this.leases.drop(got.id);
      return "gone";
    }
    head.lease = got.id;
    return "ok";
  }

  /** The store failed while deciding for the head: it is answered with the store's error (its on_failure rule). */
  private storeFailed(head: Waiter, e: unknown): void {
    if (head.phase !== "queued") return;
    this.finish(head);
    head.reject(asApiError(e));
  }

  /** A waiter's lease goes back (it leaves, or waits for its rate slot without it). */
  private dropLease(w: Waiter): void {
    if (w.lease === null) return;
    this.leases.drop(w.lease);
    w.lease = null;
  }

  /** A request released to the upstream; its slot in flight is freed by release(). */
  private permit(
    items: readonly AcquireItem[],
    tickets: readonly Ticket[],
    status: readonly (readonly WindowStatus[])[],
    enqueuedAt: number,
    now: number,
    lease: string | null = null,
  ): Permit {
    this.lastSend = now;
    this.counters.sent++;
    return new LinePermit(this, items, tickets, status, now - enqueuedAt, this.capped(), lease);
  }

  /** A permit's release: its slot back, its lease dropped, the next in line served. */
  released(lease: string | null): void {
    this.freeSlot();
    if (lease !== null) this.leases.drop(lease);
    if (this.queue.size > 0) this.pump();
  }

  /**
   * How long a request with these items would wait here now: pacing and
   * windows behind everyone already in line, plus — when the concurrency cap
   * is full — the line's turnover at `typicalMs` per exchange.
   */
  async expectedWaitMs(items: readonly AcquireItem[], typicalMs: number): Promise<number> {
    let wait = 0;
    for (const [i, it] of items.entries()) {
      const ahead = i === 0 ? this.aheadCost : ZERO_COST;
      const n = i === 0 ? this.queue.size : 0;
      wait = Math.max(wait, await this.opts.store.estimateWait(it.ref, ahead, n, it.cost));
    }
    const cap = this.opts.maxConcurrent ?? Math.min(...(this.opts.gates ?? []).map((g) => g.max));
    if (Number.isFinite(cap) && !this.hasRoom()) wait = Math.max(wait, ((this.queue.size + 1) / cap) * typicalMs);
    return wait;
  }

  stats(): DispatcherStats {
    return {
      queued: this.queue.size,
      claimed: this.claimedSet.size,
      inFlight: this.inFlight - this.claimedSet.size - this.deciding,
      lastSendTime: this.lastSend,
      ...this.counters,
    };
  }

  /** New limits for a line that keeps its waiting requests (config reload). */
  update(opts: Partial<Pick<DispatcherOptions, "maxWaitMs" | "maxConcurrent" | "subject">>): void {
    this.opts = { ...this.opts, ...opts };
    if (this.queue.size > 0) this.pump();
  }

  /** Answers every waiting request 503 and refuses new ones (shutdown, or its provider removed). */
  close(err: () => ApiError = errors.shuttingDown): void {
    this.closed = true;
    if (this.wake) clearTimeout(this.wake);
    this.wake = null;
    for (const w of [...this.claimedSet, ...this.queue]) {
      if (w.phase === "claimed") this.unclaim(w);
      this.finish(w);
      w.reject(err());
    }
  }
}

function scale(c: Cost, f: number): Cost {
  return { requests: c.requests * f, input_tokens: c.input_tokens * f, output_tokens: c.output_tokens * f, usd: (c.usd ?? 0) * f };
}

function add(a: Cost, b: Cost, sign: 1 | -1): Cost {
  return {
    requests: a.requests + sign * b.requests,
    input_tokens: a.input_tokens + sign * b.input_tokens,
    output_tokens: a.output_tokens + sign * b.output_tokens,
    usd: (a.usd ?? 0) + sign * (b.usd ?? 0),
  };
}

function fmtS(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
