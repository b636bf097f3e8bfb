// Parts of a long text add up to the whole text's count, so the worker may count a part at a time.
import { expect, test } from "bun:test";
import * as cl100k from "gpt-tokenizer/encoding/cl100k_base";
import * as o200k from "gpt-tokenizer/encoding/o200k_base";
import { splitText } from "../../src/tokens/split-text.ts";
import { english, mixed, random } from "./corpus.ts";

const AS_TEXT = { disallowedSpecial: new Set<string>() };
const ENCODERS = { o200k_base: o200k, cl100k_base: cl100k };

function chinese(chars: number, seed: number): string {
  const rnd = random(seed);
  let text = "";
  while (text.length < chars) {
    const n = 3 + Math.floor(rnd() * 30);
    for (let i = 0; i < n; i++) text += String.fromCharCode(0x4e00 + Math.floor(rnd() * 3000));
    text += "，。、；！？"[Math.floor(rnd() * 6)];
  }
  return text;
}

test("parts join back to the text and their counts sum to the whole's", () => {
  const texts = { english: english(120_000, 31), mixed: mixed(120_000, 32), chinese: chinese(60_000, 33) };
  for (const [name, text] of Object.entries(texts)) {
    for (const size of [500, 4_096, 8_192]) {
      const parts = splitText(text, size);
      expect(parts.join("")).toBe(text);
      expect(parts.length).toBeGreaterThan(text.length / (size + 4_096));
      for (const [enc, api] of Object.entries(ENCODERS)) {
        const whole = api.countTokens(text, AS_TEXT);
        const sum = parts.reduce((n, part) => n + api.countTokens(part, AS_TEXT), 0);
        expect([name, enc, size, sum]).toEqual([name, enc, size, whole]);
      }
    }
  }
});

test("short texts stay whole; text with no clean cut is still cut, never inside a surrogate pair", () => {
  expect(splitText("hello", 10)).toEqual(["hello"]);
  const emoji = "😀".repeat(20_000);
  const parts = splitText(emoji, 1_000);
  expect(parts.join("")).toBe(emoji);
  for (const part of parts) expect(part.length % 2).toBe(0);
  expect(splitText("7".repeat(50_000), 1_000).join("")).toBe("7".repeat(50_000));
});
