/**
 * A limitrate gateway in its own process, with one provider in front of
 * `--upstream` and one of these rate-limit presets:
 *   none    no limit: the provider has no waiting line (requests go straight through)
 *   window  mode window, rpm 1e9: the limiter decides every request, never blocks
 *   burst   mode burst, capacity 1e6 at rpm 1e9: GCRA decides every request, never blocks
 *   queue   mode spaced every --interval s (default 0.002), max_concurrent 1:
 *           with a held upstream answer everything behind it waits in line
 *
 *   bun bench/lib/serve-gateway.ts --upstream http://127.0.0.1:PORT --limit window
 */
import { parseArgs } from "node:util";
import { configSchema } from "../../src/config/schema.ts";
import { startGateway } from "../../src/gateway/server.ts";
import { announce, stopOnExitSignals } from "./lifecycle.ts";

const { values } = parseArgs({
  options: {
    upstream: { type: "string" },
    limit: { type: "string", default: "none" },
    interval: { type: "string", default: "0.002" },
    /** Configure N client keys bench-key-0 … (each rpm 1e9: decided on every request, never refused). */
    keys: { type: "string", default: "0" },
  },
});
if (!values.upstream) throw new Error("--upstream is required");

const presets: Record<string, Record<string, unknown>> = {
  none: {},
  window: { mode: "window", rpm: 1e9 },
  burst: { mode: "burst", capacity: 1_000_000, rpm: 1e9 },
  queue: { mode: "spaced", interval_seconds: Number(values.interval), max_concurrent: 1 },
};
const rateLimit = presets[values.limit];
if (!rateLimit) throw new Error(`--limit must be one of ${Object.keys(presets).join(", ")}`);

const keys = Object.fromEntries(Array.from({ length: Number(values.keys) }, (_, i) => [`bench-key-${i}`, { rpm: 1e9 }]));
const config = configSchema.parse({
  server: { host: "127.0.0.1", port: 0 },
  ...(Number(values.keys) > 0 ? { keys } : {}),
  providers: [
    {
      name: "mock",
      base_url: `${values.upstream}/v1`,
      api_key: "sk-bench",
      models: ["gpt-4o-mini", "gpt-4o"],
      rate_limit: rateLimit,
    },
  ],
});
const gw = startGateway(config, { drainMs: 1000 });
announce(gw.url);
stopOnExitSignals(() => gw.stop());
