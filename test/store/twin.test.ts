// Every Lua script has a TypeScript twin: random operation sequences
// (seeded, replayable) run against the memory store (the TS core) and the
// Redis store (the Lua scripts) with the same explicit now_ms, and every
// answer must agree exactly — decisions, tickets, statuses, waits.
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Cost, Policy, Ticket, WindowLimit } from "../../src/core/policy.ts";
import { MemoryStore } from "../../src/store/memory-store.ts";
import { connectRedis, type RedisClient } from "../../src/store/redis-client.ts";
import { RedisStore } from "../../src/store/redis-store.ts";
import type { LimiterRef, Store } from "../../src/store/store.ts";
import { prng } from "../core/prng.ts";
import { EPOCH, FakeClock } from "../helpers/fake-clock.ts";
import { describeRedis, startRedis, type TestRedis } from "../helpers/redis.ts";

const SEEDS = 60;
const OPS = 160;
const DIMS: WindowLimit["dim"][] = ["requests", "input_tokens", "output_tokens", "tokens"];

type Rand = ReturnType<typeof prng>;
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[r.int(0, xs.length - 1)]!;

/** Mostly whole numbers, sometimes fractions, so float dust is exercised too. */
function amount(r: Rand, hi: number): number {
  const x = r.int(0, hi);
  return r.chance(0.2) ? x + pick(r, [0.1, 0.25, 1 / 3, 0.7]) : x;
}

function randomPolicy(r: Rand): Policy {
  const windows: WindowLimit[] = [];
  const n = r.int(0, 3);
  for (let i = 0; i < n; i++) {
    const dim = pick(r, DIMS);
    windows.push({
      name: `w${i}`,
      dim,
      limit: dim === "requests" ? r.int(1, 12) : r.int(100, 2000),
      windowMs: pick(r, [1000, 3000, 10_000, 60_000]),
      segments: pick(r, [1, 3, 7, 10, 60]),
    });
  }
  const pacing = r.chance(0.5) ? { intervalMs: pick(r, [100, 250, 1000 / 3, 60_000 / 7, 1500]), capacity: r.int(1, 4) } : null;
  return { pacing, windows };
}

function randomCost(r: Rand): Cost {
  return { requests: r.chance(0.1) ? 0 : r.int(1, 2), input_tokens: amount(r, 120), output_tokens: amount(r, 80) };
}

function randomDelta(r: Rand): Cost {
  return { requests: r.chance(0.7) ? 0 : r.int(-2, 1), input_tokens: amount(r, 300) - 150, output_tokens: amount(r, 300) - 150 };
}

interface Held {
  readonly ref: LimiterRef;
  readonly cost: Cost;
  readonly mem: Ticket;
  readonly red: Ticket;
}

