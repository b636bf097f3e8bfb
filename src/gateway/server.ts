/**
 * Runs the gateway on a socket (Bun.serve) and stops it gracefully: stop
 * accepting, answer waiting requests 503, let in-flight ones finish for a
 * bounded time.
 */
import { systemClock, type Clock } from "../clock.ts";
import { createStore } from "../store/create-store.ts";
import type { Config } from "../config/schema.ts";
import type { Store } from "../store/store.ts";
import { createApp } from "./app.ts";
import { reloadRuntime, type ReloadSummary } from "./reload.ts";
import { closeRuntime, createRuntime, type Runtime } from "./runtime.ts";
import { encodingForModel, preloadTokenizers } from "../tokens/index.ts";

export interface ServeOptions {
  readonly host?: string;
  readonly port?: number;
  readonly clock?: Clock;
  readonly store?: Store;
  /** A Redis URL that replaces the config's store (CLI --redis). */
  readonly redisUrl?: string;
  /** How long in-flight requests may take to finish on stop, ms. */
  readonly drainMs?: number;
}

export interface RunningGateway {
  readonly url: string;
  readonly port: number;
  readonly host: string;
  readonly runtime: Runtime;
  readonly fetch: (req: Request) => Promise<Response>;
  /** Swaps in a new (already validated) config, keeping queues and counters. */
  reload(config: Config): ReloadSummary;
  stop(): Promise<void>;
}

export class PortInUseError extends Error {}

/**
 * Tokenizer ranks take ~300 ms to load: when some limit counts tokens, load
 * the encodings its models need now, in the background, not on the first request.
 */
function warmTokenizers(rt: Runtime): void {
  const metered = rt.keys.all.some((k) => k.countsTokens);
  const models = rt.providers.filter((p) => metered || p.countsTokens).flatMap((p) => p.models);
  if (models.length === 0) return;
  const encodings = [...new Set(models.map(encodingForModel))];
  // Main thread only: the worker (another ~95 MB of ranks) starts with the first huge prompt.
  setTimeout(() => void preloadTokenizers(encodings, { worker: false }).catch(() => {}), 0);
}

export function startGateway(config: Config, opts: ServeOptions = {}): RunningGateway {
  const clock = opts.clock ?? systemClock;
  const store = opts.store ?? createStore(config.store, clock, { redisUrl: opts.redisUrl });
  const runtime = createRuntime(config, { clock, store });
  const fetch = createApp(runtime);
  const host = opts.host ?? config.server.host;
  const port = opts.port ?? config.server.port;
  let server: ReturnType<typeof Bun.serve>;
  try {
    server = Bun.serve({
      hostname: host,
      port,
      fetch,
      // Queued requests and slow models can be silent for minutes: no idle cut-off.
      idleTimeout: 0,
      // Our own reader answers 413 in OpenAI's shape; Bun's limit is only a backstop.
      maxRequestBodySize: config.server.max_body_bytes + 1024 * 1024,
      error: () => new Response(JSON.stringify({ error: { message: "internal error", type: "server_error", param: null, code: "internal_error" } }), { status: 500, headers: { "content-type": "application/json" } }),
    });
  } catch (e) {
    closeRuntime(runtime);
    void runtime.store.close().catch(() => {});
    const code = (e as { code?: string }).code;
    if (code === "EADDRINUSE" || /in use/i.test(String(e))) {
      throw new PortInUseError(`Port ${port} on ${host} is already in use. Stop the other process or pick another port with --port.`);
    }
    throw e;
  }
  const boundPort = server.port ?? port;
  warmTokenizers(runtime);
  const shownHost = host.includes(":") ? `[${host}]` : host;
  let stopping: Promise<void> | null = null;
  return {
    url: `http://${shownHost}:${boundPort}`,
    port: boundPort,
    host,
    runtime,
    fetch,
    reload: (next) => reloadRuntime(runtime, next),
    stop() {
      stopping ??= (async () => {
        const drained = server.stop(false);
        closeRuntime(runtime);
        const drainMs = opts.drainMs ?? 10_000;
        const timedOut = await Promise.race([
          drained.then(() => false),
          new Promise<boolean>((r) => setTimeout(() => r(true), drainMs).unref?.()),
        ]);
        if (timedOut) await server.stop(true);
        await runtime.store.close();
      })();
      return stopping;
    },
  };
}
