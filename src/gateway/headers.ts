/**
 * Which headers cross the gateway. Hop-by-hop headers belong to one
 * connection (RFC 9110 §7.6.1); content-length is set anew for the body sent,
 * and content-encoding no longer describes a body that fetch has decoded.
 */
import type { HeaderLookup } from "../adaptive/upstream-limits.ts";

const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

/** Client → upstream: also drop what the gateway sets itself or keeps private. */
const NOT_FORWARDED = new Set([...HOP_BY_HOP, "host", "authorization", "content-length", "accept-encoding", "cookie"]);

/** Upstream → client, for a body passed on as it came (its content-encoding still describes it). */
const NOT_RETURNED = new Set([...HOP_BY_HOP, "content-length", "set-cookie"]);
/** Upstream → client, for a body fetch has decoded. */
const NOT_RETURNED_DECODED = new Set([...NOT_RETURNED, "content-encoding"]);

/** A header list as a plain object (one native call; values of repeated names joined, as by Headers.get). */
export type HeaderRecord = Record<string, string>;

/** A record read by name, as parseUpstreamLimits and retryAfterMs read headers. */
export function lookup(h: HeaderRecord): HeaderLookup {
  return { get: (name) => h[name.toLowerCase()] ?? null };
}

export function headerRecord(h: Headers): HeaderRecord {
  return h.toJSON() as HeaderRecord;
}

/** Names a `Connection:` header lists (hop-by-hop too), or null. */
function connectionNamed(h: HeaderRecord): string[] | null {
  return h.connection?.toLowerCase().split(",").map((t) => t.trim()) ?? null;
}

/**
 * Client → upstream, as a plain object: the client's headers read with one
 * native call, less what must not cross and our own x-limitrate-*, with the
 * provider's key and configured headers.
 */
export function upstreamHeaders(client: Headers, apiKey: string | undefined, extra: Record<string, string> | undefined): HeaderRecord {
  const from = headerRecord(client);
  const named = connectionNamed(from);
  const out: HeaderRecord = {};
  for (const name in from) {
    if (NOT_FORWARDED.has(name) || name.startsWith("x-limitrate-") || named?.includes(name)) continue;
    out[name] = from[name]!;
  }
  if (extra) for (const k in extra) out[k.toLowerCase()] = extra[k]!;
  if (apiKey) out.authorization = `Bearer ${apiKey}`;
  out["content-type"] ??= "application/json";
  return out;
}

/**
 * Upstream → client: the upstream's own Headers, less what must not cross,
 * deleted in place (`seen`: the same headers read once, to know which are
 * there). Handing Bun a Headers to copy natively is cheaper than building a
 * new list from a plain object.
 */
export function clientHeaders(upstream: Headers, seen: HeaderRecord): Headers {
  const named = connectionNamed(seen);
  for (const name in seen) if (NOT_RETURNED_DECODED.has(name) || named?.includes(name)) upstream.delete(name);
  return upstream;
}

/** Upstream → client from a plain record (the pool's answers: bodies as they came, content-encoding kept). */
export function clientHeadersOf(seen: HeaderRecord): HeaderRecord {
  const named = connectionNamed(seen);
  const out: HeaderRecord = {};
  for (const name in seen) if (!NOT_RETURNED.has(name) && !named?.includes(name)) out[name] = seen[name]!;
  return out;
}
