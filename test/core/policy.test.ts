// policy.decide / settle / giveBack / estimateWait: pure, explicit `now`.
import { describe, expect, test } from "bun:test";
import * as gcra from "../../src/core/gcra.ts";
import * as core from "../../src/core/policy.ts";
import type { Cost, LimiterState, Policy, WindowLimit } from "../../src/core/policy.ts";
import * as win from "../../src/core/sliding-window.ts";
import { EPOCH as T0 } from "../helpers/fake-clock.ts";
import { prng } from "./prng.ts";

const minute = (name: string, dim: WindowLimit["dim"], limit: number): WindowLimit => ({
  name,
  dim,
  limit,
  windowMs: 60_000,
  segments: 60,
});
const cost = (requests: number, input_tokens = 0, output_tokens = 0): Cost => ({ requests, input_tokens, output_tokens });

/** A client key: 3 rpm, 100 tpm. */
const KEY: Policy = { pacing: null, windows: [minute("rpm", "requests", 3), minute("tpm", "tokens", 100)] };
/** A provider: one request a second, 1000 input tokens a minute. */
const PROV: Policy = { pacing: { intervalMs: 1000, capacity: 1 }, windows: [minute("input_tpm", "input_tokens", 1000)] };

function used(state: LimiterState, policy: Policy, now: number): Record<string, number> {
  return Object.fromEntries(core.status(state, policy, now).map((w) => [w.name, w.used]));
}

/** A decision without its `status` (checked on its own below), for exact comparisons. */
type Bare = core.Decision extends infer D ? (D extends unknown ? Omit<D, "status"> : never) : never;
function strip(d: core.Decision): Bare {
  const { status: _status, ...rest } = d;
  return rest;
}

function decide1(state: LimiterState, policy: Policy, c: Cost, now: number, horizon = 0): Bare {
  return strip(core.decide([{ state, policy, cost: c }], now, horizon));
}

