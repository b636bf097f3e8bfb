/**
 * The BPE encoders, loaded on first use (their rank tables take ~300 ms to
 * parse, on whichever thread loads them). gpt-tokenizer, not js-tiktoken:
 * the same counts, 3-5× faster (bench/tokenizer.ts).
 */
import { CL100K_TOKEN_SPLIT_REGEX, O200K_TOKEN_SPLIT_REGEX } from "gpt-tokenizer/encodingParams/constants";
import type { Encoding } from "./encoding.ts";
import { guardedSegments, mayHoldLongPiece } from "./long-pieces.ts";

export interface TextCounter {
  /** Exact token count of `text` (see long-pieces.ts for the one exception). */
  count(text: string): number;
}

interface EncoderApi {
  countTokens(text: string, options: { disallowedSpecial: Set<string> }): number;
  setMergeCacheSize(entries: number): void;
}

/**
 * gpt-tokenizer keeps an LRU of merged pieces per encoding (default 100,000
 * entries, up to ~1.5 KB each for long pieces). 10,000 is as fast on English
 * (measured: 31-34 ms/MB either way) and caps it near 15 MB per encoding and thread.
 */
const MERGE_CACHE_ENTRIES = 10_000;

/**
 * Special-token strings such as "<|endoftext|>" in a prompt are text to the
 * API, not control tokens: count them as text, never throw on them.
 */
const AS_TEXT = { disallowedSpecial: new Set<string>() };

const PIECE_REGEX: Record<Encoding, RegExp> = {
  o200k_base: O200K_TOKEN_SPLIT_REGEX,
  cl100k_base: CL100K_TOKEN_SPLIT_REGEX,
};

const loading = new Map<Encoding, Promise<TextCounter>>();
const loaded = new Map<Encoding, TextCounter>();

async function importEncoder(encoding: Encoding): Promise<EncoderApi> {
  return encoding === "cl100k_base"
    ? await import("gpt-tokenizer/encoding/cl100k_base")
    : await import("gpt-tokenizer/encoding/o200k_base");
}

function counterFor(api: EncoderApi, pieceRegex: RegExp): TextCounter {
  api.setMergeCacheSize(MERGE_CACHE_ENTRIES);
  return {
    count(text: string): number {
      if (text.length === 0) return 0;
      if (!mayHoldLongPiece(text)) return api.countTokens(text, AS_TEXT);
      let n = 0;
      for (const segment of guardedSegments(text, pieceRegex)) n += api.countTokens(segment, AS_TEXT);
      return n;
    },
  };
}

/** The counter for `encoding`, loading it on first call (one load per encoding and thread). */
export function loadCounter(encoding: Encoding): Promise<TextCounter> {
  let pending = loading.get(encoding);
  if (pending === undefined) {
    pending = importEncoder(encoding).then((api) => {
      const counter = counterFor(api, PIECE_REGEX[encoding]);
      loaded.set(encoding, counter);
      return counter;
    });
    pending.catch(() => loading.delete(encoding)); // a failed load may be retried
    loading.set(encoding, pending);
  }
  return pending;
}

/** The counter if this thread has already loaded it. */
export function loadedCounter(encoding: Encoding): TextCounter | undefined {
  return loaded.get(encoding);
}
