// The guard that keeps giant BPE pieces from stalling the counter.
import { expect, test } from "bun:test";
import { CL100K_TOKEN_SPLIT_REGEX, O200K_TOKEN_SPLIT_REGEX } from "gpt-tokenizer/encodingParams/constants";
import { getEncoding } from "js-tiktoken";
import { guardedSegments, MAX_PIECE_CHARS, mayHoldLongPiece } from "../../src/tokens/long-pieces.ts";
import { countText } from "../../src/tokens/index.ts";
import { english, mixed, random } from "./corpus.ts";

const longestPiece = (text: string, re: RegExp) => Math.max(0, ...[...text.matchAll(re)].map((m) => m[0].length));

test("the quick scan never misses a piece longer than MAX_PIECE_CHARS", () => {
  const rnd = random(5);
  const alphabet = ["a", "B", " ", "\n", "/", "-", "é", "中", "😀", "1", "\t", "'", ".", "\r"];
  let giant = 0;
  for (let round = 0; round < 400; round++) {
    // runs of one character with random lengths, some past the limit
    let text = "";
    while (text.length < 2_000) {
      const c = alphabet[Math.floor(rnd() * alphabet.length)]!;
      const n = rnd() < 0.1 ? 100 + Math.floor(rnd() * 400) : 1 + Math.floor(rnd() * 5);
      text += c.repeat(Math.ceil(n / c.length));
    }
    for (const re of [O200K_TOKEN_SPLIT_REGEX, CL100K_TOKEN_SPLIT_REGEX]) {
      if (longestPiece(text, re) <= MAX_PIECE_CHARS) continue;
      giant++;
      expect(mayHoldLongPiece(text)).toBe(true);
    }
  }
  expect(giant).toBeGreaterThan(100);
  // the trailing "[\r\n/]*" of an o200k punctuation piece
  expect(mayHoldLongPiece("-" + "\n/".repeat(200))).toBe(true);
});

test("ordinary text needs no second look", () => {
  expect(mayHoldLongPiece(english(100_000))).toBe(false);
  expect(mayHoldLongPiece("x".repeat(MAX_PIECE_CHARS))).toBe(false);
});

test("segments leave text without giant pieces whole", () => {
  const text = mixed(20_000);
  expect(guardedSegments(text, O200K_TOKEN_SPLIT_REGEX)).toEqual([text]);
});

test("a giant piece is cut into slices, the text around it kept", () => {
  const giant = "z".repeat(600);
  const segments = guardedSegments(`hello ${giant} world`, O200K_TOKEN_SPLIT_REGEX);
  expect(segments.join("")).toBe(`hello ${giant} world`);
  expect(Math.max(...segments.map((s) => s.length))).toBeLessThanOrEqual(MAX_PIECE_CHARS);
  expect(segments[0]).toBe("hello");
  expect(segments.at(-1)).toBe(" world");
});

test("slices never split a surrogate pair", () => {
  const text = "😀".repeat(500); // one piece of 1000 UTF-16 units
  for (const s of guardedSegments(text, O200K_TOKEN_SPLIT_REGEX)) {
    expect(s.length % 2).toBe(0);
    expect(s.startsWith("😀")).toBe(true);
  }
});

test("a giant piece costs about one token per slice of error at most", async () => {
  const rnd = random(9);
  let word = "";
  for (let i = 0; i < 1_200; i++) word += "abcdefghijklmnopqrstuvwxyz"[Math.floor(rnd() * 26)];
  const text = `Some prose before. ${word} and after.`;
  for (const enc of ["o200k_base", "cl100k_base"] as const) {
    const exact = getEncoding(enc).encode(text, [], []).length;
    const slices = Math.ceil(word.length / MAX_PIECE_CHARS);
    expect(Math.abs((await countText(text, enc)) - exact)).toBeLessThanOrEqual(slices + 2);
  }
});
