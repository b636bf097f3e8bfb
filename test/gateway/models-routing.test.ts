// Issue 9 through the real server: per-model lines under a provider, provider token budgets, earliest-slot routing.
import { afterEach, expect, test } from "bun:test";
import { startMockUpstream } from "../../src/mock/mock-upstream.ts";
import { chat, gateway, post, provider } from "../helpers/gateway.ts";
import { okJson, scriptedUpstream } from "../helpers/upstream.ts";

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

const gaps = (ts: number[]) => ts.slice(1).map((t, i) => t - ts[i]!);

test("two models of one provider are paced independently, and the provider's own pace still holds", async () => {
  const up = scriptedUpstream(() => okJson());
  const gw = gateway({
    providers: [
      provider("up", up.url, {
        models: [{ name: "gpt-4o", rate_limit: { mode: "spaced", interval_seconds: 0.3 } }, "gpt-4o-mini"],
        rate_limit: { mode: "spaced", interval_seconds: 0.05 },
      }),
    ],
  });
  cleanup.push(() => up.stop(), () => gw.stop());
  const url = `${gw.url}/v1/chat/completions`;
  const all = await Promise.all([
    ...Array.from({ length: 3 }, () => post(url, chat("gpt-4o"))),
    ...Array.from({ length: 3 }, () => post(url, chat("gpt-4o-mini"))),
  ]);
  expect(all.every((r) => r.status === 200)).toBe(true);
  const at = (m: string) => up.requests.filter((r) => JSON.parse(r.body).model === m).map((r) => r.at);
  for (const g of gaps(at("gpt-4o"))) expect(g).toBeGreaterThanOrEqual(250);
  expect(at("gpt-4o")[2]! - at("gpt-4o")[0]!).toBeGreaterThanOrEqual(2 * 300 - 25);
  // gpt-4o-mini is not stuck behind gpt-4o's slower line: all three go within ~0.3 s
  const mini = at("gpt-4o-mini");
  expect(mini[2]! - up.requests[0]!.at).toBeLessThan(400);
  for (const g of gaps(up.requests.map((r) => r.at))) expect(g).toBeGreaterThanOrEqual(25);
  expect(up.requests[5]!.at - up.requests[0]!.at).toBeGreaterThanOrEqual(5 * 50 - 25);
  const s = await (await fetch(`${gw.url}/admin/stats`)).json();
  expect(s.providers[0].model_lines.map((l: { model: string }) => l.model)).toEqual(["gpt-4o"]);
  expect(s.providers[0].model_lines[0].interval_seconds).toBe(0.3);
  expect(s.providers[0].sent).toBe(6);
});

test("a provider's max_concurrent holds across its models' lines", async () => {
  const up = scriptedUpstream(async () => {
    await Bun.sleep(150);
    return okJson();
  });
  const gw = gateway({
    providers: [
      provider("up", up.url, {
        models: [{ name: "gpt-4o", rate_limit: { mode: "window", rpm: 1000 } }, "gpt-4o-mini"],
        rate_limit: { max_concurrent: 2 },
      }),
    ],
  });
  cleanup.push(() => up.stop(), () => gw.stop());
  const url = `${gw.url}/v1/chat/completions`;
  const all = await Promise.all(Array.from({ length: 8 }, (_, i) => post(url, chat(i % 2 ? "gpt-4o" : "gpt-4o-mini"))));
  expect(all.every((r) => r.status === 200)).toBe(true);
  expect(up.maxInFlight).toBeLessThanOrEqual(2);
  expect(up.maxInFlight).toBeGreaterThanOrEqual(1);
  expect(up.requests).toHaveLength(8);
});

test("a provider tpm budget: what reaches the upstream in a minute stays within it; the rest waits or is told to retry", async () => {
  const TPM = 1500;
  const mock = startMockUpstream({ port: 0, tpm: TPM });
  const gw = gateway({ providers: [provider("mock", mock.url, { rate_limit: { mode: "window", tpm: TPM, max_wait_seconds: 1 } })] });
  cleanup.push(() => mock.stop(), () => gw.stop());
  const url = `${gw.url}/v1/chat/completions`;
  // Digits with spaces: the gateway's tokenizer counts more than the mock's chars/4, so its reservation covers the mock's count.
  const prompt = (n: number) => Array.from({ length: n }, (_, i) => i % 10).join(" ");
  const sizes = [[40, 300], [400, 50], [20, 20], [300, 400], [100, 100], [50, 500], [10, 10], [200, 200]];
  const res = await Promise.all(
    sizes.map(([p, out]) => post(url, chat("gpt-4o-mini", { messages: [{ role: "user", content: prompt(p!) }], max_tokens: out }))),
  );
  const codes = res.map((r) => r.status);
  expect(codes.every((c) => c === 200 || c === 503)).toBe(true);
  expect(codes.filter((c) => c === 503).length).toBeGreaterThan(0);
  const c = mock.counts();
  expect(c.rejected_429).toBe(0);
  expect(c.prompt_tokens + c.completion_tokens).toBeLessThanOrEqual(TPM);
});

test("earliest_slot routing spreads a burst over two providers, each kept to its own pace", async () => {
  const a = scriptedUpstream(() => okJson());
  const b = scriptedUpstream(() => okJson());
  const gw = gateway({
    providers: [
      provider("a", a.url, { rate_limit: { mode: "spaced", interval_seconds: 0.2 } }),
      provider("b", b.url, { rate_limit: { mode: "spaced", interval_seconds: 0.2 } }),
    ],
    routing: { "gpt-4o-mini": { strategy: "earliest_slot", providers: ["a", "b"] } },
  });
  cleanup.push(() => a.stop(), () => b.stop(), () => gw.stop());
  const url = `${gw.url}/v1/chat/completions`;
  const t0 = performance.now();
  const res: Response[] = [];
  for (let i = 0; i < 6; i++) {
    res.push(await post(url, chat()));
  }
  expect(res.every((r) => r.status === 200)).toBe(true);
  expect(a.requests.length).toBe(3);
  expect(b.requests.length).toBe(3);
  for (const g of gaps(a.requests.map((r) => r.at))) expect(g).toBeGreaterThanOrEqual(160);
  for (const g of gaps(b.requests.map((r) => r.at))) expect(g).toBeGreaterThanOrEqual(160);
  // one provider alone would need 5 × 0.2 s
  expect(performance.now() - t0).toBeLessThan(800);
});

test("routing falls back to the next provider when one answers 5xx", async () => {
  const a = scriptedUpstream(() => new Response('{"error":{"message":"down"}}', { status: 502 }));
  const b = scriptedUpstream(() => okJson());
  const gw = gateway({
    providers: [provider("a", a.url, { rate_limit: { retry_upstream_429: false } }), provider("b", b.url)],
    routing: { "gpt-4o-mini": { strategy: "first", providers: ["a", "b"] } },
  });
  cleanup.push(() => a.stop(), () => b.stop(), () => gw.stop());
  const res = await post(`${gw.url}/v1/chat/completions`, chat());
  expect(res.status).toBe(200);
  expect(a.requests).toHaveLength(1);
  expect(b.requests).toHaveLength(1);
});
