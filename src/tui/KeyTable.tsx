/** Client keys (or groups of keys) and their usage against each limit; lines beyond `maxLines` are summarised. */
import { Box, Text } from "ink";
import { KeyRow } from "./KeyRow.tsx";
import { fit, fitRight } from "./format-units.ts";
import { type KeyColumns, keyColumns } from "./layout.ts";
import { dim, useTheme } from "./theme.ts";
import type { KeyRowData } from "./view-model.ts";

export interface KeyTableProps {
  readonly rows: readonly KeyRowData[];
  readonly width: number;
  readonly maxLines?: number;
  /** Groups of keys: "GROUP" column, no queue wait. */
  readonly groups?: boolean;
}

export function keyHeader(c: KeyColumns, groups = false): string {
  return [
    fit(groups ? "GROUP" : "KEY", c.name),
    fit("limit", c.dim),
    ...(c.bar > 0 ? [fit("usage", c.bar)] : []),
    fitRight("used/limit", c.value),
    fitRight("reset", c.reset),
    ...(c.spend > 0 ? [fitRight("spend", c.spend)] : []),
    ...(c.wait > 0 ? [fitRight(groups ? "" : "wait p50/99", c.wait)] : []),
    fit("rejected", c.rejected),
  ].join(" ");
}

/** Lines each key takes. */
export const keyRowLines = (row: KeyRowData) => Math.max(1, row.dims.length);

export function KeyTable({ rows, width, maxLines = Infinity, groups = false }: KeyTableProps) {
  const theme = useTheme();
  const c = keyColumns(width);
  // Whole keys while they fit; the last one may be cut to its first dimensions.
  const shown: { row: KeyRowData; lines: number }[] = [];
  let left = maxLines;
  for (const [i, row] of rows.entries()) {
    const more = i < rows.length - 1;
    const room = more ? left - 1 : left;
    if (room <= 0) break;
    const lines = Math.min(keyRowLines(row), room);
    shown.push({ row, lines });
    left -= lines;
  }
  const hidden = rows.length - shown.length;
  const noun = groups ? "groups" : "keys";
  return (
    <Box flexDirection="column">
      <Text bold={theme.color} wrap="truncate-end">
        {keyHeader(c, groups)}
      </Text>
      {rows.length === 0 ? <Text dimColor={dim(theme)}>{groups ? "no groups configured" : "no client keys configured"}</Text> : null}
      {shown.map(({ row, lines }) => (
        <KeyRow key={row.name} row={row} columns={c} maxLines={lines} group={groups} />
      ))}
      {hidden > 0 ? (
        <Text dimColor={dim(theme)}>
          … {hidden} more {noun} (taller terminal shows all)
        </Text>
      ) : null}
    </Box>
  );
}