describe("decide: all or nothing", () => {
  test("a request refused by one item charges nothing in any item", () => {
    const key = core.newState(KEY);
    const prov = core.newState(PROV);
    expect(decide1(key, KEY, cost(1, 50, 40), T0).allowed).toBe(true); // key: rpm 1, tpm 90
    const d = strip(core.decide(
      [
        { state: prov, policy: PROV, cost: cost(1, 15, 5) },
        { state: key, policy: KEY, cost: cost(1, 15, 5) },
      ],
      T0 + 5_000,
      0,
    ));
    expect(d).toEqual({ allowed: false, waitMs: 55_000, blocked: [{ item: 1, names: ["tpm"] }], never: [] });
    expect(used(prov, PROV, T0 + 5_000)).toEqual({ input_tpm: 0 });
    expect(core.pacingNextSlot(prov, PROV, T0 + 5_000)).toBe(T0 + 5_000); // no pacing slot taken
    expect(used(key, KEY, T0 + 5_000)).toEqual({ rpm: 1, tpm: 90 });
  });

  test("a request refused on one dimension charges no other dimension", () => {
    const key = core.newState(KEY);
    for (let i = 0; i < 3; i++) expect(decide1(key, KEY, cost(1, 1), T0 + 200).allowed).toBe(true);
    const d = decide1(key, KEY, cost(1, 10), T0 + 300);
    expect(d.allowed).toBe(false);
    if (!d.allowed) expect(d.blocked).toEqual([{ item: 0, names: ["rpm"] }]);
    expect(used(key, KEY, T0 + 300)).toEqual({ rpm: 3, tpm: 3 });
  });

  test("every refusing dimension is named; the wait is the longest", () => {
    const key = core.newState(KEY);
    decide1(key, KEY, cost(1, 20), T0); // seg 0
    decide1(key, KEY, cost(1, 0), T0 + 10_000); // seg 10
    decide1(key, KEY, cost(1, 70), T0 + 20_000); // seg 20
    const d = decide1(key, KEY, cost(1, 50), T0 + 30_000);
    // rpm frees at 60 s (seg 0 leaves); tpm needs 40 freed, i.e. seg 20 too: 80 s.
    expect(d).toEqual({ allowed: false, waitMs: 50_000, blocked: [{ item: 0, names: ["rpm", "tpm"] }], never: [] });
  });

  test("an allowed request charges every item and dimension, and its tickets name the segments", () => {
    const key = core.newState(KEY);
    const prov = core.newState(PROV);
    const d = strip(core.decide(
      [
        { state: prov, policy: PROV, cost: cost(1, 30, 7) },
        { state: key, policy: KEY, cost: cost(1, 30, 7) },
      ],
      T0 + 2_500,
      0,
    ));
    const seg = (T0 + 2_500 - 500) / 1000;
    expect(d).toEqual({
      allowed: true,
      delayMs: 0,
      tickets: [
        { segments: [seg], paced: true },
        { segments: [seg, seg], paced: false },
      ],
    });
    expect(used(prov, PROV, T0 + 2_500)).toEqual({ input_tpm: 30 });
    expect(used(key, KEY, T0 + 2_500)).toEqual({ rpm: 1, tpm: 37 });
    expect(core.pacingNextSlot(prov, PROV, T0 + 2_500)).toBe(T0 + 3_500);
  });

  test("a decision carries each item's window status: after the charge, or untouched when refused", () => {
    const key = core.newState(KEY);
    const prov = core.newState(PROV);
    const items = (c: Cost) => [
      { state: prov, policy: PROV, cost: c },
      { state: key, policy: KEY, cost: c },
    ];
    const ok = core.decide(items(cost(1, 60)), T0 + 1_500, 0);
    expect(ok.allowed).toBe(true);
    expect(ok.status).toEqual([
      [{ name: "input_tpm", dim: "input_tokens", limit: 1000, used: 60, remaining: 940, resetMs: 59_500 }],
      [
        { name: "rpm", dim: "requests", limit: 3, used: 1, remaining: 2, resetMs: 59_500 },
        { name: "tpm", dim: "tokens", limit: 100, used: 60, remaining: 40, resetMs: 59_500 },
      ],
    ]);
    const no = core.decide(items(cost(1, 50)), T0 + 3_000, 0);
    expect(no.allowed).toBe(false);
    expect(no.status[0]![0]!.used).toBe(60);
    expect(no.status[1]!.map((w) => w.used)).toEqual([1, 60]);
  });

  test("a dimension the request does not use never blocks it", () => {
    const p: Policy = { pacing: null, windows: [minute("output_tpm", "output_tokens", 10)] };
    const s = core.newState(p);
    expect(decide1(s, p, cost(1, 0, 10), T0).allowed).toBe(true);
    expect(decide1(s, p, cost(1, 500, 0), T0).allowed).toBe(true);
    expect(decide1(s, p, cost(1, 0, 1), T0).allowed).toBe(false);
    // Even over its limit (a settle above the reservation), it does not block what it does not count.
    const d = decide1(s, p, cost(1, 0, 0), T0);
    if (!d.allowed) throw new Error("expected allowed");
    core.settle(s, p, d.tickets[0]!, cost(0, 0, 5), T0);
    expect(used(s, p, T0)).toEqual({ output_tpm: 15 });
    expect(decide1(s, p, cost(1, 50, 0), T0).allowed).toBe(true);
  });
});

describe("decide: never fits", () => {
  test("cost above a limit → waitMs Infinity, and `never` names the dimension", () => {
    const key = core.newState(KEY);
    const prov = core.newState(PROV);
    decide1(prov, PROV, cost(1), T0); // the provider's pacing is now busy too
    const d = strip(core.decide(
      [
        { state: prov, policy: PROV, cost: cost(1, 150) },
        { state: key, policy: KEY, cost: cost(1, 150) },
      ],
      T0,
      0,
    ));
    expect(d).toEqual({
      allowed: false,
      waitMs: Infinity,
      blocked: [
        { item: 0, names: ["pacing"] },
        { item: 1, names: ["tpm"] },
      ],
      never: [{ item: 1, names: ["tpm"] }],
    });
  });

  test("even on an empty limiter", () => {
    const s = core.newState(KEY);
    const d = decide1(s, KEY, cost(1, 101), T0);
    expect(d.allowed).toBe(false);
    if (!d.allowed) {
      expect(d.waitMs).toBe(Infinity);
      expect(d.never).toEqual([{ item: 0, names: ["tpm"] }]);
    }
    expect(decide1(s, KEY, cost(1, 100), T0).allowed).toBe(true); // exactly the limit fits
  });
});

