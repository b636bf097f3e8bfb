/**
 * The BPE encoders, loaded on first use (their rank tables take ~300 ms to
 * parse, on whichever thread loads them). gpt-tokenizer, not js-tiktoken:
 * the same counts, 2-5× faster (bench/tokenizer.ts).
 */
import { CL100K_TOKEN_SPLIT_REGEX, O200K_TOKEN_SPLIT_REGEX } from "gpt-tokenizer/encodingParams/constants";
import type { Encoding } from "./encoding.ts";
import { guardedSegments, mayHoldLongPiece } from "./long-pieces.ts";

export interface TextCounter {
  /** Exact token count of `text` (see long-pieces.ts for the one exception). */
  count(text: string): number;
  /**
   * Empties the merge cache. Its keys are slices of the texts counted, which
   * may keep a whole huge prompt alive: the worker calls this after one.
   */
  release(): void;
}

interface EncoderApi {
  countTokens(text: string, options: { disallowedSpecial: Set<string> }): number;
  setMergeCacheSize(entries: number): void;
  clearMergeCache(): void;
}

/**
 * gpt-tokenizer caches merged pieces per encoding (an LRU, 100,000 entries
 * by default): 2× faster on English. But its eviction is pathological under
 * Bun: once the cache is full, every miss scans the Map's deleted entries,
 * and counting slowed from ~1 s/MB to 3 s, 5 s, 8 s per MB of unique words
 * as traffic went on. So the cache is never allowed to fill: it is cleared
 * whenever CLEAR_AFTER_CHARS characters have been counted since the last
 * clear (each piece is at least one character, so at most that many entries
 * are added), and a text longer than that is counted with the cache off.
 * This also bounds its memory: keys total at most CLEAR_AFTER_CHARS
 * characters, ~10-20 MB at worst per encoding and thread.
 */
const CLEAR_AFTER_CHARS = 128 * 1024;
const MERGE_CACHE_ENTRIES = CLEAR_AFTER_CHARS;

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

async function importEncoder(encoding: Encoding): Promise<EncoderApi> {
  return encoding === "cl100k_base"
    ? await import("gpt-tokenizer/encoding/cl100k_base")
    : await import("gpt-tokenizer/encoding/o200k_base");
}

function counterFor(api: EncoderApi, pieceRegex: RegExp): TextCounter {
  api.setMergeCacheSize(MERGE_CACHE_ENTRIES);
  let charsSinceClear = 0;
  const countGuarded = (text: string): number => {
    if (!mayHoldLongPiece(text)) return api.countTokens(text, AS_TEXT);
    let n = 0;
    for (const segment of guardedSegments(text, pieceRegex)) n += api.countTokens(segment, AS_TEXT);
    return n;
  };
  return {
    count(text: string): number {
      if (text.length === 0) return 0;
      if (text.length > CLEAR_AFTER_CHARS) {
        api.setMergeCacheSize(0); // drops the cache
        try {
          return countGuarded(text);
        } finally {
          api.setMergeCacheSize(MERGE_CACHE_ENTRIES);
          charsSinceClear = 0;
        }
      }
      if (charsSinceClear + text.length > CLEAR_AFTER_CHARS) {
        api.clearMergeCache();
        charsSinceClear = 0;
      }
      charsSinceClear += text.length;
      return countGuarded(text);
    },
    release(): void {
      api.clearMergeCache();
      charsSinceClear = 0;
    },
  };
}

/** The counter for `encoding`, loading it on first call (one load per encoding and thread). */
export function loadCounter(encoding: Encoding): Promise<TextCounter> {
  let pending = loading.get(encoding);
  if (pending === undefined) {
    pending = importEncoder(encoding).then((api) => counterFor(api, PIECE_REGEX[encoding]));
    pending.catch(() => loading.delete(encoding)); // a failed load may be retried
    loading.set(encoding, pending);
  }
  return pending;
}
