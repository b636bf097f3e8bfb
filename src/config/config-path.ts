// Paths in config problems: `providers[1].rate_limit.rpm`. A client API key
// is a map key under `keys`, so it would leak into the path; it is shown as
// the key's `name` (when unique) or its position, `keys[#0]` (0-based, like
// every other index in these paths).

export type PathSegment = PropertyKey;

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_-]*$/;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Labels for client keys, from the raw (expanded) config. */
export class KeyLabels {
  private readonly labels = new Map<string, string>();

  constructor(root: unknown) {
    const keys = isRecord(root) && isRecord(root.keys) ? root.keys : {};
    const entries = Object.entries(keys);
    const nameOf = (policy: unknown): string | undefined =>
      isRecord(policy) && typeof policy.name === "string" && policy.name !== "" ? policy.name : undefined;
    const counts = new Map<string, number>();
    for (const [, policy] of entries) {
      const name = nameOf(policy);
      if (name !== undefined) counts.set(name, (counts.get(name) ?? 0) + 1);
    }
    entries.forEach(([key, policy], index) => {
      const name = nameOf(policy);
      const unique = name !== undefined && counts.get(name) === 1;
      this.labels.set(key, unique ? segment(name) : `[#${index}]`);
    });
  }

  /** `.alice`, `["Team A"]` or `[#3]`; never the key itself. */
  label(key: string): string {
    return this.labels.get(key) ?? "[#?]";
  }
}

function segment(name: string): string {
  return IDENTIFIER.test(name) ? `.${name}` : `[${JSON.stringify(name)}]`;
}

/** Formats a path; the segment after a top-level `keys` is always masked. */
export function formatPath(path: readonly PathSegment[], labels: KeyLabels): string {
  let out = "";
  path.forEach((part, i) => {
    if (i === 1 && path[0] === "keys") {
      out += labels.label(String(part));
    } else if (typeof part === "number") {
      out += `[${part}]`;
    } else {
      const text = typeof part === "symbol" ? (part.description ?? "?") : part;
      const piece = segment(text);
      out += i === 0 && piece.startsWith(".") ? piece.slice(1) : piece;
    }
  });
  return out;
}
