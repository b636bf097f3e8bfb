// Key groups (teams) and per-key per-model limits: decided with the key in one atomic step.
import { afterEach, expect, test } from "bun:test";
import { startMockUpstream } from "../../src/mock/mock-upstream.ts";
import { chat, gateway, post, provider } from "../helpers/gateway.ts";

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

function setup(raw: Record<string, unknown>) {
  const mock = startMockUpstream({ port: 0 });
  const gw = gateway({ ...raw, providers: [provider("mock", mock.url)] });
  cleanup.push(() => mock.stop(), () => gw.stop());
  return { mock, gw, url: `${gw.url}/v1/chat/completions` };
}

test("keys of one group together never exceed the group's limit, even concurrently", async () => {
  const keys = Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`team-key-${i}-abcdef`, { rpm: 10, group: "team-a" }]));
  const { mock, url, gw } = setup({ keys, groups: { "team-a": { rpm: 7 } } });
  const res = await Promise.all(
    Array.from({ length: 25 }, (_, i) => post(url, chat(), { authorization: `Bearer team-key-${i % 5}-abcdef` })),
  );
  expect(res.filter((r) => r.status === 200)).toHaveLength(7);
  const refused = res.filter((r) => r.status === 429);
  expect(refused).toHaveLength(18);
  expect((await refused[0]!.json()).error.message).toContain("group 'team-a'");
  expect(mock.counts().requests).toBe(7);
  const s = await (await fetch(`${gw.url}/admin/stats`)).json();
  expect(s.groups).toEqual([expect.objectContaining({ group: "team-a", requests: 25, rejected: 18 })]);
  expect(s.groups[0].windows.rpm).toMatchObject({ limit: 7, used: 7 });
});

test("a key refused by its group is not charged on its own budget", async () => {
  const { url, gw } = setup({
    keys: { "solo-key-0123456789": { rpm: 10, group: "g" }, "other-key-0123456789": { rpm: 10, group: "g" } },
    groups: { g: { rpm: 2 } },
  });
  await post(url, chat(), { authorization: "Bearer other-key-0123456789" });
  await post(url, chat(), { authorization: "Bearer other-key-0123456789" });
  expect((await post(url, chat(), { authorization: "Bearer solo-key-0123456789" })).status).toBe(429);
  const s = await (await fetch(`${gw.url}/admin/stats`)).json();
  const solo = s.keys.find((k: { key: string }) => k.key !== s.keys[1].key);
  expect(solo.windows.rpm.used).toBe(0);
});

test("per-key per-model limits: one model limited for this key, the other free; models outside the map refused", async () => {
  const { url } = setup({
    keys: { "model-key-0123456789": { models: { "gpt-4o": { rpm: 2 }, "gpt-4o-mini": {} } }, "plain-key-0123456789": { models: { "gpt-4o": { rpm: 1 } } } },
  });
  const auth = { authorization: "Bearer model-key-0123456789" };
  const big = await Promise.all(Array.from({ length: 3 }, () => post(url, chat("gpt-4o"), auth)));
  expect(big.map((r) => r.status).sort()).toEqual([200, 200, 429]);
  const msg = (await big.find((r) => r.status === 429)!.json()).error.message;
  expect(msg).toContain("on model 'gpt-4o'");
  const small = await Promise.all(Array.from({ length: 5 }, () => post(url, chat("gpt-4o-mini"), auth)));
  expect(small.every((r) => r.status === 200)).toBe(true);
  expect((await post(url, chat("gpt-4o-mini"), { authorization: "Bearer plain-key-0123456789" })).status).toBe(403);
});
