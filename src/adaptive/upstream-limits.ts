/**
 * What a provider says about its own limits, read from one response's
 * headers: how much is left in each dimension, when it resets, and whether
 * (and until when) the provider wants us to hold off.
 *
 * Understood:
 *   - OpenAI:    x-ratelimit-{limit,remaining,reset}-{requests,tokens}
 *                (reset as a Go duration: "6m0s", "20ms"); also -input-tokens
 *                and -output-tokens, which limitrate itself sends, so one
 *                gateway can sit behind another. Day variants are ignored.
 *   - Anthropic: anthropic-ratelimit-{requests,tokens,input-tokens,output-tokens}-{limit,remaining,reset}
 *                (reset as an RFC 3339 time).
 *   - Retry-After (seconds or an HTTP date) and retry-after-ms, on 429 and
 *     503 only (elsewhere they are not about our rate).
 *
 * Provider headers are input from the network: every value is checked, and
 * one that is negative, not a number, malformed or absurdly far ahead is
 * dropped with a warning. Warnings are fixed strings per header and problem
 * (no values in them), so a caller can log each distinct one once without
 * flooding. Never throws. Pure: `now` comes in, nothing is read or kept.
 */
import { formatDuration } from "../duration.ts";
import { parseDuration } from "./duration-parse.ts";

/** Reading a header by name (a Headers, or a lookup over a plain record). */
export type HeaderLookup = Pick<Headers, "get">;

export type LimitDimension = "requests" | "tokens" | "input_tokens" | "output_tokens";

/** One dimension as the provider reported it; a field is absent when not sent or not believed. */
export interface UpstreamWindow {
  limit?: number;
  remaining?: number;
  /** Epoch ms when the dimension is full again (rounded up: never early). */
  resetAt?: number;
}

export interface UpstreamSignal {
  /** Send nothing to this provider before this time (epoch ms); null when nothing is exhausted. */
  holdUntil: number | null;
  /** Why holdUntil is set, e.g. "requests exhausted", "429 Retry-After"; null with it. */
  reason: string | null;
  limits: Partial<Record<LimitDimension, UpstreamWindow>>;
  /** Distinct fixed strings, one per header and problem. */
  warnings: string[];
}

export interface UpstreamLimitOptions {
  /** A reset further ahead than this is not believed, ms (default 1 h: the windows are per minute). */
  readonly maxResetMs?: number;
  /** A Retry-After further ahead than this is not believed, ms (default 24 h). */
  readonly maxRetryAfterMs?: number;
}

const DEFAULT_MAX_RESET_MS = 3_600_000;
const DEFAULT_MAX_RETRY_AFTER_MS = 86_400_000;
/**
 * A reset or HTTP date at most this far in the past is clock skew between
 * the provider and us: read as "now", without a warning.
 */
const SKEW_MS = 5_000;
/** Statuses on which Retry-After asks us to hold off. */
const HOLD_STATUSES: ReadonlySet<number> = new Set([429, 503]);
/** Longer than any honest header value. */
const MAX_VALUE_LENGTH = 64;

interface Source {
  readonly dim: LimitDimension;
  readonly limit: string;
  readonly remaining: string;
  readonly reset: string;
  readonly resetFormat: "duration" | "rfc3339";
}

const OPENAI: readonly Source[] = (
  [
    ["requests", "requests"],
    ["tokens", "tokens"],
    ["input_tokens", "input-tokens"],
    ["output_tokens", "output-tokens"],
  ] as const
).map(([dim, suffix]) => ({
  dim,
  limit: `x-ratelimit-limit-${suffix}`,
  remaining: `x-ratelimit-remaining-${suffix}`,
  reset: `x-ratelimit-reset-${suffix}`,
  resetFormat: "duration" as const,
}));

const ANTHROPIC: readonly Source[] = (
  [
    ["requests", "requests"],
    ["tokens", "tokens"],
    ["input_tokens", "input-tokens"],
    ["output_tokens", "output-tokens"],
  ] as const
).map(([dim, part]) => ({
  dim,
  limit: `anthropic-ratelimit-${part}-limit`,
  remaining: `anthropic-ratelimit-${part}-remaining`,
  reset: `anthropic-ratelimit-${part}-reset`,
  resetFormat: "rfc3339" as const,
}));

const DIMENSIONS: readonly LimitDimension[] = ["requests", "tokens", "input_tokens", "output_tokens"];

