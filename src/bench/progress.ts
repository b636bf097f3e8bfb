/**
 * Live progress of a bench run, on stderr (stdout is kept for the report).
 * It listens to the engine and only renders: on a terminal a bar redrawn on
 * every tick (~4×/s); otherwise (a pipe, a CI log) one plain line every few
 * seconds.
 */
import type { EventEmitter } from "node:events";
import pc from "picocolors";
import type { BenchEvents, Progress } from "./engine.ts";
import type { BenchSettings } from "./result.ts";

type Colors = ReturnType<typeof pc.createColors>;

export interface ProgressOut {
  write(s: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

export interface ProgressViewOptions {
  /** Plain mode: one line per this many ms (default 5 000). */
  readonly lineEveryMs?: number;
  /** Short description of the target (nodes, keys), shown in the first line. */
  readonly target?: string;
}

const BAR_WIDTH = 24;

/** Starts rendering the engine's events to `out`; returns a function that stops listening. */
export function attachProgress(
  engine: EventEmitter<BenchEvents>,
  out: ProgressOut,
  opts: ProgressViewOptions = {},
): () => void {
  const tty = out.isTTY === true;
  const c = pc.createColors(tty);
  const every = opts.lineEveryMs ?? 5000;
  let nextLineAt = every;
  let drawn = false;

  const onStart = (s: BenchSettings): void => {
    out.write(`${c.dim("limitrate bench:")} ${describeSettings(s)}${opts.target ? ` → ${opts.target}` : ""}\n`);
  };
  const onTick = (p: Progress): void => {
    if (tty) {
      // A pseudo-terminal may report 0 columns: treat that as unknown.
      const width = out.columns ? Math.max(40, out.columns - 1) : 120;
      out.write(`\r\x1b[2K${clip(progressLine(p, c, true), width)}`);
      drawn = true;
    } else if (p.elapsedMs >= nextLineAt) {
      nextLineAt = (Math.floor(p.elapsedMs / every) + 1) * every;
      out.write(`${progressLine(p, c, false)}\n`);
    }
  };
  const onDone = (): void => {
    if (drawn) out.write("\r\x1b[2K");
    drawn = false;
  };
  engine.on("start", onStart);
  engine.on("tick", onTick);
  engine.on("done", onDone);
  return () => {
    engine.off("start", onStart);
    engine.off("tick", onTick);
    engine.off("done", onDone);
    onDone();
  };
}

export function describeSettings(s: BenchSettings): string {
  const loop =
    s.mode === "open" ? `open loop at ${s.rate} req/s (≤ ${s.concurrency} in flight)` : `${s.concurrency} workers`;
  const target =
    s.target_requests != null ? `${s.target_requests} requests` : `${s.target_duration_s ?? "?"} s`;
  return `${loop}, ${target}, model ${s.model}${s.stream ? ", streaming" : ""}`;
}

/** One progress line; `bar` adds the bar a terminal redraws in place. */
export function progressLine(p: Progress, c: Colors, bar: boolean): string {
  const parts: string[] = [];
  if (bar) {
    const full = Math.round(p.fraction * BAR_WIDTH);
    parts.push(`${c.cyan("█".repeat(full))}${c.dim("░".repeat(BAR_WIDTH - full))} ${String(Math.floor(p.fraction * 100)).padStart(3)}%`);
  } else {
    parts.push(`[${String(Math.floor(p.fraction * 100)).padStart(3)}%]`);
  }
  parts.push(`${(p.elapsedMs / 1000).toFixed(1)}s`);
  parts.push(`${p.done} done`);
  parts.push(`${Math.round(p.rps)} rps`);
  const finishing = p.fraction >= 1 && p.inFlight > 0 && p.settings.target_requests == null;
  parts.push(finishing ? `waiting for ${p.inFlight} answers` : `${p.inFlight} in flight${p.waiting > 0 ? ` +${p.waiting} due` : ""}`);
  const codes = Object.keys(p.status).sort((a, b) => Number(a) - Number(b));
  const counts = codes.map((code) => paintStatus(c, code, `${code}:${p.status[code]}`));
  if (p.errors > 0) counts.push(c.red(`err:${p.errors}`));
  if (counts.length > 0) parts.push(counts.join(" "));
  return parts.join("  ");
}

export function paintStatus(c: Colors, code: string, text: string): string {
  const n = Number(code);
  if (n >= 200 && n < 300) return c.green(text);
  if (n === 429 || n === 503) return c.yellow(text);
  if (n >= 400) return c.red(text);
  return text;
}

/** Cuts a line to the terminal width, counting visible characters only (colour codes are free). */
function clip(line: string, width: number): string {
  let visible = 0;
  let out = "";
  for (let i = 0; i < line.length; i++) {
    if (line[i] === "\x1b") {
      const end = line.indexOf("m", i);
      if (end !== -1) {
        out += line.slice(i, end + 1);
        i = end;
        continue;
      }
    }
    if (visible >= width) continue;
    out += line[i];
    visible++;
  }
  return out;
}
