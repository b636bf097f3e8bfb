/** One provider on one line: mode, queue, in-flight, sent per minute with a sparkline, errors, next slot. */
import { Text } from "ink";
import { Bar } from "./Bar.tsx";
import { Sparkline } from "./Sparkline.tsx";
import { compact, fit, fitRight, seconds } from "./format-units.ts";
import type { ProviderColumns } from "./layout.ts";
import { dim, lineTint, tint, usageColor, useTheme } from "./theme.ts";
import type { ProviderRowData } from "./view-model.ts";

export interface ProviderRowProps {
  readonly row: ProviderRowData;
  readonly columns: ProviderColumns;
  readonly queueScale: number;
}

export function ProviderRow({ row, columns: c, queueScale }: ProviderRowProps) {
  const theme = useTheme();
  const inFlight = `${compact(row.inFlight)}/${row.maxConcurrent === null ? "∞" : compact(row.maxConcurrent)}`;
  const sent = `${row.sentExact ? "" : "~"}${compact(row.sentPerMin)}${row.limitPerMin === null ? "" : `/${compact(Math.round(row.limitPerMin))}`}`;
  const next = row.nextSlotSeconds === null ? "–" : row.nextSlotSeconds <= 0 ? "now" : seconds(row.nextSlotSeconds);
  const bucketMax = row.limitPerMin === null || row.series.length === 0 ? undefined : row.limitPerMin / row.series.length;
  const full = row.maxConcurrent !== null && row.inFlight >= row.maxConcurrent;
  return (
    <Text wrap="truncate-end" color={lineTint(theme)}>
      <Text color={tint(theme, "cyan")} bold={theme.color}>
        {fit(row.name, c.name)}
      </Text>{" "}
      <Text dimColor={dim(theme)}>{fit(row.mode, c.mode)}</Text>{" "}
      <Text color={row.queue > 0 ? tint(theme, "yellow") : undefined}>{fitRight(compact(row.queue), c.queue)}</Text>
      {c.queueBar > 0 ? (
        <>
          {" "}
          <Bar value={row.queue} max={queueScale} width={c.queueBar} color="yellow" />
        </>
      ) : null}{" "}
      <Text color={full ? tint(theme, "yellow") : undefined}>{fitRight(inFlight, c.inFlight)}</Text>{" "}
      <Text color={tint(theme, usageColor(row.sentPerMin, row.limitPerMin))}>{fitRight(sent, c.sent)}</Text>
      {c.spark > 0 ? (
        <>
          {" "}
          <Sparkline values={row.series} max={bucketMax} />
        </>
      ) : null}{" "}
      <Text color={row.upstream429 > 0 ? tint(theme, "red") : undefined}>{fitRight(compact(row.upstream429), c.e429)}</Text>{" "}
      <Text color={row.timeouts > 0 ? tint(theme, "red") : undefined}>{fitRight(compact(row.timeouts), c.e503)}</Text>{" "}
      {fitRight(next, c.next)}
    </Text>
  );
}
