/** A horizontal bar of `value` out of `max`, `width` cells wide, in eighths of a cell. */
import { Text } from "ink";
import { dim, tint, useTheme } from "./theme.ts";

export interface BarProps {
  readonly value: number;
  readonly max: number;
  readonly width: number;
  readonly color?: string;
}

const EIGHTHS = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"];

/** The filled and empty parts of a bar, e.g. ["███▌", "░░░░░░"]. */
export function barParts(value: number, max: number, width: number): [string, string] {
  if (width <= 0) return ["", ""];
  const ratio = max > 0 ? Math.min(1, Math.max(0, value / max)) : value > 0 ? 1 : 0;
  let eighths = Math.round(ratio * width * 8);
  // Anything above zero shows at least a sliver.
  if (eighths === 0 && value > 0) eighths = 1;
  const full = Math.floor(eighths / 8);
  const part = EIGHTHS[eighths % 8]!;
  const filled = "█".repeat(full) + part;
  return [filled, "░".repeat(width - full - (part ? 1 : 0))];
}

export function Bar({ value, max, width, color = "green" }: BarProps) {
  const theme = useTheme();
  const [filled, empty] = barParts(value, max, width);
  return (
    <Text>
      <Text color={tint(theme, color)}>{filled}</Text>
      <Text dimColor={dim(theme)}>{empty}</Text>
    </Text>
  );
}
