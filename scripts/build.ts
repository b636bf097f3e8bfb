/**
 * Builds the single-file executable.
 *
 *   bun run build                      dist/limitrate for this machine
 *   bun run build:all                  dist/limitrate-<os>-<arch>[.exe] for every release target
 *                                      (a target whose runtime cannot be downloaded is skipped,
 *                                      with the reason; add --strict to fail instead)
 *   bun scripts/build.ts --target bun-linux-arm64 [--outfile dist/x]
 *
 * Entry points: scripts/entry.ts (bin/limitrate has no .ts extension, and
 * `bun build --compile` would take it for a plain file) and
 * scripts/count-worker.ts (the token-counting worker; see that file for why
 * it sits beside the entry and not in src/).
 *
 * Options, chosen by measurement (bun scripts/build-variants.ts --runs 20;
 * bun 1.4.5, linux-x64, 2 cores, a machine shared with other work, so ±3 ms):
 * spawn to exit of `--version`, and spawn of `serve --port 0` (cwd and HOME
 * an empty folder: embedded default) to the first 200 of /admin/health.
 *
 *   variant                                size MiB  --version p50  ready p50  ready p90
 *   plain                                     116.4           92.3      109.1      147.5
 *   minify                                    112.4           79.6       93.8      107.5
 *   bytecode                                  135.8           29.9       38.4       50.4
 *   minify + bytecode                         130.9           30.2       39.7       52.1
 *   minify + bytecode + sourcemap             137.8           29.4       41.6       55.3
 *   ... + splitting                           126.9           25.7       38.3       46.1
 *   ... + jitPolicy 8                         137.8           24.6       33.9       47.5
 *   ... + bytecode order (serve profile)      134.8           27.2       38.8       46.6
 *   ... + splitting + jitPolicy 8             126.9           22.5       31.2       38.6   <- chosen
 *   ... + splitting + jitPolicy 8 + order     126.9           22.2       29.4       38.2
 *   ... + splitting + jitPolicy 4 / 32        126.9      23.7/21.1  33.7/30.4  43.4/37.8
 *   (a hello-world executable: 109.2 MiB, ~5 ms)
 *
 * - bytecode: the one option that matters. The bundle is ~4.7 MB of JS
 *   (3.5 MB of it gpt-tokenizer's ranks); without bytecode JavaScriptCore
 *   parses all of it at every start (~70 ms). +19 MiB.
 * - minify: with bytecode, no time either way; 5 MiB smaller. Names in stack
 *   traces come back through the sourcemap.
 * - sourcemap "linked": embedded zstd-compressed, read only when an error's
 *   stack is printed, so stack traces point at src/ files; +4 MiB, no time.
 *   (The .map files Bun also writes beside the output are deleted: the
 *   executable does not need them.)
 * - splitting: lazily imported code (ink/react for `stats`, the tokenizer
 *   ranks) goes to chunks that serve never loads (~3 ms), and the counting
 *   worker shares its chunks with the main code instead of holding its own
 *   copy of the ranks (-11 MiB).
 * - jitPolicy 8: start-up code runs once; with tier-up thresholds × 8 the JIT
 *   leaves it in the interpreter: ~7 ms. scripts/entry.ts sets the normal
 *   policy back after the command's synchronous start, and the counting
 *   worker at its own start, so request paths and bench loops tier up as
 *   usual. 4 gains a little less, 32 no more.
 * - bytecode order (profile-guided layout, BUN_BYTECODE_ORDER_OUT): ~1-2 ms,
 *   within the noise here, for a recording run at every build: not used
 *   (BuildOptions.bytecodeOrder is there to try again).
 * - autoloadBunfig off: a bunfig.toml in whatever folder the user runs the
 *   gateway from (e.g. a project's test settings) must not change it.
 *   .env loading stays on, like `bun bin/limitrate`: ${VAR} in the config
 *   may come from it.
 */
