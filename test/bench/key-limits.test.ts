// Matching /admin/stats key limits to what each key got: pure, and against a real gateway.
import { afterEach, expect, test } from "bun:test";
import { checkKeyLimits, fetchNodeStats, type NodeStats } from "../../src/bench/key-limits.ts";
import { keyLabel } from "../../src/bench/workload.ts";
import { startMockUpstream } from "../../src/mock/mock-upstream.ts";
import { gateway, provider } from "../helpers/gateway.ts";
import { closedPort, group } from "./helpers.ts";

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

const node = (url: string, kind: string, keys: { key: string; rpm?: number; rpd?: number }[]): NodeStats => ({
  url,
  stats: {
    store: { kind },
    keys: keys.map((k) => ({
      key: k.key,
      windows: {
        ...(k.rpm ? { rpm: { limit: k.rpm } } : {}),
        ...(k.rpd ? { rpd: { limit: k.rpd } } : {}),
        input_tpm: { limit: 1000 },
      },
    })),
  },
});

test("a key's rpm and rpd are checked; token limits and unknown keys are skipped", () => {
  const byKey = { "key:aaaa": group({ "200": 20, "429": 5 }), "key:bbbb": group({ "200": 3 }), alice: group({ "200": 1 }) };
  const checks = checkKeyLimits(byKey, [node("u1", "memory", [{ key: "key:aaaa", rpm: 20, rpd: 1000 }, { key: "key:bbbb", rpm: 2 }])], 5);
  expect(checks).toEqual([
    { key: "key:aaaa", dimension: "rpm", limit: 20, allowed: 20, accepted: 20, ok: true },
    { key: "key:aaaa", dimension: "rpd", limit: 1000, allowed: 1000, accepted: 20, ok: true },
    { key: "key:bbbb", dimension: "rpm", limit: 2, allowed: 2, accepted: 3, ok: false },
  ]);
});

test("a run longer than the window allows one limit per window it spans", () => {
  const checks = checkKeyLimits({ k: group({ "200": 25 }) }, [node("u1", "memory", [{ key: "k", rpm: 10 }])], 125);
  expect(checks[0]).toMatchObject({ allowed: 30, ok: true });
});

test("unshared nodes each allow the limit; nodes sharing Redis allow it once", () => {
  const byKey = { k: group({ "200": 15 }) };
  const apart = [node("u1", "memory", [{ key: "k", rpm: 10 }]), node("u2", "memory", [{ key: "k", rpm: 10 }])];
  expect(checkKeyLimits(byKey, apart, 5)[0]).toMatchObject({ allowed: 20, ok: true });
  const shared = [node("u1", "redis", [{ key: "k", rpm: 10 }]), node("u2", "redis", [{ key: "k", rpm: 10 }])];
  expect(checkKeyLimits(byKey, shared, 5)[0]).toMatchObject({ allowed: 10, ok: false });
  expect(checkKeyLimits(byKey, [{ url: "u3", stats: null }], 5)).toEqual([]);
});

test("fetchNodeStats reads a real gateway's /admin/stats, whose label for an unnamed key is the bench's label", async () => {
  const KEY = "lr-bench-test-key-123456";
  const mock = startMockUpstream({ port: 0 });
  const gw = gateway({ keys: { [KEY]: { rpm: 7 } }, providers: [provider("mock", mock.url)] });
  cleanup.push(() => mock.stop(), () => gw.stop());
  const down = `http://127.0.0.1:${await closedPort()}`;
  const [up, gone] = await fetchNodeStats([gw.url, down], { timeoutMs: 1000 });
  expect(gone!.stats).toBeNull();
  expect(up!.stats?.keys?.[0]?.key).toBe(keyLabel(KEY));
  const checks = checkKeyLimits({ [keyLabel(KEY)]: group({ "200": 7 }) }, [up!], 1);
  expect(checks).toEqual([{ key: keyLabel(KEY), dimension: "rpm", limit: 7, allowed: 7, accepted: 7, ok: true }]);
});

test("a guarded /admin/stats without the token gives no stats; with it, it does", async () => {
  const mock = startMockUpstream({ port: 0 });
  const gw = gateway({ server: { admin_token: "adm-secret" }, keys: { k1: { rpm: 3 } }, providers: [provider("mock", mock.url)] });
  cleanup.push(() => mock.stop(), () => gw.stop());
  expect((await fetchNodeStats([gw.url]))[0]!.stats).toBeNull();
  expect((await fetchNodeStats([gw.url], { adminToken: "adm-secret" }))[0]!.stats?.keys).toHaveLength(1);
});
