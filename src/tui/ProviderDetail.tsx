/** A provider's detail line, indented under its row: held until … (reason) · wait p50/p99 · upstream left. */
import { Text } from "ink";
import { dim, lineTint, tint, useTheme } from "./theme.ts";
import { type ProviderRowData, providerDetail } from "./view-model.ts";

export interface ProviderDetailProps {
  readonly row: ProviderRowData;
}

export function ProviderDetail({ row }: ProviderDetailProps) {
  const theme = useTheme();
  const parts = providerDetail(row);
  if (parts.length === 0) return null;
  return (
    <Text wrap="truncate-end" color={lineTint(theme)}>
      {"  "}
      {parts.map((p, i) => (
        <Text key={p.kind}>
          {i > 0 ? <Text dimColor={dim(theme)}> · </Text> : null}
          {p.kind === "held" ? (
            <Text color={tint(theme, "yellow")} bold={theme.color}>
              {p.text}
            </Text>
          ) : (
            <Text dimColor={dim(theme)}>{p.text}</Text>
          )}
        </Text>
      ))}
    </Text>
  );
}
