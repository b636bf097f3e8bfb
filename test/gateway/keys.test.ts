// Per-key limits through the real server: auth, exact admission under concurrency, headers, reserve/settle, refunds.
import { afterEach, expect, test } from "bun:test";
import { startMockUpstream } from "../../src/mock/mock-upstream.ts";
import type { RunningGateway } from "../../src/gateway/server.ts";
import { countRequestInput } from "../../src/tokens/index.ts";
import { chat, gateway, post, provider } from "../helpers/gateway.ts";
import { okJson, scriptedUpstream } from "../helpers/upstream.ts";

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

const KEY = "lr-test-key-0123456789";

function withMock(keys: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  const mock = startMockUpstream({ port: 0 });
  const gw = gateway({ keys, providers: [provider("mock", mock.url)], ...extra });
  cleanup.push(() => mock.stop(), () => gw.stop());
  return { mock, gw };
}

const auth = (k = KEY) => ({ authorization: `Bearer ${k}` });
const completions = (gw: RunningGateway) => `${gw.url}/v1/chat/completions`;

test("keys configured: a missing or unknown key is 401 invalid_api_key, and the shared token does not bypass it", async () => {
  const { gw } = withMock({ [KEY]: { rpm: 5 } }, { server: { auth_token: "shared" } });
  for (const h of [{}, auth("wrong"), { authorization: "Bearer shared" }]) {
    const res = await post(completions(gw), chat(), h);
    expect(res.status).toBe(401);
    const text = await res.text();
    expect(JSON.parse(text).error.code).toBe("invalid_api_key");
    expect(text).not.toContain(KEY);
  }
  expect((await post(completions(gw), chat(), auth())).status).toBe(200);
});

test("200 concurrent requests against rpm 50 admit exactly 50; the upstream sees exactly 50", async () => {
  const { mock, gw } = withMock({ [KEY]: { rpm: 50 } });
  const res = await Promise.all(Array.from({ length: 200 }, () => post(completions(gw), chat(), auth())));
  const codes = res.map((r) => r.status);
  expect(codes.filter((c) => c === 200)).toHaveLength(50);
  expect(codes.filter((c) => c === 429)).toHaveLength(150);
  expect(mock.counts().requests).toBe(50);
});

test("429 names the dimension, has a Retry-After from the window and OpenAI headers", async () => {
  const { gw } = withMock({ [KEY]: { rpm: 2, name: "alice" } });
  const ok = await post(completions(gw), chat(), auth());
  expect(ok.headers.get("x-ratelimit-limit-requests")).toBe("2");
  expect(ok.headers.get("x-ratelimit-remaining-requests")).toBe("1");
  expect(ok.headers.get("x-ratelimit-reset-requests")).toMatch(/^(\d+m)?\d+(\.\d+)?s$|^\d+ms$/);
  await post(completions(gw), chat(), auth());
  const res = await post(completions(gw), chat(), auth());
  expect(res.status).toBe(429);
  const ra = Number(res.headers.get("retry-after"));
  // strict window: the oldest charge leaves between 60 and 61 s after it was made
  expect(ra).toBeGreaterThanOrEqual(60);
  expect(ra).toBeLessThanOrEqual(61);
  expect(res.headers.get("x-ratelimit-remaining-requests")).toBe("0");
  const err = (await res.json()).error;
  expect(err.code).toBe("rate_limit_exceeded");
  expect(err.type).toBe("requests");
  expect(err.message).toContain("rpm");
  expect(err.message).toContain("alice");
});

test("input tokens are counted from the request and charged", async () => {
  const body = chat("gpt-4o-mini", { messages: [{ role: "system", content: "You are terse." }, { role: "user", content: "Count me, please: one two three." }] });
  const tokens = await countRequestInput("chat", body, "gpt-4o-mini");
  expect(tokens).toBeGreaterThan(10);
  const { gw } = withMock({ [KEY]: { input_tpm: tokens * 2 + 1 } });
  const r1 = await post(completions(gw), body, auth());
  expect(r1.status).toBe(200);
  // the mock's own usage may differ from ours; after settle the window holds what the upstream reported
  expect(Number(r1.headers.get("x-ratelimit-remaining-input-tokens"))).toBe(tokens + 1);
  expect(r1.headers.get("x-ratelimit-limit-tokens")).toBe(String(tokens * 2 + 1));
});

