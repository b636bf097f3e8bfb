/** One /admin/stats snapshot over HTTP, with errors a user can act on. */
import type { StatsSnapshot } from "../stats/snapshot.ts";

export class StatsFetchError extends Error {
  constructor(
    message: string,
    /** HTTP status, or null when the node could not be reached at all. */
    readonly status: number | null = null,
  ) {
    super(message);
  }
}

/** "host:port" or "http://host:port/" → "http://host:port". */
export function normalizeUrl(url: string): string {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(url) ? url : `http://${url}`;
  return withScheme.replace(/\/+$/, "");
}

export function authHeaders(token: string | undefined): Record<string, string> {
  return token ? { authorization: `Bearer ${token}` } : {};
}

export interface FetchSnapshotOptions {
  readonly token?: string;
  readonly signal?: AbortSignal;
  /** Give up after this long, ms (default 5000). */
  readonly timeoutMs?: number;
  readonly fetch?: typeof fetch;
}

export async function fetchSnapshot(url: string, opts: FetchSnapshotOptions = {}): Promise<StatsSnapshot> {
  const signals = [AbortSignal.timeout(opts.timeoutMs ?? 5000), ...(opts.signal ? [opts.signal] : [])];
  let res: Response;
  try {
    res = await (opts.fetch ?? fetch)(`${url}/admin/stats`, { headers: authHeaders(opts.token), signal: AbortSignal.any(signals) });
  } catch (e) {
    if (opts.signal?.aborted) throw e;
    throw new StatsFetchError(`cannot reach ${url}: ${reason(e)}`);
  }
  if (!res.ok) throw await httpError(url, res);
  return parseSnapshot(await res.text(), url);
}

export async function httpError(url: string, res: Response): Promise<StatsFetchError> {
  if (res.status === 401 || res.status === 403) {
    await res.body?.cancel();
    return new StatsFetchError(`${url} refused the admin token (HTTP ${res.status}): pass --token or set LIMITRATE_ADMIN_TOKEN`, res.status);
  }
  const text = await res.text().catch(() => "");
  let message = text.slice(0, 200);
  try {
    message = (JSON.parse(text) as { error?: { message?: string } }).error?.message ?? message;
  } catch {
    // not JSON: keep the text
  }
  return new StatsFetchError(`${url} answered HTTP ${res.status}${message ? `: ${message}` : ""}`, res.status);
}

/** JSON text → snapshot, refusing anything that is not one (a wrong --url). */
export function parseSnapshot(text: string, url: string): StatsSnapshot {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new StatsFetchError(`${url} did not answer JSON: is it a limitrate gateway?`);
  }
  const o = v as Partial<StatsSnapshot> | null;
  if (!o || typeof o !== "object" || !Array.isArray(o.providers) || !Array.isArray(o.keys) || typeof o.uptime_seconds !== "number") {
    throw new StatsFetchError(`${url} did not answer a stats snapshot: is it a limitrate gateway?`);
  }
  return o as StatsSnapshot;
}

/** A short reason from a fetch error ("Unable to connect…" → "connection refused"). */
export function reason(e: unknown): string {
  const code = (e as { code?: string } | null)?.code;
  if (code === "ConnectionRefused" || code === "ECONNREFUSED") return "connection refused";
  if (code === "ECONNRESET" || code === "ConnectionClosed") return "connection closed";
  if (e instanceof DOMException && e.name === "TimeoutError") return "timed out";
  if (e instanceof Error) return e.message;
  return String(e);
}