describe("decide: pacing horizon", () => {
  test("a slot within the horizon is claimed with delayMs = slot − now; beyond it, blocked until it is", () => {
    const s = core.newState(PROV);
    expect(decide1(s, PROV, cost(1), T0, 20)).toEqual({ allowed: true, delayMs: 0, tickets: [{ segments: [T0 / 1000], paced: true }] });
    let d = decide1(s, PROV, cost(1), T0, 20);
    expect(d).toEqual({ allowed: false, waitMs: 980, blocked: [{ item: 0, names: ["pacing"] }], never: [] });
    d = decide1(s, PROV, cost(1), T0 + 979, 20);
    expect(d.allowed === false && d.waitMs).toBe(1);
    d = decide1(s, PROV, cost(1), T0 + 980, 20);
    expect(d.allowed && d.delayMs).toBe(20);
    // The claim counted: the next slot is T0 + 2000.
    d = decide1(s, PROV, cost(1), T0 + 980, 20);
    expect(d.allowed === false && d.waitMs).toBe(1000);
  });

  test("with horizon 0 a slot is claimed only when due", () => {
    const s = core.newState(PROV);
    decide1(s, PROV, cost(1), T0);
    expect(decide1(s, PROV, cost(1), T0 + 999).allowed).toBe(false);
    expect(decide1(s, PROV, cost(1), T0 + 1000)).toMatchObject({ allowed: true, delayMs: 0 });
  });

  test("the largest slot over the items sets the delay", () => {
    const a = core.newState(PROV);
    const bPolicy: Policy = { pacing: { intervalMs: 500, capacity: 1 }, windows: [] };
    const b = core.newState(bPolicy);
    decide1(a, PROV, cost(1), T0);
    decide1(b, bPolicy, cost(1), T0);
    const d = strip(core.decide(
      [
        { state: a, policy: PROV, cost: cost(1) },
        { state: b, policy: bPolicy, cost: cost(1) },
      ],
      T0 + 990,
      20,
    ));
    expect(d.allowed && d.delayMs).toBe(10);
  });

  test("a cost without requests (e.g. a token-only charge) takes no pacing slot", () => {
    const s = core.newState(PROV);
    decide1(s, PROV, cost(1), T0);
    const d = decide1(s, PROV, cost(0, 10), T0);
    expect(d).toEqual({ allowed: true, delayMs: 0, tickets: [{ segments: [T0 / 1000], paced: false }] });
    expect(core.pacingNextSlot(s, PROV, T0)).toBe(T0 + 1000);
  });
});

describe("settle and giveBack", () => {
  test("settle corrects the charge in its original segment, both ways", () => {
    const s = core.newState(KEY);
    const d = decide1(s, KEY, cost(1, 20, 30), T0 + 500); // reserved 50 tokens in seg 0
    if (!d.allowed) throw new Error("expected allowed");
    decide1(s, KEY, cost(1, 10), T0 + 30_000); // 10 tokens in seg 30
    core.settle(s, KEY, d.tickets[0]!, cost(0, 0, -30), T0 + 40_000);
    expect(used(s, KEY, T0 + 40_000)).toEqual({ rpm: 2, tpm: 30 });
    core.settle(s, KEY, d.tickets[0]!, cost(0, 5, 0), T0 + 41_000);
    expect(used(s, KEY, T0 + 41_000)).toEqual({ rpm: 2, tpm: 35 });
    // Seg 0 leaves at 60 s and takes its settled 25 with it.
    expect(used(s, KEY, T0 + 60_000)).toEqual({ rpm: 1, tpm: 10 });
    // Too late to settle: the segment is gone, nothing changes.
    core.settle(s, KEY, d.tickets[0]!, cost(0, 0, -25), T0 + 61_000);
    expect(used(s, KEY, T0 + 61_000)).toEqual({ rpm: 1, tpm: 10 });
  });

  test("settle never pushes a total below zero, and adjusts each dimension by its own delta", () => {
    const p: Policy = {
      pacing: null,
      windows: [minute("input_tpm", "input_tokens", 100), minute("output_tpm", "output_tokens", 100), minute("tpm", "tokens", 200)],
    };
    const s = core.newState(p);
    const d = decide1(s, p, cost(1, 40, 50), T0);
    if (!d.allowed) throw new Error("expected allowed");
    core.settle(s, p, d.tickets[0]!, cost(0, -10, 5), T0 + 1_000);
    expect(used(s, p, T0 + 1_000)).toEqual({ input_tpm: 30, output_tpm: 55, tpm: 85 });
    core.settle(s, p, d.tickets[0]!, cost(0, -1_000, -1_000), T0 + 2_000);
    expect(used(s, p, T0 + 2_000)).toEqual({ input_tpm: 0, output_tpm: 0, tpm: 0 });
  });

  test("giveBack refunds the windows and returns the pacing slot", () => {
    const s = core.newState(PROV);
    decide1(s, PROV, cost(1, 100), T0);
    const d = decide1(s, PROV, cost(1, 200), T0 + 990, 20);
    if (!d.allowed) throw new Error("expected allowed");
    expect(d.delayMs).toBe(10);
    expect(core.pacingNextSlot(s, PROV, T0 + 990)).toBe(T0 + 2000);
    core.giveBack(s, PROV, d.tickets[0]!, cost(1, 200), T0 + 995);
    expect(core.pacingNextSlot(s, PROV, T0 + 995)).toBe(T0 + 1000);
    expect(used(s, PROV, T0 + 995)).toEqual({ input_tpm: 100 });
  });

  test("status reports used, remaining and reset", () => {
    const s = core.newState(KEY);
    decide1(s, KEY, cost(1, 70), T0 + 4_200);
    expect(core.status(s, KEY, T0 + 10_000)).toEqual([
      { name: "rpm", dim: "requests", limit: 3, used: 1, remaining: 2, resetMs: 54_000 },
      { name: "tpm", dim: "tokens", limit: 100, used: 70, remaining: 30, resetMs: 54_000 },
    ]);
  });
});

