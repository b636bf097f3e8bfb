/**
 * Token counting for the request path. Small inputs are counted on the
 * calling thread (~0.3-0.5 ms per 10 KB of English); inputs over
 * WORKER_THRESHOLD_CHARS go to the counting worker so that a megabyte prompt
 * (~30-50 ms, more for odd text) never stalls other requests.
 */
import { type Encoding, ENCODINGS, encodingForModel } from "./encoding.ts";
import { loadCounter } from "./encoders.ts";
import { Pieces } from "./pieces.ts";
import { type Endpoint, requestPieces } from "./request-pieces.ts";
import { countInWorker, warmWorker } from "./worker-client.ts";

/**
 * Inputs longer than this (UTF-16 code units, all texts of a request
 * together) are counted in the worker. Counting 64 K characters inline costs
 * ~3 ms of English and at most ~20 ms of the worst text long-pieces.ts lets
 * through; the worker's round trip costs ~0.2 ms, so smaller inputs stay inline.
 */
export const WORKER_THRESHOLD_CHARS = 64 * 1024;

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
 * Loads the encodings on this thread ahead of time (off the request path:
 * ~300 ms each, during which this thread is busy); resolves when ready. With
 * `worker: true` the counting worker is started and loaded too, so the first
 * large prompt does not wait for it.
 */
export async function preloadTokenizers(
  encodings: Encoding[] = [...ENCODINGS],
  options: { worker?: boolean } = {},
): Promise<void> {
  const wanted = encodings.filter((e) => ENCODINGS.includes(e));
  await Promise.all(wanted.map(loadCounter));
  if (options.worker) await warmWorker(wanted);
}

async function countPieces(p: Pieces, encoding: Encoding): Promise<number> {
  if (p.texts.length === 0) return Math.max(0, p.fixed);
  if (p.chars > WORKER_THRESHOLD_CHARS) {
    const tokens = await countInWorker(encoding, p.texts);
    if (tokens !== undefined) return Math.max(0, p.fixed + tokens);
  }
  const counter = await loadCounter(encoding);
  let tokens = 0;
  for (const text of p.texts) tokens += counter.count(text);
  return Math.max(0, p.fixed + tokens);
}
