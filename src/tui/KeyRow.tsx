/** One client key: a line per limited dimension (usage bar, used/limit, reset), rejections on the first. */
import { Box, Text } from "ink";
import { Bar } from "./Bar.tsx";
import { compact, fit, fitRight, seconds } from "./format-units.ts";
import type { KeyColumns } from "./layout.ts";
import { dim, lineTint, tint, usageColor, useTheme } from "./theme.ts";
import { type KeyRowData, rejectedText } from "./view-model.ts";

export interface KeyRowProps {
  readonly row: KeyRowData;
  readonly columns: KeyColumns;
  /** Show at most this many dimension lines. */
  readonly maxLines?: number;
}

export function KeyRow({ row, columns: c, maxLines = Infinity }: KeyRowProps) {
  const theme = useTheme();
  const name = (
    <Text color={tint(theme, "magenta")} bold={theme.color}>
      {fit(row.name, c.name)}
    </Text>
  );
  const rejected = (
    <Text color={row.rejected > 0 ? tint(theme, "red") : undefined}>{fit(rejectedText(row), c.rejected)}</Text>
  );
  if (row.dims.length === 0) {
    return (
      <Text wrap="truncate-end" color={lineTint(theme)}>
        {name} <Text dimColor={dim(theme)}>{fit("no limits", c.dim + 1 + c.bar + 1 + c.value + 1 + c.reset)}</Text> {rejected}
      </Text>
    );
  }
  return (
    <Box flexDirection="column">
      {row.dims.slice(0, Math.max(1, maxLines)).map((d, i) => (
        <Text key={d.name} wrap="truncate-end" color={lineTint(theme)}>
          {i === 0 ? name : " ".repeat(c.name)} <Text dimColor={dim(theme)}>{fit(d.name, c.dim)}</Text>{" "}
          {c.bar > 0 ? (
            <>
              <Bar value={d.used} max={d.limit} width={c.bar} color={usageColor(d.used, d.limit)} />{" "}
            </>
          ) : null}
          {fitRight(`${compact(d.used)}/${compact(d.limit)}`, c.value)}{" "}
          <Text dimColor={dim(theme)}>{fitRight(d.used > 0 ? seconds(d.resetSeconds) : "–", c.reset)}</Text>{" "}
          {i === 0 ? rejected : null}
        </Text>
      ))}
    </Box>
  );
}
