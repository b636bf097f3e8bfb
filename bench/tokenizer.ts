/**
 * Token counting speed: js-tiktoken against gpt-tokenizer on the same text,
 * and limitrate's countText (gpt-tokenizer with its guards, through the
 * counting worker for inputs this size); then how long a 1 MB count stalls
 * the event loop inline and through the worker.
 *
 *   bun bench/tokenizer.ts [--runs 5] [--encoding o200k_base|cl100k_base] [--file PATH]
 *
 * Text comes from test/tokens/corpus.ts: "english" (Zipf-distributed real
 * words, 5% invented) and "mixed" (English with code, JSON, CJK, emoji…);
 * --file adds a row of that file's text, repeated to size (real prose, e.g.
 * /usr/share/common-licenses/GPL-3).
 * Each figure is the median of --runs; gpt-tokenizer's merge cache is
 * cleared before each run so it never counts text it has already seen.
 */
import { getEncoding } from "js-tiktoken";
import { parseArgs } from "node:util";
import { loadCounter } from "../src/tokens/encoders.ts";
import { countText, type Encoding, stopCountWorker } from "../src/tokens/index.ts";
import { english, mixed } from "../test/tokens/corpus.ts";
import { headline, type Headline } from "./lib/summary.ts";

export interface TokenizerOptions {
  readonly runs: number;
  readonly encoding: Encoding;
  readonly file?: string;
}

const AS_TEXT = { disallowedSpecial: new Set<string>() };
/** The bench's own bars: limitrate's count no slower than js-tiktoken's; the worker cuts the event-loop stall at least 10× against counting inline. */
const TARGET_SPEED_X = 1;
const TARGET_LAG_RATIO = 0.1;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function timed<T>(fn: () => T): [T, number] {
  const t0 = performance.now();
  const out = fn();
  return [out, performance.now() - t0];
}

function row(cells: (string | number)[], widths: number[]): string {
  return cells.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]!) : String(c).padStart(widths[i]!))).join("  ");
}

