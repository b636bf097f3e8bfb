/**
 * Follows one gateway node: subscribes to /admin/events (SSE over a streaming
 * fetch), falls back to polling /admin/stats where the node has no events
 * endpoint (404), and reconnects by itself with a growing backoff. Each
 * change of the node's state is handed to `onChange` as a whole new value,
 * which is all a view (ink or plain lines) needs. No React here.
 */
import { type Clock, systemClock } from "../clock.ts";
import type { StatsSnapshot } from "../stats/snapshot.ts";
import { StatsFetchError, authHeaders, fetchSnapshot, httpError, parseSnapshot, reason } from "./fetch-snapshot.ts";
import { type Sample, appendSample } from "./history.ts";
import { sseData } from "./sse-reader.ts";
import { sleep } from "../sleep.ts";

export type NodeStatus = "connecting" | "live" | "reconnecting";

export interface NodeState {
  readonly url: string;
  readonly status: NodeStatus;
  /** How snapshots arrive: the SSE stream, or polling (older gateways). */
  readonly transport: "events" | "poll" | null;
  /** Why the last attempt failed (shown while reconnecting). */
  readonly error: string | null;
  /** The newest snapshot; kept (and shown greyed) while reconnecting. */
  readonly snapshot: StatsSnapshot | null;
  readonly history: readonly Sample[];
}

export interface FollowOptions {
  readonly token?: string;
  /** How often the node should send a snapshot (SSE) or be polled, ms. */
  readonly intervalMs: number;
  readonly clock?: Clock;
  readonly fetch?: typeof fetch;
  /** First wait after a failure, ms (default 250); doubles up to maxBackoffMs. */
  readonly minBackoffMs?: number;
  /** Longest wait between attempts, ms (default 4000). */
  readonly maxBackoffMs?: number;
}

export function initialNodeState(url: string): NodeState {
  return { url, status: "connecting", transport: null, error: null, snapshot: null, history: [] };
}

/** Starts following; returns a function that stops (aborting any request in progress). */
export function followNode(url: string, opts: FollowOptions, onChange: (s: NodeState) => void): () => void {
  const stop = new AbortController();
  void run(url, opts, stop.signal, onChange);
  return () => stop.abort();
}

async function run(url: string, opts: FollowOptions, stopped: AbortSignal, onChange: (s: NodeState) => void): Promise<void> {
  const clock = opts.clock ?? systemClock;
  const doFetch = opts.fetch ?? fetch;
  const minBackoff = opts.minBackoffMs ?? 250;
  const maxBackoff = opts.maxBackoffMs ?? 4000;
  let state = initialNodeState(url);
  const set = (patch: Partial<NodeState>) => {
    if (stopped.aborted) return;
    state = { ...state, ...patch };
    onChange(state);
  };
  let failures = 0;
  const received = (snapshot: StatsSnapshot, transport: "events" | "poll") => {
    failures = 0;
    set({ status: "live", transport, error: null, snapshot, history: appendSample(state.history, { at: clock.now(), snapshot }) });
  };
  let useEvents = true;
  onChange(state);
  while (!stopped.aborted) {
    try {
      if (useEvents) {
        const supported = await streamEvents(url, opts, doFetch, stopped, (s) => received(s, "events"));
        if (!supported) {
          useEvents = false;
          continue;
        }
        throw new StatsFetchError(`${url} closed the event stream`);
      }
      received(await fetchSnapshot(url, { token: opts.token, signal: stopped, fetch: doFetch }), "poll");
      await sleep(opts.intervalMs, stopped);
    } catch (e) {
      if (stopped.aborted) break;
      failures++;
      set({ status: "reconnecting", error: e instanceof StatsFetchError ? e.message : reason(e) });
      await sleep(Math.min(maxBackoff, minBackoff * 2 ** (failures - 1)), stopped);
      // The node may have been restarted with a newer version: try the stream again.
      useEvents = true;
    }
  }
}

/**
 * Reads /admin/events until it ends or goes silent. Resolves false when the
 * node has no such endpoint; throws on any other failure.
 */
async function streamEvents(
  url: string,
  opts: FollowOptions,
  doFetch: typeof fetch,
  stopped: AbortSignal,
  onSnapshot: (s: StatsSnapshot) => void,
): Promise<boolean> {
  const conn = new AbortController();
  const signal = AbortSignal.any([stopped, conn.signal]);
  // A stream that stays silent for several intervals is a dead connection (half-open TCP).
  const idleMs = Math.max(5000, opts.intervalMs * 3);
  let idle: ReturnType<typeof setTimeout> | undefined;
  const arm = () => {
    clearTimeout(idle);
    idle = setTimeout(() => conn.abort(new StatsFetchError(`${url} sent nothing for ${Math.round(idleMs / 1000)} s`)), idleMs);
  };
  try {
    arm();
    let res: Response;
    try {
      res = await doFetch(`${url}/admin/events?interval_ms=${opts.intervalMs}`, {
        headers: { accept: "text/event-stream", ...authHeaders(opts.token) },
        signal,
      });
    } catch (e) {
      if (conn.signal.aborted) throw conn.signal.reason;
      throw new StatsFetchError(`cannot reach ${url}: ${reason(e)}`);
    }
    if (res.status === 404 || res.status === 405) {
      await res.body?.cancel();
      return false;
    }
    if (!res.ok || !res.body) throw await httpError(url, res);
    try {
      for await (const data of sseData(res.body)) {
        arm();
        onSnapshot(parseSnapshot(data, url));
      }
    } catch (e) {
      if (conn.signal.aborted) throw conn.signal.reason;
      if (e instanceof StatsFetchError) throw e;
      throw new StatsFetchError(`lost ${url}: ${reason(e)}`);
    }
    return true;
  } finally {
    clearTimeout(idle);
  }
}
