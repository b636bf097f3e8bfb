/** Providers, one row each under a column header; rows beyond `maxRows` are summarised on one line. */
import { Box, Text } from "ink";
import { ProviderRow } from "./ProviderRow.tsx";
import { fit, fitRight } from "./format-units.ts";
import { type ProviderColumns, providerColumns } from "./layout.ts";
import { dim, useTheme } from "./theme.ts";
import type { ProviderRowData } from "./view-model.ts";

export interface ProviderTableProps {
  readonly rows: readonly ProviderRowData[];
  readonly width: number;
  readonly queueScale: number;
  readonly maxRows?: number;
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

export function ProviderTable({ rows, width, queueScale, maxRows = Infinity }: ProviderTableProps) {
  const theme = useTheme();
  const c = providerColumns(width);
  const shown = rows.length > maxRows ? rows.slice(0, Math.max(0, maxRows - 1)) : rows;
  const hidden = rows.length - shown.length;
  return (
    <Box flexDirection="column">
      <Text bold={theme.color} wrap="truncate-end">
        {providerHeader(c)}
      </Text>
      {rows.length === 0 ? <Text dimColor={dim(theme)}>no providers</Text> : null}
      {shown.map((row) => (
        <ProviderRow key={row.name} row={row} columns={c} queueScale={queueScale} />
      ))}
      {hidden > 0 ? <Text dimColor={dim(theme)}>… {hidden} more providers (taller terminal shows all)</Text> : null}
    </Box>
  );
}
