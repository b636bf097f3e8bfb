/**
 * One provider: its row, then its detail line (held, queue wait, what the
 * provider said is left) when there is one, then a row per model line.
 */
import { Box } from "ink";
import { LineRow } from "./LineRow.tsx";
import { ProviderDetail } from "./ProviderDetail.tsx";
import type { ProviderColumns } from "./layout.ts";
import { type ProviderRowData, providerDetail } from "./view-model.ts";

export interface ProviderRowProps {
  readonly row: ProviderRowData;
  readonly columns: ProviderColumns;
  readonly queueScale: number;
  /** Show at most this many lines (the row itself always). */
  readonly maxLines?: number;
}

export function ProviderRow({ row, columns, queueScale, maxLines = Infinity }: ProviderRowProps) {
  const detail = providerDetail(row).length > 0;
  const models = row.models.slice(0, Math.max(0, maxLines - 1 - (detail ? 1 : 0)));
  return (
    <Box flexDirection="column">
      <LineRow row={row} columns={columns} queueScale={queueScale} held={row.heldUntil !== null} />
      {detail && maxLines > 1 ? <ProviderDetail row={row} /> : null}
      {models.map((m, i) => (
        <LineRow key={m.name} row={m} columns={columns} queueScale={queueScale} branch={i === row.models.length - 1 ? "└ " : "├ "} />
      ))}
    </Box>
  );
}