/** Releases `costs` in order, each at the earliest time it fits; returns when the last one goes (ms from now). */
function fifoRelease(state: LimiterState, policy: Policy, costs: readonly Cost[], now: number): number {
  const st: LimiterState = {
    pacing: { tat: state.pacing.tat },
    windows: state.windows.map((w) => ({ ring: new Float64Array(w.ring), total: w.total, head: w.head })),
    holdUntil: state.holdUntil,
  };
  let t = now;
  for (const c of costs) {
    for (;;) {
      const d = core.decide([{ state: st, policy, cost: c }], t, 0);
      if (d.allowed) break;
      if (d.waitMs === Infinity) return Infinity;
      t += Math.max(1, d.waitMs);
    }
  }
  return t - now;
}

const sum = (cs: readonly Cost[]): Cost => cs.reduce((a, c) => cost(a.requests + c.requests, a.input_tokens + c.input_tokens, a.output_tokens + c.output_tokens), cost(0));

describe("estimateWait", () => {
  test("pacing: exactly the slot of the request behind n others", () => {
    const s = core.newState(PROV);
    decide1(s, PROV, cost(1), T0);
    for (let n = 0; n < 6; n++) {
      const ahead = Array.from({ length: n }, () => cost(1));
      const est = core.estimateWait(s, PROV, sum(ahead), n, cost(1), T0 + 300);
      expect(est).toBe(1000 * (n + 1) - 300);
      expect(est).toBe(fifoRelease(s, PROV, [...ahead, cost(1)], T0 + 300));
    }
  });

  test("pacing, burst: the remaining capacity goes at once", () => {
    const p: Policy = { pacing: { intervalMs: 1000, capacity: 3 }, windows: [] };
    const s = core.newState(p);
    expect([0, 1, 2, 3, 4].map((n) => core.estimateWait(s, p, cost(n), n, cost(1), T0))).toEqual([0, 0, 0, 1000, 2000]);
    expect(core.estimateWait(s, p, cost(9), 9, cost(0, 5), T0)).toBe(0); // no request, no pacing
  });

  test("windows: monotone in what is ahead, and never below a FIFO release of unit requests", () => {
    const r = prng(5);
    for (let round = 0; round < 150; round++) {
      const p: Policy = { pacing: null, windows: [minute("rpm", "requests", r.int(1, 12))] };
      const s = core.newState(p);
      let t = T0;
      for (let k = r.int(0, 20); k > 0; k--) decide1(s, p, cost(1), (t += r.int(0, 6_000)));
      const now = t + r.int(0, 2_000);
      let prev = -1;
      for (let n = 0; n < 30; n++) {
        const est = core.estimateWait(s, p, cost(n), n, cost(1), now);
        const real = fifoRelease(s, p, Array.from({ length: n + 1 }, () => cost(1)), now);
        expect(est).toBeGreaterThanOrEqual(prev);
        expect(est).toBeGreaterThanOrEqual(real);
        expect(est - real).toBeLessThan(1000); // over by less than one segment
        prev = est;
      }
    }
  });

  test("windows: token costs that divide the limit evenly", () => {
    const p: Policy = { pacing: null, windows: [minute("tpm", "tokens", 100)] };
    const s = core.newState(p);
    decide1(s, p, cost(1, 75), T0 + 1_000);
    decide1(s, p, cost(1, 25), T0 + 7_000);
    const ahead = Array.from({ length: 5 }, () => cost(1, 25));
    const est = core.estimateWait(s, p, sum(ahead), 5, cost(1, 25), T0 + 8_000);
    const real = fifoRelease(s, p, [...ahead, cost(1, 25)], T0 + 8_000);
    expect(real).toBe(61_000 - 8_000 + 60_000); // 3 fit when 75 leaves, 1 when 25 leaves, 2 a window later
    expect(est).toBeGreaterThanOrEqual(real);
  });

  test("a request that can never fit estimates Infinity", () => {
    const s = core.newState(KEY);
    expect(core.estimateWait(s, KEY, cost(0), 0, cost(1, 101), T0)).toBe(Infinity);
  });

  // Known gap (see report): from the summed cost ahead it cannot see that requests
  // which do not pack into the limit leave part of each window unused, so it can
  // under-estimate a FIFO release. Limit 10, three 6-token requests ahead + one more:
  // FIFO sends them at 0, 60, 120, 180 s; the estimate says 120 s.
  test.failing("windows: ≥ FIFO even when costs fragment the window (not derivable from a summed `ahead`)", () => {
    const p: Policy = { pacing: null, windows: [minute("tpm", "tokens", 10)] };
    const s = core.newState(p);
    win.advance(s.windows[0]!, p.windows[0]!, T0);
    const ahead = [cost(1, 6), cost(1, 6), cost(1, 6)];
    expect(fifoRelease(s, p, [...ahead, cost(1, 6)], T0)).toBe(180_000);
    expect(core.estimateWait(s, p, sum(ahead), 3, cost(1, 6), T0)).toBeGreaterThanOrEqual(180_000);
  });
});

