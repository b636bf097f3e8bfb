/**
 * The live stats screen: subscribes (useSnapshots), follows the terminal's
 * size, and takes keys — q quits, p pauses (freezes the screen), tab
 * switches views.
 */
import { useApp, useInput } from "ink";
import { useState } from "react";
import { Screen } from "./Screen.tsx";
import type { FollowOptions, NodeState } from "./follow-node.ts";
import { useSnapshots } from "./use-snapshots.ts";
import { useTerminalSize } from "./use-terminal-size.ts";

export interface AppProps {
  readonly urls: readonly string[];
  readonly options: FollowOptions;
  /** False with NO_COLOR. */
  readonly color: boolean;
}

export function App({ urls, options, color }: AppProps) {
  const nodes = useSnapshots(urls, options);
  const { columns, rows } = useTerminalSize();
  const [frozen, setFrozen] = useState<readonly NodeState[] | null>(null);
  const [viewIndex, setViewIndex] = useState(0);
  const { exit } = useApp();
  useInput((input, key) => {
    if (input === "q" || key.escape) exit();
    else if (input === "p" || input === " ") setFrozen((f) => (f ? null : nodes));
    else if (key.tab) setViewIndex((i) => i + (key.shift ? -1 : 1));
  });
  return (
    <Screen
      urls={urls}
      nodes={frozen ?? nodes}
      viewIndex={viewIndex}
      paused={frozen !== null}
      columns={columns}
      rows={rows}
      color={color}
    />
  );
}
