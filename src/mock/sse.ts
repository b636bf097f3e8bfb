/**
 * Server-sent events as OpenAI sends them, and a paced body that delivers
 * them. The body is pulled, so a slow client applies back-pressure, and a
 * client that disconnects just stops it: no timer keeps writing afterwards.
 */

export const SSE_DONE = "data: [DONE]\n\n";

/** Chat and legacy completions: bare `data:` lines. */
export function sseData(payload: unknown): string {
  return `data: ${JSON.stringify(payload)}\n\n`;
}

/** Responses API: each event carries its type in an `event:` line too. */
export function sseEvent(type: string, payload: unknown): string {
  return `event: ${type}\ndata: ${JSON.stringify(payload)}\n\n`;
}

export const SSE_HEADERS = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache",
} as const;

const encoder = new TextEncoder();

/**
 * A body that sends `events[0]` after `firstDelayMs`, then each next one after
 * `gapMs`. With no gap the rest goes in one write, which keeps benchmarks
 * cheap. `onEnd` runs exactly once: on completion or on cancel.
 */
export function pacedEvents(
  events: readonly string[],
  firstDelayMs: number,
  gapMs: number,
  onEnd: () => void,
): ReadableStream<Uint8Array> {
  let next = 0;
  let ended = false;
  const end = (): void => {
    if (ended) return;
    ended = true;
    onEnd();
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (ended) return;
      const delay = next === 0 ? firstDelayMs : gapMs;
      if (delay > 0) await Bun.sleep(delay);
      if (ended) return; // cancelled while we waited
      try {
        if (gapMs > 0) {
          controller.enqueue(encoder.encode(events[next++]));
        } else {
          controller.enqueue(encoder.encode(events.slice(next).join("")));
          next = events.length;
        }
        if (next >= events.length) controller.close();
      } catch {
        // The consumer went away between our check and the write: stop quietly.
        end();
        return;
      }
      if (next >= events.length) end();
    },
    cancel() {
      end();
    },
  });
}
