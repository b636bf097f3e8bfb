/**
 * The bench report: pure functions of a BenchResult. `reportJson` is the
 * object `bench --json` writes (DESIGN.md contract); `formatReport` the text
 * a person reads. Neither prints anything.
 */
import pc from "picocolors";
import { describeSettings, paintStatus } from "./progress.ts";
import type { BenchResult, GroupStats, KeyLimitCheck, Percentiles } from "./result.ts";
import { okCount } from "./tally.ts";

type Colors = ReturnType<typeof pc.createColors>;

export interface LatencyJson {
  readonly p50: number | null;
  readonly p90: number | null;
  readonly p99: number | null;
  readonly max: number | null;
  readonly min: number | null;
  readonly mean: number | null;
  readonly count: number;
}

export interface GroupJson {
  readonly requests: number;
  readonly rps: number;
  readonly status: Record<string, number>;
  readonly errors: number;
  /** Every HTTP answer, whatever its status. */
  readonly latency_ms: LatencyJson;
  /** 2xx answers only. */
  readonly latency_ok_ms: LatencyJson;
  readonly ttft_ms?: LatencyJson;
}

export interface BenchJson extends GroupJson {
  readonly duration_s: number;
  readonly error_kinds: Record<string, number>;
  /** Fraction (0..1) of requests answered 429 / 503. */
  readonly share_429: number;
  readonly share_503: number;
  readonly by_url: Record<string, GroupJson>;
  readonly by_key: Record<string, GroupJson>;
  readonly key_limits: readonly KeyLimitCheck[];
  readonly unsent: number;
  readonly unfinished: number;
  readonly settings: BenchResult["settings"];
}

const round = (x: number, digits: number): number => {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};

function latencyJson(p: Percentiles | null): LatencyJson {
  const ms = (x: number | undefined) => (x === undefined ? null : round(x, 2));
  return { p50: ms(p?.p50), p90: ms(p?.p90), p99: ms(p?.p99), max: ms(p?.max), min: ms(p?.min), mean: ms(p?.mean), count: p?.count ?? 0 };
}

function groupJson(g: GroupStats, durationS: number, stream: boolean): GroupJson {
  return {
    requests: g.requests,
    rps: durationS > 0 ? round(g.requests / durationS, 2) : 0,
    status: { ...g.status },
    errors: g.errors,
    latency_ms: latencyJson(g.latency),
    latency_ok_ms: latencyJson(g.latency_ok),
    ...(stream ? { ttft_ms: latencyJson(g.ttft) } : {}),
  };
}

function share(g: GroupStats, code: string): number {
  return g.requests > 0 ? (g.status[code] ?? 0) / g.requests : 0;
}

export function reportJson(r: BenchResult): BenchJson {
  const stream = r.settings.stream;
  const mapGroups = (m: Readonly<Record<string, GroupStats>>) =>
    Object.fromEntries(Object.entries(m).map(([k, g]) => [k, groupJson(g, r.duration_s, stream)]));
  return {
    ...groupJson(r.total, r.duration_s, stream),
    duration_s: round(r.duration_s, 3),
    error_kinds: { ...r.total.error_kinds },
    share_429: round(share(r.total, "429"), 4),
    share_503: round(share(r.total, "503"), 4),
    by_url: mapGroups(r.by_url),
    by_key: mapGroups(r.by_key),
    key_limits: r.key_limits,
    unsent: r.unsent,
    unfinished: r.unfinished,
    settings: r.settings,
  };
}

// ---- text ----

export function formatMs(ms: number | null | undefined): string {
  if (ms == null || Number.isNaN(ms)) return "–";
  if (ms >= 1000) return `${(ms / 1000).toFixed(ms >= 100_000 ? 0 : 2)} s`;
  if (ms >= 100) return `${ms.toFixed(0)} ms`;
  if (ms >= 10) return `${ms.toFixed(1)} ms`;
  return `${ms.toFixed(2)} ms`;
}

const int = (n: number): string => n.toLocaleString("en-US");
const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;
const rate = (n: number, s: number): string => (s > 0 ? (n / s).toFixed(1) : "–");

interface Cell {
  readonly text: string;
  readonly paint?: (s: string) => string;
  readonly left?: boolean;
}

/** Columns padded on plain text, painted afterwards, so colours never skew the widths. */
function table(header: readonly Cell[], rows: readonly (readonly Cell[])[], c: Colors): string[] {
  const widths = header.map((h, i) => Math.max(h.text.length, ...rows.map((r) => r[i]?.text.length ?? 0)));
  const line = (cells: readonly Cell[], isHeader: boolean) =>
    "    " +
    cells
      .map((cell, i) => {
        const padded = cell.left ? cell.text.padEnd(widths[i]!) : cell.text.padStart(widths[i]!);
        if (isHeader) return c.dim(padded);
        return cell.paint ? cell.paint(padded) : padded;
      })
      .join("  ")
      .trimEnd();
  return [line(header, true), ...rows.map((r) => line(r, false))];
}

