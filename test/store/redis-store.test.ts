// RedisStore on a real redis-server and a real 3-master Redis Cluster: the
// Store contract, then what only Redis has (TIME, TTL, hash tags, EVALSHA).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Policy } from "../../src/core/policy.ts";
import { limiterKey } from "../../src/store/lua/layout.ts";
import { connectCluster, connectRedis, type RedisClient } from "../../src/store/redis-client.ts";
import { RedisStore, StoreTimeoutError, StoreUsageError } from "../../src/store/redis-store.ts";
import type { LimiterRef } from "../../src/store/store.ts";
import { FakeClock } from "../helpers/fake-clock.ts";
import { describeRedis, startRedis, startRedisCluster, type TestCluster, type TestRedis } from "../helpers/redis.ts";
import { cost, storeContract } from "./contract.ts";

const RPM_TPM: Policy = {
  pacing: { intervalMs: 100, capacity: 5 },
  windows: [
    { name: "rpm", dim: "requests", limit: 1000, windowMs: 60_000, segments: 60 },
    { name: "tpd", dim: "tokens", limit: 1e9, windowMs: 86_400_000, segments: 144 },
  ],
};

async function until(what: string, ok: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await ok()) return;
    await Bun.sleep(20);
  }
  throw new Error(`timed out waiting for ${what}`);
}

const ready = (c: RedisClient) => until("the client to be ready", () => c.status === "ready");

