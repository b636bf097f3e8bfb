/**
 * Headline figures: each bench returns the few numbers its issue names, with
 * the target and whether it was met; run-all prints them as one table.
 */
import { table } from "./stats.ts";

export interface Headline {
  /** Which bench, e.g. "1 throughput". */
  readonly section: string;
  readonly figure: string;
  /** Formatted value, e.g. "0.93×" or "4.1 KB". */
  readonly value: string;
  /** Formatted target, e.g. "≥ 0.9×"; "—" when the figure is for scale only. */
  readonly target: string;
  /** null: no target (informational). */
  readonly ok: boolean | null;
}

export function headline(section: string, figure: string, value: string, target = "—", ok: boolean | null = null): Headline {
  return { section, figure, value, target, ok };
}

export function verdict(ok: boolean | null): string {
  return ok === null ? "-" : ok ? "ok" : "BELOW";
}

/** Prints the summary table of a bench run on its own (after a blank line). */
export function printSummary(rows: readonly Headline[]): void {
  console.log(`\n${renderSummary(rows)}`);
}

export function renderSummary(rows: readonly Headline[]): string {
  return table([["bench", "figure", "value", "target", "verdict"], ...rows.map((h) => [h.section, h.figure, h.value, h.target, verdict(h.ok)])]);
}
