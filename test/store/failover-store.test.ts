// FailoverStore against a real redis-server that is killed, paused and
// restarted: calls never hang, on_failure local/reject behave as configured,
// the switch back happens by itself, and nothing logs a password.
import { afterAll, afterEach, beforeEach, describe, expect, test } from "bun:test";
import { systemClock } from "../../src/clock.ts";
import type { Policy } from "../../src/core/policy.ts";
import { ApiError } from "../../src/errors.ts";
import { setLogLevel } from "../../src/log.ts";
import { createStore } from "../../src/store/create-store.ts";
import { FailoverStore } from "../../src/store/failover-store.ts";
import { limiterKey } from "../../src/store/lua/layout.ts";
import { MemoryStore } from "../../src/store/memory-store.ts";
import { connectRedis } from "../../src/store/redis-client.ts";
import { RedisStore } from "../../src/store/redis-store.ts";
import type { LimiterRef, Store } from "../../src/store/store.ts";
import { freePort } from "../helpers/ports.ts";
import { describeRedis, startRedis, type TestRedis } from "../helpers/redis.ts";
import { cost } from "./contract.ts";

const TIMEOUT_MS = 150;
const POLICY: Policy = {
  pacing: null,
  windows: [{ name: "rpm", dim: "requests", limit: 1000, windowMs: 60_000, segments: 60 }],
};
let serial = 0;
const fresh = (): LimiterRef => ({ id: `fo:${process.pid}:${++serial}`, policy: POLICY });

/** Collects what the logger writes to stderr. */
function captureLog(): { lines: string[]; stop(): void } {
  const lines: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  }) as typeof process.stderr.write;
  return { lines, stop: () => (process.stderr.write = write) };
}

