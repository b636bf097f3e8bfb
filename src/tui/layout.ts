/**
 * Column widths for a terminal width, and which views exist for a terminal
 * height. Pure, so resizing is only a matter of calling these again.
 */

export interface ProviderColumns {
  readonly name: number;
  readonly mode: number;
  readonly queue: number;
  /** 0: no queue bar (very narrow terminal). */
  readonly queueBar: number;
  readonly inFlight: number;
  readonly sent: number;
  /** 0: no sparkline (narrow terminal). */
  readonly spark: number;
  readonly e429: number;
  readonly e503: number;
  readonly next: number;
}

/** Ink wraps a line that touches the last column: stay one short. */
const usable = (columns: number) => Math.max(20, columns - 1);

export function providerColumns(columns: number): ProviderColumns {
  const base = { name: 10, mode: 14, queue: 4, inFlight: 7, sent: 7, e429: 4, e503: 4, next: 5 };
  const fixed = Object.values(base).reduce((a, b) => a + b, 0);
  // Gaps: one before every column but the first, counting the bar and sparkline.
  let free = usable(columns) - fixed - 9;
  if (free < 8) {
    // Too narrow for both charts: keep a short queue bar only, if anything.
    const queueBar = Math.max(0, free + 1);
    return { ...base, queueBar: queueBar >= 3 ? queueBar : 0, spark: 0 };
  }
  const queueBar = Math.min(20, Math.max(4, Math.floor(free * 0.4)));
  free -= queueBar;
  const spark = Math.min(30, free);
  free -= spark;
  const name = base.name + Math.min(12, free);
  return { ...base, name, queueBar, spark };
}

export interface KeyColumns {
  readonly name: number;
  readonly dim: number;
  readonly bar: number;
  readonly value: number;
  readonly reset: number;
  /** USD spent; 0: no spend column (narrow terminal). */
  readonly spend: number;
  /** Queue wait p50/p99; 0: no wait column (narrow terminal). */
  readonly wait: number;
  readonly rejected: number;
}

/** Keys (and groups, in the same columns): name, limit, usage bar, used/limit, reset, spend, wait, rejected. */
export function keyColumns(columns: number): KeyColumns {
  const base = { name: 14, dim: 10, value: 11, reset: 6 };
  let free = usable(columns) - (base.name + base.dim + base.value + base.reset) - 5;
  // Spend, then wait, while a rejected column of 8 and a bar of 4 still fit (each with its gap).
  const keep = 8 + 4;
  const spend = free - 8 >= keep ? 7 : 0;
  free -= spend ? spend + 1 : 0;
  const wait = free - 12 >= keep ? 11 : 0;
  free -= wait ? wait + 1 : 0;
  const rejected = Math.min(24, Math.max(8, Math.floor(free * 0.35)));
  free -= rejected;
  const bar = Math.max(0, Math.min(30, free));
  free -= bar;
  return { ...base, name: base.name + Math.min(10, Math.max(0, free)), bar, spend, wait, rejected };
}

export interface NodeColumns {
  readonly url: number;
  readonly status: number;
  readonly uptime: number;
  readonly queue: number;
  readonly inFlight: number;
  readonly sent: number;
  readonly e429: number;
  readonly e503: number;
}

export function nodeColumns(columns: number): NodeColumns {
  const base = { status: 13, uptime: 7, queue: 5, inFlight: 6, sent: 6, e429: 5, e503: 5 };
  const fixed = Object.values(base).reduce((a, b) => a + b, 0) + 7;
  return { ...base, url: Math.max(12, Math.min(48, usable(columns) - fixed)) };
}

export type ViewName = "overview" | "providers" | "keys" | "groups" | "nodes";

/** Lines around the tables: header (3), blank + column header per section, blank + footer. */
export const HEADER_LINES = 3;
const SECTION_LINES = 2;
const FOOTER_LINES = 2;

/** Lines of the keys (or groups) table: one per limited dimension, at least one per key, at least one in all. */
export function keyLines(dimsPerKey: readonly number[]): number {
  return Math.max(1, dimsPerKey.reduce((a, d) => a + Math.max(1, d), 0));
}

/** Table lines each section needs to show everything. */
export interface SectionLines {
  /** Provider rows, their detail lines and model lines (at least 1: "no providers"). */
  readonly providers: number;
  readonly keys: number;
  /** 0: no groups configured, no groups section. */
  readonly groups: number;
}

/**
 * The views tab cycles through: everything on one screen when it fits in
 * `rows` (ink redraws the whole screen when output reaches the last row, so
 * one row stays free), else providers, keys and groups (if any) apart; plus
 * the per-node view when there are several nodes.
 */
export function planViews(lines: SectionLines, nodes: number, rows: number): ViewName[] {
  const groups = lines.groups > 0 ? SECTION_LINES + lines.groups : 0;
  const overview = HEADER_LINES + SECTION_LINES + Math.max(1, lines.providers) + SECTION_LINES + lines.keys + groups + FOOTER_LINES;
  const views: ViewName[] = overview <= rows - 1 ? ["overview"] : ["providers", "keys", ...(lines.groups > 0 ? (["groups"] as const) : [])];
  if (nodes > 1) views.push("nodes");
  return views;
}

/** Table lines one section may use on its own screen. */
export function sectionBudget(rows: number): number {
  return Math.max(1, rows - 1 - HEADER_LINES - SECTION_LINES - FOOTER_LINES);
}
