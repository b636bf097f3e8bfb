// Several gateway nodes sharing one Redis: one global budget per key and per provider, and Redis outages.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startMockUpstream } from "../../src/mock/mock-upstream.ts";
import type { RunningGateway } from "../../src/gateway/server.ts";
import { chat, gateway, post, provider } from "../helpers/gateway.ts";
import { describeRedis, startRedis, startRedisCluster, type TestCluster, type TestRedis } from "../helpers/redis.ts";
import { okJson, scriptedUpstream } from "../helpers/upstream.ts";
import { untilAsync } from "../helpers/wait.ts";

const KEYS = { "node-key-a-0123456789": { rpm: 20, name: "a" }, "node-key-b-0123456789": { rpm: 35, name: "b" }, "node-key-c-0123456789": { rpm: 7, input_tpm: 100000, name: "c" } };

function nodes(n: number, raw: Record<string, unknown>): RunningGateway[] {
  return Array.from({ length: n }, () => gateway(raw));
}

describeRedis("gateway nodes over one Redis", () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis.close();
  });

  test("3 nodes, many concurrent clients over nodes and keys: the upstream receives exactly each key's limit", async () => {
    const mock = startMockUpstream({ port: 0 });
    const gws = nodes(3, { store: { redis: redis.url, prefix: "exact", timeout_ms: 2000 }, keys: KEYS, providers: [provider("mock", mock.url)] });
    try {
      const names = Object.keys(KEYS);
      let seed = 7;
      const rnd = (n: number) => (seed = (seed * 48271) % 2147483647) % n;
      const res = await Promise.all(
        Array.from({ length: 300 }, () => {
          const gw = gws[rnd(3)]!;
          const key = names[rnd(3)]!;
          return post(`${gw.url}/v1/chat/completions`, chat("gpt-4o-mini", { max_tokens: 10 }), { authorization: `Bearer ${key}` }).then(
            async (r) => ({ key, status: r.status, body: await r.text() }),
          );
        }),
      );
      for (const [key, limit] of [[names[0]!, 20], [names[1]!, 35], [names[2]!, 7]] as const) {
        const mine = res.filter((r) => r.key === key);
        expect(mine.filter((r) => r.status === 200).length).toBe(Math.min(limit, mine.length));
        expect(mine.every((r) => r.status === 200 || r.status === 429)).toBe(true);
      }
      expect(mock.counts().requests).toBe(62);
      const health = await (await fetch(`${gws[0]!.url}/admin/health`)).json();
      expect(health).toMatchObject({ status: "ok", store: { kind: "redis", state: "ok" } });
    } finally {
      await Promise.all(gws.map((g) => g.stop()));
      await mock.stop();
    }
  });

  test("3 nodes, 10 keys of one group: together they never exceed the group's limit", async () => {
    const mock = startMockUpstream({ port: 0 });
    const keys = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`grp-node-key-${i}-0123456789`, { rpm: 50, group: "team" }]));
    const gws = nodes(3, { store: { redis: redis.url, prefix: "group3", timeout_ms: 2000 }, keys, groups: { team: { rpm: 23 } }, providers: [provider("mock", mock.url)] });
    try {
      const res = await Promise.all(
        Array.from({ length: 120 }, (_, i) =>
          post(`${gws[i % 3]!.url}/v1/chat/completions`, chat(), { authorization: `Bearer grp-node-key-${i % 10}-0123456789` }).then((r) => r.status),
        ),
      );
      expect(res.filter((c) => c === 200)).toHaveLength(23);
      expect(res.filter((c) => c === 429)).toHaveLength(97);
      expect(mock.counts().requests).toBe(23);
    } finally {
      await Promise.all(gws.map((g) => g.stop()));
      await mock.stop();
    }
  });

  test("cross-node pacing: a spaced provider keeps its gaps whichever node sends", async () => {
    const up = scriptedUpstream(() => okJson());
    const gws = nodes(3, { store: { redis: redis.url, prefix: "pace", timeout_ms: 2000 }, providers: [provider("up", up.url, { rate_limit: { mode: "spaced", interval_seconds: 0.1 } })] });
    try {
      const res = await Promise.all(Array.from({ length: 9 }, (_, i) => post(`${gws[i % 3]!.url}/v1/chat/completions`, chat())));
      expect(res.every((r) => r.status === 200)).toBe(true);
      const at = up.requests.map((r) => r.at).sort((a, b) => a - b);
      // Slots are exact in Redis; arrival gaps also carry each node's timer and reply latency (tens of ms on a busy box).
      for (let i = 1; i < at.length; i++) expect(at[i]! - at[i - 1]!).toBeGreaterThanOrEqual(30);
      expect(at.at(-1)! - at[0]!).toBeGreaterThanOrEqual(8 * 100 - 25);
      expect(at.at(-1)! - at[0]!).toBeLessThan(2000);
    } finally {
      await Promise.all(gws.map((g) => g.stop()));
      await up.stop();
    }
  });

  test("max_concurrent holds across nodes (shared leases): 3 nodes, cap 2, the upstream never sees more than 2 at once", async () => {
    const up = scriptedUpstream(async () => {
      await Bun.sleep(120);
      return okJson();
    });
    const gws = nodes(3, { store: { redis: redis.url, prefix: "leases", timeout_ms: 2000 }, providers: [provider("up", up.url, { rate_limit: { max_concurrent: 2 } })] });
    try {
      const t0 = performance.now();
      const res = await Promise.all(Array.from({ length: 12 }, (_, i) => post(`${gws[i % 3]!.url}/v1/chat/completions`, chat())));
      const took = performance.now() - t0;
      expect(res.map((r) => r.status)).toEqual(Array(12).fill(200));
      expect(up.requests).toHaveLength(12);
      expect(up.maxInFlight).toBe(2); // per node it would be 2 on each: up to 6
      expect(took).toBeGreaterThanOrEqual(6 * 120 - 50); // 12 requests, 2 at a time
      // Every lease was given back (drops are sent when an answer ends, without waiting for Redis).
      expect(await untilAsync(async () => (await redis.cli("zcard", "{leases:prov:up}:lease:prov:up")) === "0")).toBe(true);
    } finally {
      await Promise.all(gws.map((g) => g.stop()));
      await up.stop();
    }
  });

  test("a key's max_concurrent holds across nodes too: 3 nodes, cap 1, its requests reach the upstream one at a time", async () => {
    // While a request is at the upstream, its lease is in Redis: the emptiness checked at the end means something.
    const leasesSeen: string[] = [];
    const up = scriptedUpstream(async () => {
      leasesSeen.push((await redis.cli("keys", "{keylease:*}:lease:*")).trim());
      await Bun.sleep(100);
      return okJson();
    });
    const key = "lease-key-0123456789abcdef";
    const gws = nodes(3, { store: { redis: redis.url, prefix: "keylease", timeout_ms: 2000 }, keys: { [key]: { max_concurrent: 1 } }, providers: [provider("up", up.url)] });
    try {
      const res = await Promise.all(Array.from({ length: 6 }, (_, i) => post(`${gws[i % 3]!.url}/v1/chat/completions`, chat(), { authorization: `Bearer ${key}` })));
      expect(res.map((r) => r.status)).toEqual(Array(6).fill(200));
      expect(up.maxInFlight).toBe(1); // per node it would be 1 on each: up to 3
      expect(leasesSeen).toHaveLength(6);
      expect(leasesSeen.every((k) => k !== "")).toBe(true);
      // Every lease given back (an empty set is deleted).
      expect(await untilAsync(async () => (await redis.cli("keys", "{keylease:*}:lease:*")).trim() === "")).toBe(true);
    } finally {
      await Promise.all(gws.map((g) => g.stop()));
      await up.stop();
    }
  });

  test("on_failure local: Redis killed mid-load → per-node limits, health degraded, nothing stuck; back to Redis when it returns", async () => {
    const r = await startRedis();
    const mock = startMockUpstream({ port: 0 });
    const gw = gateway({ store: { redis: r.url, on_failure: "local", timeout_ms: 200 }, keys: { "fail-key-0123456789": { rpm: 1000 } }, providers: [provider("mock", mock.url)] });
    const ask = () => post(`${gw.url}/v1/chat/completions`, chat(), { authorization: "Bearer fail-key-0123456789" });
    try {
      expect((await ask()).status).toBe(200);
      await r.stop();
      const t0 = performance.now();
      const during = await Promise.all(Array.from({ length: 20 }, ask));
      expect(during.every((x) => x.status === 200)).toBe(true);
      expect(performance.now() - t0).toBeLessThan(3000);
      const h = await (await fetch(`${gw.url}/admin/health`)).json();
      expect(h.status).toBe("degraded");
      expect(h.store.state).toBe("degraded");
      await r.restart();
      let state = "";
      for (let i = 0; i < 50 && state !== "ok"; i++) {
        await Bun.sleep(100);
        await ask();
        state = (await (await fetch(`${gw.url}/admin/health`)).json()).store.state;
      }
      expect(state).toBe("ok");
      expect((await ask()).status).toBe(200);
    } finally {
      await gw.stop();
      await mock.stop();
      await r.close();
    }
  });

  test("on_failure reject: Redis down → 503 with Retry-After at once; requests flow again when it returns", async () => {
    const r = await startRedis();
    const mock = startMockUpstream({ port: 0 });
    const gw = gateway({ store: { redis: r.url, on_failure: "reject", timeout_ms: 200 }, keys: { "rej-key-0123456789": { rpm: 1000 } }, providers: [provider("mock", mock.url)] });
    const ask = () => post(`${gw.url}/v1/chat/completions`, chat(), { authorization: "Bearer rej-key-0123456789" });
    try {
      expect((await ask()).status).toBe(200);
      await r.stop();
      const t0 = performance.now();
      const res = await ask();
      expect(performance.now() - t0).toBeLessThan(1500);
      expect(res.status).toBe(503);
      expect(res.headers.get("retry-after")).not.toBeNull();
      expect((await res.json()).error.code).toBe("store_unavailable");
      expect((await (await fetch(`${gw.url}/admin/health`)).json()).store.state).toBe("down");
      await r.restart();
      let status = 0;
      for (let i = 0; i < 50 && status !== 200; i++) {
        await Bun.sleep(100);
        status = (await ask()).status;
      }
      expect(status).toBe(200);
    } finally {
      await gw.stop();
      await mock.stop();
      await r.close();
    }
  });
});

