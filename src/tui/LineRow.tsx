/**
 * One line of requests on one row: a provider's, or (with `branch`) one of its
 * model lines, indented under it. Mode, queue with bar, in-flight, sent per
 * minute with a sparkline, 429s, 503s, next slot (or "held").
 */
import { Text } from "ink";
import { Bar } from "./Bar.tsx";
import { Sparkline } from "./Sparkline.tsx";
import { compact, fit, fitRight, seconds } from "./format-units.ts";
import type { ProviderColumns } from "./layout.ts";
import { dim, lineTint, tint, usageColor, useTheme } from "./theme.ts";
import type { LineRowData } from "./view-model.ts";

export interface LineRowProps {
  readonly row: LineRowData;
  readonly columns: ProviderColumns;
  readonly queueScale: number;
  /** A model line: "├ " or "└ " before its name (tree under the provider). */
  readonly branch?: string;
  /** The provider holds this line (it said so): "held" instead of the next slot. */
  readonly held?: boolean;
}

export function LineRow({ row, columns: c, queueScale, branch, held = false }: LineRowProps) {
  const theme = useTheme();
  const inFlight = `${compact(row.inFlight)}/${row.maxConcurrent === null ? "∞" : compact(row.maxConcurrent)}`;
  const sent = `${row.sentExact ? "" : "~"}${compact(row.sentPerMin)}${row.limitPerMin === null ? "" : `/${compact(Math.round(row.limitPerMin))}`}`;
  const next = held ? "held" : row.nextSlotSeconds === null ? "–" : row.nextSlotSeconds <= 0 ? "now" : seconds(row.nextSlotSeconds);
  const bucketMax = row.limitPerMin === null || row.series.length === 0 ? undefined : row.limitPerMin / row.series.length;
  const full = row.maxConcurrent !== null && row.inFlight >= row.maxConcurrent;
  const e429 = row.upstream429 === null ? "" : compact(row.upstream429);
  return (
    <Text wrap="truncate-end" color={lineTint(theme)}>
      {branch ? (
        <Text>
          <Text dimColor={dim(theme)}>{branch}</Text>
          <Text color={tint(theme, "cyan")}>{fit(row.name, c.name - branch.length)}</Text>
        </Text>
      ) : (
        <Text color={tint(theme, "cyan")} bold={theme.color}>
          {fit(row.name, c.name)}
        </Text>
      )}{" "}
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
      <Text color={row.upstream429 ? tint(theme, "red") : undefined}>{fitRight(e429, c.e429)}</Text>{" "}
      <Text color={row.timeouts > 0 ? tint(theme, "red") : undefined}>{fitRight(compact(row.timeouts), c.e503)}</Text>{" "}
      <Text color={held ? tint(theme, "yellow") : undefined} bold={held && theme.color}>
        {fitRight(next, c.next)}
      </Text>
    </Text>
  );
}
