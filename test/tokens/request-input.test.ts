// Input tokens per endpoint: OpenAI's message framing, tools, prompt shapes, and junk.
import { expect, test } from "bun:test";
import {
  countRequestInput,
  countText,
  type Encoding,
  IMAGE_TOKENS_HIGH_DETAIL,
  IMAGE_TOKENS_LOW_DETAIL,
} from "../../src/tokens/index.ts";

const sum = async (texts: string[], enc: Encoding) => {
  let n = 0;
  for (const t of texts) n += await countText(t, enc);
  return n;
};

// OpenAI cookbook, "How to count tokens with tiktoken": the API reported these prompt_tokens.
const COOKBOOK_MESSAGES = [
  { role: "system", content: "You are a helpful, pattern-following assistant that translates corporate jargon into plain English." },
  { role: "system", name: "example_user", content: "New synergies will help drive top-line growth." },
  { role: "system", name: "example_assistant", content: "Things working well together will increase revenue." },
  { role: "system", name: "example_user", content: "Let's circle back when we have more bandwidth to touch base on opportunities for increased leverage." },
  { role: "system", name: "example_assistant", content: "Let's talk later when we're less busy about how to do better." },
  { role: "user", content: "This late pivot means we don't have time to boil the ocean for the client deliverable." },
];

const COOKBOOK_TOOLS = [
  {
    type: "function",
    function: {
      name: "get_current_weather",
      description: "Get the current weather in a given location",
      parameters: {
        type: "object",
        properties: {
          location: { type: "string", description: "The city and state, e.g. San Francisco, CA" },
          unit: { type: "string", description: "The unit of temperature to return", enum: ["celsius", "fahrenheit"] },
        },
        required: ["location"],
      },
    },
  },
];
const COOKBOOK_TOOL_MESSAGES = [
  { role: "system", content: "You are a helpful assistant that can answer to questions about the weather." },
  { role: "user", content: "What's the weather like in San Francisco?" },
];

test("chat: the cookbook's example gives the API's counts (124 gpt-4o, 129 gpt-4)", async () => {
  expect(await countRequestInput("chat", { messages: COOKBOOK_MESSAGES }, "gpt-4o")).toBe(124);
  expect(await countRequestInput("chat", { messages: COOKBOOK_MESSAGES }, "gpt-4o-mini")).toBe(124);
  expect(await countRequestInput("chat", { messages: COOKBOOK_MESSAGES }, "gpt-4")).toBe(129);
  expect(await countRequestInput("chat", { messages: COOKBOOK_MESSAGES }, "gpt-3.5-turbo")).toBe(129);
});

test("chat tools: the cookbook's example gives the API's counts (101 gpt-4o, 105 gpt-4)", async () => {
  const body = { messages: COOKBOOK_TOOL_MESSAGES, tools: COOKBOOK_TOOLS };
  expect(await countRequestInput("chat", body, "gpt-4o")).toBe(101);
  expect(await countRequestInput("chat", body, "gpt-4")).toBe(105);
  // legacy `functions` carry the same definitions flat
  const legacy = { messages: COOKBOOK_TOOL_MESSAGES, functions: [COOKBOOK_TOOLS[0]!.function] };
  expect(await countRequestInput("chat", legacy, "gpt-4o")).toBe(101);
});

test("chat: N messages cost their role and content tokens + 3N + 3", async () => {
  for (const enc of ["o200k_base", "cl100k_base"] as const) {
    const model = enc === "o200k_base" ? "gpt-4o" : "gpt-4";
    for (const n of [0, 1, 2, 7]) {
      const messages = Array.from({ length: n }, (_, i) => ({
        role: ["system", "user", "assistant"][i % 3]!,
        content: `Message number ${i}: ${"some words ".repeat(i)}`,
      }));
      const texts = messages.flatMap((m) => [m.role, m.content]);
      expect(await countRequestInput("chat", { messages }, model)).toBe((await sum(texts, enc)) + 3 * n + 3);
    }
  }
  // each role is one token, so with one-token contents: 2N + 3N + 3
  const hi = Array.from({ length: 5 }, () => ({ role: "user", content: "hi" }));
  expect(await countRequestInput("chat", { messages: hi }, "gpt-4o")).toBe(5 * 2 + 3 * 5 + 3);
});

