/**
 * `limitrate stats` when stdout is not a terminal (a pipe, a log file): plain
 * lines every interval, one per provider (then one per model line of its
 * own), one per key and one per group. No ink, no React.
 */
import pc from "picocolors";
import { type Clock, systemClock } from "../clock.ts";
import { type FollowOptions, type NodeState, followNode, initialNodeState } from "./follow-node.ts";
import { clockTime, compact, money, seconds, waitPair } from "./format-units.ts";
import { type KeyRowData, type LineRowData, deriveView, heldText, rejectedText, usedOfLimit } from "./view-model.ts";

type Colors = ReturnType<typeof pc.createColors>;

/** One report: a status line, then a line per provider (and model line), per key and per group. */
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
    const left = [
      p.upstreamRequestsLeft === null ? "" : ` requests ${compact(p.upstreamRequestsLeft)}`,
      p.upstreamTokensLeft === null ? "" : ` tokens ${compact(p.upstreamTokensLeft)}`,
    ].join("");
    lines.push(
      `  provider ${c.cyan(p.name)} ${lineFields(p)} wait p50/p99 ${waitPair(p.waitP50Ms, p.waitP99Ms)}` +
        (left ? ` upstream left${left}` : "") +
        (p.heldUntil !== null ? ` ${c.yellow(heldText(p))}` : ""),
    );
    for (const ml of p.models) lines.push(`    model ${c.cyan(`${p.name}/${ml.name}`)} ${lineFields(ml)}`);
  }
  for (const k of m.keys) lines.push(`  key ${c.magenta(k.name)} ${usage(k, c)} wait p50/p99 ${waitPair(k.waitP50Ms, k.waitP99Ms)}`);
  for (const g of m.groups) lines.push(`  group ${c.blue(g.name)} ${usage(g, c)}`);
  return `${lines.join("\n")}\n`;
}

/** Mode, queue, in-flight, sent per minute, 429s (providers), 503s, next slot. */
function lineFields(l: LineRowData): string {
  const limit = l.limitPerMin === null ? "" : `/${compact(Math.round(l.limitPerMin))}`;
  return (
    `${l.mode} queue ${compact(l.queue)} in_flight ${l.inFlight}/${l.maxConcurrent ?? "∞"}` +
    ` sent/min ${l.sentExact ? "" : "~"}${compact(l.sentPerMin)}${limit}${l.upstream429 === null ? "" : ` 429s ${compact(l.upstream429)}`}` +
    ` 503s ${compact(l.timeouts)} next ${l.nextSlotSeconds === null ? "-" : seconds(l.nextSlotSeconds)}`
  );
}

/** Windows (USD budgets as money, under their full names), requests, rejections, spend. */
function usage(k: KeyRowData, c: Colors): string {
  const dims = k.dims.map((d) => `${d.name} ${usedOfLimit(d)}`).join(" ") || "no limits";
  const rejected = k.rejected > 0 ? c.red(rejectedText(k, false)) : "0";
  return `${dims} requests ${compact(k.requests)} rejected ${rejected} spend ${money(k.spendUsd)}`;
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
