/**
 * Fair queuing and adaptive rate, in fake time (no servers, no sleeping):
 *   1. who gets served under contention — the FIFO WaitQueue against the
 *      FairQueue (DRR per key, weights), on a line drained at a fixed pace;
 *   2. how fast the AIMD controller finds a provider limit it is not told,
 *      from below and from above, for providers that do and do not count
 *      refused requests;
 *   3. the cost of the queue operations themselves.
 *
 *   bun bench/fairness.ts [--short]
 */
import { parseArgs } from "node:util";
import type { AimdOptions } from "../src/adaptive/aimd.ts";
import { simulateAimd, totals } from "../src/adaptive/provider-sim.ts";
import { type FairNode, FairQueue } from "../src/limiter/fair-queue.ts";
import { WaitQueue } from "../src/limiter/wait-queue.ts";
import { fmt, percentile, table } from "./lib/stats.ts";

interface Req extends FairNode {
  readonly at: number;
}

interface Line {
  push(n: Req): void;
  shift(): Req | null;
  readonly size: number;
}

interface Arrival {
  readonly at: number;
  readonly flow: string;
  readonly weight?: number;
}

interface Served {
  readonly flow: string;
  readonly arrived: number;
  readonly servedAt: number;
}

/** Feeds arrivals into the line and serves one request every `paceMs` until `untilMs`. */
function drainAtPace(line: Line, arrivals: readonly Arrival[], paceMs: number, untilMs: number): Served[] {
  const sorted = [...arrivals].sort((a, b) => a.at - b.at);
  const served: Served[] = [];
  let next = 0;
  for (let t = 0; t < untilMs; t += paceMs) {
    while (next < sorted.length && sorted[next]!.at <= t) {
      const a = sorted[next++]!;
      line.push({ at: a.at, flow: a.flow, weight: a.weight, prev: null, next: null, queued: false });
    }
    const n = line.shift();
    if (n) served.push({ flow: n.flow, arrived: n.at, servedAt: t });
  }
  return served;
}

interface Scenario {
  readonly name: string;
  readonly arrivals: readonly Arrival[];
  readonly paceMs: number;
  readonly untilMs: number;
}

function every(flow: string, count: number, fromMs: number, gapMs: number, weight?: number): Arrival[] {
  return Array.from({ length: count }, (_, i) => ({ at: fromMs + i * gapMs, flow, weight }));
}

function scenarios(short: boolean): Scenario[] {
  const scale = short ? 0.2 : 1;
  const s = (x: number) => Math.max(1, Math.round(x * scale));
  return [
    {
      name: `burst vs trickle: one key dumps ${s(1000)} at once; 4 keys send one every 2 s; served 10/s`,
      arrivals: [...every("burst", s(1000), 0, 0), ...["t1", "t2", "t3", "t4"].flatMap((k, i) => every(k, s(50), 100 * i, 2000))],
      paceMs: 100,
      untilMs: s(100) * 1000,
    },
    {
      name: "weighted: three keys always backlogged, weights 2 : 1 : 1; served 10/s",
      arrivals: [...every("w2", s(2000), 0, 0, 2), ...every("w1-a", s(2000), 0, 0, 1), ...every("w1-b", s(2000), 0, 0, 1)],
      paceMs: 100,
      untilMs: s(120) * 1000,
    },
    {
      name: "uneven demand: key i sends i × 20 per minute (i = 1..6), line drains 60 per minute",
      arrivals: [1, 2, 3, 4, 5, 6].flatMap((i) => every(`k${i}`, s(i * 20 * 5), 0, 60_000 / (i * 20))),
      paceMs: 1000,
      untilMs: s(5) * 60_000,
    },
  ];
}

function fairnessReport(sc: Scenario): string {
  const fifo = drainAtPace(new WaitQueue<Req>(), sc.arrivals, sc.paceMs, sc.untilMs);
  const fair = drainAtPace(new FairQueue<Req>(), sc.arrivals, sc.paceMs, sc.untilMs);
  const keys = [...new Set(sc.arrivals.map((a) => a.flow))];
  const rows: string[][] = [["key", "sent", "FIFO served", "FIFO share", "fair served", "fair share", "FIFO wait p50/p99 s", "fair wait p50/p99 s"]];
  for (const k of keys) {
    const sent = sc.arrivals.filter((a) => a.flow === k).length;
    const mine = (xs: Served[]) => xs.filter((x) => x.flow === k);
    const waits = (xs: Served[]) => mine(xs).map((x) => (x.servedAt - x.arrived) / 1000).sort((a, b) => a - b);
    const w = (xs: Served[]) => {
      const s = waits(xs);
      return s.length ? `${fmt(percentile(s, 50), 1)} / ${fmt(percentile(s, 99), 1)}` : "—";
    };
    rows.push([k, String(sent), String(mine(fifo).length), pct(mine(fifo).length / fifo.length), String(mine(fair).length), pct(mine(fair).length / fair.length), w(fifo), w(fair)]);
  }
  return `\n## ${sc.name}\n(${fmt(sc.untilMs / 1000, 0)} s of service; share = of all requests served)\n${table(rows)}`;
}

