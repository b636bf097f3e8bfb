/** The per-node view: each gateway node on one line, with its own status and totals. */
import { Box, Text } from "ink";
import { compact, fit, fitRight, seconds } from "./format-units.ts";
import { nodeColumns } from "./layout.ts";
import { dim, tint, useTheme } from "./theme.ts";
import type { NodeRowData } from "./view-model.ts";

export interface NodeTableProps {
  readonly rows: readonly NodeRowData[];
  readonly width: number;
  readonly maxRows?: number;
}

const STATUS_COLOR = { live: "green", connecting: "yellow", reconnecting: "red" } as const;

export function NodeTable({ rows, width, maxRows = Infinity }: NodeTableProps) {
  const theme = useTheme();
  const c = nodeColumns(width);
  const shown = rows.length > maxRows ? rows.slice(0, Math.max(0, maxRows - 1)) : rows;
  const header = [
    fit("NODE", c.url),
    fit("status", c.status),
    fitRight("up", c.uptime),
    fitRight("queue", c.queue),
    fitRight("in-flt", c.inFlight),
    fitRight("sent/m", c.sent),
    fitRight("429", c.e429),
    fitRight("503", c.e503),
  ].join(" ");
  return (
    <Box flexDirection="column">
      <Text bold={theme.color} wrap="truncate-end">
        {header}
      </Text>
      {shown.map((n) => {
        // A node that is down shows its last numbers greyed.
        const grey = n.status !== "live" && theme.color;
        return (
          <Text key={n.url} wrap="truncate-end">
            <Text color={tint(theme, "cyan")}>{fit(n.url.replace(/^https?:\/\//, ""), c.url)}</Text>{" "}
            <Text color={tint(theme, STATUS_COLOR[n.status])}>{fit(n.status === "reconnecting" ? "reconnecting…" : n.status, c.status)}</Text>{" "}
            <Text dimColor={grey}>
              {fitRight(n.uptimeSeconds === null ? "–" : seconds(n.uptimeSeconds), c.uptime)} {fitRight(compact(n.queue), c.queue)}{" "}
              {fitRight(compact(n.inFlight), c.inFlight)} {fitRight(compact(n.sentPerMin), c.sent)} {fitRight(compact(n.upstream429), c.e429)}{" "}
              {fitRight(compact(n.timeouts), c.e503)}
            </Text>
          </Text>
        );
      })}
      {rows.length > shown.length ? <Text dimColor={dim(theme)}>… {rows.length - shown.length} more nodes</Text> : null}
    </Box>
  );
}
