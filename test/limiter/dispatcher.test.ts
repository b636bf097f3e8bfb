// The per-provider line over a MemoryStore. Time is fully simulated: a FakeClock
// for the store and the dispatcher, and bun's fake timers for its wake-ups,
// moved together 1 ms at a time by tick(). No real sleeping, no flakiness.
import { afterEach, beforeEach, describe, expect, jest, test } from "bun:test";
import type { Cost, Policy } from "../../src/core/policy.ts";
import { ApiError } from "../../src/errors.ts";
import { ConcurrencyGate } from "../../src/limiter/concurrency-gate.ts";
import { Dispatcher, type DispatcherOptions, type Permit } from "../../src/limiter/dispatcher.ts";
import { MemoryStore } from "../../src/store/memory-store.ts";
import type { LimiterRef } from "../../src/store/store.ts";
import { EPOCH as T0, FakeClock } from "../helpers/fake-clock.ts";

let clock: FakeClock;
let store: MemoryStore;
let acquires: number;

beforeEach(() => {
  jest.useFakeTimers();
  clock = new FakeClock();
  store = new MemoryStore(clock);
  acquires = 0;
  const acquire = store.acquire.bind(store);
  store.acquire = (items, horizon) => {
    acquires++;
    return acquire(items, horizon);
  };
});
afterEach(() => {
  jest.useRealTimers();
});

async function flush(): Promise<void> {
  for (let i = 0; i < 30; i++) await Promise.resolve();
}

/** Moves fake time and fake timers together, 1 ms at a time. */
async function tick(ms: number): Promise<void> {
  await flush();
  for (let i = 0; i < ms; i++) {
    clock.advance(1);
    jest.advanceTimersByTime(1);
    await flush();
  }
}

const SPACED_100: Policy = { pacing: { intervalMs: 100, capacity: 1 }, windows: [] };
const cost = (requests = 1, input_tokens = 0, output_tokens = 0): Cost => ({ requests, input_tokens, output_tokens });

function line(policy: Policy, opts: Partial<DispatcherOptions> = {}): { d: Dispatcher; ref: LimiterRef } {
  const ref: LimiterRef = { id: "prov:test", policy };
  return { d: new Dispatcher({ name: "test", store, clock, maxWaitMs: null, maxConcurrent: null, ...opts }), ref };
}

interface Outcome {
  id: number;
  at: number;
  permit?: Permit;
  error?: ApiError;
}

/**
 * Admits `n` requests and records when (fake time) and in which order each is
 * answered. They arrive one after another, each once the previous admit() has
 * settled into the line (as separate HTTP requests would); `together`: all in
 * one synchronous step.
 */
async function track(d: Dispatcher, ref: LimiterRef, n: number, c: Cost = cost(), signals: (AbortSignal | undefined)[] = [], together = false) {
  const granted: Outcome[] = [];
  const failed: Outcome[] = [];
  for (let id = 0; id < n; id++) {
    d.admit({ items: [{ ref, cost: c }], signal: signals[id] }).then(
      (permit) => granted.push({ id, at: clock.now(), permit }),
      (error: ApiError) => failed.push({ id, at: clock.now(), error }),
    );
    if (!together) await flush();
  }
  return { granted, failed };
}

