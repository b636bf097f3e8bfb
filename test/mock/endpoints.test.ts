// The mock upstream's endpoints, driven through the real `openai` client
// against a real socket, so shape mistakes show up as client errors.
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import OpenAI from "openai";
import { type RunningMock, startMockUpstream } from "../../src/mock/mock-upstream.ts";

let mock: RunningMock;
let client: OpenAI;

beforeAll(() => {
  mock = startMockUpstream({ models: ["gpt-4o-mini", "gpt-4o", "text-embedding-3-small"] });
  client = new OpenAI({ baseURL: mock.url, apiKey: "x", maxRetries: 0 });
});
afterAll(() => mock.stop());
beforeEach(() => mock.reset());

const messages: OpenAI.Chat.ChatCompletionMessageParam[] = [
  { role: "system", content: "You are terse." },
  { role: "user", content: "What is the capital of France, and why is it Paris?" },
];

describe("GET /v1/models", () => {
  test("lists the configured models in OpenAI's shape", async () => {
    const page = await client.models.list();
    expect(page.data.map((m) => m.id)).toEqual(["gpt-4o-mini", "gpt-4o", "text-embedding-3-small"]);
    for (const m of page.data) {
      expect(m.object).toBe("model");
      expect(m.owned_by).toBe("limitrate-mock");
      expect(typeof m.created).toBe("number");
    }
    expect((await client.models.retrieve("gpt-4o")).id).toBe("gpt-4o");
  });
});

describe("POST /v1/chat/completions", () => {
  test("answers a full chat.completion derived from the last user message", async () => {
    const res = await client.chat.completions.create({ model: "gpt-4o-mini", messages });
    expect(res.object).toBe("chat.completion");
    expect(res.id).toStartWith("chatcmpl-");
    expect(res.model).toBe("gpt-4o-mini");
    const choice = res.choices[0]!;
    expect(choice.message.role).toBe("assistant");
    expect(choice.message.content).toStartWith("Mock reply to: What is the capital of France, and");
    expect(choice.finish_reason).toBe("stop");
    const u = res.usage!;
    expect(u.prompt_tokens).toBeGreaterThan(0);
    expect(u.completion_tokens).toBe(Math.ceil(choice.message.content!.length / 4));
    expect(u.total_tokens).toBe(u.prompt_tokens + u.completion_tokens);
  });

  test("is deterministic", async () => {
    const a = await client.chat.completions.create({ model: "gpt-4o", messages });
    const b = await client.chat.completions.create({ model: "gpt-4o", messages });
    expect(a.choices[0]!.message.content).toBe(b.choices[0]!.message.content);
    expect(a.usage).toEqual(b.usage);
    expect(a.id).not.toBe(b.id);
  });

  test("keeps completion tokens within max_tokens / max_completion_tokens", async () => {
    for (const limit of [1, 3, 7, 12]) {
      const a = await client.chat.completions.create({ model: "gpt-4o-mini", messages, max_tokens: limit });
      expect(a.usage!.completion_tokens).toBeLessThanOrEqual(limit);
      expect(a.choices[0]!.finish_reason).toBe("length");
      const b = await client.chat.completions.create({ model: "gpt-4o-mini", messages, max_completion_tokens: limit });
      expect(b.usage!.completion_tokens).toBeLessThanOrEqual(limit);
    }
  });

  test("streams role, content and finish chunks; no usage chunk unless asked", async () => {
    const stream = await client.chat.completions.create({ model: "gpt-4o-mini", messages, stream: true });
    const chunks: OpenAI.Chat.ChatCompletionChunk[] = [];
    for await (const c of stream) chunks.push(c);
    expect(chunks.length).toBeGreaterThan(3);
    expect(chunks[0]!.choices[0]!.delta.role).toBe("assistant");
    expect(chunks.every((c) => c.object === "chat.completion.chunk" && c.id === chunks[0]!.id)).toBe(true);
    expect(chunks.every((c) => c.choices.length === 1 && c.usage == null)).toBe(true);
    expect(chunks.at(-1)!.choices[0]!.finish_reason).toBe("stop");
    const text = chunks.map((c) => c.choices[0]!.delta.content ?? "").join("");
    const full = await client.chat.completions.create({ model: "gpt-4o-mini", messages });
    expect(text).toBe(full.choices[0]!.message.content!);
  });

  test("streams a final usage chunk with include_usage", async () => {
    const stream = await client.chat.completions.create({
      model: "gpt-4o-mini",
      messages,
      stream: true,
      stream_options: { include_usage: true },
      max_tokens: 10,
    });
    const chunks: OpenAI.Chat.ChatCompletionChunk[] = [];
    for await (const c of stream) chunks.push(c);
    const last = chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    expect(last.usage!.completion_tokens).toBeLessThanOrEqual(10);
    expect(chunks.at(-2)!.choices[0]!.finish_reason).toBe("length");
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? "").join("");
    expect(last.usage!.completion_tokens).toBe(Math.ceil(text.length / 4));
    expect(chunks.filter((c) => c.usage).length).toBe(1);
  });

  test("sends a real SSE body ending in [DONE]", async () => {
    const res = await fetch(`${mock.url}/chat/completions`, {
      method: "POST",
      body: JSON.stringify({ model: "gpt-4o", messages, stream: true }),
    });
    expect(res.headers.get("content-type")).toStartWith("text/event-stream");
    const body = await res.text();
    expect(body.endsWith("data: [DONE]\n\n")).toBe(true);
    for (const frame of body.split("\n\n").filter(Boolean)) expect(frame).toStartWith("data: ");
  });
});

