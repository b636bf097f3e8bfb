// OpenAI-shaped errors, the /mock control routes, auth, latency and
// clients that walk away mid-stream.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import OpenAI from "openai";
import { createMockUpstream, type RunningMock, startMockUpstream } from "../../src/mock/mock-upstream.ts";

interface ErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

let mock: RunningMock;
beforeAll(() => {
  mock = startMockUpstream();
});
afterAll(() => mock.stop());

const post = (path: string, body: string, headers: Record<string, string> = {}) =>
  fetch(`${mock.url}${path}`, { method: "POST", body, headers: { "content-type": "application/json", ...headers } });

async function expectError(res: Response, status: number, code: string | null, param?: string): Promise<ErrorBody> {
  expect(res.status).toBe(status);
  expect(res.headers.get("content-type")).toBe("application/json");
  const body = (await res.json()) as ErrorBody;
  expect(Object.keys(body.error).sort()).toEqual(["code", "message", "param", "type"]);
  expect(body.error.code).toBe(code);
  expect(body.error.message.length).toBeGreaterThan(0);
  if (param !== undefined) expect(body.error.param).toBe(param);
  return body;
}

describe("request errors", () => {
  test("malformed JSON → 400 invalid_request_error", async () => {
    const body = await expectError(await post("/chat/completions", "{not json"), 400, null);
    expect(body.error.type).toBe("invalid_request_error");
    await expectError(await post("/chat/completions", "[1,2]"), 400, null);
  });

  test("missing or bad parameters → 400 naming the parameter", async () => {
    await expectError(await post("/chat/completions", JSON.stringify({ model: "gpt-4o" })), 400, null, "messages");
    await expectError(await post("/chat/completions", JSON.stringify({ messages: [] })), 400, null, "model");
    const bad = { model: "gpt-4o", messages: [{ role: "user", content: "x" }], max_tokens: 0 };
    await expectError(await post("/chat/completions", JSON.stringify(bad)), 400, null, "max_tokens");
    await expectError(await post("/embeddings", JSON.stringify({ model: "gpt-4o", input: 5 })), 400, null, "input");
    await expectError(await post("/completions", JSON.stringify({ model: "gpt-4o" })), 400, null, "prompt");
  });

  test("unknown model → 404 model_not_found, as the SDK's NotFoundError", async () => {
    const body: OpenAI.Chat.ChatCompletionCreateParamsNonStreaming = { model: "gpt-9", messages: [{ role: "user", content: "x" }] };
    await expectError(await post("/chat/completions", JSON.stringify(body)), 404, "model_not_found");
    const client = new OpenAI({ baseURL: mock.url, apiKey: "x", maxRetries: 0 });
    const err: unknown = await client.chat.completions.create(body).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
  });

  test("unknown path → 404, wrong method → 405 with Allow", async () => {
    await expectError(await post("/nope", "{}"), 404, null);
    await expectError(await fetch(mock.url.replace("/v1", "/elsewhere")), 404, null);
    const res = await fetch(`${mock.url}/chat/completions`);
    await expectError(res, 405, "method_not_allowed");
    expect(res.headers.get("allow")).toBe("POST");
    await expectError(await post("/models", "{}"), 405, "method_not_allowed");
  });
});

describe("auth", () => {
  test("with apiKey set, a wrong or missing bearer → 401 invalid_api_key", async () => {
    const m = startMockUpstream({ apiKey: "sekret" });
    try {
      const wrong = new OpenAI({ baseURL: m.url, apiKey: "nope", maxRetries: 0 });
      expect(await wrong.models.list().catch((e: unknown) => e)).toBeInstanceOf(OpenAI.AuthenticationError);
      const bare = await fetch(`${m.url}/models`);
      await expectError(bare, 401, "invalid_api_key");
      const right = new OpenAI({ baseURL: m.url, apiKey: "sekret", maxRetries: 0 });
      expect((await right.models.list()).data.length).toBe(2);
    } finally {
      await m.stop();
    }
  });
});

