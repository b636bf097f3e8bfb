// A tiny stand-in gateway for hook tests: /admin/events as SSE (or 404), /admin/stats as JSON.
import type { StatsSnapshot } from "../../src/stats/snapshot.ts";

export interface FakeStatsServer {
  readonly url: string;
  readonly port: number;
  /** Requests seen, e.g. "/admin/events?interval_ms=100". */
  readonly requests: string[];
  /** Event streams currently open. */
  open(): number;
  stop(): Promise<void>;
}

export interface FakeStatsOptions {
  /** Sent in order on each events connection, `gapMs` apart; the stream then stays open. */
  readonly snapshots: readonly StatsSnapshot[];
  readonly port?: number;
  /** false: /admin/events answers 404 (an older gateway), so clients must poll /admin/stats. */
  readonly events?: boolean;
  readonly token?: string;
  readonly gapMs?: number;
}

export function fakeStatsServer(opts: FakeStatsOptions): FakeStatsServer {
  const requests: string[] = [];
  let polls = 0;
  let open = 0;
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: opts.port ?? 0,
    idleTimeout: 0,
    fetch(req) {
      const url = new URL(req.url);
      requests.push(url.pathname + url.search);
      if (opts.token && req.headers.get("authorization") !== `Bearer ${opts.token}`) {
        return Response.json({ error: { message: "needs the admin token", type: "invalid_request_error", param: null, code: "invalid_api_key" } }, { status: 401 });
      }
      if (url.pathname === "/admin/stats") {
        return Response.json(opts.snapshots[Math.min(polls++, opts.snapshots.length - 1)]);
      }
      if (url.pathname === "/admin/events" && opts.events !== false) {
        const timers: ReturnType<typeof setTimeout>[] = [];
        const body = new ReadableStream<Uint8Array>({
          start(controller) {
            open++;
            const enc = new TextEncoder();
            controller.enqueue(enc.encode(": hello\n\n"));
            opts.snapshots.forEach((s, i) => {
              timers.push(
                setTimeout(() => {
                  try {
                    // Split in two writes, as a real network may: the reader must join them.
                    const text = `data: ${JSON.stringify(s)}\n\n`;
                    controller.enqueue(enc.encode(text.slice(0, 20)));
                    controller.enqueue(enc.encode(text.slice(20)));
                  } catch {
                    // stream closed
                  }
                }, i * (opts.gapMs ?? 100)),
              );
            });
          },
          cancel() {
            open--;
            timers.forEach(clearTimeout);
          },
        });
        return new Response(body, { headers: { "content-type": "text/event-stream", "cache-control": "no-cache" } });
      }
      return Response.json({ error: { message: `Unknown path ${url.pathname}.`, type: "invalid_request_error", param: null, code: "not_found" } }, { status: 404 });
    },
  });
  return {
    url: `http://127.0.0.1:${server.port}`,
    port: server.port!,
    requests,
    open: () => open,
    stop: () => server.stop(true),
  };
}
