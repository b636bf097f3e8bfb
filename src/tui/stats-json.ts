/** `limitrate stats --json`: one snapshot, or with several nodes each one and their sum. */
import type { StatsSnapshot } from "../stats/snapshot.ts";
import { fetchSnapshot } from "./fetch-snapshot.ts";
import { sumSnapshots } from "./sum-snapshots.ts";

export interface NodesReport {
  readonly nodes: readonly { readonly url: string; readonly snapshot: StatsSnapshot }[];
  readonly sum: StatsSnapshot;
}

/** Throws StatsFetchError (with a message for the user) when any node fails. */
export async function statsJson(urls: readonly string[], token?: string): Promise<StatsSnapshot | NodesReport> {
  const snapshots = await Promise.all(urls.map((url) => fetchSnapshot(url, { token })));
  if (urls.length === 1) return snapshots[0]!;
  return { nodes: urls.map((url, i) => ({ url, snapshot: snapshots[i]! })), sum: sumSnapshots(snapshots) };
}