/**
 * Reads one response's rate-limit headers. `now` is epoch ms on the wall
 * clock (HTTP dates and RFC 3339 resets are compared with it).
 *
 * holdUntil is the latest of: the reset of every dimension with 0
 * remaining, and on a 429 or 503 `now` + Retry-After; null when none of
 * them is after `now`. A 429 that says nothing holds nothing — backing off
 * then is the caller's (or an AimdController's) business.
 */
export function parseUpstreamLimits(status: number, headers: HeaderLookup, now: number, opts: UpstreamLimitOptions = {}): UpstreamSignal {
  const maxResetMs = opts.maxResetMs ?? DEFAULT_MAX_RESET_MS;
  const maxRetryAfterMs = opts.maxRetryAfterMs ?? DEFAULT_MAX_RETRY_AFTER_MS;
  const warnings = new Set<string>();
  const limits: Partial<Record<LimitDimension, UpstreamWindow>> = {};

  for (const src of [...OPENAI, ...ANTHROPIC]) {
    const w = readWindow(src, headers, now, maxResetMs, warnings);
    if (w) limits[src.dim] = merge(limits[src.dim], w);
  }

  let holdUntil: number | null = null;
  let reason: string | null = null;
  const consider = (at: number, why: string): void => {
    if (at > now && (holdUntil === null || at > holdUntil)) {
      holdUntil = at;
      reason = why;
    }
  };
  for (const dim of DIMENSIONS) {
    const w = limits[dim];
    if (w?.remaining !== 0) continue;
    if (w.resetAt === undefined) warnings.add(`${dim}: 0 remaining but no usable reset`);
    else consider(w.resetAt, `${dim} exhausted`);
  }
  if (HOLD_STATUSES.has(status)) {
    const after = retryAfter(headers, now, maxRetryAfterMs, warnings);
    if (after !== null) consider(now + after, `${status} Retry-After`);
  }
  return { holdUntil, reason, limits, warnings: [...warnings] };
}

function readWindow(src: Source, h: HeaderLookup, now: number, maxResetMs: number, warnings: Set<string>): UpstreamWindow | null {
  const limit = count(h, src.limit, warnings);
  const remaining = count(h, src.remaining, warnings);
  const resetAt = src.resetFormat === "duration" ? resetFromDuration(h, src.reset, now, maxResetMs, warnings) : resetFromTime(h, src.reset, now, maxResetMs, warnings);
  if (limit === null && remaining === null && resetAt === null) return null;
  const w: UpstreamWindow = {};
  if (limit !== null) w.limit = limit;
  if (remaining !== null) w.remaining = remaining;
  if (resetAt !== null) w.resetAt = resetAt;
  if (limit !== null && remaining !== null && remaining > limit) warnings.add(`${src.remaining}: more than the limit`);
  return w;
}

/** Two sources for one dimension (rare: a proxy passing both on): keep the more cautious reading. */
function merge(a: UpstreamWindow | undefined, b: UpstreamWindow): UpstreamWindow {
  if (!a) return b;
  const out: UpstreamWindow = {};
  const limit = pick(a.limit, b.limit, Math.min);
  const remaining = pick(a.remaining, b.remaining, Math.min);
  const resetAt = pick(a.resetAt, b.resetAt, Math.max);
  if (limit !== undefined) out.limit = limit;
  if (remaining !== undefined) out.remaining = remaining;
  if (resetAt !== undefined) out.resetAt = resetAt;
  return out;
}

function pick(a: number | undefined, b: number | undefined, f: (x: number, y: number) => number): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return f(a, b);
}

/** The header's value, trimmed; null when absent. An overlong value is refused with a warning. */
function value(h: HeaderLookup, name: string, warnings: Set<string>): string | null {
  const v = h.get(name);
  if (v === null) return null;
  const t = v.trim();
  if (t.length > MAX_VALUE_LENGTH) {
    warnings.add(`${name}: value too long`);
    return null;
  }
  return t;
}

const NON_NEGATIVE = /^\d+(\.\d+)?$/;
const NEGATIVE = /^-\s*\d/;

/** A limit or remaining count: a non-negative finite number. */
function count(h: HeaderLookup, name: string, warnings: Set<string>): number | null {
  const v = value(h, name, warnings);
  if (v === null) return null;
  if (NON_NEGATIVE.test(v)) {
    const n = Number(v);
    if (Number.isFinite(n)) return n;
  }
  warnings.add(NEGATIVE.test(v) ? `${name}: negative` : `${name}: not a number`);
  return null;
}

