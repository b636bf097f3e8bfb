/**
 * The mock OpenAI upstream (src/mock) in its own process, plus a tally of
 * every /v1 request it answers: arrival time on this process's clock, in ms
 * with sub-ms precision (the mock's own `arrivals` are whole ms), the client
 * key the gateway forwarded in `x-bench-key` (load.ts --tag-keys), and the
 * status the mock gave. The mock's own /mock/counts and /mock/reset work too.
 *   GET  /bench/arrivals   {"times": [ms...], "keys": [key|null...], "statuses": [200...]}
 *   POST /bench/reset      forget the tally (and reset the mock's counts)
 *   bun bench/lib/serve-tally-mock.ts [--latency-ms 0] [--models a,b]   → prints "LISTENING http://127.0.0.1:PORT"
 */
import { parseArgs } from "node:util";
import { createMockUpstream } from "../../src/mock/mock-upstream.ts";
import { announce, stopOnExitSignals } from "./lifecycle.ts";

/** Bounds memory whatever a client sends. */
const MAX_TALLIED = 2_000_000;

const { values } = parseArgs({ options: { "latency-ms": { type: "string", default: "0" }, models: { type: "string" } } });
const mock = createMockUpstream({ latencyMs: Number(values["latency-ms"]), ...(values.models ? { models: values.models.split(",") } : {}) });

let times: number[] = [];
let keys: (string | null)[] = [];
let statuses: number[] = [];

const server = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  idleTimeout: 0,
  async fetch(req) {
    const path = new URL(req.url).pathname;
    if (path === "/bench/arrivals") return Response.json({ times, keys, statuses });
    if (path === "/bench/reset") {
      times = [];
      keys = [];
      statuses = [];
      mock.reset();
      return Response.json({ reset: true });
    }
    if (!path.startsWith("/v1/")) return mock.fetch(req);
    // Wall-clock ms with sub-ms precision: comparable with the gateway's segment boundaries.
    const t = performance.timeOrigin + performance.now();
    const key = req.headers.get("x-bench-key");
    const res = await mock.fetch(req);
    if (times.length < MAX_TALLIED) {
      times.push(t);
      keys.push(key);
      statuses.push(res.status);
    }
    return res;
  },
});
announce(`http://127.0.0.1:${server.port}`);
stopOnExitSignals(() => server.stop(true));