describeRedis("gateway nodes over a Redis Cluster", () => {
  let cluster: TestCluster;
  beforeAll(async () => {
    cluster = await startRedisCluster();
  }, 30_000);
  afterAll(async () => {
    await cluster?.close();
  });

  test("keys, groups and per-model lines hold their global limits across 2 nodes on a 3-master cluster", async () => {
    const mock = startMockUpstream({ port: 0 });
    const keys = Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`cluster-key-${i}-0123456789`, { rpm: 4, group: i < 3 ? "g1" : "g2" }]));
    const gws = nodes(2, {
      store: { redis_cluster: cluster.urls, timeout_ms: 2000 },
      keys,
      groups: { g1: { rpm: 9 }, g2: { rpm: 100 } },
      providers: [provider("mock", mock.url, { models: [{ name: "gpt-4o", rate_limit: { mode: "window", rpm: 1000 } }, "gpt-4o-mini"] })],
    });
    try {
      const res = await Promise.all(
        Array.from({ length: 60 }, (_, i) =>
          post(`${gws[i % 2]!.url}/v1/chat/completions`, chat(i % 3 ? "gpt-4o" : "gpt-4o-mini"), { authorization: `Bearer cluster-key-${i % 6}-0123456789` }).then((r) => ({ i, status: r.status })),
        ),
      );
      const ok = (g: number) => res.filter((r) => r.status === 200 && (r.i % 6 < 3) === (g === 1)).length;
      expect(ok(1)).toBe(9); // group g1's limit binds (3 keys × 4 > 9)
      expect(ok(2)).toBe(12); // g2 is loose: each key's own 4 binds
      expect(mock.counts().requests).toBe(21);
      expect((await (await fetch(`${gws[0]!.url}/admin/health`)).json()).store.kind).toBe("redis-cluster");
    } finally {
      await Promise.all(gws.map((g) => g.stop()));
      await mock.stop();
    }
  });
});
