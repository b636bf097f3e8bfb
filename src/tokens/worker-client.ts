/**
 * One long-lived counting worker, started on first need, requests multiplexed
 * by id. It never keeps the process alive by itself: it is unref'd while
 * idle and ref'd only while a count is pending (an unref'd worker's reply
 * would otherwise be lost if nothing else kept the process running).
 *
 * If the worker cannot start or dies, callers get `undefined` and count on
 * the main thread; after MAX_FAILURES failures in a row it is not started
 * again (for example a compiled executable built without count-worker.ts as
 * an entrypoint).
 */
import type { Encoding } from "./encoding.ts";
import type { CountReply, CountRequest } from "./worker-protocol.ts";

const MAX_FAILURES = 3;

/** Bun's Worker; the DOM lib's type lacks ref/unref. */
type CountingWorker = Worker & { ref(): void; unref(): void };

interface Pending {
  resolve(tokens: number | undefined): void;
}

let worker: CountingWorker | undefined;
let nextId = 1;
const pending = new Map<number, Pending>();
let failures = 0;

function start(): CountingWorker | undefined {
  if (worker !== undefined) return worker;
  if (failures >= MAX_FAILURES) return undefined;
  try {
    const w = new Worker(new URL("./count-worker.ts", import.meta.url).href) as CountingWorker;
    w.unref();
    w.onmessage = (event: MessageEvent<CountReply>) => {
      failures = 0;
      settle(event.data.id, "tokens" in event.data ? event.data.tokens : undefined);
    };
    w.onerror = (event) => {
      event.preventDefault();
      fail(w);
    };
    w.addEventListener("close", () => fail(w));
    worker = w;
    return w;
  } catch {
    failures++;
    return undefined;
  }
}

function settle(id: number, tokens: number | undefined): void {
  const entry = pending.get(id);
  if (entry === undefined) return;
  pending.delete(id);
  if (pending.size === 0) worker?.unref();
  entry.resolve(tokens);
}

/** The worker failed: everything pending falls back to the main thread; the next count starts a new worker. */
function fail(w: CountingWorker): void {
  if (worker !== w) return;
  failures++;
  drop(w);
}

function drop(w: CountingWorker): void {
  worker = undefined;
  w.terminate();
  const waiting = [...pending.values()];
  pending.clear();
  for (const entry of waiting) entry.resolve(undefined);
}

/** Sum of the token counts of `texts`, counted in the worker; undefined when the worker is unavailable. */
export function countInWorker(encoding: Encoding, texts: string[]): Promise<number | undefined> {
  const w = start();
  if (w === undefined) return Promise.resolve(undefined);
  const id = nextId++;
  const request: CountRequest = { id, encoding, texts };
  return new Promise((resolve) => {
    if (pending.size === 0) w.ref();
    pending.set(id, { resolve });
    try {
      w.postMessage(request);
    } catch {
      settle(id, undefined);
    }
  });
}

/** Starts the worker and loads `encodings` in it; resolves when ready (or the worker is unavailable). */
export async function warmWorker(encodings: readonly Encoding[]): Promise<void> {
  await Promise.all(encodings.map((encoding) => countInWorker(encoding, [])));
}

/** Stops the worker (tests, shutdown); a later count starts a new one. */
export function stopCountWorker(): void {
  if (worker !== undefined) drop(worker);
}
