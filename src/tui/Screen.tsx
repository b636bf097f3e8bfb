/**
 * The whole screen for given nodes, view and terminal size: header, the
 * current view's table(s) — providers (with their model lines), keys, groups
 * — and footer. Pure rendering; App feeds it.
 */
import { Box } from "ink";
import { Footer } from "./Footer.tsx";
import { Header } from "./Header.tsx";
import { KeyTable } from "./KeyTable.tsx";
import { NodeTable } from "./NodeTable.tsx";
import { ProviderTable, providerTableLines } from "./ProviderTable.tsx";
import type { NodeState } from "./follow-node.ts";
import { keyLines, planViews, providerColumns, sectionBudget } from "./layout.ts";
import { ThemeContext } from "./theme.ts";
import { deriveView } from "./view-model.ts";

export interface ScreenProps {
  readonly urls: readonly string[];
  readonly nodes: readonly NodeState[];
  /** Index into the views that exist at this size; taken modulo their count. */
  readonly viewIndex: number;
  readonly paused: boolean;
  readonly columns: number;
  readonly rows: number;
  readonly color: boolean;
}

/** The time the screen describes: when the newest data arrived. */
export function dataTime(nodes: readonly NodeState[]): number {
  return Math.max(0, ...nodes.map((n) => n.history[n.history.length - 1]?.at ?? 0));
}

export function Screen({ urls, nodes, viewIndex, paused, columns, rows, color }: ScreenProps) {
  const model = deriveView(nodes, dataTime(nodes), providerColumns(columns).spark);
  const lines = {
    providers: providerTableLines(model.providers),
    keys: keyLines(model.keys.map((k) => k.dims.length)),
    groups: model.groups.length ? keyLines(model.groups.map((g) => g.dims.length)) : 0,
  };
  const views = planViews(lines, urls.length, rows);
  const current = ((viewIndex % views.length) + views.length) % views.length;
  const view = views[current]!;
  const budget = sectionBudget(rows);
  return (
    <ThemeContext.Provider value={{ color, stale: model.stale && model.sum !== null }}>
      {/* One column and one row short of the terminal (a full last column wraps; output reaching
          the last row makes ink clear the screen on every frame). Taking the full height keeps the
          footer at the bottom, and makes any resize change the output, so ink redraws it. */}
      <Box flexDirection="column" width={Math.max(20, columns - 1)} height={Math.max(1, rows - 1)} overflowY="hidden">
        <Header model={model} urls={urls} paused={paused} />
        <Box marginTop={1} flexDirection="column">
          {view === "overview" ? (
            <>
              <ProviderTable rows={model.providers} width={columns} queueScale={model.queueScale} />
              <Box marginTop={1}>
                <KeyTable rows={model.keys} width={columns} />
              </Box>
              {model.groups.length ? (
                <Box marginTop={1}>
                  <KeyTable rows={model.groups} width={columns} groups />
                </Box>
              ) : null}
            </>
          ) : null}
          {view === "providers" ? <ProviderTable rows={model.providers} width={columns} queueScale={model.queueScale} maxLines={budget} /> : null}
          {view === "keys" ? <KeyTable rows={model.keys} width={columns} maxLines={budget} /> : null}
          {view === "groups" ? <KeyTable rows={model.groups} width={columns} maxLines={budget} groups /> : null}
          {view === "nodes" ? <NodeTable rows={model.nodes} width={columns} maxRows={budget} /> : null}
        </Box>
        <Box flexGrow={1} />
        <Box marginTop={1} flexShrink={0}>
          <Footer views={views} current={current} paused={paused} />
        </Box>
      </Box>
    </ThemeContext.Provider>
  );
}