describe("pacing", () => {
  test("spaced: 10 requests released in FIFO order, exactly one interval apart", async () => {
    const { d, ref } = line(SPACED_100);
    const { granted, failed } = await track(d, ref, 10);
    await tick(1_000);
    expect(failed).toEqual([]);
    expect(granted.map((g) => g.id)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(granted.map((g) => g.at - T0)).toEqual([0, 100, 200, 300, 400, 500, 600, 700, 800, 900]);
    expect(granted.map((g) => g.permit!.waitedMs)).toEqual([0, 100, 200, 300, 400, 500, 600, 700, 800, 900]);
    expect(d.stats()).toMatchObject({ queued: 0, claimed: 0, inFlight: 10, sent: 10, lastSendTime: T0 + 900 });
  });

  test("the head wakes when its slot is near, not in a 1 ms spin", async () => {
    const { d, ref } = line(SPACED_100);
    const { granted } = await track(d, ref, 10);
    await tick(1_000);
    expect(granted.length).toBe(10);
    expect(acquires).toBeLessThanOrEqual(2 * 10 + 2);
  });

  test("spaced: a send whose timer fired late is not followed by a catch-up pair; the schedule stays exact", async () => {
    const { d, ref } = line(SPACED_100);
    const { granted } = await track(d, ref, 5);
    await tick(99); // request 1's slot (100) is claimed, its timer due at 100
    // The event loop is held for 91 ms: the clock runs, the timers due meanwhile fire late, all at 190.
    clock.advance(91);
    jest.advanceTimersByTime(91);
    await tick(400);
    // Request 2's slot is 200, but 10 ms after a send would be a pair: it waits to half an interval.
    expect(granted.map((g) => g.at - T0)).toEqual([0, 190, 240, 300, 400]);
  });

  test("burst: a late send may be followed at once (bursts are allowed)", async () => {
    const { d, ref } = line({ pacing: { intervalMs: 100, capacity: 2 }, windows: [] });
    const { granted } = await track(d, ref, 5);
    await tick(99);
    clock.advance(91);
    jest.advanceTimersByTime(91);
    await tick(400);
    const at = granted.map((g) => g.at - T0);
    expect([at[0], at[1], at[2], at[4]]).toEqual([0, 0, 190, 300]);
    // Request 3's slot is 200 (fake timers set during the late stretch may fire early, at 190): not held to 240.
    expect(at[3]).toBeLessThanOrEqual(200);
  });

  test("burst: capacity at once, then one per interval", async () => {
    const { d, ref } = line({ pacing: { intervalMs: 100, capacity: 3 }, windows: [] });
    const { granted } = await track(d, ref, 6);
    await flush();
    expect(granted.map((g) => g.at - T0)).toEqual([0, 0, 0]);
    expect(d.stats()).toMatchObject({ queued: 3, sent: 3 });
    await tick(300);
    expect(granted.map((g) => g.at - T0)).toEqual([0, 0, 0, 100, 200, 300]);
    expect(granted.map((g) => g.id)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  test("a sliding window on tokens holds the line until its segment leaves", async () => {
    const policy: Policy = { pacing: null, windows: [{ name: "tpm", dim: "tokens", limit: 100, windowMs: 1_000, segments: 10 }] };
    const { d, ref } = line(policy);
    const { granted } = await track(d, ref, 3, cost(1, 60));
    await tick(999);
    expect(granted.map((g) => g.at - T0)).toEqual([0]);
    await tick(1_001);
    expect(granted.map((g) => g.at - T0)).toEqual([0, 1_000, 2_000]);
  });
});

describe("max_concurrent", () => {
  test("caps requests in flight; a release lets the next one go; release is idempotent", async () => {
    const { d, ref } = line({ pacing: null, windows: [] }, { maxConcurrent: 2 });
    const { granted } = await track(d, ref, 4);
    await tick(50);
    expect(granted.map((g) => g.id)).toEqual([0, 1]);
    expect(d.stats()).toMatchObject({ queued: 2, inFlight: 2, sent: 2 });
    granted[0]!.permit!.release();
    granted[0]!.permit!.release(); // twice: still frees one slot only
    await flush();
    expect(granted.map((g) => g.id)).toEqual([0, 1, 2]);
    expect(d.stats()).toMatchObject({ queued: 1, inFlight: 2, sent: 3 });
    granted[1]!.permit!.release();
    await flush();
    expect(granted.map((g) => g.id)).toEqual([0, 1, 2, 3]);
    expect(d.stats()).toMatchObject({ queued: 0, inFlight: 2 });
  });
});

describe("a max_concurrent gate shared by several lines (a provider's models)", () => {
  const UNLIMITED: Policy = { pacing: null, windows: [] };
  const shared = (gate: ConcurrencyGate, id: string, policy: Policy = UNLIMITED) => {
    const ref: LimiterRef = { id, policy };
    return { d: new Dispatcher({ name: id, store, clock, maxWaitMs: null, maxConcurrent: null, gates: [gate] }), ref };
  };
  /** Lines a and b behind one gate of `max`, with `na` and `nb` requests arriving. */
  const twoLines = async (max: number, na: number, nb: number, policyA: Policy = UNLIMITED) => {
    const gate = new ConcurrencyGate(max);
    const a = shared(gate, "model:a", policyA);
    const b = shared(gate, "model:b");
    const ta = await track(a.d, a.ref, na);
    const tb = await track(b.d, b.ref, nb);
    await flush();
    return { gate, a, b, ta, tb };
  };

  test("a freed slot that wakes two lines lets only one of them through", async () => {
    const { gate, a, b, ta, tb } = await twoLines(1, 3, 3);
    const released = new Set<Permit>();
    const live = () => [...ta.granted, ...tb.granted].map((g) => g.permit!).filter((p) => !released.has(p));
    expect(live().length).toBe(1);
    // Each release wakes both lines, and each of them asks the store (an await) before sending.
    for (let served = 1; served < 6; served++) {
      const p = live()[0]!;
      released.add(p);
      p.release();
      await flush();
      expect(live().length).toBe(1);
      expect(gate.used).toBe(1);
    }
    expect(ta.granted.length).toBe(3);
    expect(tb.granted.length).toBe(3);
    const [sa, sb] = [a.d.stats(), b.d.stats()];
    expect([sa.queued, sb.queued, sa.inFlight + sb.inFlight]).toEqual([0, 0, 1]);
  });

  test("a line waiting for its own pace is not asked again at every release of the other line", async () => {
    // a0 sent, a1 due in 1 s: waits for its pace, not for room; b0 sent, the rest wait for room
    const { gate, ta, tb } = await twoLines(2, 2, 6, { pacing: { intervalMs: 1_000, capacity: 1 }, windows: [] });
    expect([ta.granted.length, tb.granted.length, gate.used]).toEqual([1, 1, 2]);
    const before = acquires;
    for (let i = 0; i < 5; i++) {
      tb.granted.at(-1)!.permit!.release();
      await flush();
    }
    expect(tb.granted.length).toBe(6);
    expect(acquires - before).toBe(5); // b's five heads; a's head stayed asleep
    await tick(1_000); // a1's pace is due, but the gate is full (a0, b5): now it waits for room
    expect(ta.granted.length).toBe(1);
    tb.granted.at(-1)!.permit!.release();
    await flush();
    expect(ta.granted.length).toBe(2);
    expect(gate.used).toBe(2);
  });

  test("a raised cap (reload) lets the lines waiting for room go at once", async () => {
    const { gate, ta, tb } = await twoLines(1, 2, 2);
    expect(ta.granted.length + tb.granted.length).toBe(1);
    gate.resize(4);
    await flush();
    expect(ta.granted.length + tb.granted.length).toBe(4);
    expect(gate.used).toBe(4);
  });
});

describe("max_wait", () => {
  test("a request whose estimated wait exceeds max_wait is answered 503 at once, with an honest Retry-After", async () => {
    const { d, ref } = line({ pacing: { intervalMs: 1_000, capacity: 1 }, windows: [] }, { maxWaitMs: 2_500 });
    const { granted, failed } = await track(d, ref, 4);
    await flush();
    // 0 goes at once; 1 would go at +1 s, 2 at +2 s: within 2.5 s. 3 would go at +3 s.
    expect(granted.map((g) => g.id)).toEqual([0]);
    expect(failed.map((f) => [f.id, f.at - T0])).toEqual([[3, 0]]);
    const e = failed[0]!.error!;
    expect(e).toBeInstanceOf(ApiError);
    expect(e.status).toBe(503);
    expect(e.code).toBe("rate_limit_queue_timeout");
    expect(e.retryAfterS).toBe(3);
    expect(d.stats()).toMatchObject({ queued: 2, timedOut: 1 });
    await tick(2_000);
    expect(granted.map((g) => [g.id, g.at - T0])).toEqual([
      [0, 0],
      [1, 1_000],
      [2, 2_000],
    ]);
  });

  test("a head whose wait is over max_wait is answered at once too", async () => {
    const { d, ref } = line({ pacing: { intervalMs: 5_000, capacity: 1 }, windows: [] }, { maxWaitMs: 1_000 });
    const { granted, failed } = await track(d, ref, 2);
    await flush();
    expect(granted.map((g) => g.id)).toEqual([0]);
    expect(failed.map((f) => [f.id, f.at - T0, f.error!.status, f.error!.code])).toEqual([[1, 0, 503, "rate_limit_queue_timeout"]]);
    expect(failed[0]!.error!.retryAfterS).toBe(5); // 4.98 s to its claim, rounded up
  });

  // With an in-process store the head is decided synchronously on arrival, so a
  // request arriving in the same step does not count it twice. (An async store
  // can still count a head whose decision is in flight: a conservative estimate.)
  test("arriving while the head's decision is pending does not count the head twice", async () => {
    const { d, ref } = line({ pacing: { intervalMs: 5_000, capacity: 1 }, windows: [] }, { maxWaitMs: 6_000 });
    const { granted, failed } = await track(d, ref, 2, cost(), [], true);
    await flush();
    expect(failed).toEqual([]);
    await tick(5_000);
    expect(granted.map((g) => g.at - T0)).toEqual([0, 5_000]);
  });

  test("requests still in line at their deadline leave with 503 (here: held by max_concurrent)", async () => {
    const { d, ref } = line({ pacing: null, windows: [] }, { maxWaitMs: 3_000, maxConcurrent: 1 });
    const { granted, failed } = await track(d, ref, 3);
    await tick(2_999);
    expect(granted.map((g) => g.id)).toEqual([0]);
    expect(failed).toEqual([]);
    expect(d.stats()).toMatchObject({ queued: 2, inFlight: 1 });
    await tick(1);
    expect(failed.map((f) => [f.id, f.at - T0, f.error!.status, f.error!.code])).toEqual([
      [1, 3_000, 503, "rate_limit_queue_timeout"],
      [2, 3_000, 503, "rate_limit_queue_timeout"],
    ]);
    expect(failed[0]!.error!.retryAfterS).toBe(3);
    expect(d.stats()).toMatchObject({ queued: 0, inFlight: 1, timedOut: 2, sent: 1 });
    granted[0]!.permit!.release();
    await tick(10);
    expect(d.stats()).toMatchObject({ queued: 0, inFlight: 0, sent: 1 });
  });
});

describe("leaving the line", () => {
  test("abort while queued: removed at once, never granted, the next one moves up", async () => {
    const { d, ref } = line(SPACED_100);
    const ac = new AbortController();
    const { granted, failed } = await track(d, ref, 4, cost(), [undefined, undefined, ac.signal]);
    await tick(10);
    expect(d.stats().queued).toBe(3);
    ac.abort();
    await flush();
    expect(d.stats()).toMatchObject({ queued: 2, cancelled: 1 });
    expect(failed.map((f) => [f.id, f.error!.status, f.error!.code])).toEqual([[2, 499, "client_closed"]]);
    await tick(500);
    expect(granted.map((g) => [g.id, g.at - T0])).toEqual([
      [0, 0],
      [1, 100],
      [3, 200],
    ]);
  });

  test("abort of the head after it claimed its slot gives the slot back to the next one", async () => {
    const { d, ref } = line(SPACED_100);
    const ac = new AbortController();
    const { granted, failed } = await track(d, ref, 3, cost(), [undefined, ac.signal]);
    await tick(85); // 1 claims its slot (T0 + 100) 20 ms ahead
    expect(d.stats()).toMatchObject({ queued: 1, claimed: 1, inFlight: 1 });
    ac.abort();
    await flush();
    expect(d.stats()).toMatchObject({ queued: 0, claimed: 1, cancelled: 1 }); // 2 took the freed slot
    expect(failed.map((f) => f.id)).toEqual([1]);
    await tick(100);
    expect(granted.map((g) => [g.id, g.at - T0])).toEqual([
      [0, 0],
      [2, 100],
    ]);
    expect((await store.status(ref)).pacing).toEqual({ available: 0, nextSlotInMs: 15 });
  });

  test("a retry (front) goes ahead of those already waiting", async () => {
    const { d, ref } = line(SPACED_100, { maxWaitMs: 10_000 });
    const { granted } = await track(d, ref, 3);
    d.admit({ items: [{ ref, cost: cost() }], front: true }).then(() => granted.push({ id: 99, at: clock.now() }));
    await tick(300);
    expect(granted.map((g) => [g.id, g.at - T0])).toEqual([
      [0, 0],
      [99, 100],
      [1, 200],
      [2, 300],
    ]);
  });

  test("an already aborted signal is refused before queuing (the fast path does not look: the upstream attempt does)", async () => {
    const { d, ref } = line(SPACED_100);
    // Its turn is now: granted without reading the signal.
    const first = await d.admit({ items: [{ ref, cost: cost() }], signal: AbortSignal.abort() });
    first.release();
    // It would have to wait: refused, and never queued.
    const e = await d.admit({ items: [{ ref, cost: cost() }], signal: AbortSignal.abort() }).catch((x: ApiError) => x);
    expect((e as ApiError).code).toBe("client_closed");
    expect(d.stats().queued).toBe(0);
  });

  test("close() answers every waiting request 503 and refuses new ones; a claimed slot is given back", async () => {
    const { d, ref } = line(SPACED_100);
    const { granted, failed } = await track(d, ref, 4);
    await tick(85);
    expect(d.stats()).toMatchObject({ queued: 2, claimed: 1 });
    d.close();
    await flush();
    expect(granted.map((g) => g.id)).toEqual([0]);
    expect(failed.map((f) => [f.id, f.error!.status, f.error!.code])).toEqual([
      [1, 503, "shutting_down"],
      [2, 503, "shutting_down"],
      [3, 503, "shutting_down"],
    ]);
    expect(d.stats()).toMatchObject({ queued: 0, claimed: 0, inFlight: 1 });
    expect((await store.status(ref)).pacing!.nextSlotInMs).toBe(15); // back to T0 + 100
    const late = await d.admit({ items: [{ ref, cost: cost() }] }).catch((x: ApiError) => x);
    expect((late as ApiError).code).toBe("shutting_down");
    await tick(300);
    expect(granted.length).toBe(1);
  });
});

test("close() while a newcomer's wait is being estimated answers it 503 too", async () => {
  const { d, ref } = line(SPACED_100, { maxWaitMs: 10_000 });
  const { failed } = await track(d, ref, 2); // 0 sent, 1 waits
  const late = d.admit({ items: [{ ref, cost: cost() }] }).catch((x: ApiError) => x);
  d.close(); // before the estimate for `late` has come back
  expect(((await late) as ApiError).code).toBe("shutting_down");
  expect(failed.map((f) => f.error!.code)).toEqual(["shutting_down"]);
  expect(d.stats().queued).toBe(0);
});

describe("requests that never fit", () => {
  const TPM: Policy = { pacing: null, windows: [{ name: "tpm", dim: "tokens", limit: 100, windowMs: 60_000, segments: 60 }] };

  test("as head: 429 request_exceeds_limit, and the line goes on", async () => {
    const { d, ref } = line(TPM);
    const big = d.admit({ items: [{ ref, cost: cost(1, 150) }] }).catch((x: ApiError) => x);
    const ok = d.admit({ items: [{ ref, cost: cost(1, 50) }] });
    const e = (await big) as ApiError;
    expect([e.status, e.code]).toEqual([429, "request_exceeds_limit"]);
    expect(e.message).toContain("tpm");
    expect((await ok).tickets.length).toBe(1);
  });

  test("behind others with max_wait: 429 at once, not a 503 with a made-up Retry-After", async () => {
    const { d, ref } = line(TPM, { maxWaitMs: 120_000 });
    const { granted, failed } = await track(d, ref, 2, cost(1, 100)); // 0 fills the window, 1 waits a minute
    const big = d.admit({ items: [{ ref, cost: cost(1, 150) }] }).catch((x: ApiError) => x);
    await flush();
    expect(granted.map((g) => g.id)).toEqual([0]);
    expect(failed).toEqual([]);
    const e = (await big) as ApiError;
    expect([e.status, e.code, e.retryAfterS]).toEqual([429, "request_exceeds_limit", undefined]);
    expect(e.message).toContain("tpm");
    expect(d.stats()).toMatchObject({ queued: 1, timedOut: 0 });
  });
});

describe("wake-ups", () => {
  test("requests that arrive together behind a deciding head are all released (no lost wake-up)", async () => {
    const { d, ref } = line({ pacing: null, windows: [] }, { maxWaitMs: 10_000 });
    const { granted } = await track(d, ref, 5, cost(), [], true);
    await flush();
    expect(granted.map((g) => g.id)).toEqual([0, 1, 2, 3, 4]);
    expect(d.stats()).toMatchObject({ queued: 0, inFlight: 5, sent: 5 });
  });

  test("a newcomer to an idle line is released at once", async () => {
    const { d, ref } = line(SPACED_100, { maxWaitMs: 10_000 });
    const { granted } = await track(d, ref, 1);
    await tick(5_000);
    const late = await d.admit({ items: [{ ref, cost: cost() }] });
    expect(late.waitedMs).toBe(0);
    expect(granted.length).toBe(1);
  });
});

test("stats() over a mixed run", async () => {
  const { d, ref } = line(SPACED_100, { maxWaitMs: 250 });
  const ac = new AbortController();
  const { granted, failed } = await track(d, ref, 5, cost(), [undefined, undefined, ac.signal]);
  await flush();
  // 0 sent; 1 and 2 queued (wait ≤ 250 ms); 3 would wait 300 ms and 4 400 ms: refused at once.
  expect(d.stats()).toEqual({ queued: 2, claimed: 0, inFlight: 1, lastSendTime: T0, sent: 1, timedOut: 2, cancelled: 0 });
  ac.abort();
  await tick(100);
  expect(d.stats()).toEqual({ queued: 0, claimed: 0, inFlight: 2, lastSendTime: T0 + 100, sent: 2, timedOut: 2, cancelled: 1 });
  granted.forEach((g) => g.permit!.release());
  expect(d.stats().inFlight).toBe(0);
  expect(failed.map((f) => f.id).sort()).toEqual([2, 3, 4]);
});
