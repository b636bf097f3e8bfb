/** Three lines on top: which nodes and their uptime and store, summed totals, connection status. */
import { Box, Text } from "ink";
import { StatusLine } from "./StatusLine.tsx";
import { compact, seconds } from "./format-units.ts";
import { dim, lineTint, tint, useTheme } from "./theme.ts";
import type { ViewModel } from "./view-model.ts";

export interface HeaderProps {
  readonly model: ViewModel;
  readonly urls: readonly string[];
  readonly paused: boolean;
}

export function Header({ model, urls, paused }: HeaderProps) {
  const theme = useTheme();
  const s = model.sum;
  const where = urls.length === 1 ? urls[0]!.replace(/^https?:\/\//, "") : `${urls.length} nodes (summed)`;
  const rejected = s ? s.keys.reduce((a, k) => a + k.rejected, 0) : 0;
  const sentPerMin = model.providers.reduce((a, p) => a + p.sentPerMin, 0);
  return (
    <Box flexDirection="column">
      <Text wrap="truncate-end" color={lineTint(theme)}>
        <Text bold={theme.color} color={tint(theme, "cyan")}>
          limitrate stats
        </Text>{" "}
        {where}
        {s ? (
          <>
            {"  "}up {seconds(s.uptime_seconds)}
            {"  "}store {s.store.kind}{" "}
            <Text color={tint(theme, s.store.state === "ok" ? "green" : "yellow")}>{s.store.state}</Text>
          </>
        ) : null}
        {paused ? (
          <Text bold={theme.color} color={tint(theme, "yellow")}>
            {"  "}PAUSED
          </Text>
        ) : null}
      </Text>
      <Text wrap="truncate-end" dimColor={dim(theme) && !s} color={lineTint(theme)}>
        {s
          ? `queued ${compact(s.totals.queued)}  in flight ${compact(s.totals.in_flight)}  sent/min ${compact(sentPerMin)}  requests ${compact(s.totals.requests)}  429s ${compact(s.totals.upstream_429)}  503s ${compact(s.totals.queue_timeouts)}  rejected ${compact(rejected)}`
          : "no data yet"}
      </Text>
      <StatusLine model={model} urls={urls} />
    </Box>
  );
}
