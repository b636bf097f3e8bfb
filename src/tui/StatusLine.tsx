/** One line on the connection: live (and how), connecting, or reconnecting with the reason. */
import { Text } from "ink";
import { clockTime } from "./format-units.ts";
import { dim, tint, useTheme } from "./theme.ts";
import type { ViewModel } from "./view-model.ts";

export interface StatusLineProps {
  readonly model: ViewModel;
  readonly urls: readonly string[];
}

export function StatusLine({ model, urls }: StatusLineProps) {
  // Not grey even when stale: this line says why the rest is.
  const theme = { ...useTheme(), stale: false };
  const updated = model.updatedAt === null ? "" : ` · updated ${clockTime(model.updatedAt)}`;
  const count = urls.length > 1 ? `${model.live}/${urls.length} live` : "live";
  if (model.live === urls.length) {
    return (
      <Text wrap="truncate-end">
        <Text color={tint(theme, "green")}>● {count}</Text>
        <Text dimColor={dim(theme)}>
          {model.transport ? ` (${model.transport === "poll" ? "polling" : model.transport})` : ""}
          {updated}
        </Text>
      </Text>
    );
  }
  if (model.sum === null && !model.error) {
    return <Text color={tint(theme, "yellow")}>connecting to {urls.join(", ")}…</Text>;
  }
  return (
    <Text wrap="truncate-end">
      {urls.length > 1 ? <Text color={tint(theme, model.live ? "green" : "red")}>● {count} · </Text> : null}
      <Text color={tint(theme, "yellow")} bold={theme.color}>
        reconnecting…
      </Text>
      {model.error ? ` ${model.error}` : ""}
      <Text dimColor={dim(theme)}>{model.sum && urls.length === 1 ? ` · last data ${updated.replace(" · updated ", "")}` : ""}</Text>
    </Text>
  );
}
