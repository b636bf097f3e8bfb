/**
 * After a run: did each key get no more than its limit allows? The limits come
 * from the gateways' /admin/stats (read once, at the end, if reachable); a key
 * is matched by its label — the gateway shows a key without a name as
 * `key:` + sha256 prefix, which is exactly the bench's label. Keys the stats
 * do not show (named keys, no stats) are skipped.
 */
import type { GroupStats, KeyLimitCheck } from "./result.ts";
import { okCount } from "./tally.ts";

/** The part of /admin/stats this needs (DESIGN.md: keys carry their name or short hash, and limits). */
export interface StatsView {
  readonly store?: { readonly kind?: string };
  readonly keys?: readonly {
    readonly key: string;
    readonly windows?: Readonly<Record<string, { readonly limit?: number }>>;
  }[];
}

export interface NodeStats {
  readonly url: string;
  readonly stats: StatsView | null;
}

/** Request dimensions and their window, s. Token limits need token counts the bench does not keep. */
const DIMENSIONS: Readonly<Record<string, number>> = { rpm: 60, rpd: 86_400 };

/** GET {url}/admin/stats on every node; a node that does not answer (or needs an admin token) gives null. */
export async function fetchNodeStats(
  urls: readonly string[],
  opts: { fetch?: typeof fetch; timeoutMs?: number; adminToken?: string } = {},
): Promise<NodeStats[]> {
  const f = opts.fetch ?? fetch;
  const headers: Record<string, string> = opts.adminToken ? { authorization: `Bearer ${opts.adminToken}` } : {};
  return Promise.all(
    urls.map(async (url) => {
      try {
        const res = await f(`${url}/admin/stats`, { headers, signal: AbortSignal.timeout(opts.timeoutMs ?? 2000) });
        if (!res.ok) {
          await res.arrayBuffer();
          return { url, stats: null };
        }
        const body = (await res.json()) as unknown;
        return { url, stats: typeof body === "object" && body !== null ? (body as StatsView) : null };
      } catch {
        return { url, stats: null };
      }
    }),
  );
}

/**
 * One check per key and request dimension the stats show a limit for.
 * allowed = limit × the windows the run spans × (nodes that count the key
 * separately: 1 when they share a store like Redis, else each node has its own).
 */
export function checkKeyLimits(
  byKey: Readonly<Record<string, GroupStats>>,
  nodes: readonly NodeStats[],
  durationS: number,
): KeyLimitCheck[] {
  const checks: KeyLimitCheck[] = [];
  for (const [label, g] of Object.entries(byKey)) {
    const seen = nodes.flatMap((n) => {
      const entry = n.stats?.keys?.find((k) => k.key === label);
      return entry ? [{ node: n, entry }] : [];
    });
    if (seen.length === 0) continue;
    const shared = seen.some((s) => (s.node.stats?.store?.kind ?? "memory") !== "memory");
    const counters = shared ? 1 : seen.length;
    const accepted = okCount(g);
    for (const [dimension, windowS] of Object.entries(DIMENSIONS)) {
      const limit = seen.map((s) => s.entry.windows?.[dimension]?.limit).find((l) => typeof l === "number" && l > 0);
      if (limit === undefined) continue;
      const windows = Math.max(1, Math.ceil(durationS / windowS));
      const allowed = limit * windows * counters;
      checks.push({ key: label, dimension, limit, allowed, accepted, ok: accepted <= allowed });
    }
  }
  return checks;
}
