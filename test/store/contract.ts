/**
 * The Store contract: one suite, run against every store (memory, Redis,
 * Redis Cluster) by the *.test.ts files next to it. Time is a FakeClock the
 * store reads (the Redis store sends it as now_ms), so every number is exact.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import type { Cost, Decision, Policy, WindowLimit } from "../../src/core/policy.ts";
import type { LimiterRef, Store } from "../../src/store/store.ts";
import { EPOCH, FakeClock } from "../helpers/fake-clock.ts";

export interface ContractSetup {
  readonly store: Store;
  readonly clock: FakeClock;
}

const minute = (name: string, dim: WindowLimit["dim"], limit: number): WindowLimit => ({
  name,
  dim,
  limit,
  windowMs: 60_000,
  segments: 60,
});
export const cost = (requests: number, input_tokens = 0, output_tokens = 0): Cost => ({ requests, input_tokens, output_tokens });

let serial = 0;
/** A limiter no other test touches; `tag` groups limiters of one acquire (one Cluster slot). */
function ref(policy: Policy, tag?: string): LimiterRef {
  const id = `t${process.pid}-${++serial}`;
  return tag === undefined ? { id, policy } : { id, policy, tag };
}

const used = async (store: Store, r: LimiterRef): Promise<Record<string, number>> =>
  Object.fromEntries((await store.status(r)).windows.map((w) => [w.name, w.used]));

function allowed(d: Decision): Extract<Decision, { allowed: true }> {
  if (!d.allowed) throw new Error(`expected allowed, got ${JSON.stringify(d)}`);
  return d;
}

function refused(d: Decision): Extract<Decision, { allowed: false }> {
  if (d.allowed) throw new Error(`expected refused, got ${JSON.stringify(d)}`);
  return d;
}