test("pacingAvailable / pacingNextSlot are null without pacing", () => {
  const s = core.newState(KEY);
  expect(core.pacingAvailable(s, KEY, T0)).toBeNull();
  expect(core.pacingNextSlot(s, KEY, T0)).toBeNull();
  const p = core.newState(PROV);
  expect(core.pacingAvailable(p, PROV, T0)).toBe(1);
  gcra.claim(p.pacing, PROV.pacing!, T0);
  expect(core.pacingAvailable(p, PROV, T0)).toBe(0);
});

describe("hold (the upstream said: exhausted until T)", () => {
  test("nothing is admitted before T, whatever the windows say; admitted again at T; a later hold wins", () => {
    const policy: Policy = { pacing: { intervalMs: 100, capacity: 5 }, windows: [{ name: "rpm", dim: "requests", limit: 100, windowMs: 60_000, segments: 60 }] };
    const st = core.newState(policy);
    const one = { requests: 1, input_tokens: 0, output_tokens: 0 };
    core.hold(st, 10_000);
    const d = core.decide([{ state: st, policy, cost: one }], 1_000, 0);
    expect(d.allowed).toBe(false);
    if (!d.allowed) {
      expect(d.waitMs).toBe(9_000);
      expect(d.blocked[0]!.names).toContain("hold");
    }
    core.hold(st, 5_000); // earlier: ignored
    expect(core.decide([{ state: st, policy, cost: one }], 9_999, 0).allowed).toBe(false);
    expect(core.decide([{ state: st, policy, cost: one }], 10_000, 0).allowed).toBe(true);
    expect(core.status(st, policy, 10_000)[0]!.used).toBe(1); // the refused ones charged nothing
  });
});

describe("two paced limiters on one request (provider + model)", () => {
  test("the provider books from the real send time (the model's later slot), so its gap holds even with a horizon", () => {
    const provider: Policy = { pacing: { intervalMs: 100, capacity: 1 }, windows: [] };
    const model: Policy = { pacing: { intervalMs: 300, capacity: 1 }, windows: [] };
    const ps = core.newState(provider);
    const ms = core.newState(model);
    const one = { requests: 1, input_tokens: 0, output_tokens: 0 };
    const both = () => [
      { state: ps, policy: provider, cost: one },
      { state: ms, policy: model, cost: one },
    ];
    expect(core.decide(both(), 0, 20).allowed).toBe(true);
    expect(core.decide(both(), 0, 20).allowed).toBe(false); // the model's next slot is 300
    const d = core.decide(both(), 280, 20); // claimed 20 ms ahead of the model's slot
    expect(d.allowed).toBe(true);
    if (d.allowed) expect(d.delayMs).toBe(20); // it goes at 300
    // a provider-only request must then wait a full interval after 300, not after 280
    const next = core.decide([{ state: ps, policy: provider, cost: one }], 300, 0);
    expect(next.allowed).toBe(false);
    if (!next.allowed) expect(next.waitMs).toBe(100);
  });
});
