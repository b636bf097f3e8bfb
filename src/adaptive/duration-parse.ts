/**
 * Reads the durations providers put in their reset headers: Go's
 * `time.Duration` text, as OpenAI sends it (`x-ratelimit-reset-requests:
 * 6m0s`) and as our own gateway writes it (src/duration.ts formatDuration).
 * The inverse of formatDuration, and stricter than Go only where Go is
 * dangerous for us: a negative duration is refused rather than returned.
 */

/** One `<number><unit>` piece; Go accepts them in any order and repeated ("1s1s" = 2 s). */
const PIECE = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/gy;
const WHOLE = /^(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+$/;

const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3, // U+00B5 micro sign
  μs: 1e-3, // U+03BC Greek mu, which Go also accepts
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** Longer than any duration a provider sends; bounds the work on hostile input. */
const MAX_LENGTH = 64;

/**
 * Milliseconds in a Go duration string — "20ms", "1.5s", "6m0s", "1h2m3.5s",
 * "0s", "0" — or null when it is not one: empty, no unit ("5"), unknown
 * unit, negative ("-1s"), or not finite. A leading "+" is allowed, as in Go.
 * The result may have a fraction (e.g. "1500us" = 1.5); callers that turn it
 * into a time should round up so a reset is never early.
 */
export function parseDuration(s: string): number | null {
  let text = s.trim();
  if (text.length === 0 || text.length > MAX_LENGTH) return null;
  if (text.startsWith("+")) text = text.slice(1);
  if (text === "0") return 0; // Go's one unit-less form
  if (!WHOLE.test(text)) return null;
  let ms = 0;
  PIECE.lastIndex = 0;
  for (let m = PIECE.exec(text); m; m = PIECE.exec(text)) ms += Number(m[1]) * UNIT_MS[m[2]!]!;
  return Number.isFinite(ms) ? ms : null;
}
