/**
 * Deterministic answer text and token estimates. No real tokenizer: the mock
 * must stay cheap at tens of thousands of requests per second, and callers
 * only need numbers that are stable and roughly the right size.
 *
 * Token estimate: ceil(characters / 4), the usual rule of thumb for English.
 */

export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

/** FNV-1a over the first 256 characters: enough to vary answers, bounded cost. */
export function hashText(text: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  const n = Math.min(text.length, 256);
  for (let i = 0; i < n; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

const FILLER = (
  "this answer comes from the limitrate mock upstream which replies at once " +
  "with steady predictable text so that gateways tests and benchmarks can " +
  "watch requests and tokens flow through their limits without paying for a model"
).split(" ");

const SNIPPET_CHARS = 40;
const MIN_FILLER = 8;
const FILLER_SPREAD = 17; // filler words vary 8..24 with the prompt
/** Words per streamed content chunk: "a few words", like a real model's deltas. */
const WORDS_PER_CHUNK = 3;

export type FinishReason = "stop" | "length";

export interface Answer {
  text: string;
  /** The text cut into stream deltas; joined they equal `text`. */
  chunks: string[];
  tokens: number;
  finishReason: FinishReason;
}

/**
 * "Mock reply to: <first 40 chars of prompt>" plus filler words. With
 * `maxTokens`, words are dropped so that estimateTokens(text) <= maxTokens
 * (finish reason "length"); "Mock" alone is one token, so 1 always fits.
 */
export function composeAnswer(prompt: string, maxTokens?: number): Answer {
  const words = ["Mock", "reply", "to:"];
  for (const w of prompt.slice(0, SNIPPET_CHARS).split(/\s+/)) if (w) words.push(w);
  const h = hashText(prompt);
  const filler = MIN_FILLER + (h % FILLER_SPREAD);
  for (let i = 0; i < filler; i++) words.push(FILLER[(h + i) % FILLER.length] ?? "mock");
  const last = words.length - 1;
  words[last] = `${words[last]}.`;

  const charBudget = maxTokens === undefined ? Infinity : maxTokens * 4;
  const chunks: string[] = [];
  let text = "";
  let chunk = "";
  let inChunk = 0;
  let finishReason: FinishReason = "stop";
  for (let i = 0; i < words.length; i++) {
    const piece = i === 0 ? words[i]! : ` ${words[i]!}`;
    if (text.length + piece.length > charBudget) {
      finishReason = "length";
      break;
    }
    text += piece;
    chunk += piece;
    if (++inChunk === WORDS_PER_CHUNK) {
      chunks.push(chunk);
      chunk = "";
      inChunk = 0;
    }
  }
  if (chunk) chunks.push(chunk);
  return { text, chunks, tokens: estimateTokens(text), finishReason };
}
