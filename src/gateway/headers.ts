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

/** Names listed in `Connection:` are hop-by-hop too. */
function dropConnectionNamed(out: Headers): void {
  const conn = out.get("connection");
  if (conn === null) return;
  for (const token of conn.split(",")) {
    const t = token.trim().toLowerCase();
    if (t) out.delete(t);
  }
}

// Copy natively, then delete the few that must not cross: far cheaper than a JS callback per header.
export function upstreamHeaders(client: Headers, apiKey: string | undefined, extra: Record<string, string> | undefined): Headers {
  const out = new Headers(client);
  dropConnectionNamed(out);
  for (const name of NOT_FORWARDED) out.delete(name);
  for (const name of [...out.keys()]) if (name.startsWith("x-limitrate-")) out.delete(name);
  if (extra) for (const [k, v] of Object.entries(extra)) out.set(k, v);
  if (apiKey) out.set("authorization", `Bearer ${apiKey}`);
  if (!out.has("content-type")) out.set("content-type", "application/json");
  return out;
}

export function clientHeaders(upstream: Headers): Headers {
  const out = new Headers(upstream);
  dropConnectionNamed(out);
  for (const name of NOT_RETURNED) out.delete(name);
  return out;
}