async function until(what: string, ok: () => boolean, ms = 5000): Promise<number> {
  const t0 = performance.now();
  while (performance.now() - t0 < ms) {
    if (ok()) return performance.now() - t0;
    await Bun.sleep(20);
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}

async function timed<T>(p: Promise<T>): Promise<{ ms: number; value?: T; error?: unknown }> {
  const t0 = performance.now();
  try {
    const value = await p;
    return { ms: performance.now() - t0, value };
  } catch (error) {
    return { ms: performance.now() - t0, error };
  }
}

interface Rig {
  readonly store: FailoverStore;
  readonly local: MemoryStore;
}

function rig(url: string, onFailure: "local" | "reject"): Rig {
  const local = new MemoryStore(systemClock);
  const redis = new RedisStore(connectRedis(url, TIMEOUT_MS), { prefix: "fo", timeoutMs: TIMEOUT_MS });
  const store = new FailoverStore(redis, local, { onFailure, where: url, clock: systemClock, probeMs: 200 });
  return { store, local };
}

describeRedis("FailoverStore", () => {
  let redis: TestRedis;
  let log: ReturnType<typeof captureLog>;
  const stores: Store[] = [];
  const track = <S extends Store>(s: S): S => (stores.push(s), s);

  beforeEach(async () => {
    redis = await startRedis();
    log = captureLog();
    setLogLevel("info");
  });
  afterEach(async () => {
    log.stop();
    await Promise.all(stores.splice(0).map((s) => s.close()));
    await redis.close();
  });

  test("local: Redis killed mid-use → in-process limits at once; back to Redis when it returns", async () => {
    const { store, local } = rig(redis.url, "local");
    track(store);
    const ref = fresh();
    const first = await store.acquire([{ ref, cost: cost(1) }], 0);
    expect(first.allowed).toBe(true);
    expect(store.health()).toEqual({ kind: "redis", state: "ok", detail: redis.url });
    expect(await redis.cli("exists", limiterKey("fo", ref))).toBe("1");

    await redis.stop();
    // 50 calls in flight as Redis dies: every one answers, none waits past the timeout.
    const results = await Promise.all(Array.from({ length: 50 }, () => timed(store.acquire([{ ref, cost: cost(1) }], 0))));
    for (const r of results) {
      expect(r.error).toBeUndefined();
      expect(r.ms).toBeLessThan(TIMEOUT_MS + 150);
    }
    const h = store.health();
    expect(h.state).toBe("degraded");
    expect(h.detail).toContain("per-node limits are in force");
    expect((await local.status(ref)).windows[0]!.used).toBe(50); // the memory store took them
    const warns = log.lines.filter((l) => l.includes(" warn "));
    expect(warns).toHaveLength(1); // logged once, not per call
    expect(warns[0]).toContain("Switching to the in-process store");

    // A Redis ticket settled during the outage is dropped, not an error.
    if (!first.allowed) throw new Error("unreachable");
    await store.settle(ref, first.tickets[0]!, cost(-1));
    // A memory ticket from the outage…
    const during = await store.acquire([{ ref, cost: cost(1) }], 0);
    if (!during.allowed) throw new Error("refused");

    await redis.restart();
    await until("the switch back to Redis", () => store.health().state === "ok");
    expect(log.lines.filter((l) => l.includes(" info ") && l.includes("answers again"))).toHaveLength(1);
    const after = await store.acquire([{ ref, cost: cost(1) }], 0);
    expect(after.allowed).toBe(true);
    expect(await redis.cli("hget", limiterKey("fo", ref), "t1")).toBe("1"); // counted in Redis again (fresh server)
    // …is given back to the memory store that issued it.
    await store.giveBack(ref, during.tickets[0]!, cost(1));
    expect((await local.status(ref)).windows[0]!.used).toBe(50);
    expect(await redis.cli("hget", limiterKey("fo", ref), "t1")).toBe("1");
  });

  test("local: a Redis that stops answering (paused) times out and fails over", async () => {
    const { store } = rig(redis.url, "local");
    track(store);
    const ref = fresh();
    expect((await store.acquire([{ ref, cost: cost(1) }], 0)).allowed).toBe(true);
    await redis.cli("client", "pause", "1500", "all");
    const r = await timed(store.acquire([{ ref, cost: cost(1) }], 0));
    expect(r.error).toBeUndefined();
    expect(r.ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 5);
    expect(r.ms).toBeLessThan(TIMEOUT_MS + 150);
    expect(store.health().state).toBe("degraded");
    expect(store.health().detail).toContain(`did not answer within ${TIMEOUT_MS} ms`);
    await until("the switch back after the pause", () => store.health().state === "ok", 4000);
  });

  test("reject: while Redis is down calls fail with 503 store_unavailable, then recover", async () => {
    const { store } = rig(redis.url, "reject");
    track(store);
    const ref = fresh();
    expect((await store.acquire([{ ref, cost: cost(1) }], 0)).allowed).toBe(true);
    await redis.stop();
    for (const call of [
      (): Promise<unknown> => store.acquire([{ ref, cost: cost(1) }], 0),
      () => store.status(ref),
      () => store.estimateWait(ref, cost(0), 0, cost(1)),
    ]) {
      const r = await timed(call());
      expect(r.ms).toBeLessThan(TIMEOUT_MS + 150);
      expect(r.error).toBeInstanceOf(ApiError);
      const e = r.error as ApiError;
      expect([e.status, e.code, e.retryAfterS]).toEqual([503, "store_unavailable", 1]);
    }
    expect(store.health().state).toBe("down");
    expect(store.health().detail).toContain("rejected with 503");
    await redis.restart();
    await until("recovery", () => store.health().state === "ok");
    expect((await store.acquire([{ ref, cost: cost(1) }], 0)).allowed).toBe(true);
  });

  // Calls at start-up first wait (bounded: FailoverOptions.connectMs, 2 s from
  // createStore) for a connection still being made; then the rule applies.
  const STARTUP_MS = 2000;

  test("start-up with Redis down: local serves from memory, reject answers 503; no hang, no crash", async () => {
    const port = await freePort();
    const url = `redis://127.0.0.1:${port}`;
    const local = track(createStore({ redis: url, prefix: "fo", on_failure: "local", timeout_ms: TIMEOUT_MS }, systemClock));
    const reject = track(createStore({ redis: url, prefix: "fo", on_failure: "reject", timeout_ms: TIMEOUT_MS }, systemClock));
    const ref = fresh();
    const a = await timed(local.acquire([{ ref, cost: cost(1) }], 0));
    expect(a.ms).toBeLessThan(STARTUP_MS + TIMEOUT_MS + 300);
    expect((a.value as { allowed: boolean }).allowed).toBe(true);
    expect(local.health().state).toBe("degraded");
    const b = await timed(reject.acquire([{ ref, cost: cost(1) }], 0));
    expect(b.ms).toBeLessThan(STARTUP_MS + TIMEOUT_MS + 300);
    // Once the rule applies, calls answer at once.
    const again = await timed(local.acquire([{ ref, cost: cost(1) }], 0));
    expect(again.ms).toBeLessThan(50);
    expect((b.error as ApiError).code).toBe("store_unavailable");
    expect(reject.health().state).toBe("down");
    // Redis appears: both switch to it by themselves (probe every ~1 s).
    const late = await startRedis([], port);
    try {
      await until("both stores on Redis", () => local.health().state === "ok" && reject.health().state === "ok", 5000);
      expect((await reject.acquire([{ ref, cost: cost(1) }], 0)).allowed).toBe(true);
    } finally {
      await late.close();
    }
  });

  test("the factory: memory without Redis, failover over Redis; no password in health or logs", async () => {
    const mem = track(createStore({ prefix: "fo", on_failure: "local", timeout_ms: 250 }, systemClock));
    expect(mem.health()).toEqual({ kind: "memory", state: "ok" });
    const secured = await startRedis(["--requirepass", "hunter2-secret"]);
    try {
      const good = track(
        createStore({ prefix: "fo", on_failure: "local", timeout_ms: 250 }, systemClock, {
          redisUrl: `redis://:hunter2-secret@127.0.0.1:${secured.port}`,
        }),
      );
      expect((await good.acquire([{ ref: fresh(), cost: cost(1) }], 0)).allowed).toBe(true);
      expect(good.health().state).toBe("ok");
      expect(JSON.stringify(good.health())).not.toContain("hunter2");
      expect(good.health().detail).toContain("***");
      const bad = track(
        createStore({ redis: `redis://:wrong-hunter3@127.0.0.1:${secured.port}`, prefix: "fo", on_failure: "local", timeout_ms: 250 }, systemClock),
      );
      expect((await bad.acquire([{ ref: fresh(), cost: cost(1) }], 0)).allowed).toBe(true);
      await until("the bad password to count as an outage", () => bad.health().state === "degraded", 2000);
      expect(JSON.stringify(bad.health())).not.toContain("hunter3");
      expect(log.lines.join("")).not.toContain("hunter");
    } finally {
      await secured.close();
    }
  });
});

describe("FailoverStore without redis-server", () => {
  const stores: Store[] = [];
  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close()));
  });
  test("a cluster of unreachable seeds degrades quickly instead of hanging", async () => {
    const [p1, p2] = [await freePort(), await freePort()];
    const store = createStore(
      { redis_cluster: [`redis://127.0.0.1:${p1}`, `redis://127.0.0.1:${p2}`], prefix: "fo", on_failure: "local", timeout_ms: TIMEOUT_MS },
      systemClock,
    );
    stores.push(store);
    const log = captureLog();
    try {
      const r = await timed(store.acquire([{ ref: fresh(), cost: cost(1) }], 0));
      expect(r.error).toBeUndefined();
      expect(r.ms).toBeLessThan(2000 + TIMEOUT_MS + 300); // the bounded wait for a first connection
      expect(store.health()).toMatchObject({ kind: "redis-cluster", state: "degraded" });
      expect(log.lines.join("")).toContain("Switching to the in-process store");
    } finally {
      log.stop();
    }
  });
});
