/**
 * What a model's tokens cost, USD per 1M tokens: config `pricing:` first
 * (exact model name), else a built-in table of well-known OpenAI models,
 * matched by the longest prefix so dated snapshots (gpt-4o-2024-08-06) find
 * their family. Unknown models are free here, and the gateway says so once
 * at start when a budget could be affected.
 */
import type { Cost } from "../core/policy.ts";

export interface Price {
  readonly input_usd_per_1m: number;
  readonly output_usd_per_1m: number;
}

/** Public list prices (standard tier) of well-known models, USD per 1M tokens. */
const BUILT_IN: Readonly<Record<string, Price>> = {
  "gpt-5": { input_usd_per_1m: 1.25, output_usd_per_1m: 10 },
  "gpt-5-mini": { input_usd_per_1m: 0.25, output_usd_per_1m: 2 },
  "gpt-5-nano": { input_usd_per_1m: 0.05, output_usd_per_1m: 0.4 },
  "gpt-4.1": { input_usd_per_1m: 2, output_usd_per_1m: 8 },
  "gpt-4.1-mini": { input_usd_per_1m: 0.4, output_usd_per_1m: 1.6 },
  "gpt-4.1-nano": { input_usd_per_1m: 0.1, output_usd_per_1m: 0.4 },
  "gpt-4o": { input_usd_per_1m: 2.5, output_usd_per_1m: 10 },
  "gpt-4o-mini": { input_usd_per_1m: 0.15, output_usd_per_1m: 0.6 },
  "chatgpt-4o-latest": { input_usd_per_1m: 5, output_usd_per_1m: 15 },
  "o1": { input_usd_per_1m: 15, output_usd_per_1m: 60 },
  "o1-mini": { input_usd_per_1m: 1.1, output_usd_per_1m: 4.4 },
  "o3": { input_usd_per_1m: 2, output_usd_per_1m: 8 },
  "o3-mini": { input_usd_per_1m: 1.1, output_usd_per_1m: 4.4 },
  "o4-mini": { input_usd_per_1m: 1.1, output_usd_per_1m: 4.4 },
  "gpt-4-turbo": { input_usd_per_1m: 10, output_usd_per_1m: 30 },
  "gpt-4": { input_usd_per_1m: 30, output_usd_per_1m: 60 },
  "gpt-3.5-turbo": { input_usd_per_1m: 0.5, output_usd_per_1m: 1.5 },
  "text-embedding-3-small": { input_usd_per_1m: 0.02, output_usd_per_1m: 0 },
  "text-embedding-3-large": { input_usd_per_1m: 0.13, output_usd_per_1m: 0 },
  "text-embedding-ada-002": { input_usd_per_1m: 0.1, output_usd_per_1m: 0 },
};

const PREFIXES = Object.keys(BUILT_IN).sort((a, b) => b.length - a.length);

export class PriceList {
  private readonly cache = new Map<string, Price | null>();

  constructor(private readonly configured: Readonly<Record<string, Price>> = {}) {}

  /** The price of a model (the upstream name; a "provider/" prefix is ignored), or null when unknown. */
  of(model: string): Price | null {
    let p = this.cache.get(model);
    if (p !== undefined) return p;
    const bare = model.includes("/") ? model.slice(model.lastIndexOf("/") + 1) : model;
    p = this.configured[model] ?? this.configured[bare] ?? builtIn(bare);
    if (this.cache.size < 10_000) this.cache.set(model, p);
    return p;
  }

  /** The cost with its USD amount filled in from its tokens. */
  priced(model: string, c: Cost): Cost {
    const p = this.of(model);
    if (!p) return c;
    return { ...c, usd: (c.input_tokens * p.input_usd_per_1m + c.output_tokens * p.output_usd_per_1m) / 1e6 };
  }
}

function builtIn(model: string): Price | null {
  const m = model.startsWith("ft:") ? model.slice(3) : model;
  // Exact first, then the longest family prefix followed by "-" (gpt-4o-2024-08-06 → gpt-4o, not gpt-4).
  if (BUILT_IN[m]) return BUILT_IN[m];
  for (const k of PREFIXES) if (m.startsWith(`${k}-`)) return BUILT_IN[k]!;
  return null;
}