function resetFromDuration(h: HeaderLookup, name: string, now: number, maxMs: number, warnings: Set<string>): number | null {
  const v = value(h, name, warnings);
  if (v === null) return null;
  const ms = parseDuration(v);
  if (ms === null) {
    warnings.add(NEGATIVE.test(v) ? `${name}: negative` : `${name}: not a duration`);
    return null;
  }
  return ahead(name, ms, now, maxMs, warnings);
}

/** RFC 3339: 2024-05-01T12:00:30Z, with an optional fraction and a Z or ±hh:mm offset. */
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

function resetFromTime(h: HeaderLookup, name: string, now: number, maxMs: number, warnings: Set<string>): number | null {
  const v = value(h, name, warnings);
  if (v === null) return null;
  const at = parseRfc3339(v);
  if (at === null) {
    warnings.add(`${name}: not an RFC 3339 time`);
    return null;
  }
  return ahead(name, at - now, now, maxMs, warnings);
}

/**
 * Epoch ms of an RFC 3339 time, or null. Checked field by field (Date.parse
 * would turn Feb 30 into Mar 1); fractions beyond ms round up, never early.
 */
export function parseRfc3339(s: string): number | null {
  const m = RFC3339.exec(s);
  if (!m) return null;
  const [y, mo, d, hh, mi, ss] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (mo < 1 || mo > 12 || d < 1 || d > daysIn(y, mo) || hh > 23 || mi > 59 || ss > 59) return null;
  let offsetMin = 0;
  if (!m[8]) {
    const oh = Number(m[10]);
    const om = Number(m[11]);
    if (oh > 23 || om > 59) return null;
    offsetMin = (m[9] === "-" ? -1 : 1) * (oh * 60 + om);
  }
  const fracMs = m[7] ? Math.ceil(Number(`0.${m[7]}`) * 1000) : 0;
  const at = new Date(Date.UTC(2000, mo - 1, d, hh, mi, ss)); // a leap year, so Feb 29 survives
  at.setUTCFullYear(y); // Date.UTC alone reads years 0–99 as 1900–1999
  return at.getTime() - offsetMin * 60_000 + fracMs;
}

function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/**
 * A reset `ms` from now, as an absolute time: a little in the past (clock
 * skew) reads as now; further back or too far ahead is not believed.
 */
function ahead(name: string, ms: number, now: number, maxMs: number, warnings: Set<string>): number | null {
  if (ms < -SKEW_MS) {
    warnings.add(`${name}: in the past`);
    return null;
  }
  if (ms > maxMs) {
    warnings.add(`${name}: more than ${formatDuration(maxMs)} ahead`);
    return null;
  }
  return now + Math.ceil(Math.max(0, ms));
}

/** HTTP dates all begin with a day name (IMF-fixdate, RFC 850, asctime). */
const HTTP_DATE = /^[A-Za-z]{3}/;

/** How long Retry-After (or the more precise retry-after-ms) asks us to wait, ms; null if absent or not believed. */
function retryAfter(h: HeaderLookup, now: number, maxMs: number, warnings: Set<string>): number | null {
  const precise = value(h, "retry-after-ms", warnings);
  if (precise !== null) {
    if (NON_NEGATIVE.test(precise)) {
      const ms = within("retry-after-ms", Number(precise), maxMs, warnings);
      if (ms !== null) return ms;
    } else {
      warnings.add(NEGATIVE.test(precise) ? "retry-after-ms: negative" : "retry-after-ms: not a number");
    }
    // Not believed: Retry-After, if sent, may still be.
  }
  const v = value(h, "retry-after", warnings);
  if (v === null) return null;
  if (NON_NEGATIVE.test(v)) return within("retry-after", Number(v) * 1000, maxMs, warnings);
  if (NEGATIVE.test(v)) {
    warnings.add("retry-after: negative");
    return null;
  }
  const at = HTTP_DATE.test(v) ? Date.parse(v) : Number.NaN;
  if (!Number.isFinite(at)) {
    warnings.add("retry-after: not seconds or an HTTP date");
    return null;
  }
  if (at - now < -SKEW_MS) {
    warnings.add("retry-after: in the past");
    return null;
  }
  return within("retry-after", Math.max(0, at - now), maxMs, warnings);
}

function within(name: string, ms: number, maxMs: number, warnings: Set<string>): number | null {
  if (!Number.isFinite(ms) || ms > maxMs) {
    warnings.add(`${name}: more than ${formatDuration(maxMs)} ahead`);
    return null;
  }
  return Math.ceil(ms);
}
