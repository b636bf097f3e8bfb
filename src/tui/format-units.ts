/** Short, fixed-looking renderings of counts, rates and durations for narrow columns. */

/** 950 → "950", 1234 → "1.2k", 12345 → "12k", 1.5e6 → "1.5M". */
export function compact(n: number): string {
  const a = Math.abs(n);
  if (a < 1000) return Number.isInteger(n) ? String(n) : n.toFixed(a < 10 ? 1 : 0);
  for (const [div, unit] of [[1e9, "G"], [1e6, "M"], [1e3, "k"]] as const) {
    if (a >= div) {
      const v = n / div;
      return `${Math.abs(v) < 10 ? trimZero(v.toFixed(1)) : Math.round(v)}${unit}`;
    }
  }
  return String(n);
}

/** Seconds → "0.4s", "41s", "3m05s", "2h07m", "3d04h". */
export function seconds(s: number): string {
  if (!Number.isFinite(s) || s < 0) return "–";
  if (s < 10) return `${trimZero(s.toFixed(1))}s`;
  if (s < 60) return `${Math.round(s)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(Math.floor(s % 60)).padStart(2, "0")}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h${String(m % 60).padStart(2, "0")}m`;
  return `${Math.floor(h / 24)}d${String(h % 24).padStart(2, "0")}h`;
}

/** USD → "$0", "<$0.01", "$4.20", "$12.34", "$123", "$1.2k", "$12k": cents below $100. */
export function money(usd: number): string {
  if (!Number.isFinite(usd)) return "–";
  if (usd < 0) return `-${money(-usd)}`;
  if (usd === 0) return "$0";
  if (usd < 0.01) return "<$0.01";
  if (Number.isInteger(usd) && usd < 1000) return `$${usd}`;
  if (usd < 100) return `$${usd.toFixed(2)}`;
  return `$${compact(Math.round(usd))}`;
}

/** A wait in ms (a histogram bucket bound) → "5ms", "250ms", "2.5s", "30s", "2m"; null → "–". */
export function waitMs(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms) || ms < 0) return "–";
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${trimZero((ms / 1000).toFixed(ms < 10_000 ? 1 : 0))}s`;
  return `${trimZero((ms / 60_000).toFixed(ms < 600_000 ? 1 : 0))}m`;
}

/** Queue-wait quantiles as "p50/p99", e.g. "25ms/2.5s"; "–" before any request. */
export function waitPair(p50: number | null, p99: number | null): string {
  return p50 === null && p99 === null ? "–" : `${waitMs(p50)}/${waitMs(p99)}`;
}

/** Epoch ms → local "HH:MM:SS". */
export function clockTime(ms: number): string {
  const d = new Date(ms);
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((x) => String(x).padStart(2, "0")).join(":");
}

/** Left-aligned in `width`, cut with "…" when longer. */
export function fit(s: string, width: number): string {
  if (width <= 0) return "";
  if (s.length > width) return width === 1 ? "…" : `${s.slice(0, width - 1)}…`;
  return s.padEnd(width);
}

/** Right-aligned in `width`, cut with "…" when longer. */
export function fitRight(s: string, width: number): string {
  return s.length > width ? fit(s, width) : s.padStart(width);
}

function trimZero(s: string): string {
  return s.replace(/\.0$/, "");
}