test("output tokens: max_tokens is reserved, then settled to the real usage", async () => {
  const { gw } = withMock({ [KEY]: { output_tpm: 1000 } });
  const r1 = await post(completions(gw), chat("gpt-4o-mini", { max_tokens: 600 }), auth());
  expect(r1.status).toBe(200);
  expect(Number(r1.headers.get("x-ratelimit-remaining-output-tokens"))).toBe(400);
  const used = (await r1.json()).usage.completion_tokens as number;
  await Bun.sleep(20); // settle runs when the body ends
  const r2 = await post(completions(gw), chat("gpt-4o-mini", { max_tokens: 600 }), auth());
  expect(r2.status).toBe(200);
  expect(Number(r2.headers.get("x-ratelimit-remaining-output-tokens"))).toBe(1000 - used - 600);
});

test("concurrent reservations hold: the second max_tokens that does not fit is refused while the first runs", async () => {
  const up = scriptedUpstream(async () => {
    await Bun.sleep(200);
    return okJson();
  });
  const gw = gateway({ keys: { [KEY]: { output_tpm: 1000 } }, providers: [provider("up", up.url)] });
  cleanup.push(() => up.stop(), () => gw.stop());
  const first = post(completions(gw), chat("gpt-4o-mini", { max_tokens: 700 }), auth());
  await Bun.sleep(50);
  const second = await post(completions(gw), chat("gpt-4o-mini", { max_tokens: 700 }), auth());
  expect(second.status).toBe(429);
  expect((await second.json()).error.type).toBe("tokens");
  expect((await first).status).toBe(200);
});

test("a request that can never fit is refused at once, saying so", async () => {
  const { mock, gw } = withMock({ [KEY]: { output_tpm: 100 } });
  const res = await post(completions(gw), chat("gpt-4o-mini", { max_tokens: 500 }), auth());
  expect(res.status).toBe(429);
  const err = (await res.json()).error;
  expect(err.code).toBe("request_exceeds_limit");
  expect(err.message).toContain("never");
  expect(mock.counts().requests).toBe(0);
});

test("streams are settled too, and the client sees no usage it did not ask for", async () => {
  const { gw } = withMock({ [KEY]: { output_tpm: 1000 } });
  const res = await post(completions(gw), chat("gpt-4o-mini", { stream: true, max_tokens: 500 }), auth());
  expect(res.status).toBe(200);
  const text = await res.text();
  expect(text).not.toContain('"usage"');
  const events = text.split("\n\n").filter((e) => e.startsWith("data: "));
  expect(events.at(-1)).toBe("data: [DONE]");
  const chunks = events.slice(0, -1).map((e) => JSON.parse(e.slice(6)));
  expect(chunks.every((c) => c.choices.length === 1)).toBe(true);
  await Bun.sleep(20);
  // what the direct upstream would report for the same request
  const direct = await post(`${(gw.runtime.providers[0]!.baseUrl)}/chat/completions`, chat("gpt-4o-mini", { max_tokens: 500 }));
  const used = (await direct.json()).usage.completion_tokens as number;
  const r2 = await post(completions(gw), chat("gpt-4o-mini", { max_tokens: 1 }), auth());
  expect(Number(r2.headers.get("x-ratelimit-remaining-output-tokens"))).toBe(1000 - used - 1);
});

test("a stream whose client asked for usage keeps its usage chunk", async () => {
  const { gw } = withMock({ [KEY]: { output_tpm: 1000 } });
  const res = await post(completions(gw), chat("gpt-4o-mini", { stream: true, max_tokens: 100, stream_options: { include_usage: true } }), auth());
  const text = await res.text();
  expect(text).toContain('"usage":{');
});

