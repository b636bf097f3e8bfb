// Model name → BPE encoding.
import { expect, test } from "bun:test";
import { DEFAULT_ENCODING, encodingForModel } from "../../src/tokens/index.ts";

const O200K = [
  "gpt-4o", "gpt-4o-mini", "gpt-4o-2024-08-06", "chatgpt-4o-latest", "gpt-4o-realtime-preview",
  "gpt-4.1", "gpt-4.1-mini", "gpt-4.1-nano-2025-04-14", "gpt-4.5-preview",
  "o1", "o1-mini", "o1-preview", "o3", "o3-mini", "o4-mini", "o4-mini-deep-research",
  "gpt-5", "gpt-5-mini", "gpt-5.1-codex", "gpt-5.2-pro",
  "omni-moderation-latest", "gpt-image-1", "gpt-oss-120b", "codex-mini-latest",
];
const CL100K = [
  "gpt-4", "gpt-4-0613", "gpt-4-32k", "gpt-4-turbo", "gpt-4-turbo-2024-04-09", "gpt-4-1106-preview",
  "gpt-3.5-turbo", "gpt-3.5-turbo-0125", "gpt-3.5-turbo-instruct", "gpt-3.5-turbo-16k",
  "text-embedding-3-small", "text-embedding-3-large", "text-embedding-ada-002",
  "davinci-002", "babbage-002",
];

test("o200k_base models", () => {
  for (const m of O200K) expect([m, encodingForModel(m)]).toEqual([m, "o200k_base"]);
});

test("cl100k_base models", () => {
  for (const m of CL100K) expect([m, encodingForModel(m)]).toEqual([m, "cl100k_base"]);
});

test("provider prefix, fine-tune prefix and case are ignored", () => {
  expect(encodingForModel("openai/gpt-4")).toBe("cl100k_base");
  expect(encodingForModel("azure/openai/gpt-3.5-turbo")).toBe("cl100k_base");
  expect(encodingForModel("openai/gpt-4o")).toBe("o200k_base");
  expect(encodingForModel("ft:gpt-3.5-turbo-0125:acme::abc123")).toBe("cl100k_base");
  expect(encodingForModel("ft:gpt-4o-mini-2024-07-18:acme::abc123")).toBe("o200k_base");
  expect(encodingForModel("  GPT-4-Turbo ")).toBe("cl100k_base");
});

test("unknown models and junk get the documented default, o200k_base", () => {
  expect(DEFAULT_ENCODING).toBe("o200k_base");
  for (const m of ["", "llama-3-70b", "claude-sonnet", "mock", "gpt-40", "/", "some/provider/"]) {
    expect(encodingForModel(m)).toBe("o200k_base");
  }
  for (const junk of [undefined, null, 42, {}, []]) expect(encodingForModel(junk as unknown as string)).toBe("o200k_base");
});
