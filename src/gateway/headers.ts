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

function named(h: Headers): Set<string> {
  const extra = new Set<string>();
  // "Connection: x-foo" makes x-foo hop-by-hop too.
  for (const token of (h.get("connection") ?? "").split(",")) {
    const t = token.trim().toLowerCase();
    if (t) extra.add(t);
  }
  return extra;
}

export function upstreamHeaders(client: Headers, apiKey: string | undefined, extra: Record<string, string> | undefined): Headers {
  const out = new Headers();
  const conn = named(client);
  client.forEach((value, key) => {
    if (NOT_FORWARDED.has(key) || conn.has(key) || key.startsWith("x-limitrate-")) return;
    out.set(key, value);
  });
  if (extra) for (const [k, v] of Object.entries(extra)) out.set(k, v);
  if (apiKey) out.set("authorization", `Bearer ${apiKey}`);
  if (!out.has("content-type")) out.set("content-type", "application/json");
  return out;
}

export function clientHeaders(upstream: Headers): Headers {
  const out = new Headers();
  const conn = named(upstream);
  upstream.forEach((value, key) => {
    if (NOT_RETURNED.has(key) || conn.has(key)) return;
    out.append(key, value);
  });
  return out;
}
