/** A one-line chart of recent values, one cell per value, scaled to `max`. */
import { Text } from "ink";
import { tint, useTheme } from "./theme.ts";

export interface SparklineProps {
  readonly values: readonly number[];
  /** Top of the scale; defaults to the largest value. */
  readonly max?: number;
  readonly color?: string;
}

const LEVELS = "▁▂▃▄▅▆▇█";

export function sparkline(values: readonly number[], max?: number): string {
  const top = Math.max(max ?? 0, ...values, 0);
  return values
    .map((v) => {
      if (v <= 0 || top <= 0) return LEVELS[0];
      // Non-zero values start one level up, so they never look like nothing.
      const level = 1 + Math.round((Math.min(v, top) / top) * (LEVELS.length - 2));
      return LEVELS[level];
    })
    .join("");
}

export function Sparkline({ values, max, color = "cyan" }: SparklineProps) {
  const theme = useTheme();
  return <Text color={tint(theme, color)}>{sparkline(values, max)}</Text>;
}
