/**
 * A limitrate gateway in its own process, with one provider in front of
 * `--upstream` and one of these rate-limit presets:
 *   none    no limit: the provider has no waiting line (requests go straight through)
 *   window  mode window, rpm 1e9: the limiter decides every request, never blocks
 *   burst   mode burst, capacity 1e6 at rpm 1e9: GCRA decides every request, never blocks
 *   queue   mode spaced every --interval s (default 0.002), max_concurrent 1:
 *           with a held upstream answer everything behind it waits in line
 * or `--rate-limit '<json>'`: the provider's rate_limit block as given.
 *
 * Store: in-process by default; `--redis URL` puts every limiter in that
 * Redis (store.redis, key prefix `--prefix`, default "limitrate"): nodes
 * started with the same URL and prefix share their limits.
 *
 * `--client fetch`: the provider's requests go through fetch instead of
 * limitrate's own HTTP/1.1 client (upstream_client).
 *
 * `--config-json '<json>'`: a whole config instead (server is forced to
 * 127.0.0.1 on a free port; --redis and --prefix still apply).
 *
 *   bun bench/lib/serve-gateway.ts --upstream http://127.0.0.1:PORT --limit window [--redis redis://127.0.0.1:6379]
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
    /** The provider's rate_limit as JSON (overrides --limit). */
    "rate-limit": { type: "string" },
    /** Configure N client keys bench-key-0 … (each rpm 1e9 unless --key-limit: decided on every request, never refused). */
    keys: { type: "string", default: "0" },
    /** Each bench key's policy as JSON (default {"rpm":1e9}). */
    "key-limit": { type: "string" },
    redis: { type: "string" },
    prefix: { type: "string", default: "limitrate" },
    "config-json": { type: "string" },
    /** The provider's upstream_client: auto (own HTTP/1.1 client for http://) or fetch. */
    client: { type: "string", default: "auto" },
  },
});

const presets: Record<string, Record<string, unknown>> = {
  none: {},
  window: { mode: "window", rpm: 1e9 },
  burst: { mode: "burst", capacity: 1_000_000, rpm: 1e9 },
  queue: { mode: "spaced", interval_seconds: Number(values.interval), max_concurrent: 1 },
};

function presetConfig(): Record<string, unknown> {
  if (!values.upstream) throw new Error("--upstream is required (or --config-json)");
  const rateLimit = values["rate-limit"] !== undefined ? (JSON.parse(values["rate-limit"]) as Record<string, unknown>) : presets[values.limit];
  if (!rateLimit) throw new Error(`--limit must be one of ${Object.keys(presets).join(", ")}`);
  const keyPolicy = values["key-limit"] !== undefined ? (JSON.parse(values["key-limit"]) as Record<string, unknown>) : { rpm: 1e9 };
  const keys = Object.fromEntries(Array.from({ length: Number(values.keys) }, (_, i) => [`bench-key-${i}`, keyPolicy]));
  return {
    ...(Number(values.keys) > 0 ? { keys } : {}),
    providers: [
      {
        name: "mock",
        base_url: `${values.upstream}/v1`,
        api_key: "sk-bench",
        models: ["gpt-4o-mini", "gpt-4o"],
        rate_limit: rateLimit,
        upstream_client: values.client,
      },
    ],
  };
}

const raw = values["config-json"] !== undefined ? (JSON.parse(values["config-json"]) as Record<string, unknown>) : presetConfig();
const store = values.redis !== undefined ? { ...((raw.store as object | undefined) ?? {}), redis: values.redis, prefix: values.prefix } : raw.store;
const config = configSchema.parse({
  ...raw,
  server: { ...((raw.server as object | undefined) ?? {}), host: "127.0.0.1", port: 0 },
  ...(store !== undefined ? { store } : {}),
});
const gw = startGateway(config, { drainMs: 1000 });
announce(gw.url);
stopOnExitSignals(() => gw.stop());
