/** Durations in the format OpenAI uses in its x-ratelimit-reset-* headers. */

/**
 * OpenAI's reset format (Go durations): "20ms", "1s", "1.5s", "6m0s", "1h0m0s".
 * Milliseconds are rounded up so the hint is never early.
 */
export function formatDuration(ms: number): string {
  if (ms <= 0) return "0s";
  const total = Math.ceil(ms);
  if (total < 1000) return `${total}ms`;
  const hours = Math.floor(total / 3_600_000);
  const minutes = Math.floor((total % 3_600_000) / 60_000);
  const secMs = total % 60_000;
  let seconds = String(Math.floor(secMs / 1000));
  const frac = secMs % 1000;
  if (frac !== 0) {
    let digits = String(frac).padStart(3, "0");
    while (digits.endsWith("0")) digits = digits.slice(0, -1);
    seconds += `.${digits}`;
  }
  if (hours > 0) return `${hours}h${minutes}m${seconds}s`;
  if (minutes > 0) return `${minutes}m${seconds}s`;
  return `${seconds}s`;
}