test("chat: a name costs its tokens + 1", async () => {
  const plain = await countRequestInput("chat", { messages: [{ role: "user", content: "hi" }] }, "gpt-4o");
  const named = await countRequestInput("chat", { messages: [{ role: "user", content: "hi", name: "alice_smith" }] }, "gpt-4o");
  expect(named - plain).toBe((await countText("alice_smith", "o200k_base")) + 1);
});

test("chat: content parts count their text; images a documented fixed figure", async () => {
  const text = "Describe these pictures in detail.";
  const base = await countRequestInput("chat", { messages: [{ role: "user", content: text }] }, "gpt-4o");
  const parts = [
    { type: "text", text: "Describe these pictures" },
    { type: "text", text: " in detail." },
    { type: "image_url", image_url: { url: "https://example.com/a.png", detail: "low" } },
    { type: "image_url", image_url: { url: "data:image/png;base64,AAAA" } },
    { type: "input_audio", input_audio: { data: "AAAA", format: "wav" } },
  ];
  const withParts = await countRequestInput("chat", { messages: [{ role: "user", content: parts }] }, "gpt-4o");
  const textParts = (await countText("Describe these pictures", "o200k_base")) + (await countText(" in detail.", "o200k_base"));
  expect(withParts).toBe(base - (await countText(text, "o200k_base")) + textParts + IMAGE_TOKENS_LOW_DETAIL + IMAGE_TOKENS_HIGH_DETAIL);
  expect([IMAGE_TOKENS_LOW_DETAIL, IMAGE_TOKENS_HIGH_DETAIL]).toEqual([85, 765]);
});

test("chat: assistant tool calls count their name and arguments", async () => {
  const call = { id: "call_1", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } };
  const without = await countRequestInput("chat", { messages: [{ role: "assistant", content: null }] }, "gpt-4o");
  const withCall = await countRequestInput("chat", { messages: [{ role: "assistant", content: null, tool_calls: [call] }] }, "gpt-4o");
  expect(withCall - without).toBe(await sum(["get_weather", '{"city":"Paris"}'], "o200k_base"));
});

test("chat: tool definitions beyond the cookbook's formula cost their JSON; other tools too", async () => {
  const messages = [{ role: "user", content: "hi" }];
  const base = await countRequestInput("chat", { messages }, "gpt-4o");
  const nested = {
    type: "function",
    function: {
      name: "f",
      parameters: { type: "object", properties: { tags: { type: "array", items: { type: "string" } } } },
    },
  };
  const expected = 7 + 3 + 3 + 12 + (await sum(["f:", "tags:array:", '{"items":{"type":"string"}}'], "o200k_base"));
  expect(await countRequestInput("chat", { messages, tools: [nested] }, "gpt-4o")).toBe(base + expected);
  const custom = { type: "custom", custom: { name: "sql", description: "Run SQL" } };
  expect(await countRequestInput("chat", { messages, tools: [custom] }, "gpt-4o")).toBe(
    base + (await countText(JSON.stringify(custom), "o200k_base")),
  );
});

test("completions: prompt as string, strings, token array, token arrays; suffix", async () => {
  const enc = "cl100k_base";
  const model = "gpt-3.5-turbo-instruct";
  expect(await countRequestInput("completions", { prompt: "hello world" }, model)).toBe(2);
  expect(await countRequestInput("completions", { prompt: ["hello world", "The quick brown fox"] }, model)).toBe(
    await sum(["hello world", "The quick brown fox"], enc),
  );
  expect(await countRequestInput("completions", { prompt: [15339, 1917, 0] }, model)).toBe(3);
  expect(await countRequestInput("completions", { prompt: [[15339, 1917], [1, 2, 3, 4]] }, model)).toBe(6);
  expect(await countRequestInput("completions", { prompt: "hello world", suffix: " and goodbye" }, model)).toBe(
    await sum(["hello world", " and goodbye"], enc),
  );
  expect(await countRequestInput("completions", { prompt: "" }, model)).toBe(0);
});