function pct(x: number, digits = 1): string {
  return `${fmt(100 * x, digits)} %`;
}

const CONTROLLER = (initialRpm: number, over: Partial<AimdOptions> = {}): AimdOptions => ({
  initialRpm,
  minRpm: 1,
  maxRpm: 100_000,
  increaseRpm: 2,
  decreaseFactor: 0.9,
  windowMs: 10_000,
  ...over,
});

function aimdReport(short: boolean): string {
  const minutes = short ? 20 : 60;
  const rows: string[][] = [["provider", "true rpm", "start rpm", "settled after", "accepted / limit", "429 share after"]];
  const variants: { label: string; over: Partial<AimdOptions>; rejectedCount: boolean }[] = [
    { label: "counts admitted", over: {}, rejectedCount: false },
    { label: "counts refused too", over: {}, rejectedCount: true },
  ];
  for (const v of variants) {
    for (const trueRpm of [60, 600, 3000]) {
      for (const start of [trueRpm / 4, trueRpm * 3]) rows.push(aimdRow(v.label, trueRpm, start, CONTROLLER(start, v.over), v.rejectedCount, minutes));
    }
  }
  const ablation: string[][] = [["variant", "provider", "true rpm", "start rpm", "settled after", "accepted / limit", "429 share after"]];
  const cases: [string, number, boolean, Partial<AimdOptions>][] = [
    ["default (factor 0.9, +2 rpm per 10 s, slow start)", 600, false, {}],
    ["decreaseFactor 0.5 (+10 rpm)", 600, false, { decreaseFactor: 0.5, increaseRpm: 10 }],
    ["no slow start", 600, false, { slowStart: false }],
    ["no slow start, +10 rpm", 600, false, { slowStart: false, increaseRpm: 10 }],
    ["+1 rpm (a tenth of the limit per minute)", 60, true, { increaseRpm: 1 }],
  ];
  for (const [label, trueRpm, rejectedCount, over] of cases) {
    const start = trueRpm / 4;
    ablation.push([label, ...aimdRow(rejectedCount ? "counts refused too" : "counts admitted", trueRpm, start, CONTROLLER(start, over), rejectedCount, minutes)]);
  }
  return [
    `\n## AIMD: finding a limit it is not told (${minutes} simulated minutes each, answers after 0.5 s)`,
    "settled after = time from which every trailing minute admitted ≥ 80 % of the true limit; the last two columns are over the minutes after it",
    "(not settled: over the second half of the run).",
    table(rows),
    "",
    "Variants:",
    table(ablation),
  ].join("\n");
}

function aimdRow(label: string, trueRpm: number, start: number, controller: AimdOptions, rejectedCount: boolean, minutes: number): string[] {
  const run = simulateAimd({ controller, trueRpm, minutes, rejectedCount, latencyMs: 500 });
  if (run.settledAfterMs === null) {
    const all = totals(run.minutes, Math.floor(minutes / 2));
    return [label, String(trueRpm), String(start), "not settled", pct(all.accepted / (minutes - Math.floor(minutes / 2)) / trueRpm), pct(all.throttledShare, 2)];
  }
  const from = Math.ceil(run.settledAfterMs / 60_000) + 1;
  const after = totals(run.minutes, from);
  const mins = run.minutes.length - from;
  return [label, String(trueRpm), String(start), `${fmt(run.settledAfterMs / 1000, 0)} s`, pct(after.accepted / mins / trueRpm), pct(after.throttledShare, 2)];
}

function opsReport(short: boolean): string {
  const n = short ? 200_000 : 1_000_000;
  const keys = 100;
  const nodes: Req[] = Array.from({ length: n }, (_, i) => ({ at: 0, flow: `k${i % keys}`, prev: null, next: null, queued: false }));
  const time = (make: () => Line): number => {
    const q = make();
    const t0 = performance.now();
    for (const x of nodes) q.push(x);
    while (q.shift());
    return performance.now() - t0;
  };
  time(() => new WaitQueue<Req>()); // warm-up
  time(() => new FairQueue<Req>());
  const fifo = time(() => new WaitQueue<Req>());
  const fair = time(() => new FairQueue<Req>());
  const rows = [
    ["queue", "ns per push+shift", "vs FIFO"],
    ["WaitQueue (FIFO)", fmt((fifo * 1e6) / n, 0), "1.00×"],
    [`FairQueue (${keys} flows)`, fmt((fair * 1e6) / n, 0), `${fmt(fair / fifo, 2)}×`],
  ];
  return `\n## Queue operations (${n.toLocaleString("en")} nodes pushed, then all shifted)\n${table(rows)}`;
}

const { values } = parseArgs({ options: { short: { type: "boolean", default: false } } });
const short = values.short === true;
console.log(`# fairness and adaptive rate (${short ? "short" : "full"}), bun ${Bun.version}`);
for (const sc of scenarios(short)) console.log(fairnessReport(sc));
console.log(aimdReport(short));
console.log(opsReport(short));
