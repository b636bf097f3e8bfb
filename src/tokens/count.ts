/**
 * Token counting for the request path. Small inputs are counted on the
 * calling thread; larger ones go to the counting worker, so that a megabyte
 * prompt (50-100 ms of English, seconds of the costliest text) never stalls
 * other requests.
 */
import { log } from "../log.ts";
import { type Encoding, ENCODINGS, encodingForModel } from "./encoding.ts";
import { loadCounter } from "./encoders.ts";
import { Pieces } from "./pieces.ts";
import { type Endpoint, requestPieces } from "./request-pieces.ts";
import { countInWorker, warmWorker } from "./worker-client.ts";

/**
 * Inputs that cost more than this are counted in the worker. Cost is in
 * UTF-16 units of all the request's texts, each unit outside ASCII counting
 * NON_ASCII_COST: measured per character, English costs ~0.1 µs, random
 * words or base64 ~0.5-0.8 µs, CJK and other scripts ~1.6-2.5 µs. So the
 * main thread spends at most ~2 ms on English (16 K characters), ~3 ms on
 * other scripts (1 K characters), ~13 ms on ASCII gibberish; the worker's
 * round trip costs ~0.05 ms.
 */
export const INLINE_COST_LIMIT = 16 * 1024;
export const NON_ASCII_COST = 16;

/** Exact token count of `text` in `encoding` (0 for anything but a string). */
export function countText(text: string, encoding: Encoding): Promise<number> {
  const p = new Pieces();
  p.text(text);
  return countPieces(p, encoding);
}

/** Input tokens of a request to one of the routed endpoints. Never throws on the body's shape. */
export function countRequestInput(endpoint: Endpoint, body: Record<string, unknown>, model: string): Promise<number> {
  const encoding = encodingForModel(model);
  const p = new Pieces();
  try {
    requestPieces(p, endpoint, body, encoding);
  } catch {
    // a shape no guard foresaw: count what was collected before it
  }
  return countPieces(p, encoding);
}

/**
 * Loads the encodings ahead of time, off the request path; resolves when
 * ready. Each costs ~300-500 ms of this thread's time (call it after the
 * server listens) and ~50-100 MB. The counting worker is started and loaded
 * too unless `worker: false`: inputs over INLINE_COST_LIMIT are common
 * (16 K characters of English, 1 K of CJK) and would otherwise wait ~0.5 s
 * for it on first use.
 */
export async function preloadTokenizers(
  encodings: Encoding[] = [...ENCODINGS],
  options: { worker?: boolean } = {},
): Promise<void> {
  const wanted = Array.isArray(encodings) ? encodings.filter((e) => ENCODINGS.includes(e)) : [...ENCODINGS];
  await Promise.all([...wanted.map(loadCounter), options.worker === false ? undefined : warmWorker(wanted)]);
}

async function countPieces(p: Pieces, encoding: Encoding): Promise<number> {
  if (p.texts.length === 0) return Math.max(0, p.fixed);
  if (inlineCost(p.texts) > INLINE_COST_LIMIT) {
    const tokens = await countInWorker(encoding, p.texts);
    if (tokens !== undefined) return Math.max(0, p.fixed + tokens);
    warnInlineOnce();
  }
  const counter = await loadCounter(encoding);
  let tokens = 0;
  for (const text of p.texts) tokens += counter.count(text);
  return Math.max(0, p.fixed + tokens);
}

/** The texts' cost (see INLINE_COST_LIMIT), counted only until it passes the limit. */
function inlineCost(texts: readonly string[]): number {
  let cost = 0;
  for (const text of texts) {
    cost += text.length;
    if (cost > INLINE_COST_LIMIT) return cost;
    for (let i = 0; i < text.length; i++) {
      if (text.charCodeAt(i) >= 128 && (cost += NON_ASCII_COST - 1) > INLINE_COST_LIMIT) return cost;
    }
  }
  return cost;
}

let warned = false;
function warnInlineOnce(): void {
  if (warned) return;
  warned = true;
  log.warn("token counting worker unavailable: large inputs are counted on the main thread");
}
