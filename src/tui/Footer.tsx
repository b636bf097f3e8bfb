/** The keys and where tab leads. */
import { Text } from "ink";
import type { ViewName } from "./layout.ts";
import { dim, tint, useTheme } from "./theme.ts";

export interface FooterProps {
  readonly views: readonly ViewName[];
  readonly current: number;
  readonly paused: boolean;
}

const TITLES: Record<ViewName, string> = { overview: "overview", providers: "providers", keys: "keys", groups: "groups", nodes: "per node" };

export function Footer({ views, current, paused }: FooterProps) {
  const theme = { ...useTheme(), stale: false };
  const next = views[(current + 1) % views.length]!;
  return (
    <Text wrap="truncate-end">
      <Text bold={theme.color}>q</Text> quit  <Text bold={theme.color}>p</Text> {paused ? "resume" : "pause"}
      {views.length > 1 ? (
        <>
          {"  "}
          <Text bold={theme.color}>tab</Text> {TITLES[next]}
          <Text dimColor={dim(theme)}>
            {"  "}[{views.map((v, i) => (i === current ? `${TITLES[v].toUpperCase()}` : TITLES[v])).join(" · ")}]
          </Text>
        </>
      ) : null}
      {paused ? <Text color={tint(theme, "yellow")}>{"  "}paused: the screen is frozen, data keeps arriving</Text> : null}
    </Text>
  );
}
