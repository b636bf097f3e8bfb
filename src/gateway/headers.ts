/**
 * Which headers cross the gateway. Hop-by-hop headers belong to one
 * connection (RFC 9110 §7.6.1); content-encoding/length no longer describe a
 * body that fetch has already decoded.
 */
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

/** Upstream → client. */
const NOT_RETURNED = new Set([...HOP_BY_HOP, "content-encoding", "content-length", "set-cookie"]);

/** A header list as a plain object (one native call; values of repeated names joined, as by Headers.get). */
export type HeaderRecord = Record<string, string>;

export function headerRecord(h: Headers): HeaderRecord {
  return h.toJSON() as HeaderRecord;
}

/**
 * Copies the headers that may cross, as a plain object: one native call to
 * read them all, then plain property work (a fraction of the cost of copying
 * a Headers and deleting from it natively, name by name).
 */
function crossing(from: HeaderRecord, dropped: ReadonlySet<string>, ours: boolean): HeaderRecord {
  const named = from.connection?.toLowerCase().split(",").map((t) => t.trim());
  const out: HeaderRecord = {};
  for (const name in from) {
    if (dropped.has(name) || (ours && name.startsWith("x-limitrate-")) || named?.includes(name)) continue;
    out[name] = from[name]!;
  }
  return out;
}

/** Client → upstream: the client's headers (less our own x-limitrate-*) with the provider's key and configured headers. */
export function upstreamHeaders(client: Headers, apiKey: string | undefined, extra: Record<string, string> | undefined): HeaderRecord {
  const out = crossing(headerRecord(client), NOT_FORWARDED, true);
  if (extra) for (const k in extra) out[k.toLowerCase()] = extra[k]!;
  if (apiKey) out.authorization = `Bearer ${apiKey}`;
  out["content-type"] ??= "application/json";
  return out;
}

/** Upstream → client. */
export function clientHeaders(upstream: HeaderRecord): HeaderRecord {
  return crossing(upstream, NOT_RETURNED, false);
}
