// Reusable field schemas for the config. Every field here produces messages
// in the config's own voice ("must be > 0"); the rest come from issues.ts.
import { z } from "zod";

/** `${PORT}` expands to a string, so numeric strings are accepted where a number is expected. */
const NUMERIC = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

function numericString(value: unknown): unknown {
  return typeof value === "string" && NUMERIC.test(value.trim()) ? Number(value) : value;
}

function booleanString(value: unknown): unknown {
  if (value === "true") return true;
  if (value === "false") return false;
  return value;
}

// z.int() raises an issue that aborts every cross-field rule up the tree, so
// integers are checked with a refinement that lets the other rules still run.
const integer = (n: number): boolean => Number.isInteger(n);

/** A finite number; numeric strings are converted. */
export function number<T extends z.ZodType<number>>(schema: T) {
  return z.preprocess(numericString, schema);
}

/** number > 0 */
export const positive = () => number(z.number().positive());

/** number >= 0 */
export const nonNegative = () => number(z.number().nonnegative());

/** whole number >= min (and <= max if given) */
export const intAtLeast = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  number(z.number().min(min).max(max).refine(integer, { error: "must be an integer" }));

/** whole number > 0 */
export const positiveInt = () =>
  number(z.number().positive().refine(integer, { error: "must be an integer" }));

/** true/false; "true"/"false" strings (from `${VAR}`) are converted. */
export const bool = () => z.preprocess(booleanString, z.boolean());

/** A non-empty string. */
export const nonEmpty = () => z.string().min(1);

/** An HTTP header name (a token, RFC 9110 §5.6.2). */
export const headerName = () => z.string().regex(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/, { error: "must be a header name (letters, digits and !#$%&'*+-.^_`|~, no spaces)" });
/** An HTTP header value: no line breaks or NUL (they would end the header and start another). */
export const headerValue = () => z.string().regex(/^[^\r\n\0]*$/, { error: "must not contain line breaks or NUL" });

/**
 * A secret that may be left unset: absent, null (an empty YAML value) and ""
 * (from `${VAR:-}`) all mean "not set".
 */
export const optionalSecret = () =>
  z
    .string()
    .nullish()
    .transform((s) => (s === null || s === undefined || s === "" ? undefined : s))
    // the outer optional makes the inferred key optional (`auth_token?: string`)
    .optional();

function hasProtocol(value: string, protocols: readonly string[]): boolean {
  try {
    return protocols.includes(new URL(value).protocol);
  } catch {
    return false;
  }
}

/** An http(s) URL; trailing slashes are dropped so callers can append paths. */
export const httpUrl = () =>
  z
    .string()
    .refine((s) => hasProtocol(s, ["http:", "https:"]), { error: "must be an http:// or https:// URL" })
    .transform((s) => s.replace(/\/+$/, ""));

/** A redis:// or rediss:// URL. Never echoed: it may carry a password. */
export const redisUrl = () =>
  z.string().refine((s) => hasProtocol(s, ["redis:", "rediss:"]), {
    error: "must be a redis:// or rediss:// URL",
  });

/** Optional, with null and "" meaning absent, so `redis: ${REDIS_URL:-}` means "no Redis" when unset. */
export function blankAsAbsent<T extends z.ZodType>(schema: T) {
  return z.preprocess((v) => (v === null || v === "" ? undefined : v), schema.optional()).optional();
}

/** An optional section: absent and null (a YAML key with nothing under it) both take the defaults. */
export function section<T extends z.ZodType>(schema: T) {
  return z.preprocess((v) => (v === null ? undefined : v), schema);
}

type Payload = z.core.ParsePayload;

/**
 * A `when` guard for cross-field rules: run the rule if the fields it reads
 * parsed cleanly, even when unrelated fields have problems, so every problem
 * is reported in one pass.
 */
export function whenValid(...fields: readonly string[]) {
  return (payload: Payload): boolean =>
    !payload.issues.some((issue) => {
      const head = issue.path?.[0];
      if (head === undefined) return issue.code !== "unrecognized_keys";
      return typeof head === "string" && fields.includes(head);
    });
}