describeRedis("RedisStore on standalone Redis", () => {
  let redis: TestRedis;
  const clients: RedisClient[] = [];
  const client = (timeoutMs = 250) => {
    const c = connectRedis(redis.url, timeoutMs);
    clients.push(c);
    return c;
  };
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    for (const c of clients) c.disconnect();
    await redis?.close();
  });

  storeContract("RedisStore (standalone)", async () => {
    const clock = new FakeClock();
    return { store: new RedisStore(client(), { prefix: "contract", timeoutMs: 1000, clock }), clock };
  });

  test("reads Redis TIME when no clock is given; the hash is tagged and expires", async () => {
    const store = new RedisStore(client(), { prefix: "lr", timeoutMs: 1000 });
    const ref: LimiterRef = { id: "key:time", policy: RPM_TPM, tag: "grp" };
    const before = Date.now();
    const d = await store.acquire([{ ref, cost: cost(1, 10, 5) }], 0);
    const after = Date.now();
    if (!d.allowed) throw new Error("refused");
    const seg = d.tickets[0]!.segments[0]!;
    expect(seg).toBeGreaterThanOrEqual(Math.floor(before / 1000) - 1);
    expect(seg).toBeLessThanOrEqual(Math.floor(after / 1000) + 1);
    const key = limiterKey("lr", ref);
    expect(key).toBe("{lr:grp}:key:time");
    expect(await redis.cli("exists", key)).toBe("1");
    // Longest window (a day) + 1 s slack.
    const ttl = Number(await redis.cli("pttl", key));
    expect(ttl).toBeGreaterThan(86_400_000);
    expect(ttl).toBeLessThanOrEqual(86_401_000);
    expect(await redis.cli("hget", key, "s1")).toBe("1/60000/60");
  });

  test("a pacing-only limiter expires after its tat", async () => {
    const clock = new FakeClock();
    const store = new RedisStore(client(), { prefix: "lr", timeoutMs: 1000, clock });
    const ref: LimiterRef = { id: "prov:ttl", policy: { pacing: { intervalMs: 5000, capacity: 1 }, windows: [] } };
    for (let i = 0; i < 3; i++) await store.acquire([{ ref, cost: cost(1) }], 60_000);
    const ttl = Number(await redis.cli("pttl", limiterKey("lr", ref)));
    expect(ttl).toBeGreaterThan(14_000); // tat is 15 s ahead
    expect(ttl).toBeLessThanOrEqual(16_000);
  });

  test("a changed limit keeps what was counted; a changed layout starts afresh, also within one batch", async () => {
    const clock = new FakeClock();
    const store = new RedisStore(client(), { prefix: "reload", timeoutMs: 1000, clock });
    const win = { name: "rpm", dim: "requests" as const, windowMs: 60_000, segments: 60 };
    const v1: LimiterRef = { id: "k", policy: { pacing: null, windows: [{ ...win, limit: 2 }] } };
    const v2: LimiterRef = { id: "k", policy: { pacing: null, windows: [{ ...win, limit: 3 }] } };
    const v3: LimiterRef = { id: "k", policy: { pacing: null, windows: [{ ...win, limit: 3, segments: 600 }] } };
    const one = (r: LimiterRef) => store.acquire([{ ref: r, cost: cost(1) }], 0);
    // One tick, one batch: two under v1, then one under v2 (same layout: counts kept, 3rd of 3 fits),
    // then one under v3 (new layout: a fresh window).
    const ds = await Promise.all([one(v1), one(v1), one(v2), one(v2), one(v3)]);
    expect(ds.map((d) => d.allowed)).toEqual([true, true, true, false, true]);
    expect(ds.map((d) => d.status[0]![0]!.used)).toEqual([1, 2, 3, 3, 1]);
  });

  test("numbers in the acquire's text reply stay exact past 1e14 and for fractions", async () => {
    const clock = new FakeClock();
    const store = new RedisStore(client(), { prefix: "exact", timeoutMs: 1000, clock });
    const policy: Policy = { pacing: null, windows: [{ name: "tpd", dim: "input_tokens", limit: 9e15, windowMs: 60_000, segments: 60 }] };
    const ref: LimiterRef = { id: "k", policy };
    const big = 300_000_000_000_001; // over 1e14, under 2^53
    const d1 = await store.acquire([{ ref, cost: cost(1, big, 0) }], 0);
    expect(d1.status[0]![0]!.used).toBe(big);
    const d2 = await store.acquire([{ ref, cost: cost(1, 0.1, 0) }], 0);
    expect(d2.status[0]![0]!.used).toBe(big + 0.1);
    const d3 = await store.acquire([{ ref, cost: cost(1, 9e15, 0) }], 0);
    expect(d3.allowed).toBe(false);
    if (!d3.allowed) expect(d3.waitMs).toBeGreaterThan(0);
  });

  test("concurrency leases: up to the cap, all-or-nothing over caps, freed by drop or by expiry, kept by renewal", async () => {
    const store = new RedisStore(client(), { prefix: "lease", timeoutMs: 1000 });
    const prov: LimiterRef = { id: "prov:p", policy: RPM_TPM, tag: "prov:p" };
    const model: LimiterRef = { id: "model:p:m", policy: RPM_TPM, tag: "prov:p" };
    const caps = [{ ref: prov, max: 2 }];
    expect(await store.takeLease(caps, "a", 1000)).toBe(0);
    expect(await store.takeLease(caps, "b", 1000)).toBe(0);
    const wait = await store.takeLease(caps, "c", 1000);
    expect(wait).toBeGreaterThan(500); // until "a" expires
    expect(wait).toBeLessThanOrEqual(1000);
    // Two caps: the model has room, the provider not: nothing is taken on either.
    expect(await store.takeLease([{ ref: model, max: 5 }, ...caps], "d", 1000)).toBeGreaterThan(0);
    expect(await redis.cli("zcard", "{lease:prov:p}:lease:model:p:m")).toBe("0");
    await store.dropLease(caps, "a");
    expect(await store.takeLease([{ ref: model, max: 5 }, ...caps], "d", 1000)).toBe(0);
    expect(await redis.cli("zcard", "{lease:prov:p}:lease:model:p:m")).toBe("1");
    // "b" is renewed, "d" is not: after the first ttl only "d" has expired.
    await Bun.sleep(600);
    await store.renewLeases(caps, ["b"], 1000);
    await Bun.sleep(600);
    expect(await store.takeLease(caps, "e", 1000)).toBe(0); // "d" expired: a crashed holder frees its slot
    expect(await store.takeLease(caps, "f", 1000)).toBeGreaterThan(0); // "b" (renewed) and "e" hold both
  });

  test("EVALSHA survives SCRIPT FLUSH", async () => {
    const store = new RedisStore(client(), { prefix: "flush", timeoutMs: 1000 });
    const ref: LimiterRef = { id: "k", policy: RPM_TPM };
    expect((await store.acquire([{ ref, cost: cost(1) }], 0)).allowed).toBe(true);
    await redis.cli("script", "flush");
    // Many at once after the flush: every one must still get its answer.
    const ds = await Promise.all(Array.from({ length: 20 }, () => store.acquire([{ ref, cost: cost(1) }], 10_000)));
    expect(ds.every((d) => d.allowed)).toBe(true);
    expect((await store.status(ref)).windows[0]!.used).toBe(21);
    const stats = await redis.cli("info", "commandstats");
    expect(stats).toMatch(/cmdstat_evalsha:calls=\d+/);
  });

  test("survives a Redis restart (scripts gone, connection re-made)", async () => {
    const c = client();
    const store = new RedisStore(c, { prefix: "restart", timeoutMs: 250 });
    const ref: LimiterRef = { id: "k", policy: RPM_TPM };
    expect((await store.acquire([{ ref, cost: cost(1) }], 0)).allowed).toBe(true);
    await redis.stop();
    const t0 = performance.now();
    await expect(store.acquire([{ ref, cost: cost(1) }], 0)).rejects.toThrow();
    expect(performance.now() - t0).toBeLessThan(400);
    await redis.restart();
    await ready(c);
    const d = await store.acquire([{ ref, cost: cost(1) }], 0);
    expect(d.allowed).toBe(true);
    expect((await store.status(ref)).windows[0]!.used).toBe(1); // no persistence: a fresh limiter
  });

  test("a call to a Redis that does not answer rejects after timeout_ms", async () => {
    const c = client(100);
    await ready(c);
    const store = new RedisStore(c, { prefix: "pause", timeoutMs: 100 });
    const ref: LimiterRef = { id: "k", policy: RPM_TPM };
    await redis.cli("client", "pause", "800", "all");
    const t0 = performance.now();
    const err = await store.acquire([{ ref, cost: cost(1) }], 0).catch((e: unknown) => e);
    const took = performance.now() - t0;
    expect(err).toBeInstanceOf(StoreTimeoutError);
    expect(took).toBeGreaterThanOrEqual(95);
    expect(took).toBeLessThan(300);
    await Bun.sleep(900);
  });

  test("acquires made while two batches are out leave together as the next batch, decided in order", async () => {
    const c = client(2000);
    await ready(c);
    const store = new RedisStore(c, { prefix: "batching", timeoutMs: 2000 });
    const ref: LimiterRef = { id: "k", policy: { pacing: null, windows: [{ name: "rpm", dim: "requests", limit: 40, windowMs: 60_000, segments: 60 }] } };
    await store.acquire([{ ref: { id: "warm", policy: RPM_TPM }, cost: cost(1) }], 0); // scripts loaded
    await redis.cli("config", "resetstat");
    await redis.cli("client", "pause", "1000", "all"); // far longer than issuing the 50 below, even on a busy machine
    // One acquire per macrotask: no two share a tick.
    const ds: Promise<boolean>[] = [];
    for (let i = 0; i < 50; i++) {
      ds.push(store.acquire([{ ref, cost: cost(1) }], 0).then((d) => d.allowed));
      await new Promise((r) => setImmediate(r));
    }
    const allowed = await Promise.all(ds);
    expect(allowed.filter(Boolean).length).toBe(40);
    expect(allowed.indexOf(false)).toBe(40); // first come, first served
    const calls = Number(/cmdstat_evalsha:calls=(\d+)/.exec(await redis.cli("info", "commandstats"))![1]);
    expect(calls).toBe(3); // the first two, then the 48 that waited, as one
  });

  test("an acquire waiting behind a stuck batch times out counted from when it was made", async () => {
    const c = client(200);
    await ready(c);
    const store = new RedisStore(c, { prefix: "stuck", timeoutMs: 200 });
    const ref: LimiterRef = { id: "k", policy: RPM_TPM };
    await store.acquire([{ ref, cost: cost(1) }], 0);
    await redis.cli("client", "pause", "900", "all");
    const took: Promise<number>[] = [];
    for (let i = 0; i < 4; i++) {
      const t0 = performance.now();
      took.push(store.acquire([{ ref, cost: cost(1) }], 0).then(() => -1, () => performance.now() - t0));
      await Bun.sleep(5);
    }
    // The last two wait for a batch place; counted from their sending they would take ~390 ms.
    for (const t of await Promise.all(took)) {
      expect(t).toBeGreaterThanOrEqual(190);
      expect(t).toBeLessThan(330);
    }
    await Bun.sleep(1000);
  });

  test("a process busy past the timeout (not Redis) does not turn a fast answer into a timeout", async () => {
    const c = client(100);
    await ready(c);
    const store = new RedisStore(c, { prefix: "busy", timeoutMs: 100 });
    const pending = store.acquire([{ ref: { id: "k", policy: RPM_TPM }, cost: cost(1) }], 0);
    await Promise.resolve(); // the batch is sent (its timer armed) in a microtask
    const end = performance.now() + 300;
    while (performance.now() < end) {} // a long synchronous step: Redis answered long ago
    expect((await pending).allowed).toBe(true);
  });

  test("authenticates with the URL's password", async () => {
    const secured = await startRedis(["--requirepass", "s3cr3t/pw"]);
    try {
      const c = connectRedis(`redis://:${encodeURIComponent("s3cr3t/pw")}@127.0.0.1:${secured.port}`, 500);
      clients.push(c);
      const store = new RedisStore(c, { prefix: "auth", timeoutMs: 500 });
      expect((await store.acquire([{ ref: { id: "k", policy: RPM_TPM }, cost: cost(1) }], 0)).allowed).toBe(true);
      const bad = connectRedis(`redis://:wrong@127.0.0.1:${secured.port}`, 200);
      clients.push(bad);
      const badStore = new RedisStore(bad, { prefix: "auth", timeoutMs: 200 });
      await expect(badStore.acquire([{ ref: { id: "k", policy: RPM_TPM }, cost: cost(1) }], 0)).rejects.toThrow();
    } finally {
      await secured.close();
    }
  });
});