function statusLine(g: GroupStats, c: Colors): string {
  const codes = Object.keys(g.status);
  if (codes.length === 0) return c.dim("no HTTP answers");
  return codes
    .map((code) => paintStatus(c, code, `${code}: ${int(g.status[code]!)}`) + c.dim(` (${pct(g.status[code]! / g.requests)})`))
    .join("   ");
}

function latencyLine(p: Percentiles | null): string {
  if (!p) return "–";
  return `p50 ${formatMs(p.p50)}   p90 ${formatMs(p.p90)}   p99 ${formatMs(p.p99)}   max ${formatMs(p.max)}`;
}

function groupRows(m: Readonly<Record<string, GroupStats>>, durationS: number, c: Colors): Cell[][] {
  return Object.entries(m).map(([name, g]) => {
    let ok = 0;
    let other = 0;
    for (const [code, n] of Object.entries(g.status)) {
      const s = Number(code);
      if (s >= 200 && s < 300) ok += n;
      else if (s !== 429 && s !== 503) other += n;
    }
    const n429 = g.status["429"] ?? 0;
    const n503 = g.status["503"] ?? 0;
    return [
      { text: name, left: true },
      { text: int(g.requests) },
      { text: rate(g.requests, durationS) },
      { text: int(ok), paint: ok > 0 ? c.green : undefined },
      { text: int(n429), paint: n429 > 0 ? c.yellow : undefined },
      { text: int(n503), paint: n503 > 0 ? c.yellow : undefined },
      { text: int(other), paint: other > 0 ? c.red : undefined },
      { text: int(g.errors), paint: g.errors > 0 ? c.red : undefined },
      { text: formatMs(g.latency?.p50) },
      { text: formatMs(g.latency?.p99) },
      { text: formatMs(g.latency_ok?.p50) },
    ];
  });
}

function breakdown(title: string, first: string, m: Readonly<Record<string, GroupStats>>, durationS: number, c: Colors): string[] {
  const header: Cell[] = [first, "requests", "req/s", "2xx", "429", "503", "other", "errors", "p50", "p99", "2xx p50"].map(
    (text, i) => ({ text, left: i === 0 }),
  );
  return ["", `  ${c.bold(title)}`, ...table(header, groupRows(m, durationS, c), c)];
}

export function limitLine(k: KeyLimitCheck, c: Colors, keyWidth = 0): string {
  const verdict = k.ok ? c.green("✓ within the limit") : c.red("✗ OVER the limit");
  return `    ${k.key.padEnd(keyWidth)}  ${k.dimension} ${int(k.limit)}: accepted ${int(k.accepted)} ${k.ok ? "≤" : ">"} ${int(k.allowed)} allowed over the run  ${verdict}`;
}

export interface FormatOptions {
  /** ANSI colours (default off: pure text). */
  readonly colors?: boolean;
}

export function formatReport(r: BenchResult, opts: FormatOptions = {}): string {
  const c = pc.createColors(opts.colors ?? false);
  const t = r.total;
  const d = r.duration_s;
  const lines: string[] = [];
  const label = (s: string) => `  ${s.padEnd(12)}`;
  lines.push(c.bold(`limitrate bench: ${int(t.requests)} requests in ${d.toFixed(2)} s`) + c.dim(` (${describeSettings(r.settings)})`));
  lines.push("");
  lines.push(`${label("throughput")}${c.bold(rate(t.requests, d))} req/s` + c.dim(`   (2xx: ${rate(okCount(t), d)} req/s)`));
  lines.push(`${label("status")}${statusLine(t, c)}`);
  lines.push(`${label("refused")}429: ${pct(share(t, "429"))}   503: ${pct(share(t, "503"))}`);
  const kinds = Object.entries(t.error_kinds).map(([k, n]) => `${k}: ${int(n)}`).join(", ");
  lines.push(`${label("errors")}${t.errors > 0 ? c.red(int(t.errors)) : "0"}${kinds ? c.dim(`  (${kinds})`) : ""}`);
  lines.push(`${label("latency")}${latencyLine(t.latency)}` + c.dim("   all answers"));
  lines.push(`${label("")}${latencyLine(t.latency_ok)}` + c.dim("   2xx only"));
  if (r.settings.stream) lines.push(`${label("first token")}${latencyLine(t.ttft)}` + c.dim("   2xx streams"));
  if (r.settings.mode === "open") {
    lines.push(c.dim(`  open loop: latency runs from each request's intended send time, so waiting to be sent counts.`));
  }
  if (r.unsent > 0) lines.push(c.yellow(`  ${int(r.unsent)} requests were due but never sent before the run ended.`));
  if (r.unfinished > 0) lines.push(c.yellow(`  ${int(r.unfinished)} requests still had no answer when the run ended (cut off, not counted).`));
  lines.push(...breakdown("by node", "url", r.by_url, d, c));
  if (Object.keys(r.by_key).length > 0) lines.push(...breakdown("by key", "key", r.by_key, d, c));
  if (r.key_limits.length > 0) {
    lines.push("", `  ${c.bold("key limits")}` + c.dim(" (from the gateway's /admin/stats)"));
    const width = Math.max(...r.key_limits.map((k) => k.key.length));
    for (const k of r.key_limits) lines.push(limitLine(k, c, width));
  }
  return lines.join("\n") + "\n";
}
