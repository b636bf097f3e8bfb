/**
 * `limitrate stats` when stdout is not a terminal (a pipe, a log file): plain
 * lines every interval, one per provider and one per key. No ink, no React.
 */
import pc from "picocolors";
import { type Clock, systemClock } from "../clock.ts";
import { type FollowOptions, type NodeState, followNode, initialNodeState } from "./follow-node.ts";
import { clockTime, compact, seconds } from "./format-units.ts";
import { deriveView, rejectedText } from "./view-model.ts";

type Colors = ReturnType<typeof pc.createColors>;

/** One report: a status line, then a line per provider and per key. */
export function formatPlain(urls: readonly string[], nodes: readonly NodeState[], now: number, c: Colors): string {
  const m = deriveView(nodes, now, 0);
  const head = `${clockTime(now)} ${urls.length === 1 ? urls[0] : `${urls.length} nodes (summed), ${m.live} live`}`;
  if (!m.sum || m.stale) {
    const why = m.sum ? `reconnecting… ${m.error ?? ""}` : m.error ? `reconnecting… ${m.error}` : "connecting…";
    return `${head} ${c.yellow(why.trim())}\n`;
  }
  const s = m.sum;
  const lines = [
    `${head} up ${seconds(s.uptime_seconds)} store ${s.store.kind} ${s.store.state}${m.error ? ` ${c.yellow(`(${m.error})`)}` : ""}`,
  ];
  for (const p of m.providers) {
    const limit = p.limitPerMin === null ? "" : `/${compact(Math.round(p.limitPerMin))}`;
    lines.push(
      `  provider ${c.cyan(p.name)} ${p.mode} queue ${compact(p.queue)} in_flight ${p.inFlight}/${p.maxConcurrent ?? "∞"}` +
        ` sent/min ${p.sentExact ? "" : "~"}${compact(p.sentPerMin)}${limit} 429s ${compact(p.upstream429)} 503s ${compact(p.timeouts)}` +
        ` next ${p.nextSlotSeconds === null ? "-" : seconds(p.nextSlotSeconds)}`,
    );
  }
  for (const k of m.keys) {
    const dims = k.dims.map((d) => `${d.name} ${compact(d.used)}/${compact(d.limit)}`).join(" ") || "no limits";
    const rejected = k.rejected > 0 ? c.red(rejectedText(k)) : "0";
    lines.push(`  key ${c.magenta(k.name)} ${dims} requests ${compact(k.requests)} rejected ${rejected}`);
  }
  return `${lines.join("\n")}\n`;
}

export interface PlainOptions {
  readonly follow: FollowOptions;
  readonly color: boolean;
  readonly write?: (text: string) => void;
  readonly clock?: Clock;
}

/** Prints a report every interval until `signal` aborts. */
export async function runPlain(urls: readonly string[], opts: PlainOptions, signal?: AbortSignal): Promise<void> {
  const clock = opts.clock ?? systemClock;
  const write = opts.write ?? ((t: string) => void process.stdout.write(t));
  const colors = pc.createColors(opts.color);
  const nodes: NodeState[] = urls.map(initialNodeState);
  const stops = urls.map((url, i) => followNode(url, opts.follow, (s) => (nodes[i] = s)));
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      // Nothing to say until the first answer or failure.
      if (nodes.some((n) => n.snapshot || n.error)) write(formatPlain(urls, nodes, clock.now(), colors));
    }, opts.follow.intervalMs);
    const end = () => {
      clearInterval(timer);
      stops.forEach((stop) => stop());
      resolve();
    };
    if (signal?.aborted) end();
    signal?.addEventListener("abort", end, { once: true });
  });
}
