/**
 * Colour choices for the whole screen, passed by context: off entirely with
 * NO_COLOR, and everything grey while the data shown is stale (reconnecting).
 */
import { createContext, useContext } from "react";

export interface Theme {
  /** False with NO_COLOR: no colours, no dimming. */
  readonly color: boolean;
  /** The last data seen, while reconnecting: shown grey. */
  readonly stale: boolean;
}

export const ThemeContext = createContext<Theme>({ color: true, stale: false });

export function useTheme(): Theme {
  return useContext(ThemeContext);
}

/** A colour for ink's `color` prop, or undefined when colours are off. */
export function tint(theme: Theme, color: string): string | undefined {
  if (!theme.color) return undefined;
  return theme.stale ? "gray" : color;
}

/** Colour for a whole line: grey while stale (coloured parts inside turn grey via `tint`). */
export function lineTint(theme: Theme): string | undefined {
  return theme.color && theme.stale ? "gray" : undefined;
}

/** Whether to dim secondary text. */
export function dim(theme: Theme): boolean {
  return theme.color;
}

/** Green under 70 % of a limit, yellow under 90 %, red beyond. */
export function usageColor(used: number, limit: number | null): string {
  if (!limit) return "green";
  const r = used / limit;
  return r < 0.7 ? "green" : r < 0.9 ? "yellow" : "red";
}