describe("control routes", () => {
  test("GET /mock/counts reports what /v1 saw; POST /mock/reset clears it; neither is counted", async () => {
    const base = mock.url.replace(/\/v1$/, "");
    expect((await fetch(`${base}/mock/reset`, { method: "POST" })).status).toBe(200);
    await post("/chat/completions", JSON.stringify({ model: "gpt-4o", messages: [{ role: "user", content: "abcdefgh" }] }));
    await post("/chat/completions", "{oops");
    await fetch(`${mock.url}/models`);
    const counts = (await (await fetch(`${base}/mock/counts`)).json()) as ReturnType<RunningMock["counts"]>;
    expect(counts.requests).toBe(3);
    expect(counts.by_path).toEqual({ "/v1/chat/completions": 2, "/v1/models": 1 });
    expect(counts.by_status).toEqual({ "200": 2, "400": 1 });
    expect(counts.prompt_tokens).toBe(2);
    expect(counts.completion_tokens).toBeGreaterThan(0);
    expect(counts.in_flight).toBe(0);
    expect(counts.max_in_flight).toBeGreaterThanOrEqual(1);
    expect(counts.arrivals.length).toBe(3);
    expect(counts.first_request_at).not.toBeNull();
    expect(counts).toEqual(mock.counts());

    await fetch(`${base}/mock/reset`, { method: "POST" });
    const after = mock.counts();
    expect(after.requests).toBe(0);
    expect(after.by_path).toEqual({});
    expect(after.arrivals).toEqual([]);
    expect(after.first_request_at).toBeNull();
    expect((await fetch(`${base}/mock/counts`, { method: "DELETE" })).status).toBe(405);
  });
});

describe("latency and concurrency", () => {
  test("latencyMs delays answers and in-flight requests are counted", async () => {
    const m = startMockUpstream({ latencyMs: 80 });
    try {
      const body = JSON.stringify({ model: "gpt-4o", messages: [{ role: "user", content: "x" }] });
      const started = performance.now();
      const all = await Promise.all(
        Array.from({ length: 5 }, () => fetch(`${m.url}/chat/completions`, { method: "POST", body })),
      );
      expect(performance.now() - started).toBeGreaterThanOrEqual(75);
      expect(all.every((r) => r.status === 200)).toBe(true);
      expect(m.counts().max_in_flight).toBe(5);
      expect(m.counts().in_flight).toBe(0);
    } finally {
      await m.stop();
    }
  });
});

describe("stream pacing", () => {
  test("the first chunk waits latencyMs, the next ones chunkDelayMs each", async () => {
    const m = startMockUpstream({ latencyMs: 60, chunkDelayMs: 15 });
    try {
      const started = performance.now();
      const res = await fetch(`${m.url}/chat/completions`, {
        method: "POST",
        body: JSON.stringify({ model: "gpt-4o", messages: [{ role: "user", content: "pace" }], stream: true }),
      });
      const reader = res.body!.getReader();
      const decoder = new TextDecoder();
      const times: number[] = [];
      let text = "";
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        times.push(performance.now() - started);
        text += decoder.decode(value, { stream: true });
      }
      const frames = text.split("\n\n").filter(Boolean).length;
      expect(times[0]!).toBeGreaterThanOrEqual(55);
      expect(times.at(-1)!).toBeGreaterThanOrEqual(60 + 15 * (frames - 1) - 10);
      expect(text.endsWith("data: [DONE]\n\n")).toBe(true);
    } finally {
      await m.stop();
    }
  });
});

describe("clients that leave mid-stream", () => {
  const slowStream = { model: "gpt-4o", messages: [{ role: "user" as const, content: "go slowly" }], stream: true as const };

  test("breaking out of an SDK stream leaves the server healthy and not in flight", async () => {
    const m = startMockUpstream({ chunkDelayMs: 40 });
    try {
      const client = new OpenAI({ baseURL: m.url, apiKey: "x", maxRetries: 0 });
      const stream = await client.chat.completions.create(slowStream);
      let seen = 0;
      for await (const _ of stream) if (++seen === 2) break;
      expect(seen).toBe(2);
      for (let i = 0; i < 50 && m.counts().in_flight > 0; i++) await Bun.sleep(20);
      expect(m.counts().in_flight).toBe(0);
      const again = await client.chat.completions.create({ ...slowStream, stream: false });
      expect(again.choices[0]!.message.content).toStartWith("Mock reply to: go slowly");
    } finally {
      await m.stop();
    }
  });

  test("cancelling the body (no socket) during the first-chunk wait does not throw", async () => {
    const m = createMockUpstream({ latencyMs: 50, chunkDelayMs: 10 });
    const res = await m.fetch(
      new Request("http://mock/v1/chat/completions", { method: "POST", body: JSON.stringify(slowStream) }),
    );
    expect(res.status).toBe(200);
    expect(m.counts().in_flight).toBe(1);
    const reader = res.body!.getReader();
    const pending = reader.read(); // pull is waiting out the latency
    await reader.cancel();
    await expect(pending).resolves.toEqual({ done: true, value: undefined });
    await Bun.sleep(80); // let the pending sleep finish: it must not enqueue or throw
    expect(m.counts().in_flight).toBe(0);
  });
});
