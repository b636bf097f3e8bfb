/**
 * /admin/events: a Server-Sent Events stream of stats snapshots, the feed of
 * the TUI. A snapshot goes out at once, then whenever something changed
 * (checked every 250 ms) and at least every `interval_ms`, so a quiet
 * gateway costs a watcher almost nothing and a busy one is seen promptly.
 */
import { collectSnapshot } from "../stats/collect.ts";
import type { StatsSnapshot } from "../stats/snapshot.ts";
import type { Runtime } from "./runtime.ts";

const CHECK_MS = 250;
const enc = new TextEncoder();

/** Everything but the clock fields, to tell whether anything changed. */
function signature(s: StatsSnapshot): string {
  return JSON.stringify({ ...s, uptime_seconds: 0, time: 0 });
}

export function events(rt: Runtime, url: URL, signal: AbortSignal): Response {
  const asked = Number(url.searchParams.get("interval_ms") ?? 1000);
  const intervalMs = Number.isFinite(asked) ? Math.min(60_000, Math.max(100, asked)) : 1000;
  let timer: ReturnType<typeof setInterval> | undefined;
  let last = "";
  let lastSent = 0;
  const stream = new ReadableStream<Uint8Array>({
    start(ctrl) {
      const stop = () => {
        clearInterval(timer);
        try {
          ctrl.close();
        } catch {
          // already closed
        }
      };
      const tick = async () => {
        const snap = await collectSnapshot(rt);
        const sig = signature(snap);
        const now = Date.now();
        if (sig === last && now - lastSent < intervalMs) return;
        last = sig;
        lastSent = now;
        try {
          ctrl.enqueue(enc.encode(`data: ${JSON.stringify(snap)}\n\n`));
        } catch {
          stop();
        }
      };
      ctrl.enqueue(enc.encode(`retry: 1000\n\n`));
      void tick();
      timer = setInterval(() => void tick(), Math.min(CHECK_MS, intervalMs));
      signal.addEventListener("abort", stop, { once: true });
    },
    cancel() {
      clearInterval(timer);
    },
  });
  return new Response(stream, {
    headers: { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" },
  });
}
