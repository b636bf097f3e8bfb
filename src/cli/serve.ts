/** `limitrate serve`: the gateway on its config, or on the embedded default. */
import picocolors from "picocolors";
import { embeddedConfig, EMBEDDED_RPM } from "../config/embedded.ts";
import type { Config } from "../config/schema.ts";
import { watchFile } from "node:fs";
import { ConfigError } from "../config/errors.ts";
import { startGateway, type RunningGateway } from "../gateway/server.ts";
import { log } from "../log.ts";
import { runInstances } from "./instances.ts";
import { startMockUpstream, type RunningMock } from "../mock/mock-upstream.ts";
import { loadConfig, locateConfig } from "./config-source.ts";
import { onShutdown } from "./shutdown.ts";

export interface ServeCliOptions {
  readonly config?: string;
  readonly host?: string;
  readonly port?: number;
  readonly redis?: string;
  readonly instances?: number;
  /** Reload the config when its file changes (SIGHUP always reloads). */
  readonly watch?: boolean;
}

export async function runServe(o: ServeCliOptions): Promise<void> {
  const path = locateConfig(o.config);
  if (o.instances !== undefined && o.instances > 1) return serveInstances(o, path);
  let mock: RunningMock | null = null;
  let config: Config;
  if (path === null) {
    // Realistic pace: a first token after 300 ms, then a chunk every 30 ms.
    mock = startMockUpstream({ port: 0, latencyMs: 300, chunkDelayMs: 30 });
    config = embeddedConfig(mock.url);
  } else {
    config = loadConfig(path);
  }
  let gw;
  try {
    gw = startGateway(config, { host: o.host, port: o.port, redisUrl: o.redis });
  } catch (e) {
    await mock?.stop();
    throw e;
  }
  process.stdout.write(banner(gw.url, config, path) + "\n");
  if (path !== null) watchConfig(path, gw, o.watch === true);
  // LIMITRATE_NODE is set by the `--instances` supervisor for each node it starts.
  const isNode = process.env.LIMITRATE_NODE !== undefined;
  onShutdown(
    async () => {
      await gw.stop();
      await mock?.stop();
    },
    { followParent: isNode },
  );
}

/**
 * SIGHUP (and, with --watch, a change of the file) reloads the config. A bad
 * new config is refused with its problems listed; the old one stays in force.
 */
function watchConfig(path: string, gw: RunningGateway, watch: boolean): void {
  const reload = (why: string) => {
    try {
      const next = loadConfig(path);
      const r = gw.reload(next);
      log.info(
        `config reloaded (${why}): ${r.kept.length} providers kept` +
          (r.added.length ? `, added ${r.added.join(", ")}` : "") +
          (r.removed.length ? `, removed ${r.removed.join(", ")} (their waiting requests answered 503)` : "") +
          `, ${r.keys} keys`,
      );
    } catch (e) {
      if (e instanceof ConfigError) log.error(`config reload (${why}) refused, the old config stays in force: ${e.message}`);
      else log.error(`config reload (${why}) failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  };
  process.on("SIGHUP", () => reload("SIGHUP"));
  if (!watch) return;
  // Editors save in bursts (truncate, write, rename): settle for a moment before reading.
  let timer: ReturnType<typeof setTimeout> | undefined;
  watchFile(path, { interval: 500 }, (cur, prev) => {
    if (cur.mtimeMs === prev.mtimeMs && cur.size === prev.size) return;
    clearTimeout(timer);
    timer = setTimeout(() => reload("file changed"), 200);
  });
}

/** N nodes on consecutive ports; they must share a Redis store, or each would keep its own budget. */
async function serveInstances(o: ServeCliOptions, path: string | null): Promise<void> {
  const store = path === null ? null : loadConfig(path).store;
  const shared = o.redis ?? store?.redis ?? store?.redis_cluster;
  if (!shared) {
    throw new UsageError(
      "--instances needs a Redis store so the nodes share one budget: pass --redis redis://127.0.0.1:6379 or set store.redis / store.redis_cluster in the config.",
    );
  }
  const nodeArgs: string[] = [];
  if (path !== null) nodeArgs.push("-c", path);
  if (o.host !== undefined) nodeArgs.push("--host", o.host);
  if (o.redis !== undefined) nodeArgs.push("--redis", o.redis);
  if (o.watch) nodeArgs.push("--watch");
  const basePort = o.port ?? (path === null ? 8080 : loadConfig(path).server.port);
  await runInstances({ count: o.instances!, basePort, nodeArgs });
}

/** A mistake in how the command was called: printed plainly, exit 1. */
export class UsageError extends Error {}

function banner(url: string, config: Config, path: string | null): string {
  // Colour only on a terminal (picocolors alone also colours when CI is set, even into a pipe or file).
  const pc = picocolors.createColors(process.stdout.isTTY === true && !("NO_COLOR" in process.env));
  const lines = [`${pc.bold("limitrate")} listening on ${pc.cyan(url)}  (OpenAI base URL: ${url}/v1)`];
  if (path === null) {
    lines.push(
      `No config file found: running the embedded default, a built-in ${pc.bold("mock")} provider`,
      `  models gpt-4o-mini, gpt-4o · spaced at ${EMBEDDED_RPM} rpm (one request every ${60 / EMBEDDED_RPM} s), so parallel requests queue.`,
      `  Try:   curl ${url}/v1/chat/completions -H 'content-type: application/json' \\`,
      `           -d '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}'`,
      `  Watch: curl ${url}/admin/stats`,
      `For real providers, write ./limitrate.yaml (see config.example.yaml), check it with 'limitrate check'.`,
    );
  } else {
    lines.push(`config ${path}`);
    for (const p of config.providers) {
      lines.push(`  ${pc.bold(p.name)} → ${p.base_url}  [${p.models.map((m) => m.name).join(", ")}]  ${p.rate_limit.mode}`);
    }
  }
  lines.push(`Stats: ${url}/admin/stats · health: ${url}/admin/health · Ctrl-C stops.`);
  return lines.join("\n");
}