export async function runTokenizer(o: TokenizerOptions): Promise<Headline[]> {
  const { runs, encoding } = o;
  const values = { file: o.file };
  const heads: Headline[] = [];
  console.log(`\n## 5. token counting, ${encoding}, bun ${Bun.version}, ${navigator.hardwareConcurrency} cores, median of ${runs}`);

  // loading the rank tables (each once per process and thread)
  const [tiktoken, jsLoad] = timed(() => getEncoding(encoding));
  const t0 = performance.now();
  const gpt = encoding === "cl100k_base" ? await import("gpt-tokenizer/encoding/cl100k_base") : await import("gpt-tokenizer/encoding/o200k_base");
  gpt.countTokens("warm", AS_TEXT);
  const gptLoad = performance.now() - t0;
  const counter = await loadCounter(encoding);
  console.log(`\nload: js-tiktoken ${jsLoad.toFixed(0)} ms, gpt-tokenizer ${gptLoad.toFixed(0)} ms`);

  const W = [22, 9, 9, 9, 9, 9, 7];
  console.log("\n" + row(["text", "tokens", "js ms", "js MB/s", "gpt ms", "gpt MB/s", "gpt×"], W));
  const lines: string[] = [];
  const fileText = values.file === undefined ? undefined : await Bun.file(values.file).text();
  const fromFile = (chars: number) => (fileText ?? "").repeat(Math.ceil(chars / Math.max(1, fileText?.length ?? 1))).slice(0, chars);
  const kinds: [string, (chars: number, seed: number) => string][] = [["english", english], ["mixed", mixed]];
  if (fileText) kinds.push(["file", fromFile]);
  for (const [kind, make] of kinds) {
    for (const chars of [100_000, 1_000_000]) {
      const text = make(chars, 7);
      const mb = Buffer.byteLength(text) / 1e6;
      const js: number[] = [];
      const gt: number[] = [];
      const ours: number[] = [];
      let counts = new Set<number>();
      await countText(text, encoding); // worker started and loaded
      for (let r = 0; r < runs; r++) {
        const [a, ta] = timed(() => tiktoken.encode(text, [], []).length);
        gpt.clearMergeCache();
        const [b, tb] = timed(() => gpt.countTokens(text, AS_TEXT));
        const tc0 = performance.now();
        const c = await countText(text, encoding);
        const tc = performance.now() - tc0;
        js.push(ta);
        gt.push(tb);
        ours.push(tc);
        counts = new Set([...counts, a, b, c]);
      }
      const [mj, mg, mo] = [median(js), median(gt), median(ours)];
      const label = `${kind} ${chars >= 1e6 ? `${chars / 1e6} MB` : `${chars / 1e3} KB`}`;
      if (counts.size !== 1) console.log(`!! counts differ for ${label}: ${[...counts].join(", ")}`);
      console.log(
        row(
          [label, [...counts][0]!, mj.toFixed(1), (mb / (mj / 1000)).toFixed(1), mg.toFixed(1), (mb / (mg / 1000)).toFixed(1), (mj / mg).toFixed(1)],
          W,
        ),
      );
      lines.push(`  ${label.padEnd(14)} ${mo.toFixed(1)} ms (${(mb / (mo / 1000)).toFixed(1)} MB/s, ${(mj / mo).toFixed(2)}× js-tiktoken)`);
      if (kind === "english" && chars === 1_000_000) {
        heads.push(headline("5 tokenizer", "countText, 1 MB English: MB/s; × js-tiktoken", `${(mb / (mo / 1000)).toFixed(1)} MB/s; ${(mj / mo).toFixed(2)}×`, `≥ ${TARGET_SPEED_X}×`, mj / mo >= TARGET_SPEED_X));
      }
    }
  }
  console.log("(same counts from both libraries on every text unless flagged with !!)");
  console.log("\nlimitrate countText (gpt-tokenizer + guards + bounded merge cache, in the worker, round trip included):");
  for (const l of lines) console.log(l);

  /** Worst lateness of a 5 ms interval while `work` runs, and how long it took. */
  async function lagDuring(work: () => unknown): Promise<{ lag: number; ms: number }> {
    let last = performance.now();
    let lag = 0;
    const timer = setInterval(() => {
      const now = performance.now();
      lag = Math.max(lag, now - last - 5);
      last = now;
    }, 5);
    await Bun.sleep(20);
    const start = performance.now();
    await work();
    const ms = performance.now() - start;
    await Bun.sleep(20); // let a delayed tick land
    clearInterval(timer);
    return { lag, ms };
  }

  const mbText = english(1_000_000, 8);
  const inline = await lagDuring(() => counter.count(mbText));
  const viaWorker = await lagDuring(() => countText(mbText, encoding));
  console.log("\nevent-loop lag while counting 1 MB of English (5 ms interval, worst lateness):");
  console.log(`  inline      ${inline.lag.toFixed(1)} ms lag  (count took ${inline.ms.toFixed(0)} ms)`);
  console.log(`  in worker   ${viaWorker.lag.toFixed(1)} ms lag  (count took ${viaWorker.ms.toFixed(0)} ms)`);
  stopCountWorker();
  const lagRatio = viaWorker.lag / inline.lag;
  heads.push(headline("5 tokenizer", "event-loop lag counting 1 MB: worker / inline", `${lagRatio.toFixed(3)}× (${viaWorker.lag.toFixed(1)} ms / ${inline.lag.toFixed(1)} ms)`, `≤ ${TARGET_LAG_RATIO}×`, lagRatio <= TARGET_LAG_RATIO));
  return heads;
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      runs: { type: "string", default: "5" },
      encoding: { type: "string", default: "o200k_base" },
      file: { type: "string" },
    },
  });
  await runTokenizer({
    runs: Math.max(1, Number(values.runs) || 5),
    encoding: values.encoding === "cl100k_base" ? "cl100k_base" : "o200k_base",
    file: values.file,
  });
}
