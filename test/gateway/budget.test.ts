// Money: requests priced per model at admission (input + reserved output), settled on real usage; budgets per key and group.
import { afterEach, expect, test } from "bun:test";
import { startMockUpstream } from "../../src/mock/mock-upstream.ts";
import { PriceList } from "../../src/gateway/pricing.ts";
import { chat, gateway, post, provider } from "../helpers/gateway.ts";

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

test("built-in prices match model families by longest prefix; config pricing overrides", () => {
  const p = new PriceList({ "gpt-4o": { input_usd_per_1m: 1, output_usd_per_1m: 2 } });
  expect(p.of("gpt-4o")).toEqual({ input_usd_per_1m: 1, output_usd_per_1m: 2 });
  expect(p.of("gpt-4o-mini-2024-07-18")).toEqual({ input_usd_per_1m: 0.15, output_usd_per_1m: 0.6 });
  expect(new PriceList().of("gpt-4o-2024-08-06")?.input_usd_per_1m).toBe(2.5);
  expect(p.of("openai/gpt-4.1-nano")?.output_usd_per_1m).toBe(0.4);
  expect(p.of("llama3.2")).toBeNull();
  const c = p.priced("gpt-4o", { requests: 1, input_tokens: 1000, output_tokens: 500 });
  expect(c.usd).toBeCloseTo((1000 * 1 + 500 * 2) / 1e6, 12);
});

test("a key's daily budget: reserved at admission, settled on usage, then 429 budget_exceeded with the reset time", async () => {
  const mock = startMockUpstream({ port: 0 });
  const KEY = "budget-key-0123456789";
  // $1 per token both ways makes the arithmetic visible: a budget of $400 is 400 tokens.
  const gw = gateway({
    keys: { [KEY]: { budget_usd_per_day: 400, name: "spender" } },
    pricing: { "gpt-4o-mini": { input_usd_per_1m: 1e6, output_usd_per_1m: 1e6 } },
    providers: [provider("mock", mock.url)],
  });
  cleanup.push(() => mock.stop(), () => gw.stop());
  const url = `${gw.url}/v1/chat/completions`;
  const auth = { authorization: `Bearer ${KEY}` };
  const codes: number[] = [];
  for (let i = 0; i < 30 && !codes.includes(429); i++) {
    const r = await post(url, chat("gpt-4o-mini", { max_tokens: 40 }), auth);
    codes.push(r.status);
    if (r.status === 429) {
      const err = (await r.json()).error;
      expect(err.code).toBe("budget_exceeded");
      expect(err.message).toContain("USD per day");
      expect(Number(r.headers.get("retry-after"))).toBeGreaterThan(3600);
    } else await r.text();
    await Bun.sleep(5); // settle runs when the answer ends
  }
  expect(codes.at(-1)).toBe(429);
  expect(codes.filter((c) => c === 200).length).toBeGreaterThan(3); // settled below the reservation, so more fit
  const s = await (await fetch(`${gw.url}/admin/stats`)).json();
  const k = s.keys[0];
  expect(k.spend_usd).toBeGreaterThan(300);
  expect(k.spend_usd).toBeLessThanOrEqual(400);
  expect(k.windows.budget_usd_per_day.used).toBeCloseTo(k.spend_usd, 6);
  const c = mock.counts();
  expect(c.prompt_tokens + c.completion_tokens).toBeGreaterThan(0);
});

test("a group budget binds all its keys together", async () => {
  const mock = startMockUpstream({ port: 0 });
  const keys = { "grp-budget-a-0123456789": { group: "team" }, "grp-budget-b-0123456789": { group: "team" } };
  const gw = gateway({
    keys,
    groups: { team: { budget_usd_per_day: 200 } },
    pricing: { "gpt-4o-mini": { input_usd_per_1m: 1e6, output_usd_per_1m: 1e6 } },
    providers: [provider("mock", mock.url)],
  });
  cleanup.push(() => mock.stop(), () => gw.stop());
  const url = `${gw.url}/v1/chat/completions`;
  const res = await Promise.all(
    Array.from({ length: 20 }, (_, i) => post(url, chat("gpt-4o-mini", { max_tokens: 30 }), { authorization: `Bearer ${Object.keys(keys)[i % 2]}` })),
  );
  const refused = res.filter((r) => r.status === 429);
  expect(refused.length).toBeGreaterThan(0);
  expect((await refused[0]!.json()).error.message).toContain("group 'team'");
  await Bun.sleep(20);
  const s = await (await fetch(`${gw.url}/admin/stats`)).json();
  expect(s.groups[0].spend_usd).toBeLessThanOrEqual(200);
});
