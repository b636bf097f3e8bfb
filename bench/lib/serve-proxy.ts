/**
 * The reference "minimal proxy": the least a JSON-routing proxy must do —
 * read the body, parse it, read `model`, forward the same bytes upstream and
 * stream the answer back. Whatever limitrate costs beyond this is its own.
 *   bun bench/lib/serve-proxy.ts --upstream http://127.0.0.1:PORT
 */
import { parseArgs } from "node:util";
import { announce, stopOnExitSignals } from "./lifecycle.ts";

const { values } = parseArgs({ options: { upstream: { type: "string" } } });
if (!values.upstream) throw new Error("--upstream is required");
const upstream = values.upstream;

const server = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  idleTimeout: 0,
  async fetch(req) {
    const raw = await req.text();
    const json: unknown = JSON.parse(raw);
    const model = typeof json === "object" && json !== null && "model" in json ? json.model : undefined;
    if (typeof model !== "string") return new Response("model required", { status: 400 });
    const path = req.url.slice(req.url.indexOf("/", "http://".length));
    const res = await fetch(upstream + path, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer sk-bench" },
      body: raw,
    });
    return new Response(res.body, { status: res.status, headers: { "content-type": res.headers.get("content-type") ?? "application/json" } });
  },
});
announce(`http://127.0.0.1:${server.port}`);
stopOnExitSignals(() => server.stop(true));
