/**
 * The least a queueing proxy keeps per waiting request — its Request and
 * body, parsed once, and one promise in an array — and the reference the
 * queue benches measure limitrate against. One request at a time goes
 * upstream, at most one every `intervalMs`. Used over HTTP
 * (serve-minimal-queue.ts) and in-process (queue-inprocess.ts).
 */
import { CHAT_PATH } from "./workload.ts";

export interface MinimalQueue {
  fetch(req: Request): Promise<Response>;
  /** Requests parsed so far. */
  readonly requests: number;
  readonly waiting: number;
  readonly busy: boolean;
  /** Every waiting request is answered 503; new ones too. */
  close(): void;
}

export function minimalQueue(upstream: string, intervalMs: number): MinimalQueue {
  const line: (() => void)[] = [];
  let busy = false;
  let closed = false;
  let lastSend = -Infinity;
  let requests = 0;

  /** Lets the head go once nothing is in flight and the interval has passed. */
  const pump = (): void => {
    if (busy || line.length === 0) return;
    const wait = lastSend + intervalMs - performance.now();
    if (wait > 0) {
      setTimeout(pump, wait);
      return;
    }
    busy = true;
    lastSend = performance.now();
    line.shift()!();
  };

  return {
    async fetch(req) {
      const raw = await req.text();
      const json: unknown = JSON.parse(raw);
      if (typeof json !== "object" || json === null || !("model" in json) || typeof json.model !== "string") {
        return new Response("model required", { status: 400 });
      }
      requests++;
      await new Promise<void>((resolve) => {
        line.push(resolve);
        pump();
      });
      if (closed) return new Response("closed", { status: 503 });
      try {
        const res = await fetch(`${upstream}${CHAT_PATH}`, { method: "POST", headers: { "content-type": "application/json" }, body: raw });
        return new Response(await res.arrayBuffer(), { status: res.status, headers: { "content-type": "application/json" } });
      } finally {
        busy = false;
        pump();
      }
    },
    get requests() {
      return requests;
    },
    get waiting() {
      return line.length;
    },
    get busy() {
      return busy;
    },
    close() {
      closed = true;
      for (const r of line.splice(0)) r();
    },
  };
}