import type { BunPlugin } from "bun";
import { existsSync, mkdirSync, rmSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";

export const ROOT = resolve(import.meta.dir, "..");
export const ENTRYPOINTS: readonly string[] = [join(ROOT, "scripts/entry.ts"), join(ROOT, "scripts/count-worker.ts")];

/** The release targets of `build:all`, named as `--target bun-<os>-<arch>`. */
export const RELEASE_TARGETS = ["bun-linux-x64", "bun-linux-arm64", "bun-darwin-x64", "bun-darwin-arm64", "bun-windows-x64"] as const;
export type ReleaseTarget = (typeof RELEASE_TARGETS)[number];

/**
 * ink imports react-devtools-core (only when DEV=true) and the bundler must
 * resolve it; marking it external compiles, but the executable then dies at
 * start looking for the package. A tiny stub keeps the executable whole.
 */
export const stubReactDevtools: BunPlugin = {
  name: "stub-react-devtools-core",
  setup(build) {
    build.onResolve({ filter: /^react-devtools-core$/ }, () => ({ path: "react-devtools-core", namespace: "limitrate-stub" }));
    build.onLoad({ filter: /.*/, namespace: "limitrate-stub" }, () => ({
      contents: "const devtools = { initialize() {}, connectToDevTools() {} };\nexport default devtools;\n",
      loader: "js",
    }));
  },
};

export interface BuildOptions {
  /** e.g. "bun-linux-arm64"; absent: this machine. */
  readonly target?: string;
  readonly outfile: string;
  readonly minify?: boolean;
  readonly bytecode?: boolean;
  readonly sourcemap?: "none" | "linked";
  readonly splitting?: boolean;
  /** Profile(s) from BUN_BYTECODE_ORDER_OUT to lay the bytecode out by (needs bytecode). */
  readonly bytecodeOrder?: string | readonly string[];
  /** JavaScriptCore tier-up thresholds × this at start (1 = normal). */
  readonly jitPolicy?: number;
  /** Commit to embed as LIMITRATE_COMMIT (default: `git rev-parse --short HEAD`, else "unknown"). */
  readonly commit?: string;
}

/** The measured best (see the table above). */
export const CHOSEN: Omit<BuildOptions, "outfile" | "target"> = { minify: true, bytecode: true, sourcemap: "linked", splitting: true, jitPolicy: 8 };

/** Short commit of the work tree, "-dirty" when it has uncommitted changes, or "unknown" outside git. */
export async function gitCommit(cwd = ROOT): Promise<string> {
  const run = async (args: string[]) => {
    try {
      const p = Bun.spawn(["git", ...args], { cwd, stdout: "pipe", stderr: "ignore", stdin: "ignore" });
      const [out, code] = await Promise.all([new Response(p.stdout).text(), p.exited]);
      return code === 0 ? out.trim() : null;
    } catch {
      return null;
    }
  };
  const sha = await run(["rev-parse", "--short", "HEAD"]);
  if (!sha) return "unknown";
  const status = await run(["status", "--porcelain", "--untracked-files=no"]);
  return status ? `${sha}-dirty` : sha;
}

export interface Built {
  readonly outfile: string;
  readonly bytes: number;
  readonly ms: number;
  readonly commit: string;
}

/** A failed build: its message says what failed. */
export class BuildError extends Error {}

/** Bun could not fetch its runtime for a cross target (offline and not cached). */
export class RuntimeDownloadError extends BuildError {}

function formatLog(l: Bun.BuildOutput["logs"][number]): string {
  const at = "position" in l && l.position ? ` (${relative(ROOT, l.position.file)}:${l.position.line}:${l.position.column})` : "";
  return `${l.message}${at}`;
}

/** Measured offline: "Failed to download 'bun-linux-aarch64-v1.4.5': DNSResolveFailed". */
function classify(message: string): BuildError {
  return /failed to download/i.test(message) ? new RuntimeDownloadError(message) : new BuildError(message);
}

export async function buildExecutable(o: BuildOptions): Promise<Built> {
  const commit = o.commit ?? (await gitCommit());
  mkdirSync(dirname(o.outfile), { recursive: true });
  const t0 = performance.now();
  let result: Bun.BuildOutput;
  try {
    result = await Bun.build({
      entrypoints: [...ENTRYPOINTS],
      compile: {
        outfile: o.outfile,
        ...(o.target ? { target: o.target as Bun.Build.CompileTarget } : {}),
        autoloadBunfig: false,
        ...(o.bytecodeOrder ? { bytecodeOrder: typeof o.bytecodeOrder === "string" ? o.bytecodeOrder : [...o.bytecodeOrder] } : {}),
        ...(o.jitPolicy ? { jitPolicy: o.jitPolicy } : {}),
      },
      minify: o.minify ?? false,
      bytecode: o.bytecode ?? false,
      sourcemap: o.sourcemap ?? "none",
      splitting: o.splitting ?? false,
      // Bytecode builds default to CommonJS, which has no top-level await (the entry uses it).
      format: "esm",
      plugins: [stubReactDevtools],
      define: { LIMITRATE_COMMIT: JSON.stringify(commit) },
      throw: false,
    });
  } catch (e) {
    throw classify(e instanceof Error ? e.message : String(e));
  }
  if (!result.success) {
    throw classify(result.logs.map(formatLog).join("\n") || "Bun.build failed without a message");
  }
  // The sourcemap is embedded in the executable (stack traces map without
  // any file beside it, measured); Bun also writes each map next to it
  // (<outfile>.map, chunk-<hash>.js.map, count-worker.js.map): remove those.
  for (const out of result.outputs) if (out.kind === "sourcemap") rmSync(out.path, { force: true });
  // Windows targets get ".exe" appended by Bun when the name has none.
  const entry = result.outputs.find((out) => out.kind === "entry-point")?.path;
  const outfile = o.target?.includes("windows") && !o.outfile.endsWith(".exe") ? `${o.outfile}.exe` : o.outfile;
  const path = existsSync(outfile) ? outfile : (entry ?? outfile);
  return { outfile: path, bytes: statSync(path).size, ms: performance.now() - t0, commit };
}

/** dist/limitrate-<os>-<arch> for a release target ("bun-linux-x64" → "dist/limitrate-linux-x64"). */
export function releaseOutfile(target: string): string {
  return join(ROOT, "dist", `limitrate-${target.replace(/^bun-/, "")}`);
}

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

/** The npm package that carries Bun's runtime for a target ("bun-linux-arm64" → "@oven/bun-linux-aarch64"). */
export function runtimePackage(target: string): string {
  return `@oven/${target.replace(/arm64/, "aarch64")}`;
}

function runtimeHint(target: string): string {
  return `(needs Bun ${Bun.version}'s runtime for ${target}: npm package ${runtimePackage(target)}@${Bun.version}, which Bun downloads from the npm registry on first use and keeps in ~/.bun/install/cache)`;
}

/**
 * Every release target. A cross target needs Bun's runtime for that
 * platform: Bun downloads it from the npm registry (the tarball of
 * @oven/bun-<os>-<arch>, the same version as this Bun) on first use and
 * caches it in ~/.bun/install/cache/bun-<os>-<arch>-v<version>; the npm
 * package `bun` installs only this machine's. Where that download fails
 * (offline, no cached copy) the target is skipped with the reason, the others
 * are built, and the exit code is 0 unless nothing was built, or --strict.
 */
async function buildAll(strict: boolean): Promise<number> {
  const commit = await gitCommit();
  console.log(`limitrate ${commit}: building ${RELEASE_TARGETS.length} targets into dist/`);
  let skipped = 0;
  for (const target of RELEASE_TARGETS) {
    try {
      const b = await buildExecutable({ ...CHOSEN, target, outfile: releaseOutfile(target), commit });
      console.log(`  ok    ${target.padEnd(17)} ${relative(ROOT, b.outfile)}  ${mib(b.bytes)}  ${(b.ms / 1000).toFixed(1)} s`);
    } catch (e) {
      // Only a runtime that cannot be fetched skips a target; a broken build fails at once.
      if (!(e instanceof RuntimeDownloadError)) throw e;
      skipped++;
      console.log(`  SKIP  ${target.padEnd(17)} ${e.message.split("\n")[0]}`);
      console.log(`        ${runtimeHint(target)}`);
    }
  }
  if (skipped > 0) {
    console.log(`${skipped} of ${RELEASE_TARGETS.length} targets skipped, ${RELEASE_TARGETS.length - skipped} built.`);
    if (strict || skipped === RELEASE_TARGETS.length) return 1;
  }
  return 0;
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      all: { type: "boolean", default: false },
      strict: { type: "boolean", default: false },
      target: { type: "string" },
      outfile: { type: "string" },
    },
  });
  if (values.all) {
    process.exit(await buildAll(values.strict === true));
  }
  const outfile = resolve(values.outfile ?? (values.target ? releaseOutfile(values.target) : join(ROOT, "dist", "limitrate")));
  try {
    const b = await buildExecutable({ ...CHOSEN, target: values.target, outfile });
    console.log(`built ${relative(process.cwd(), b.outfile)} (${mib(b.bytes)}, commit ${b.commit}) in ${(b.ms / 1000).toFixed(1)} s`);
  } catch (e) {
    if (!(e instanceof BuildError)) throw e;
    console.error(`build failed: ${e.message}`);
    if (e instanceof RuntimeDownloadError && values.target) console.error(runtimeHint(values.target));
    process.exit(1);
  }
}