test("a failed upstream call gives the tokens back; a request refused by the provider line gives everything back", async () => {
  const up = scriptedUpstream(() => new Response('{"error":{"message":"down"}}', { status: 500 }));
  const gw = gateway({
    keys: { [KEY]: { rpm: 10, output_tpm: 1000 } },
    providers: [provider("up", up.url, { rate_limit: { retry_upstream_429: false, mode: "spaced", interval_seconds: 30, max_wait_seconds: 1 } })],
  });
  cleanup.push(() => up.stop(), () => gw.stop());
  const r1 = await post(completions(gw), chat("gpt-4o-mini", { max_tokens: 300 }), auth());
  expect(r1.status).toBe(500);
  await Bun.sleep(20);
  // the provider line refuses this one (next slot 30 s away, max wait 1 s): never sent
  const r2 = await post(completions(gw), chat("gpt-4o-mini", { max_tokens: 300 }), auth());
  expect(r2.status).toBe(503);
  expect(r2.headers.get("x-ratelimit-limit-requests")).toBe("10");
  await Bun.sleep(20);
  const s = await (await fetch(`${gw.url}/admin/stats`)).json();
  const k = s.keys[0];
  expect(k.windows.rpm.used).toBe(1); // the sent one stays counted, the refused one came back
  expect(k.windows.output_tpm.used).toBe(0);
});

test("a client that leaves while its request waits in the provider line gets its key budget back", async () => {
  const mock = startMockUpstream({ port: 0 });
  const gw = gateway({ keys: { [KEY]: { rpm: 10 } }, providers: [provider("mock", mock.url, { rate_limit: { mode: "spaced", interval_seconds: 5 } })] });
  cleanup.push(() => mock.stop(), () => gw.stop());
  expect((await post(completions(gw), chat(), auth())).status).toBe(200);
  const ctl = new AbortController();
  const leaving = fetch(completions(gw), { method: "POST", body: JSON.stringify(chat()), headers: { ...auth(), "content-type": "application/json" }, signal: ctl.signal }).catch(() => null);
  await Bun.sleep(50);
  let s = await (await fetch(`${gw.url}/admin/stats`)).json();
  expect(s.keys[0].windows.rpm.used).toBe(2);
  ctl.abort();
  await leaving;
  await Bun.sleep(50);
  s = await (await fetch(`${gw.url}/admin/stats`)).json();
  expect(s.keys[0].windows.rpm.used).toBe(1);
  expect(mock.counts().requests).toBe(1);
});

test("a key limited to some models gets 403 for others; stats show names or short hashes, never keys", async () => {
  const other = "lr-other-key-abcdefghij";
  const { gw } = withMock({ [KEY]: { rpm: 5, models: ["gpt-4o-mini"], name: "alice" }, [other]: { rpm: 5 } });
  expect((await post(completions(gw), chat("gpt-4o-mini"), auth())).status).toBe(200);
  expect((await post(completions(gw), chat("mock/gpt-4o-mini"), auth())).status).toBe(200);
  const denied = await post(completions(gw), chat("gpt-4o"), auth());
  expect(denied.status).toBe(403);
  expect((await post(completions(gw), chat("gpt-4o"), auth(other))).status).toBe(200);
  const text = await (await fetch(`${gw.url}/admin/stats`)).text();
  expect(text).not.toContain(KEY);
  expect(text).not.toContain(other);
  const s = JSON.parse(text);
  expect(s.keys.map((k: { key: string }) => k.key)).toEqual(["alice", expect.stringMatching(/^key:[0-9a-f]{8}$/)]);
  expect(s.keys[0].requests).toBe(3);
});

test("queue mode: over the limit waits instead of 429, and max_wait answers 503 with Retry-After at once", async () => {
  const { gw } = withMock({ [KEY]: { rpm: 1, mode: "queue", max_wait_seconds: 2 } });
  expect((await post(completions(gw), chat(), auth())).status).toBe(200);
  const t0 = performance.now();
  const res = await post(completions(gw), chat(), auth());
  expect(res.status).toBe(503);
  expect(performance.now() - t0).toBeLessThan(500);
  expect(Number(res.headers.get("retry-after"))).toBeGreaterThanOrEqual(58);
});