/** One seeded sequence; returns a log of the operations for a readable failure. */
async function run(seed: number, mem: Store, red: Store, clock: FakeClock): Promise<void> {
  const r = prng(seed);
  const refs: LimiterRef[] = Array.from({ length: 3 }, (_, i) => ({ id: `twin:${seed}:${i}`, policy: randomPolicy(r), tag: `twin:${seed}` }));
  const held: Held[] = [];
  clock.set(EPOCH + pick(r, [0, 0.37, 999.5]));
  const trail: string[] = [];
  const same = (what: string, a: unknown, b: unknown) => {
    if (!Bun.deepEquals(a, b, true)) {
      throw new Error(
        `seed ${seed}: ${what} differs\nmemory: ${JSON.stringify(a)}\nredis:  ${JSON.stringify(b)}\n` +
          `policies: ${JSON.stringify(refs.map((x) => x.policy))}\nops:\n${trail.slice(-12).join("\n")}`,
      );
    }
  };
  for (let op = 0; op < OPS; op++) {
    // Time: equal, a little forward, past whole windows, or backwards.
    const step = r.next();
    if (step < 0.25) clock.advance(0);
    else if (step < 0.7) clock.advance(amount(r, 700));
    else if (step < 0.85) clock.advance(r.int(1000, 70_000));
    else clock.advance(-amount(r, 3000));
    const t = `t=${clock.now() - EPOCH}`;
    const kind = r.next();
    if (kind < 0.08) {
      // A burst: acquires issued together share one script call in the Redis
      // store (a batch, in call order, at one now); the memory store takes
      // them one by one in the same order.
      const burst = Array.from({ length: r.int(2, 6) }, () => ({
        items: Array.from({ length: r.int(1, 2) }, () => ({ ref: pick(r, refs), cost: randomCost(r) })),
        horizon: pick(r, [0, 2000]),
      }));
      trail.push(`${t} burst ${JSON.stringify(burst.map((b) => b.items.map((i) => [i.ref.id, i.cost])))}`);
      const a = await Promise.all(burst.map((b) => mem.acquire(b.items, b.horizon)));
      const b = await Promise.all(burst.map((x) => red.acquire(x.items, x.horizon)));
      same(`burst #${op}`, a, b);
      a.forEach((d, k) => {
        const e = b[k]!;
        if (d.allowed && e.allowed) burst[k]!.items.forEach((it, i) => held.push({ ref: it.ref, cost: it.cost, mem: d.tickets[i]!, red: e.tickets[i]! }));
      });
    } else if (kind < 0.5) {
      const n = r.int(1, 3);
      const chosen = Array.from({ length: n }, () => pick(r, refs)); // repeats allowed: one limiter twice
      const items = chosen.map((ref) => ({ ref, cost: randomCost(r) }));
      const horizon = pick(r, [0, 500, 2000, 5000]);
      trail.push(`${t} acquire ${JSON.stringify(items.map((i) => [i.ref.id, i.cost]))} horizon ${horizon}`);
      const a = await mem.acquire(items, horizon);
      const b = await red.acquire(items, horizon);
      same(`acquire #${op}`, a, b);
      if (a.allowed && b.allowed) items.forEach((it, i) => held.push({ ref: it.ref, cost: it.cost, mem: a.tickets[i]!, red: b.tickets[i]! }));
    } else if (kind < 0.62 && held.length) {
      const h = held.splice(r.int(0, held.length - 1), 1)[0]!;
      const delta = randomDelta(r);
      trail.push(`${t} settle ${h.ref.id} ${JSON.stringify(h.mem)} by ${JSON.stringify(delta)}`);
      await mem.settle(h.ref, h.mem, delta);
      await red.settle(h.ref, h.red, delta);
    } else if (kind < 0.72 && held.length) {
      const h = held.splice(r.int(0, held.length - 1), 1)[0]!;
      trail.push(`${t} giveBack ${h.ref.id} ${JSON.stringify(h.mem)} ${JSON.stringify(h.cost)}`);
      await mem.giveBack(h.ref, h.mem, h.cost);
      await red.giveBack(h.ref, h.red, h.cost);
    } else if (kind < 0.76) {
      const ref = pick(r, refs);
      const ms = pick(r, [0, 250, 1500, 4000]) + (r.chance(0.3) ? 0.5 : 0);
      trail.push(`${t} hold ${ref.id} ${ms}`);
      await mem.hold!(ref, ms);
      await red.hold!(ref, ms);
    } else if (kind < 0.79) {
      // Adaptive mode / reload: same windows, a new pacing interval (a new Policy object).
      const i = r.int(0, refs.length - 1);
      const old = refs[i]!;
      const pacing = r.chance(0.8) ? { intervalMs: pick(r, [100, 250, 1000 / 3, 60_000 / 7, 1500]), capacity: r.int(1, 4) } : null;
      refs[i] = { ...old, policy: { ...old.policy, pacing } };
      trail.push(`${t} retune ${old.id} pacing ${JSON.stringify(pacing)}`);
    } else if (kind < 0.88) {
      const ref = pick(r, refs);
      trail.push(`${t} status ${ref.id}`);
      same(`status #${op}`, await mem.status(ref), await red.status(ref));
    } else {
      const ref = pick(r, refs);
      const ahead = randomCost(r);
      const count = r.int(0, 4);
      const c = randomCost(r);
      trail.push(`${t} estimateWait ${ref.id} ahead ${JSON.stringify(ahead)} x${count} cost ${JSON.stringify(c)}`);
      same(`estimateWait #${op}`, await mem.estimateWait(ref, ahead, count, c), await red.estimateWait(ref, ahead, count, c));
    }
  }
  // Finally every limiter's full status.
  for (const ref of refs) same(`final status ${ref.id}`, await mem.status(ref), await red.status(ref));
}

describeRedis("Lua scripts agree with the TypeScript core", () => {
  let redis: TestRedis;
  let client: RedisClient;
  beforeAll(async () => {
    redis = await startRedis();
    client = connectRedis(redis.url, 2000);
  });
  afterAll(async () => {
    client?.disconnect();
    await redis?.close();
  });

  test(`${SEEDS} random sequences of ${OPS} operations`, async () => {
    const clock = new FakeClock();
    const mem = new MemoryStore(clock);
    const red = new RedisStore(client, { prefix: "twin", timeoutMs: 2000, clock });
    for (let seed = 1; seed <= SEEDS; seed++) await run(seed, mem, red, clock);
  });

  test("the twin check can fail: a store that drifts by one token is caught", async () => {
    const clock = new FakeClock();
    const mem = new MemoryStore(clock);
    const red = new RedisStore(client, { prefix: "twin-neg", timeoutMs: 2000, clock });
    // A wrapper that charges one extra input token on every acquire.
    const drifting: Store = {
      ...red,
      acquire: (items, h) => red.acquire(items.map((it) => ({ ...it, cost: { ...it.cost, input_tokens: it.cost.input_tokens + 1 } })), h),
      hold: (...a) => red.hold(...a),
      settle: (...a) => red.settle(...a),
      giveBack: (...a) => red.giveBack(...a),
      estimateWait: (...a) => red.estimateWait(...a),
      status: (...a) => red.status(...a),
      health: () => red.health(),
      close: () => red.close(),
    };
    const errors: string[] = [];
    for (let seed = 1; seed <= 10; seed++) {
      await run(seed, mem, drifting, clock).catch((e: unknown) => errors.push(String(e)));
    }
    expect(errors.length).toBeGreaterThan(0);
    for (const e of errors) expect(e).toMatch(/seed \d+: .* differs/);
  });
});
