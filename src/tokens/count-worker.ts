/**
 * The counting worker: counts the texts of large requests off the main
 * thread. One request at a time, in arrival order; loads encodings on demand.
 * A compiled executable must list this file as an extra build entrypoint.
 */
import { ENCODINGS } from "./encoding.ts";
import { loadCounter } from "./encoders.ts";
import type { CountReply, CountRequest } from "./worker-protocol.ts";

declare const self: Worker;

self.onmessage = async (event: MessageEvent<CountRequest>) => {
  const { id, encoding, texts } = event.data;
  let reply: CountReply;
  try {
    if (!ENCODINGS.includes(encoding)) throw new Error(`unknown encoding ${String(encoding)}`);
    const counter = await loadCounter(encoding);
    let tokens = 0;
    for (const text of texts) tokens += counter.count(text);
    reply = { id, tokens };
  } catch (err) {
    reply = { id, error: err instanceof Error ? err.message : String(err) };
  }
  self.postMessage(reply);
};