export function storeContract(name: string, setup: () => Promise<ContractSetup>): void {
  describe(`Store contract: ${name}`, () => {
    let store: Store;
    let clock: FakeClock;
    beforeAll(async () => {
      ({ store, clock } = await setup());
    });
    const at = (ms: number) => clock.set(EPOCH + ms);

    test("admits exactly the limit, then waits until the oldest segment expires", async () => {
      at(0);
      const r = ref({ pacing: null, windows: [minute("rpm", "requests", 5)] });
      for (let i = 0; i < 5; i++) allowed(await store.acquire([{ ref: r, cost: cost(1) }], 0));
      const d = refused(await store.acquire([{ ref: r, cost: cost(1) }], 0));
      expect(d.waitMs).toBe(60_000);
      expect(d.blocked).toEqual([{ item: 0, names: ["rpm"] }]);
      expect(d.never).toEqual([]);
      expect(d.status).toEqual([[{ name: "rpm", dim: "requests", limit: 5, used: 5, remaining: 0, resetMs: 60_000 }]]);
      at(59_999);
      expect(refused(await store.acquire([{ ref: r, cost: cost(1) }], 0)).waitMs).toBe(1);
      at(60_000);
      const ok = allowed(await store.acquire([{ ref: r, cost: cost(1) }], 0));
      expect(ok.status[0]![0]!.used).toBe(1);
      expect(ok.tickets).toEqual([{ segments: [EPOCH / 1000 + 60], paced: false }]);
    });

    test("charges spread over segments expire one segment at a time", async () => {
      at(0);
      const r = ref({ pacing: null, windows: [minute("tpm", "tokens", 100)] });
      allowed(await store.acquire([{ ref: r, cost: cost(1, 40) }], 0));
      at(10_500);
      allowed(await store.acquire([{ ref: r, cost: cost(1, 30, 30) }], 0));
      const d = refused(await store.acquire([{ ref: r, cost: cost(1, 40) }], 0));
      expect(d.waitMs).toBe(49_500); // the 40 charged in second 0 leaves at 60 s
      expect(refused(await store.acquire([{ ref: r, cost: cost(1, 41) }], 0)).waitMs).toBe(59_500); // and 60 more at 70 s
      at(60_000);
      expect(await used(store, r)).toEqual({ tpm: 60 });
      allowed(await store.acquire([{ ref: r, cost: cost(1, 40) }], 0));
      at(70_000);
      expect(await used(store, r)).toEqual({ tpm: 40 });
    });

    test("all or nothing across dimensions: a refusal charges no dimension", async () => {
      at(0);
      const r = ref({ pacing: null, windows: [minute("rpm", "requests", 10), minute("tpm", "tokens", 100)] });
      allowed(await store.acquire([{ ref: r, cost: cost(1, 60) }], 0));
      const d = refused(await store.acquire([{ ref: r, cost: cost(1, 50) }], 0));
      expect(d.blocked).toEqual([{ item: 0, names: ["tpm"] }]);
      expect(await used(store, r)).toEqual({ rpm: 1, tpm: 60 });
    });

    test("all or nothing across items: a refusal by one limiter charges none", async () => {
      at(0);
      const key = ref({ pacing: null, windows: [minute("rpm", "requests", 10)] }, "team-a");
      const group = ref({ pacing: null, windows: [minute("rpm", "requests", 2), minute("tpm", "tokens", 1000)] }, "team-a");
      const both = (c: Cost) => [
        { ref: key, cost: c },
        { ref: group, cost: c },
      ];
      const first = allowed(await store.acquire(both(cost(1, 5)), 0));
      expect(first.tickets).toHaveLength(2);
      expect(first.status.map((s) => s.map((w) => w.used))).toEqual([[1], [1, 5]]);
      allowed(await store.acquire(both(cost(1, 5)), 0));
      const d = refused(await store.acquire(both(cost(1, 5)), 0));
      expect(d.blocked).toEqual([{ item: 1, names: ["rpm"] }]);
      expect(await used(store, key)).toEqual({ rpm: 2 });
      expect(await used(store, group)).toEqual({ rpm: 2, tpm: 10 });
    });

    test("a cost above a whole limit never fits: waitMs Infinity and the dimension named", async () => {
      at(0);
      const r = ref({ pacing: null, windows: [minute("rpm", "requests", 10), minute("tpm", "tokens", 100)] });
      const d = refused(await store.acquire([{ ref: r, cost: cost(1, 80, 40) }], 0));
      expect(d.waitMs).toBe(Infinity);
      expect(d.never).toEqual([{ item: 0, names: ["tpm"] }]);
      expect(await used(store, r)).toEqual({ rpm: 0, tpm: 0 });
      expect(await store.estimateWait(r, cost(0), 0, cost(1, 80, 40))).toBe(Infinity);
    });

    test("pacing: spaced slots ahead within the horizon, refused beyond it", async () => {
      at(0);
      const r = ref({ pacing: { intervalMs: 1000, capacity: 1 }, windows: [] });
      const delays: number[] = [];
      for (let i = 0; i < 3; i++) delays.push(allowed(await store.acquire([{ ref: r, cost: cost(1) }], 2500)).delayMs);
      expect(delays).toEqual([0, 1000, 2000]);
      const d = refused(await store.acquire([{ ref: r, cost: cost(1) }], 2500));
      expect(d.blocked).toEqual([{ item: 0, names: ["pacing"] }]);
      expect(d.waitMs).toBe(500);
      expect((await store.status(r)).pacing).toEqual({ available: 0, nextSlotInMs: 3000 });
      at(1200);
      expect(allowed(await store.acquire([{ ref: r, cost: cost(1) }], 2500)).delayMs).toBe(1800);
    });

    test("pacing: a burst of capacity goes at once, then one per interval", async () => {
      at(0);
      const r = ref({ pacing: { intervalMs: 500, capacity: 3 }, windows: [] });
      const delays: number[] = [];
      for (let i = 0; i < 5; i++) delays.push(allowed(await store.acquire([{ ref: r, cost: cost(1) }], 10_000)).delayMs);
      expect(delays).toEqual([0, 0, 0, 500, 1000]);
      expect((await store.status(r)).pacing).toEqual({ available: 0, nextSlotInMs: 1500 });
      at(5000);
      expect((await store.status(r)).pacing).toEqual({ available: 3, nextSlotInMs: 0 });
    });

    test("pacing slot is taken only when every item admits", async () => {
      at(0);
      const prov = ref({ pacing: { intervalMs: 1000, capacity: 1 }, windows: [] }, "prov-x");
      const model = ref({ pacing: null, windows: [minute("rpm", "requests", 1)] }, "prov-x");
      const items = [
        { ref: prov, cost: cost(1) },
        { ref: model, cost: cost(1) },
      ];
      expect(allowed(await store.acquire(items, 5000)).delayMs).toBe(0);
      refused(await store.acquire(items, 5000));
      expect((await store.status(prov)).pacing).toEqual({ available: 0, nextSlotInMs: 1000 });
    });

    test("settle corrects the charged segment, never below zero", async () => {
      at(0);
      const r = ref({ pacing: null, windows: [minute("rpm", "requests", 10), minute("output_tpm", "output_tokens", 1000)] });
      const t = allowed(await store.acquire([{ ref: r, cost: cost(1, 10, 500) }], 0)).tickets[0]!;
      at(30_000);
      allowed(await store.acquire([{ ref: r, cost: cost(1, 0, 100) }], 0));
      await store.settle(r, t, cost(0, 0, -380)); // used 120 of 500
      expect(await used(store, r)).toEqual({ rpm: 2, output_tpm: 220 });
      await store.settle(r, t, cost(-5, 0, -10_000)); // far too much refunded: the segment stops at zero
      expect(await used(store, r)).toEqual({ rpm: 1, output_tpm: 100 });
      at(60_000); // the first charge's segment has left the window: settling it changes nothing
      await store.settle(r, t, cost(0, 0, 700));
      expect(await used(store, r)).toEqual({ rpm: 1, output_tpm: 100 });
    });

    test("money: a usd window admits priced costs exactly and settles in dollars", async () => {
      at(0);
      const budget = { name: "budget_usd_per_day", dim: "usd" as const, limit: 1, windowMs: 86_400_000, segments: 144 };
      const r = ref({ pacing: null, windows: [budget] });
      const priced = (usd: number) => ({ requests: 1, input_tokens: 10, output_tokens: 10, usd });
      const t = allowed(await store.acquire([{ ref: r, cost: priced(0.6) }], 0)).tickets[0]!;
      const d = refused(await store.acquire([{ ref: r, cost: priced(0.5) }], 0));
      expect(d.blocked).toEqual([{ item: 0, names: ["budget_usd_per_day"] }]);
      await store.settle(r, t, { requests: 0, input_tokens: 0, output_tokens: 0, usd: -0.35 }); // really cost 0.25
      allowed(await store.acquire([{ ref: r, cost: priced(0.5) }], 0));
      const st = await store.status(r);
      expect(st.windows[0]!.used).toBeCloseTo(0.75, 12);
      expect(refused(await store.acquire([{ ref: r, cost: priced(2) }], 0)).waitMs).toBe(Infinity);
    });

    test("settle can add to a charge still in the window", async () => {
      at(0);
      const r = ref({ pacing: null, windows: [minute("tpm", "tokens", 100)] });
      const t = allowed(await store.acquire([{ ref: r, cost: cost(1, 10, 10) }], 0)).tickets[0]!;
      await store.settle(r, t, cost(0, 0, 50));
      expect(await used(store, r)).toEqual({ tpm: 70 });
      expect(refused(await store.acquire([{ ref: r, cost: cost(1, 40) }], 0)).waitMs).toBe(60_000);
    });

    test("giveBack refunds the cost and returns the pacing slot", async () => {
      at(0);
      const r = ref({ pacing: { intervalMs: 1000, capacity: 1 }, windows: [minute("tpm", "tokens", 100)] });
      allowed(await store.acquire([{ ref: r, cost: cost(1, 20) }], 5000));
      const d = allowed(await store.acquire([{ ref: r, cost: cost(1, 30) }], 5000));
      expect(d.delayMs).toBe(1000);
      expect(d.tickets[0]!.paced).toBe(true);
      await store.giveBack(r, d.tickets[0]!, cost(1, 30));
      expect(await used(store, r)).toEqual({ tpm: 20 });
      expect(allowed(await store.acquire([{ ref: r, cost: cost(1, 30) }], 5000)).delayMs).toBe(1000);
    });

    test("status: windows with used, remaining and reset; pacing null without pacing", async () => {
      at(0);
      const r = ref({ pacing: null, windows: [minute("rpm", "requests", 10), { name: "rpd", dim: "requests", limit: 100, windowMs: 86_400_000, segments: 144 }] });
      expect(await store.status(r)).toEqual({
        windows: [
          { name: "rpm", dim: "requests", limit: 10, used: 0, remaining: 10, resetMs: 0 },
          { name: "rpd", dim: "requests", limit: 100, used: 0, remaining: 100, resetMs: 0 },
        ],
        pacing: null,
      });
      allowed(await store.acquire([{ ref: r, cost: cost(3) }], 0));
      at(1500);
      expect(await store.status(r)).toEqual({
        windows: [
          { name: "rpm", dim: "requests", limit: 10, used: 3, remaining: 7, resetMs: 58_500 },
          { name: "rpd", dim: "requests", limit: 100, used: 3, remaining: 97, resetMs: 86_400_000 - 1500 },
        ],
        pacing: null,
      });
    });

    test("estimateWait: the line ahead and the request, windows and pacing", async () => {
      at(0);
      const r = ref({ pacing: { intervalMs: 2000, capacity: 1 }, windows: [minute("tpm", "tokens", 100)] });
      expect(await store.estimateWait(r, cost(0), 0, cost(1, 50))).toBe(0);
      allowed(await store.acquire([{ ref: r, cost: cost(1, 80) }], 0));
      at(5000);
      // 80 counted, 150 ahead + 50: 200 = two limits' worth ⇒ one more window after the 80 leaves.
      expect(await store.estimateWait(r, cost(1, 150), 1, cost(1, 50))).toBe(60_000 + 55_000);
      expect(await store.estimateWait(r, cost(1, 50), 1, cost(1, 50))).toBe(55_000);
      expect(await store.estimateWait(r, cost(0), 0, cost(1, 10))).toBe(0);
      // pacing: tat = 2000, two ahead ⇒ slot of the third = 5000 + 2 × 2000
      expect(await store.estimateWait(r, cost(2), 2, cost(1))).toBe(4000);
    });

    test("hold: nothing is admitted until it ends; a later hold wins, an earlier changes nothing", async () => {
      at(0);
      const r = ref({ pacing: { intervalMs: 100, capacity: 1 }, windows: [minute("rpm", "requests", 10)] });
      const one = () => store.acquire([{ ref: r, cost: cost(1) }], 1000);
      allowed(await one());
      await store.hold!(r, 5000);
      await store.hold!(r, 1000);
      const d = refused(await one());
      expect(d.blocked).toEqual([{ item: 0, names: ["hold"] }]);
      expect(d.waitMs).toBe(5000);
      expect(await used(store, r)).toEqual({ rpm: 1 });
      at(4999);
      expect(refused(await one()).waitMs).toBe(1);
      at(5000);
      expect(allowed(await one()).delayMs).toBe(0);
    });

    test("a new pacing interval rescales what is booked ahead (adaptive mode)", async () => {
      at(0);
      const slow = ref({ pacing: { intervalMs: 1000, capacity: 1 }, windows: [] });
      for (let i = 0; i < 3; i++) allowed(await store.acquire([{ ref: slow, cost: cost(1) }], 10_000)); // tat = 3000
      const fast: LimiterRef = { ...slow, policy: { pacing: { intervalMs: 500, capacity: 1 }, windows: [] } };
      expect(allowed(await store.acquire([{ ref: fast, cost: cost(1) }], 10_000)).delayMs).toBe(1500);
    });

    test("time going backwards never admits more", async () => {
      at(10_000);
      const r = ref({ pacing: null, windows: [minute("rpm", "requests", 2)] });
      allowed(await store.acquire([{ ref: r, cost: cost(1) }], 0));
      allowed(await store.acquire([{ ref: r, cost: cost(1) }], 0));
      at(5_000);
      refused(await store.acquire([{ ref: r, cost: cost(1) }], 0));
      at(70_000);
      allowed(await store.acquire([{ ref: r, cost: cost(1) }], 0));
    });

    test("200 concurrent acquires against a limit of 50 admit exactly 50", async () => {
      at(0);
      const r = ref({ pacing: null, windows: [minute("rpm", "requests", 50), minute("tpm", "tokens", 1_000_000)] });
      const ds = await Promise.all(Array.from({ length: 200 }, () => store.acquire([{ ref: r, cost: cost(1, 7, 3) }], 0)));
      expect(ds.filter((d) => d.allowed)).toHaveLength(50);
      expect(await used(store, r)).toEqual({ rpm: 50, tpm: 500 });
    });

    test("a changed window layout starts that window afresh", async () => {
      at(0);
      const r1 = ref({ pacing: null, windows: [minute("rpm", "requests", 1)] });
      allowed(await store.acquire([{ ref: r1, cost: cost(1) }], 0));
      refused(await store.acquire([{ ref: r1, cost: cost(1) }], 0));
      const r2: LimiterRef = { ...r1, policy: { pacing: null, windows: [{ ...minute("rpm", "requests", 1), segments: 600 }] } };
      allowed(await store.acquire([{ ref: r2, cost: cost(1) }], 0));
    });
  });
}