describe("POST /v1/completions", () => {
  test("answers one choice per prompt", async () => {
    const res = await client.completions.create({ model: "gpt-4o-mini", prompt: ["Say one", "Say two"], max_tokens: 20 });
    expect(res.object).toBe("text_completion");
    expect(res.choices.map((c) => c.index)).toEqual([0, 1]);
    expect(res.choices[1]!.text).toStartWith("Mock reply to: Say two");
    expect(res.usage!.completion_tokens).toBeLessThanOrEqual(40);
  });

  test("streams text_completion chunks, usage only with include_usage", async () => {
    const collect = async (includeUsage: boolean) => {
      const stream = await client.completions.create({
        model: "gpt-4o-mini",
        prompt: "Once upon a time",
        stream: true,
        ...(includeUsage ? { stream_options: { include_usage: true } } : {}),
      });
      const out: OpenAI.Completion[] = [];
      for await (const c of stream) out.push(c);
      return out;
    };
    const plain = await collect(false);
    expect(plain.every((c) => c.object === "text_completion" && !c.usage)).toBe(true);
    expect(plain.map((c) => c.choices[0]!.text).join("")).toStartWith("Mock reply to: Once upon a time");
    const withUsage = await collect(true);
    expect(withUsage.at(-1)!.choices).toEqual([]);
    expect(withUsage.at(-1)!.usage!.prompt_tokens).toBe(Math.ceil("Once upon a time".length / 4));
  });
});

describe("POST /v1/embeddings", () => {
  test("returns small deterministic unit vectors (base64 by SDK default, and float)", async () => {
    const a = await client.embeddings.create({ model: "text-embedding-3-small", input: ["alpha", "beta"] });
    expect(a.data.length).toBe(2);
    const v0 = Array.from(a.data[0]!.embedding);
    expect(v0.length).toBe(8);
    expect(Math.hypot(...v0)).toBeCloseTo(1, 5);
    const b = await client.embeddings.create({ model: "text-embedding-3-small", input: "alpha", encoding_format: "float" });
    expect(b.data[0]!.embedding).toEqual(v0);
    expect(Array.from(a.data[1]!.embedding)).not.toEqual(v0);
    expect(b.usage.prompt_tokens).toBe(2);
    expect(b.usage.total_tokens).toBe(2);
  });
});

describe("POST /v1/responses", () => {
  test("answers a completed response object", async () => {
    const res = await client.responses.create({ model: "gpt-4o-mini", input: "Tell me a joke" });
    expect(res.object).toBe("response");
    expect(res.status).toBe("completed");
    expect(res.output_text).toStartWith("Mock reply to: Tell me a joke");
    expect(res.usage!.total_tokens).toBe(res.usage!.input_tokens + res.usage!.output_tokens);
  });

  test("streams created, deltas and completed events", async () => {
    const stream = await client.responses.create({
      model: "gpt-4o-mini",
      input: [{ role: "user", content: "Tell me a joke" }],
      stream: true,
    });
    const types: string[] = [];
    let text = "";
    let final: OpenAI.Responses.Response | undefined;
    for await (const ev of stream) {
      types.push(ev.type);
      if (ev.type === "response.output_text.delta") text += ev.delta;
      if (ev.type === "response.completed") final = ev.response;
    }
    expect(types[0]).toBe("response.created");
    expect(types.at(-1)).toBe("response.completed");
    expect(types.filter((t) => t === "response.output_text.delta").length).toBeGreaterThan(1);
    // The raw event carries no SDK-computed `output_text`; read the item itself.
    const item = final!.output[0]!;
    expect(item.type === "message" && item.content[0]!.type === "output_text" ? item.content[0]!.text : "").toBe(text);
    expect(final!.usage!.output_tokens).toBe(Math.ceil(text.length / 4));
  });
});