test("embeddings: input as string, strings, token array, token arrays", async () => {
  const model = "text-embedding-3-small";
  expect(await countRequestInput("embeddings", { input: "hello world" }, model)).toBe(2);
  expect(await countRequestInput("embeddings", { input: ["hello world", "hello world"] }, model)).toBe(4);
  expect(await countRequestInput("embeddings", { input: [1, 2, 3, 4, 5] }, model)).toBe(5);
  expect(await countRequestInput("embeddings", { input: [[1, 2], [3], []] }, model)).toBe(3);
});

test("responses: string input and instructions are framed as messages", async () => {
  const enc = "o200k_base";
  expect(await countRequestInput("responses", { input: "hello world" }, "gpt-4o")).toBe(3 + 1 + 2 + 3);
  const both = await countRequestInput("responses", { instructions: "Be terse.", input: "hello world" }, "gpt-4o");
  expect(both).toBe(3 + (await sum(["system", "Be terse."], enc)) + 3 + (await sum(["user", "hello world"], enc)) + 3);
});

test("responses: input items, parts and tools", async () => {
  const enc = "o200k_base";
  const body = {
    input: [
      { role: "user", content: [{ type: "input_text", text: "What is in this image?" }, { type: "input_image", image_url: "https://x/y.png", detail: "low" }] },
      { type: "message", role: "assistant", content: [{ type: "output_text", text: "A cat." }] },
      { type: "function_call", call_id: "c1", name: "lookup", arguments: '{"q":"cat"}' },
      { type: "function_call_output", call_id: "c1", output: "Cats are mammals." },
      { type: "item_reference", id: "msg_123" },
    ],
    tools: [{ type: "function", name: "lookup", description: "Look up a fact.", parameters: { type: "object", properties: {} } }],
  };
  const expected =
    3 + (await sum(["user", "What is in this image?"], enc)) + IMAGE_TOKENS_LOW_DETAIL +
    3 + (await sum(["assistant", "A cat."], enc)) +
    3 + (await sum(["lookup", '{"q":"cat"}'], enc)) +
    3 + (await countText("Cats are mammals.", enc)) +
    3 + // reply priming
    7 + (await countText("lookup:Look up a fact", enc)) + 12;
  expect(await countRequestInput("responses", body, "gpt-4o")).toBe(expected);
});

test("junk shapes never throw and count what is countable", async () => {
  const junk: unknown[] = [
    null, undefined, 42, "str", [], [1, 2], {}, { messages: null }, { messages: "hi" }, { messages: [null, 1, "x", [], { role: 5, content: { a: 1 } }] },
    { messages: [{ role: "user", content: [null, 1, { type: "image_url" }, { type: "text", text: 5 }, { type: "text" }] }] },
    { messages: [{ role: "assistant", tool_calls: [null, {}, { function: null }, { function: { name: 1, arguments: {} } }] }] },
    { tools: "x", functions: [null, 1, {}, { function: { parameters: { properties: [] } } }, { type: "function", function: { name: "f", parameters: { properties: { a: null, b: { enum: "x" }, c: { enum: [1, null, { x: 1 }], type: ["string", "null"] } } } } }] },
    { prompt: { x: 1 } }, { prompt: [null, {}, [null, "a", 1], 1.5, true] }, { input: [[[1]], { a: 1 }] },
    { input: [null, 1, { type: "reasoning", summary: [{ type: "summary_text", text: "thought" }] }, { type: "weird", content: 3 }] },
    { instructions: 42, input: { role: "user" } }, { suffix: 1 },
  ];
  const cyclic: Record<string, unknown> = { type: "web_search" };
  cyclic.self = cyclic;
  junk.push({ tools: [cyclic], messages: [{ role: "user", content: "hi" }] }, { tools: [{ type: "x", big: BigInt(1) }] });
  for (const endpoint of ["chat", "completions", "embeddings", "responses"] as const) {
    for (const body of junk) {
      for (const model of ["gpt-4o", "gpt-4", "", 7 as unknown as string]) {
        const n = await countRequestInput(endpoint, body as Record<string, unknown>, model);
        expect(Number.isInteger(n) && n >= 0).toBe(true);
      }
    }
  }
  // what is countable still counts
  expect(await countRequestInput("chat", { messages: [null, { role: "user", content: "hi" }, 7] }, "gpt-4o")).toBe(8);
  expect(await countRequestInput("embeddings", { input: [null, "hello world", {}, [1, "x", 2]] }, "gpt-4o")).toBe(4);
});
