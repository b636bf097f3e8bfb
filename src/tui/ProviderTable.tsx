/**
 * Providers under a column header, each with its detail and model lines;
 * providers beyond `maxLines` are summarised on one line.
 */
import { Box, Text } from "ink";
import { ProviderRow } from "./ProviderRow.tsx";
import { fit, fitRight } from "./format-units.ts";
import { type ProviderColumns, providerColumns } from "./layout.ts";
import { dim, useTheme } from "./theme.ts";
import { type ProviderRowData, providerLines } from "./view-model.ts";

export interface ProviderTableProps {
  readonly rows: readonly ProviderRowData[];
  readonly width: number;
  readonly queueScale: number;
  /** Table lines (header not counted) to use at most. */
  readonly maxLines?: number;
}

export function providerHeader(c: ProviderColumns): string {
  const queueW = c.queue + (c.queueBar > 0 ? 1 + c.queueBar : 0);
  return [
    fit("PROVIDER", c.name),
    fit("mode", c.mode),
    fit(c.queueBar > 0 ? "queue" : "queue".slice(0, queueW), queueW),
    fitRight("in-flt", c.inFlight),
    fitRight("sent/m", c.sent) + (c.spark > 0 ? ` ${fit("last 60s", c.spark)}` : ""),
    fitRight("429", c.e429),
    fitRight("503", c.e503),
    fitRight("next", c.next),
  ].join(" ");
}

/** Lines of the providers table (header not counted): at least one ("no providers"). */
export function providerTableLines(rows: readonly ProviderRowData[]): number {
  return Math.max(1, rows.reduce((a, r) => a + providerLines(r), 0));
}

export function ProviderTable({ rows, width, queueScale, maxLines = Infinity }: ProviderTableProps) {
  const theme = useTheme();
  const c = providerColumns(width);
  // Whole providers while they fit; the last one may lose its detail and model lines.
  const shown: { row: ProviderRowData; lines: number }[] = [];
  let left = maxLines;
  for (const [i, row] of rows.entries()) {
    const room = i < rows.length - 1 ? left - 1 : left;
    if (room <= 0) break;
    const lines = Math.min(providerLines(row), room);
    shown.push({ row, lines });
    left -= lines;
  }
  const hidden = rows.length - shown.length;
  return (
    <Box flexDirection="column">
      <Text bold={theme.color} wrap="truncate-end">
        {providerHeader(c)}
      </Text>
      {rows.length === 0 ? <Text dimColor={dim(theme)}>no providers</Text> : null}
      {shown.map(({ row, lines }) => (
        <ProviderRow key={row.name} row={row} columns={c} queueScale={queueScale} maxLines={lines} />
      ))}
      {hidden > 0 ? <Text dimColor={dim(theme)}>… {hidden} more providers (taller terminal shows all)</Text> : null}
    </Box>
  );
}
