// `serve` must never load ink: the stats command reaches its views only through dynamic imports,
// and the plain and JSON modes never import ink or React at all.
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "../..");
const staticImports = (file: string) =>
  [...readFileSync(file, "utf8").matchAll(/^\s*import\s+(?!type\b)[^;]*?from\s+"([^"]+)"/gm)].map((m) => m[1]!);

/** Every module a file loads statically, transitively (our own files only followed). */
function closure(entry: string): Set<string> {
  const seen = new Set<string>();
  const visit = (file: string) => {
    for (const spec of staticImports(file)) {
      const target = spec.startsWith(".") ? resolve(dirname(file), spec) : spec;
      if (seen.has(target)) continue;
      seen.add(target);
      if (spec.startsWith(".")) visit(target);
    }
  };
  visit(entry);
  return seen;
}

test("src/cli/stats.ts imports nothing of the TUI statically", () => {
  expect([...closure(resolve(ROOT, "src/cli/stats.ts"))]).toEqual(["commander"]);
});

test("plain lines and --json never load ink or React", () => {
  for (const entry of ["src/tui/plain-report.ts", "src/tui/stats-json.ts"]) {
    const loaded = [...closure(resolve(ROOT, entry))];
    expect(loaded.filter((m) => m === "ink" || m === "react" || m.endsWith(".tsx"))).toEqual([]);
  }
});
