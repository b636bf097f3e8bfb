// The official openai package as a client, through the gateway, to the mock upstream.
import { afterAll, beforeAll, expect, test } from "bun:test";
import OpenAI from "openai";
import { startMockUpstream, type RunningMock } from "../../src/mock/mock-upstream.ts";
import type { RunningGateway } from "../../src/gateway/server.ts";
import { gateway, provider } from "../helpers/gateway.ts";

let mock: RunningMock;
let gw: RunningGateway;
let client: OpenAI;

beforeAll(() => {
  mock = startMockUpstream({ port: 0 });
  gw = gateway({ providers: [provider("mock", mock.url)] });
  client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: "unused", maxRetries: 0 });
});

afterAll(async () => {
  await gw.stop();
  await mock.stop();
});

test("chat completion", async () => {
  const r = await client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "Say hello" }] });
  expect(r.object).toBe("chat.completion");
  expect(r.choices[0]!.message.content).toContain("Say hello");
  expect(r.usage!.total_tokens).toBe(r.usage!.prompt_tokens + r.usage!.completion_tokens);
});

test("streamed chat arrives as chunks with usage when asked", async () => {
  const stream = await client.chat.completions.create({
    model: "gpt-4o",
    messages: [{ role: "user", content: "stream me something" }],
    stream: true,
    stream_options: { include_usage: true },
  });
  let text = "";
  let chunks = 0;
  let usage: OpenAI.CompletionUsage | undefined;
  for await (const c of stream) {
    chunks++;
    text += c.choices[0]?.delta?.content ?? "";
    if (c.usage) usage = c.usage;
  }
  expect(chunks).toBeGreaterThan(3);
  expect(text).toContain("stream me something");
  expect(usage?.completion_tokens).toBeGreaterThan(0);
});

test("completions, embeddings, responses", async () => {
  const c = await client.completions.create({ model: "gpt-4o-mini", prompt: "once upon a time" });
  expect(c.choices[0]!.text.length).toBeGreaterThan(0);
  const e = await client.embeddings.create({ model: "gpt-4o-mini", input: ["a", "b"] });
  expect(e.data).toHaveLength(2);
  expect(e.data[0]!.embedding.length).toBeGreaterThan(0);
  const r = await client.responses.create({ model: "gpt-4o", input: "hello responses" });
  expect(r.output_text).toContain("hello responses");
});

test("models: merged list, also as provider/model", async () => {
  const list = await client.models.list();
  const ids = list.data.map((m) => m.id);
  expect(ids).toEqual(expect.arrayContaining(["gpt-4o-mini", "gpt-4o", "mock/gpt-4o-mini", "mock/gpt-4o"]));
  expect(list.data.every((m) => m.owned_by === "mock")).toBe(true);
});

test("the upstream received the provider's key, never the client's", async () => {
  mock.reset();
  const upstream = startMockUpstream({ port: 0, apiKey: "sk-test-guarded-secret" });
  const g = gateway({ providers: [{ ...provider("guarded", upstream.url), api_key: "sk-test-guarded-secret" }] });
  try {
    const c = new OpenAI({ baseURL: `${g.url}/v1`, apiKey: "client-key-not-for-upstream", maxRetries: 0 });
    const r = await c.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "x" }] });
    expect(r.choices).toHaveLength(1);
  } finally {
    await g.stop();
    await upstream.stop();
  }
});
