/**
 * How a provider's requests travel: through our own HTTP/1.1 pool for a
 * plain-http upstream (a local or in-cluster model server; cheaper, see
 * src/http1/pool.ts), through fetch for https (its TLS) or when an HTTP proxy
 * in the environment applies, or when the provider says `upstream_client: fetch`.
 */
import { Http1Pool } from "../http1/pool.ts";
import type { Attempt } from "./attempt-watch.ts";
import type { HeaderRecord } from "./headers.ts";
import { UpstreamAnswer } from "./upstream-answer.ts";

export interface UpstreamClient {
  /** Which client was chosen ("http1": the pool), as tests check. */
  readonly kind: "http1" | "fetch";
  post(path: string, headers: HeaderRecord, body: string, attempt: Attempt): Promise<UpstreamAnswer>;
}

/**
 * Idle upstream connections are closed after this (4–8 s in Bun's 4 s
 * steps). A server that closes first (often at 5 s) is heard at once, and a
 * request racing its close is retried on a new connection.
 */
const IDLE_SECONDS = 4;

/**
 * One pool per origin, shared by providers, reloads and gateways in one
 * process, as fetch's own is; idle connections close by themselves.
 */
const pools = new Map<string, Http1Pool>();

export type ClientChoice = "auto" | "fetch";

export function upstreamClient(baseUrl: string, choice: ClientChoice, env: Record<string, string | undefined> = process.env): UpstreamClient {
  const url = new URL(baseUrl);
  if (choice === "fetch" || url.protocol !== "http:" || proxied(url, env)) return fetchClient(baseUrl);
  let pool = pools.get(url.origin);
  if (!pool) {
    const hostname = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
    pool = new Http1Pool(hostname, Number(url.port || 80), url.host, { maxSockets: maxSockets(env), idleSeconds: IDLE_SECONDS });
    pools.set(url.origin, pool);
  }
  const p = pool;
  const prefix = url.pathname.replace(/\/+$/, "");
  return {
    kind: "http1",
    post: (path, headers, body, attempt) => {
      headers["accept-encoding"] = "identity"; // bytes pass as they are: nothing to decode
      return p.post(prefix + path, headers, body, attempt).then(UpstreamAnswer.fromPool);
    },
  };
}

function fetchClient(baseUrl: string): UpstreamClient {
  return {
    kind: "fetch",
    post: (path, headers, body, attempt) =>
      fetch(baseUrl + path, { method: "POST", headers, body, signal: attempt.signal, redirect: "manual" }).then(UpstreamAnswer.fromFetch),
  };
}

/** Upstream connections open at once per origin: fetch's own cap (BUN_CONFIG_MAX_HTTP_REQUESTS, default 256). */
function maxSockets(env: Record<string, string | undefined>): number {
  const n = Number(env.BUN_CONFIG_MAX_HTTP_REQUESTS);
  return Number.isInteger(n) && n > 0 ? n : 256;
}

/** Whether fetch would send this URL through an HTTP proxy from the environment (then fetch it is). */
export function proxied(url: URL, env: Record<string, string | undefined>): boolean {
  const proxy = env.http_proxy ?? env.HTTP_PROXY;
  if (!proxy) return false;
  const noProxy = (env.no_proxy ?? env.NO_PROXY ?? "").split(",").map((s) => s.trim().toLowerCase()).filter((s) => s !== "");
  const host = url.hostname.toLowerCase();
  return !noProxy.some((entry) => {
    if (entry === "*") return true;
    const bare = entry.replace(/:\d+$/, "").replace(/^\*?\./, "");
    return host === bare || host.endsWith(`.${bare}`);
  });
}
