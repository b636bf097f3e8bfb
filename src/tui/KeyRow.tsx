/**
 * One client key (or group): a line per limited dimension (usage bar,
 * used/limit — money for USD budgets — and reset); spend, queue wait and
 * rejections on the first.
 */
import { Box, Text } from "ink";
import { Bar } from "./Bar.tsx";
import { fit, fitRight, money, seconds, waitPair } from "./format-units.ts";
import type { KeyColumns } from "./layout.ts";
import { dim, lineTint, tint, usageColor, useTheme } from "./theme.ts";
import { type KeyRowData, rejectedText, usedOfLimit } from "./view-model.ts";

export interface KeyRowProps {
  readonly row: KeyRowData;
  readonly columns: KeyColumns;
  /** Show at most this many dimension lines. */
  readonly maxLines?: number;
  /** A group: no queue wait of its own (the wait column stays blank). */
  readonly group?: boolean;
}

export function KeyRow({ row, columns: c, maxLines = Infinity, group = false }: KeyRowProps) {
  const theme = useTheme();
  const name = (
    <Text color={tint(theme, group ? "blue" : "magenta")} bold={theme.color}>
      {fit(row.name, c.name)}
    </Text>
  );
  // Spend, wait and rejections: the first line's tail.
  const tail = (
    <>
      {c.spend > 0 ? <Text color={row.spendUsd > 0 ? tint(theme, "green") : undefined}>{fitRight(money(row.spendUsd), c.spend)} </Text> : null}
      {c.wait > 0 ? <Text dimColor={dim(theme)}>{fitRight(group ? "" : waitPair(row.waitP50Ms, row.waitP99Ms), c.wait)} </Text> : null}
      <Text color={row.rejected > 0 ? tint(theme, "red") : undefined}>{fit(rejectedText(row), c.rejected)}</Text>
    </>
  );
  if (row.dims.length === 0) {
    return (
      <Text wrap="truncate-end" color={lineTint(theme)}>
        {name} <Text dimColor={dim(theme)}>{fit("no limits", c.dim + 1 + (c.bar > 0 ? c.bar + 1 : 0) + c.value + 1 + c.reset)}</Text> {tail}
      </Text>
    );
  }
  return (
    <Box flexDirection="column">
      {row.dims.slice(0, Math.max(1, maxLines)).map((d, i) => (
        <Text key={d.name} wrap="truncate-end" color={lineTint(theme)}>
          {i === 0 ? name : " ".repeat(c.name)} <Text dimColor={dim(theme)}>{fit(d.label, c.dim)}</Text>{" "}
          {c.bar > 0 ? (
            <>
              <Bar value={d.used} max={d.limit} width={c.bar} color={usageColor(d.used, d.limit)} />{" "}
            </>
          ) : null}
          {fitRight(usedOfLimit(d), c.value)} <Text dimColor={dim(theme)}>{fitRight(d.used > 0 ? seconds(d.resetSeconds) : "–", c.reset)}</Text>{" "}
          {i === 0 ? tail : null}
        </Text>
      ))}
    </Box>
  );
}
