/**
 * The one hook that owns the data subscription: follows every node (SSE,
 * polling fallback, reconnects) and returns their current states. Components
 * only render what it returns.
 */
import { useEffect, useState } from "react";
import { type FollowOptions, type NodeState, followNode, initialNodeState } from "./follow-node.ts";

export function useSnapshots(urls: readonly string[], opts: FollowOptions): readonly NodeState[] {
  const [nodes, setNodes] = useState<readonly NodeState[]>(() => urls.map(initialNodeState));
  const key = urls.join("\n");
  const { token, intervalMs, clock, fetch, minBackoffMs, maxBackoffMs } = opts;
  useEffect(() => {
    setNodes(urls.map(initialNodeState));
    const stops = urls.map((url, i) =>
      followNode(url, { token, intervalMs, clock, fetch, minBackoffMs, maxBackoffMs }, (state) =>
        setNodes((prev) => prev.map((n, j) => (j === i ? state : n))),
      ),
    );
    return () => stops.forEach((stop) => stop());
    // `key` stands for `urls`: a new array with the same URLs must not resubscribe.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key, token, intervalMs, clock, fetch, minBackoffMs, maxBackoffMs]);
  return nodes;
}
