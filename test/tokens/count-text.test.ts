// Exact text counts, cross-checked against js-tiktoken (a second, independent port of tiktoken).
import { expect, test } from "bun:test";
import { getEncoding } from "js-tiktoken";
import { countText, type Encoding } from "../../src/tokens/index.ts";
import { english, mixed } from "./corpus.ts";

const ENCODINGS: Encoding[] = ["o200k_base", "cl100k_base"];
const tiktoken = { o200k_base: getEncoding("o200k_base"), cl100k_base: getEncoding("cl100k_base") };
/** js-tiktoken's count with special-token strings treated as text, as the API does. */
const reference = (text: string, enc: Encoding) => tiktoken[enc].encode(text, [], []).length;

// [text, o200k_base, cl100k_base]: computed with gpt-tokenizer and js-tiktoken, which agree.
const KNOWN: [string, number, number][] = [
  ["hello world", 2, 2],
  ["Hello, world!", 4, 4],
  ["The quick brown fox jumps over the lazy dog.", 10, 10],
  ["antidisestablishmentarianism", 6, 6],
  ["お誕生日おめでとう", 8, 9], // also the cookbook's figures
  ["🎉", 2, 3],
  ["I'm here; you're there.", 6, 8],
  ["<|endoftext|>", 7, 7], // a special token's text is plain text in a prompt
  ["", 0, 0],
];

test("known counts in both encodings", async () => {
  for (const [text, o200k, cl100k] of KNOWN) {
    expect([text, await countText(text, "o200k_base"), await countText(text, "cl100k_base")]).toEqual([text, o200k, cl100k]);
    expect([text, reference(text, "o200k_base"), reference(text, "cl100k_base")]).toEqual([text, o200k, cl100k]);
  }
});

test("agrees with js-tiktoken on generated English and hard mixed text", async () => {
  for (const enc of ENCODINGS) {
    for (const [seed, text] of [[1, english(60_000, 11)], [2, mixed(60_000, 12)]] as const) {
      for (let i = 0; i < text.length; i += 3_000) {
        const chunk = text.slice(i, i + 3_000);
        const ours = await countText(chunk, enc);
        if (ours !== reference(chunk, enc)) throw new Error(`${enc} corpus ${seed} at ${i}: ${ours} vs ${reference(chunk, enc)}`);
      }
      // whole: over the worker threshold, so counted in the worker
      expect(await countText(text, enc)).toBe(reference(text, enc));
    }
  }
});

test("non-strings count 0, odd strings never throw", async () => {
  for (const junk of [undefined, null, 42, {}, ["a"]]) expect(await countText(junk as unknown as string, "o200k_base")).toBe(0);
  for (const odd of ["\ud800", "a\udc00b", "\u0000\u0001", "\ufeff", "<|im_start|><|im_end|>", "\r\n".repeat(1000)]) {
    expect(await countText(odd, "o200k_base")).toBeGreaterThan(0);
    expect(await countText(odd, "cl100k_base")).toBeGreaterThan(0);
  }
});

test("pathological giant pieces are counted fast (in the worker) and nearly exactly", async () => {
  // one 1 MB piece: unguarded BPE takes minutes on it
  const started = performance.now();
  expect(await countText("a".repeat(1_000_000), "o200k_base")).toBe(125_000); // 8 a's per token, slices of 256
  expect(await countText(" ".repeat(300_000), "cl100k_base")).toBeGreaterThan(0);
  expect(performance.now() - started).toBeLessThan(5_000);
});