describeRedis("RedisStore on a 3-master Redis Cluster", () => {
  let cluster: TestCluster;
  const clients: RedisClient[] = [];
  const client = () => {
    const c = connectCluster(cluster.urls, 1000);
    clients.push(c);
    return c;
  };
  beforeAll(async () => {
    cluster = await startRedisCluster();
  }, 30_000);
  afterAll(async () => {
    for (const c of clients) c.disconnect();
    await cluster?.close();
  });

  storeContract("RedisStore (cluster)", async () => {
    const clock = new FakeClock();
    const store = new RedisStore(client(), { prefix: "contract", timeoutMs: 2000, clock });
    expect(store.kind).toBe("redis-cluster");
    return { store, clock };
  });

  test("limiters sharing a tag share a slot; others spread over the masters", async () => {
    const store = new RedisStore(client(), { prefix: "lr", timeoutMs: 2000 });
    const slotOf = async (key: string) => Number(await cluster.cli("cluster", "keyslot", key));
    const key: LimiterRef = { id: "key:abc", policy: RPM_TPM, tag: "team:a" };
    const group: LimiterRef = { id: "group:team-a", policy: RPM_TPM, tag: "team:a" };
    expect((await store.acquire([{ ref: key, cost: cost(1) }, { ref: group, cost: cost(1) }], 0)).allowed).toBe(true);
    const k1 = limiterKey("lr", key);
    const k2 = limiterKey("lr", group);
    expect(await slotOf(k1)).toBe(await slotOf(k2));
    expect(await slotOf(k1)).toBe(await slotOf("lr:team:a")); // only the braces count
    expect(await cluster.cli("exists", k1)).toBe("1");
    expect(await cluster.cli("exists", k2)).toBe("1");
    const ttl = Number(await cluster.cli("pttl", k1));
    expect(ttl).toBeGreaterThan(86_400_000);

    // 60 limiters with their own tags land on all three masters.
    const owners = new Set<string>();
    const refs = Array.from({ length: 60 }, (_, i): LimiterRef => ({ id: `key:${i}`, policy: RPM_TPM }));
    await Promise.all(refs.map((r) => store.acquire([{ ref: r, cost: cost(1) }], 0)));
    const slots = await cluster.cli("cluster", "slots");
    const ranges = [...slots.matchAll(/^(\d+)\n(\d+)\n127\.0\.0\.1\n(\d+)/gm)].map((m) => ({ lo: +m[1]!, hi: +m[2]!, port: m[3]! }));
    for (const r of refs) {
      const s = await slotOf(limiterKey("lr", r));
      owners.add(ranges.find((g) => g.lo <= s && s <= g.hi)!.port);
    }
    expect(owners.size).toBe(3);
  });

  test("concurrency leases on Cluster: caps of one tag share a slot; caps over two tags are refused clearly", async () => {
    const store = new RedisStore(client(), { prefix: "lease", timeoutMs: 2000 });
    const prov: LimiterRef = { id: "prov:q", policy: RPM_TPM, tag: "prov:q" };
    const model: LimiterRef = { id: "model:q:m", policy: RPM_TPM, tag: "prov:q" };
    const caps = [{ ref: model, max: 1 }, { ref: prov, max: 3 }];
    expect(await store.takeLease(caps, "a", 1000)).toBe(0);
    expect(await store.takeLease(caps, "b", 1000)).toBeGreaterThan(0);
    await store.dropLease(caps, "a");
    expect(await store.takeLease(caps, "b", 1000)).toBe(0);
    await expect(store.takeLease([{ ref: prov, max: 1 }, { ref: { id: "other", policy: RPM_TPM }, max: 1 }], "c", 1000)).rejects.toBeInstanceOf(StoreUsageError);
  });

  test("one acquire over different tags fails with a clear error", async () => {
    const store = new RedisStore(client(), { prefix: "lr", timeoutMs: 2000 });
    const a: LimiterRef = { id: "key:x", policy: RPM_TPM };
    const b: LimiterRef = { id: "group:y", policy: RPM_TPM };
    const err = await store.acquire([{ ref: a, cost: cost(1) }, { ref: b, cost: cost(1) }], 0).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreUsageError);
    expect(String(err)).toContain("same LimiterRef.tag");
  });

  test("EVALSHA survives SCRIPT FLUSH on every node", async () => {
    const store = new RedisStore(client(), { prefix: "flush", timeoutMs: 2000 });
    const refs = Array.from({ length: 12 }, (_, i): LimiterRef => ({ id: `k${i}`, policy: RPM_TPM }));
    await Promise.all(refs.map((r) => store.acquire([{ ref: r, cost: cost(1) }], 0)));
    for (const p of cluster.ports) {
      const proc = Bun.spawn(["redis-cli", "-p", String(p), "script", "flush"], { stdout: "ignore" });
      await proc.exited;
    }
    const ds = await Promise.all(refs.map((r) => store.acquire([{ ref: r, cost: cost(1) }], 0)));
    expect(ds.every((d) => d.allowed)).toBe(true);
  });
});

describe("RedisStore without a server", () => {
  test("a call fails fast when nothing listens", async () => {
    const c = connectRedis("redis://127.0.0.1:1", 200);
    const store = new RedisStore(c, { prefix: "none", timeoutMs: 200 });
    const t0 = performance.now();
    await expect(store.acquire([{ ref: { id: "k", policy: RPM_TPM }, cost: cost(1) }], 0)).rejects.toThrow();
    expect(performance.now() - t0).toBeLessThan(350);
    c.disconnect();
  });
});
