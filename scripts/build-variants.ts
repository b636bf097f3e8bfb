/**
 * Measures build options for the executable: size, build time, and cold
 * start (`--version` to exit; `serve --port 0` to the first 200 of
 * /admin/health) — the table in scripts/build.ts comes from here.
 *
 *   bun scripts/build-variants.ts [--runs 15] [--only 3,4,5]   (indexes into VARIANTS)
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { measure, type Contender } from "../bench/cold-start.ts";
import { fmt, table } from "../bench/lib/stats.ts";
import { buildExecutable, gitCommit, type BuildOptions } from "./build.ts";

const { values } = parseArgs({ options: { runs: { type: "string", default: "15" }, only: { type: "string" } } });
const runs = Number(values.runs);
/** --only 0,4,5: indexes into VARIANTS. */
const only = values.only?.split(",").map(Number);

const VARIANTS: { name: string; o: Omit<BuildOptions, "outfile">; pgo?: boolean }[] = [
  { name: "plain", o: {} },
  { name: "minify", o: { minify: true } },
  { name: "bytecode", o: { bytecode: true } },
  { name: "minify + bytecode", o: { minify: true, bytecode: true } },
  { name: "minify + bytecode + sourcemap", o: { minify: true, bytecode: true, sourcemap: "linked" } },
  { name: "... + splitting", o: { minify: true, bytecode: true, sourcemap: "linked", splitting: true } },
  { name: "... + jitPolicy 8", o: { minify: true, bytecode: true, sourcemap: "linked", jitPolicy: 8 } },
  // Profile-guided bytecode layout: recorded from one serve run (health, one chat, SIGTERM).
  { name: "... + bytecode order (serve)", o: { minify: true, bytecode: true, sourcemap: "linked" }, pgo: true },
  { name: "... + splitting + jitPolicy 8", o: { minify: true, bytecode: true, sourcemap: "linked", splitting: true, jitPolicy: 8 } },
  { name: "... + splitting + bytecode order", o: { minify: true, bytecode: true, sourcemap: "linked", splitting: true }, pgo: true },
  { name: "... + splitting + jitPolicy 8 + order", o: { minify: true, bytecode: true, sourcemap: "linked", splitting: true, jitPolicy: 8 }, pgo: true },
  { name: "... + splitting + jitPolicy 4", o: { minify: true, bytecode: true, sourcemap: "linked", splitting: true, jitPolicy: 4 } },
  { name: "... + splitting + jitPolicy 32", o: { minify: true, bytecode: true, sourcemap: "linked", splitting: true, jitPolicy: 32 } },
];

/** Runs `exe serve --port 0` with BUN_BYTECODE_ORDER_OUT set: to ready, one chat completion, SIGTERM. */
async function recordOrder(exe: string, out: string): Promise<void> {
  const cwd = mkdtempSync(join(tmpdir(), "limitrate-order-"));
  const p = Bun.spawn([exe, "serve", "--port", "0"], { cwd, env: { ...process.env, HOME: cwd, BUN_BYTECODE_ORDER_OUT: out }, stdout: "pipe", stderr: "ignore" });
  try {
    const reader = p.stdout.getReader();
    let text = "";
    let m: RegExpExecArray | null = null;
    while (!(m = /listening on (http:\/\/\S+)/.exec(text))) {
      const r = await reader.read();
      if (r.done) throw new Error("serve exited before its URL");
      text += new TextDecoder().decode(r.value);
    }
    await fetch(`${m[1]}/admin/health`);
    await (await fetch(`${m[1]}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] }) })).text();
  } finally {
    p.kill("SIGTERM");
    await p.exited;
    rmSync(cwd, { recursive: true, force: true });
  }
}

const dir = mkdtempSync(join(tmpdir(), "limitrate-variants-"));
try {
  const commit = await gitCommit();
  const contenders: Contender[] = [];
  const built: { name: string; bytes: number; ms: number }[] = [];
  for (const [i, v] of VARIANTS.entries()) {
    if (only && !only.includes(i)) continue;
    const outfile = join(dir, `v${i}`, "limitrate");
    let o: BuildOptions = { ...v.o, commit, outfile };
    if (v.pgo) {
      await buildExecutable(o);
      const order = join(dir, `v${i}.order`);
      await recordOrder(outfile, order);
      o = { ...o, bytecodeOrder: order };
    }
    const b = await buildExecutable(o);
    built.push({ name: v.name, bytes: b.bytes, ms: b.ms });
    contenders.push({ name: v.name, cmd: [b.outfile] });
    console.error(`built ${v.name}: ${(b.bytes / 1024 / 1024).toFixed(1)} MiB in ${(b.ms / 1000).toFixed(1)} s`);
  }
  const results = await measure(contenders, runs);
  const rows = [["variant", "size MiB", "build s", "--version p50", "ready p50", "ready p90", "banner p50"]];
  for (const [i, r] of results.entries()) {
    const b = built[i]!;
    rows.push([r.name, fmt(b.bytes / 1024 / 1024, 1), fmt(b.ms / 1000, 1), fmt(r.version.median, 1), fmt(r.health.median, 1), fmt(r.health.p90, 1), fmt(r.banner.median, 1)]);
  }
  console.log(`# build variants, ${runs} cold starts each (interleaved), bun ${Bun.version}, ${process.platform}-${process.arch}`);
  console.log(table(rows));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
