/**
 * What each import costs at start-up: for every module below, a one-line
 * entry that imports it (and does nothing else) is run as a fresh process,
 * compiled with the release options (scripts/build.ts) and as a script
 * (`bun entry.ts`); the table gives spawn-to-exit medians minus those of an
 * empty entry. Imports are evaluated in both forms, so the numbers include
 * module top-level work (schemas built at load, tables filled, ...).
 *
 *   bun scripts/profile-startup.ts [--runs 15] [--only zod,yaml]
 *
 * Temporary entries go to .tmp/ (ignored by git) so that they resolve the
 * project's node_modules.
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { fmt, median, table } from "../bench/lib/stats.ts";
import { CHOSEN, ROOT, stubReactDevtools } from "./build.ts";

const MODULES: readonly { name: string; code: string }[] = [
  { name: "(empty entry)", code: "" },
  { name: "picocolors", code: `import "picocolors";` },
  { name: "commander", code: `import "commander";` },
  { name: "zod", code: `import "zod";` },
  { name: "yaml", code: `import "yaml";` },
  { name: "ioredis", code: `import "ioredis";` },
  { name: "gpt-tokenizer o200k (lazy in src)", code: `import "gpt-tokenizer/encoding/o200k_base";` },
  { name: "ink + react (lazy in src)", code: `import "ink"; import "react";` },
  { name: "unused dynamic import of ink + o200k", code: `if (process.argv[2] === "never") { await import("ink"); await import("gpt-tokenizer/encoding/o200k_base"); }` },
  { name: "src/config/schema.ts", code: `import "../../src/config/schema.ts";` },
  { name: "src/config/embedded.ts + one parse", code: `import { embeddedConfig } from "../../src/config/embedded.ts"; embeddedConfig("http://127.0.0.1:1/v1");` },
  { name: "  the same, zod jitless", code: `import { z } from "zod"; z.config({ jitless: true }); const { embeddedConfig } = await import("../../src/config/embedded.ts"); embeddedConfig("http://127.0.0.1:1/v1");` },
  { name: "src/cli/config-source.ts", code: `import "../../src/cli/config-source.ts";` },
  { name: "src/store/create-store.ts", code: `import "../../src/store/create-store.ts";` },
  { name: "src/tokens/index.ts", code: `import "../../src/tokens/index.ts";` },
  { name: "src/gateway/runtime.ts", code: `import "../../src/gateway/runtime.ts";` },
  { name: "src/gateway/server.ts", code: `import "../../src/gateway/server.ts";` },
  { name: "src/mock/mock-upstream.ts", code: `import "../../src/mock/mock-upstream.ts";` },
  { name: "src/cli/serve.ts", code: `import "../../src/cli/serve.ts";` },
  { name: "src/cli/check.ts", code: `import "../../src/cli/check.ts";` },
  { name: "src/cli/bench.ts", code: `import "../../src/cli/bench.ts";` },
  { name: "src/cli/stats.ts", code: `import "../../src/cli/stats.ts";` },
  { name: "src/cli/main.ts (all of the CLI)", code: `import "../../src/cli/main.ts";` },
];

const { values } = parseArgs({ options: { runs: { type: "string", default: "15" }, only: { type: "string" } } });
const runs = Number(values.runs);
const only = values.only?.split(",").map((s) => s.trim());
const chosen = MODULES.filter((m, i) => i === 0 || !only || only.some((o) => m.name.includes(o)));

async function timeRun(argv: string[], cwd: string): Promise<number> {
  const t0 = performance.now();
  const p = Bun.spawn(argv, { cwd, stdin: "ignore", stdout: "ignore", stderr: "pipe" });
  const [err, code] = await Promise.all([new Response(p.stderr).text(), p.exited]);
  if (code !== 0) throw new Error(`${argv.join(" ")} exited ${code}: ${err}`);
  return performance.now() - t0;
}

mkdirSync(join(ROOT, ".tmp"), { recursive: true });
const dir = mkdtempSync(join(ROOT, ".tmp", "profile-"));
try {
  const entries: { name: string; script: string; exe: string }[] = [];
  for (const [i, m] of chosen.entries()) {
    const script = join(dir, `e${i}.ts`);
    await Bun.write(script, `${m.code}\nexport {};\n`);
    const exe = join(dir, `e${i}`);
    const r = await Bun.build({
      entrypoints: [script],
      compile: { outfile: exe, autoloadBunfig: false, ...(CHOSEN.jitPolicy ? { jitPolicy: CHOSEN.jitPolicy } : {}) },
      minify: CHOSEN.minify,
      bytecode: CHOSEN.bytecode,
      splitting: CHOSEN.splitting,
      format: "esm",
      plugins: [stubReactDevtools],
    });
    if (!r.success) throw new Error(`${m.name}: ${r.logs.join("\n")}`);
    entries.push({ name: m.name, script, exe });
  }
  const times = entries.map(() => ({ exe: [] as number[], script: [] as number[] }));
  for (let round = -1; round < runs; round++) {
    for (const [i, e] of entries.entries()) {
      const a = await timeRun([e.exe], dir);
      const b = await timeRun([process.execPath, e.script], dir);
      if (round >= 0) {
        times[i]!.exe.push(a);
        times[i]!.script.push(b);
      }
    }
  }
  const base = { exe: median(times[0]!.exe), script: median(times[0]!.script) };
  const rows = [["import", "executable ms", "script ms"]];
  for (const [i, e] of entries.entries()) {
    const t = times[i]!;
    const exe = median(t.exe);
    const script = median(t.script);
    rows.push(i === 0 ? [e.name, `${fmt(exe, 1)} (base)`, `${fmt(script, 1)} (base)`] : [e.name, `+${fmt(exe - base.exe, 1)}`, `+${fmt(script - base.script, 1)}`]);
  }
  console.log(`# start-up cost of each import, spawn to exit, median of ${runs}, bun ${Bun.version}, ${process.platform}-${process.arch}`);
  console.log(table(rows));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
