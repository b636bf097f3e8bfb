/**
 * What each bench request is: which node, which key, which body. Requests are
 * spread uniformly at random over all nodes and all keys (independently), as
 * a load balancer and a crowd of clients would.
 */
import { shortHash } from "../config/secrets.ts";

export const DEFAULT_MODEL = "gpt-4o-mini";
export const NO_KEY_LABEL = "(none)";
const PROMPT = "Say hello in one short sentence.";

/** A client key and how it is shown: never the key itself. */
export interface BenchKey {
  readonly key: string;
  readonly label: string;
}

/**
 * `key:` + the first 8 hex of its sha256: the label the gateway's
 * /admin/stats uses for a key without a name, so the two can be matched.
 */
export function keyLabel(key: string): string {
  return `key:${shortHash(key)}`;
}

export function benchKeys(keys: readonly string[]): BenchKey[] {
  return [...new Set(keys)].map((key) => ({ key, label: keyLabel(key) }));
}

/** `http://h:p`, `http://h:p/`, `http://h:p/v1` → `http://h:p` (the node's name in reports). */
export function normalizeBase(url: string): string {
  let u = url.trim().replace(/\/+$/, "");
  if (u.endsWith("/v1")) u = u.slice(0, -3);
  if (!/^https?:\/\//i.test(u)) u = `http://${u}`;
  return u;
}

export function chatUrl(base: string): string {
  return `${base}/v1/chat/completions`;
}

/** The one JSON body every request of a run sends. */
export function chatBody(o: { model: string; stream: boolean; maxTokens?: number | null }): string {
  const body: Record<string, unknown> = {
    model: o.model,
    messages: [{ role: "user", content: PROMPT }],
  };
  if (o.maxTokens != null) body.max_tokens = o.maxTokens;
  if (o.stream) body.stream = true;
  return JSON.stringify(body);
}

export function pick<T>(items: readonly T[], random: () => number): T {
  return items[Math.min(items.length - 1, Math.floor(random() * items.length))]!;
}
