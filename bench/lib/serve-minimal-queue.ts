/**
 * The reference for the queue bench over HTTP: minimal-queue.ts behind a
 * socket (the parked connection is what this adds). It answers the few /admin/stats fields the queue bench
 * reads, so the same client and probes run against it and against limitrate.
 *   bun bench/lib/serve-minimal-queue.ts --upstream http://127.0.0.1:PORT --interval 0.002
 */
import { parseArgs } from "node:util";
import { announce, stopOnExitSignals } from "./lifecycle.ts";
import { minimalQueue } from "./minimal-queue.ts";

const { values } = parseArgs({ options: { upstream: { type: "string" }, interval: { type: "string", default: "0.002" } } });
if (!values.upstream) throw new Error("--upstream is required");
const upstream = values.upstream;
const intervalMs = Number(values.interval) * 1000;

const queue = minimalQueue(upstream, intervalMs);

const server = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  idleTimeout: 0,
  fetch(req) {
    const path = new URL(req.url).pathname;
    if (path === "/admin/stats") {
      const waiting = queue.waiting;
      return Response.json({ providers: [{ requests: queue.requests, queued_ahead: waiting, waiting_in_acquire: waiting, in_flight: queue.busy ? 1 : 0 }] });
    }
    if (path === "/admin/health") return Response.json({ status: "ok" });
    return queue.fetch(req);
  },
});
announce(`http://127.0.0.1:${server.port}`);
stopOnExitSignals(() => server.stop(true));
