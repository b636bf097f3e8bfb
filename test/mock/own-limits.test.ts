// The mock's own rpm/tpm limits, with an injected clock: window expiry is
// tested by moving time, never by sleeping.
import { afterEach, describe, expect, test } from "bun:test";
import OpenAI from "openai";
import { type RunningMock, startMockUpstream } from "../../src/mock/mock-upstream.ts";
import { formatDuration } from "../../src/duration.ts";

const T0 = 1_700_000_000_000;
let clock = T0;
let mock: RunningMock | undefined;
afterEach(async () => {
  await mock?.stop();
  mock = undefined;
});

function start(opts: { rpm?: number; tpm?: number }): RunningMock {
  clock = T0;
  mock = startMockUpstream({ ...opts, now: () => clock, models: ["gpt-4o-mini", "emb"] });
  return mock;
}

const chat = (m: RunningMock) =>
  fetch(`${m.url}/chat/completions`, {
    method: "POST",
    body: JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] }),
  });
/** Embeddings cost exactly their prompt tokens: ceil(chars / 4). */
const embed = (m: RunningMock, chars: number) =>
  fetch(`${m.url}/embeddings`, {
    method: "POST",
    body: JSON.stringify({ model: "emb", input: "x".repeat(chars), encoding_format: "float" }),
  });

describe("rpm", () => {
  test("answers 429 with Retry-After and OpenAI headers, then admits again when the window slides", async () => {
    const m = start({ rpm: 2 });
    const r1 = await chat(m);
    expect(r1.status).toBe(200);
    expect(r1.headers.get("x-ratelimit-limit-requests")).toBe("2");
    expect(r1.headers.get("x-ratelimit-remaining-requests")).toBe("1");
    expect(r1.headers.get("x-ratelimit-reset-requests")).toBe("1m0s");
    expect(r1.headers.get("x-ratelimit-limit-tokens")).toBeNull();

    clock += 10_000;
    const r2 = await chat(m);
    expect(r2.status).toBe(200);
    expect(r2.headers.get("x-ratelimit-remaining-requests")).toBe("0");
    expect(r2.headers.get("x-ratelimit-reset-requests")).toBe("50s");
    const tokensBefore = m.counts().prompt_tokens + m.counts().completion_tokens;

    clock += 10_000;
    const r3 = await chat(m);
    expect(r3.status).toBe(429);
    expect(r3.headers.get("retry-after")).toBe("40"); // the first request leaves at T0 + 60 s
    expect(r3.headers.get("x-ratelimit-remaining-requests")).toBe("0");
    expect(r3.headers.get("x-ratelimit-reset-requests")).toBe("40s");
    const body = (await r3.json()) as { error: { type: string; code: string; message: string } };
    expect(body.error.type).toBe("requests");
    expect(body.error.code).toBe("rate_limit_exceeded");
    expect(body.error.message).toStartWith("Rate limit reached");

    const c = m.counts();
    expect(c.requests).toBe(3);
    expect(c.rejected_429).toBe(1);
    expect(c.by_status).toEqual({ "200": 2, "429": 1 });
    expect(c.arrivals).toEqual([T0, T0 + 10_000]);
    expect(c.prompt_tokens + c.completion_tokens).toBe(tokensBefore);

    clock = T0 + 59_999;
    const r4 = await chat(m);
    expect(r4.status).toBe(429);
    expect(r4.headers.get("retry-after")).toBe("1"); // 1 ms left still rounds up to a whole second

    clock = T0 + 60_000;
    expect((await chat(m)).status).toBe(200);
    clock += 10_000; // now the second request has left too
    expect((await chat(m)).status).toBe(200);
    expect((await chat(m)).status).toBe(429);
  });

  test("the openai client sees a RateLimitError carrying the headers", async () => {
    const m = start({ rpm: 1 });
    const client = new OpenAI({ baseURL: m.url, apiKey: "x", maxRetries: 0 });
    const ask = () => client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "a" }] });
    await ask();
    const err: unknown = await ask().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    const e = err as InstanceType<typeof OpenAI.RateLimitError>;
    expect(e.status).toBe(429);
    expect(e.code).toBe("rate_limit_exceeded");
    expect(e.headers.get("retry-after")).toBe("60");
  });
});

describe("tpm", () => {
  test("counts prompt + completion tokens and waits for enough tokens to leave", async () => {
    const m = start({ tpm: 120 });
    const r1 = await embed(m, 200); // 50 tokens
    expect(r1.status).toBe(200);
    expect(r1.headers.get("x-ratelimit-remaining-tokens")).toBe("70");
    expect(r1.headers.get("x-ratelimit-limit-requests")).toBeNull();
    clock += 30_000;
    expect((await embed(m, 200)).status).toBe(200);
    clock += 10_000;
    const r3 = await embed(m, 200); // would make 150 > 120: the first entry must leave (at T0 + 60 s)
    expect(r3.status).toBe(429);
    expect(r3.headers.get("retry-after")).toBe("20");
    expect(r3.headers.get("x-ratelimit-remaining-tokens")).toBe("20");
    expect(((await r3.json()) as { error: { type: string } }).error.type).toBe("tokens");
    expect(m.counts().prompt_tokens).toBe(100);

    clock = T0 + 60_000;
    expect((await embed(m, 200)).status).toBe(200);
    expect(m.counts().prompt_tokens).toBe(150);
  });

  test("a request bigger than the whole limit passes once the window is empty", async () => {
    const m = start({ tpm: 120 });
    expect((await embed(m, 4)).status).toBe(200);
    expect((await embed(m, 2000)).status).toBe(429);
    clock += 60_000;
    const r = await embed(m, 2000);
    expect(r.status).toBe(200);
    expect(r.headers.get("x-ratelimit-remaining-tokens")).toBe("0");
  });

  test("chat charges the completion too", async () => {
    const m = start({ tpm: 1000 });
    const r = await chat(m);
    const body = (await r.json()) as { usage: { total_tokens: number } };
    expect(r.headers.get("x-ratelimit-remaining-tokens")).toBe(String(1000 - body.usage.total_tokens));
  });
});

describe("formatDuration", () => {
  test("uses OpenAI's (Go) duration format, rounding up", () => {
    expect(formatDuration(0)).toBe("0s");
    expect(formatDuration(-5)).toBe("0s");
    expect(formatDuration(20)).toBe("20ms");
    expect(formatDuration(0.2)).toBe("1ms");
    expect(formatDuration(1000)).toBe("1s");
    expect(formatDuration(1500)).toBe("1.5s");
    expect(formatDuration(17_250)).toBe("17.25s");
    expect(formatDuration(60_000)).toBe("1m0s");
    expect(formatDuration(360_000)).toBe("6m0s");
    expect(formatDuration(3_723_004)).toBe("1h2m3.004s");
  });
});
