// How secrets appear when they must appear at all: provider keys masked,
// client keys replaced by their name or a short hash, Redis passwords hidden.
import { createHash } from "node:crypto";

// Below this length the last 4 characters would give away too much of it.
const MIN_MASKED_LENGTH = 12;

/**
 * `sk-proj-abcdefgh1234` → `sk-…1234`: a short alphabetic vendor prefix (which
 * says which account it is) and the last 4 characters; short secrets → `****`.
 */
export function maskSecret(secret: string): string {
  if (secret.length < MIN_MASKED_LENGTH) return "****";
  const prefix = /^[A-Za-z]{2,6}[-_]/.exec(secret)?.[0] ?? "";
  return `${prefix}…${secret.slice(-4)}`;
}

/** First 8 hex characters of sha256: stable across nodes, useless for recovering the key. */
export function shortHash(secret: string): string {
  return createHash("sha256").update(secret).digest("hex").slice(0, 8);
}

/** How a client key is shown in stats, logs and errors: its name, else `key:1a2b3c4d`. */
export function keyLabel(key: string, name?: string): string {
  return name !== undefined && name !== "" ? name : `key:${shortHash(key)}`;
}

/** A Redis URL with its password (if any) replaced by `***`. */
export function maskUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password === "") return url;
    parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(invalid URL)";
  }
}
