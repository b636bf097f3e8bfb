/**
 * The counting worker: counts large inputs off the main thread. Each input
 * is cut into parts of PART_CHARS (split-text.ts: the parts' counts add up
 * exactly) and the jobs take turns part by part, reading new messages in
 * between, so a small request never waits behind a whole huge one: at most
 * one part (~1 ms of English, ~20 ms of the costliest text).
 * A compiled executable must list this file as an extra build entrypoint.
 */
import { ENCODINGS } from "./encoding.ts";
import { loadCounter, type TextCounter } from "./encoders.ts";
import { splitText } from "./split-text.ts";
import type { CountReply, CountRequest } from "./worker-protocol.ts";

declare const self: Worker;

const PART_CHARS = 8 * 1024;

interface Job {
  id: number;
  counter: TextCounter;
  texts: string[];
  /** Parts of texts[text] still to count. */
  parts: string[];
  text: number;
  tokens: number;
  /** Some text was long enough to be cut into parts. */
  long: boolean;
}

const turns: Job[] = [];
let running = false;

self.onmessage = async (event: MessageEvent<CountRequest>) => {
  const { id, encoding, texts } = event.data;
  try {
    if (!ENCODINGS.includes(encoding)) throw new Error(`unknown encoding ${String(encoding)}`);
    const counter = await loadCounter(encoding);
    turns.push({ id, counter, texts: Array.isArray(texts) ? texts : [], parts: [], text: 0, tokens: 0, long: false });
    void run();
  } catch (err) {
    reply({ id, error: err instanceof Error ? err.message : String(err) });
  }
};

async function run(): Promise<void> {
  if (running) return;
  running = true;
  try {
    while (turns.length > 0) {
      const job = turns.shift()!;
      try {
        if (step(job)) {
          turns.push(job);
        } else {
          if (job.long) job.counter.release();
          reply({ id: job.id, tokens: job.tokens });
        }
      } catch (err) {
        reply({ id: job.id, error: err instanceof Error ? err.message : String(err) });
      }
      if (turns.length > 0) await new Promise<void>((resolve) => setImmediate(resolve));
    }
  } finally {
    running = false;
  }
}

/** One turn of `job`: about PART_CHARS of its text (one part, or several short texts); true while some remains. */
function step(job: Job): boolean {
  let budget = PART_CHARS;
  while (budget > 0) {
    if (job.parts.length === 0) {
      if (job.text >= job.texts.length) return false;
      const text = job.texts[job.text++];
      if (typeof text !== "string" || text.length === 0) continue;
      job.parts = splitText(text, PART_CHARS).reverse();
      if (job.parts.length > 1) job.long = true;
    }
    const part = job.parts.pop()!;
    job.tokens += job.counter.count(part);
    budget -= part.length;
  }
  return job.parts.length > 0 || job.text < job.texts.length;
}

function reply(message: CountReply): void {
  self.postMessage(message);
}
