/**
 * The reference for the queue bench: the least a queueing proxy must keep
 * per waiting request — the parked connection, its Request and body, one
 * promise in an array. One request at a time goes upstream, at most one
 * every --interval s. It answers the few /admin/stats fields the queue bench
 * reads, so the same client and probes run against it and against limitrate.
 *   bun bench/lib/serve-minimal-queue.ts --upstream http://127.0.0.1:PORT --interval 0.002
 */
import { parseArgs } from "node:util";
import { announce, stopOnExitSignals } from "./lifecycle.ts";

const { values } = parseArgs({ options: { upstream: { type: "string" }, interval: { type: "string", default: "0.002" } } });
if (!values.upstream) throw new Error("--upstream is required");
const upstream = values.upstream;
const intervalMs = Number(values.interval) * 1000;

const line: (() => void)[] = [];
let busy = false;
let lastSend = -Infinity;
let requests = 0;

/** Lets the head go once nothing is in flight and the interval has passed. */
function pump(): void {
  if (busy || line.length === 0) return;
  const wait = lastSend + intervalMs - performance.now();
  if (wait > 0) {
    setTimeout(pump, wait);
    return;
  }
  busy = true;
  lastSend = performance.now();
  line.shift()!();
}

async function proxy(req: Request): Promise<Response> {
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
  try {
    const res = await fetch(`${upstream}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: raw });
    const body = await res.arrayBuffer();
    return new Response(body, { status: res.status, headers: { "content-type": "application/json" } });
  } finally {
    busy = false;
    pump();
  }
}

const server = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  idleTimeout: 0,
  fetch(req) {
    const path = new URL(req.url).pathname;
    if (path === "/admin/stats") {
      const waiting = line.length;
      return Response.json({ providers: [{ requests, queued_ahead: waiting, waiting_in_acquire: waiting, in_flight: busy ? 1 : 0 }] });
    }
    if (path === "/admin/health") return Response.json({ status: "ok" });
    return proxy(req);
  },
});
announce(`http://127.0.0.1:${server.port}`);
stopOnExitSignals(() => server.stop(true));
