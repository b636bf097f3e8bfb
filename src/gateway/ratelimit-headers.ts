/**
 * OpenAI's x-ratelimit-* headers from a key's windows: `-requests` from rpm,
 * `-tokens` from tpm (else the input limit, which OpenAI's TPM mostly
 * counts), and `-input-tokens` / `-output-tokens` for split limits. Day
 * limits get `-requests-day` / `-tokens-day`.
 */
import type { WindowStatus } from "../core/policy.ts";
import { formatDuration } from "../duration.ts";

const SUFFIX: Record<string, string> = {
  rpm: "requests",
  tpm: "tokens",
  input_tpm: "input-tokens",
  output_tpm: "output-tokens",
  rpd: "requests-day",
  tpd: "tokens-day",
};

export function rateLimitHeaders(windows: readonly WindowStatus[]): Record<string, string> {
  const h: Record<string, string> = {};
  let hasTpm = false;
  for (const w of windows) {
    const suffix = SUFFIX[w.name];
    if (!suffix) continue;
    put(h, suffix, w);
    if (w.name === "tpm") hasTpm = true;
  }
  if (!hasTpm) {
    const fallback = windows.find((w) => w.name === "input_tpm") ?? windows.find((w) => w.name === "output_tpm");
    if (fallback) put(h, "tokens", fallback);
  }
  return h;
}

/** The three header names per suffix, made once rather than per request. */
const NAMES = new Map<string, readonly [string, string, string]>();

function put(h: Record<string, string>, suffix: string, w: WindowStatus): void {
  let n = NAMES.get(suffix);
  if (n === undefined) NAMES.set(suffix, (n = [`x-ratelimit-limit-${suffix}`, `x-ratelimit-remaining-${suffix}`, `x-ratelimit-reset-${suffix}`]));
  h[n[0]] = String(w.limit);
  h[n[1]] = String(Math.max(0, Math.floor(w.remaining)));
  h[n[2]] = formatDuration(w.resetMs);
}

const DESCRIBE: Record<string, string> = {
  rpm: "requests per minute (rpm)",
  input_tpm: "input tokens per minute (input_tpm)",
  output_tpm: "output tokens per minute (output_tpm)",
  tpm: "tokens per minute (tpm)",
  rpd: "requests per day (rpd)",
  tpd: "tokens per day (tpd)",
  budget_usd_per_day: "USD per day (budget_usd_per_day)",
  budget_usd_per_month: "USD per 30 days (budget_usd_per_month)",
};

export function describeLimit(name: string): string {
  return DESCRIBE[name] ?? name;
}
