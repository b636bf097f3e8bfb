/**
 * Cold start of `limitrate serve` on the embedded default (no config file):
 * each run spawns a fresh process whose cwd and HOME are a new empty temp
 * directory (no config to find); the executable itself is copied alone into
 * a directory of its own (no node_modules near it). It reads the URL from its
 * banner, polls /admin/health every POLL_MS until it answers 200, then sends
 * one chat completion and waits for its 200. It compares the compiled
 * executable (dist/limitrate, `bun run build`) with the script form
 * (`bun bin/limitrate serve`), runs interleaved so both see the same machine.
 *
 *   bun bench/cold-start.ts [--runs 20] [--exe dist/limitrate] [--no-script] [--json]
 *
 * Times are from just before spawn to:
 *   banner  the "listening on" line read from stdout
 *   health  the first 200 from /admin/health
 *   chat    the first 200 of POST /v1/chat/completions. The embedded mock
 *           provider waits 300 ms before answering (src/cli/serve.ts), so
 *           this includes that wait; `chat-300` takes it out.
 * Plus `--version`: spawn to exit, the floor of process start + bundle load.
 *
 * Target: median ready (health) < 50 ms for the executable.
 */
import { chmodSync, copyFileSync, existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { fmt, percentile, table } from "./lib/stats.ts";

const ROOT = resolve(import.meta.dir, "..");
export const DEFAULT_EXE = join(ROOT, "dist", process.platform === "win32" ? "limitrate.exe" : "limitrate");
export const SCRIPT_CMD: readonly string[] = [process.execPath, join(ROOT, "bin", "limitrate")];
/** The embedded default's mock provider answers after this long (serve.ts: latencyMs 300). */
export const EMBEDDED_MOCK_LATENCY_MS = 300;
export const TARGET_READY_MS = 50;
const POLL_MS = 2;
const RUN_TIMEOUT_MS = 15_000;
const CHAT_BODY = JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] });

export interface StartSample {
  readonly bannerMs: number;
  readonly healthMs: number;
  readonly chatMs: number;
}

export interface Summary {
  readonly median: number;
  readonly p90: number;
  readonly min: number;
  readonly max: number;
}

function summarize(xs: readonly number[]): Summary {
  const s = [...xs].sort((a, b) => a - b);
  return { median: percentile(s, 50), p90: percentile(s, 90), min: s[0] ?? NaN, max: s[s.length - 1] ?? NaN };
}

/** An environment with no config to find: HOME and cwd are the empty directory, LIMITRATE_CONFIG unset. */
function cleanEnv(dir: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  delete env.LIMITRATE_CONFIG;
  env.HOME = dir;
  env.NO_COLOR = "1";
  return env;
}

/** Reads stdout until the banner's URL appears, then keeps draining in the background. */
async function readUrl(stream: ReadableStream<Uint8Array>, deadline: number): Promise<string> {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let text = "";
  while (performance.now() < deadline) {
    const { done, value } = await reader.read();
    if (done) throw new Error(`serve exited before printing its URL; stdout: ${text}`);
    text += decoder.decode(value, { stream: true });
    const m = /listening on (http:\/\/\S+)/.exec(text);
    if (m) {
      void (async () => {
        while (!(await reader.read().catch(() => ({ done: true }))).done);
      })();
      return m[1]!;
    }
  }
  throw new Error("no URL within the time limit");
}

async function okWithin(url: string, init: RequestInit | undefined, deadline: number, pollMs: number): Promise<void> {
  while (performance.now() < deadline) {
    try {
      const res = await fetch(url, init);
      await res.arrayBuffer();
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await Bun.sleep(pollMs);
  }
  throw new Error(`${url}: no 200 within the time limit`);
}

/** One cold start of `cmd serve --port 0` with a fresh empty directory as cwd and HOME. */
export async function coldStartOnce(cmd: readonly string[]): Promise<StartSample> {
  const dir = mkdtempSync(join(tmpdir(), "limitrate-cold-"));
  const t0 = performance.now();
  const deadline = t0 + RUN_TIMEOUT_MS;
  const proc = Bun.spawn([...cmd, "serve", "--port", "0"], { cwd: dir, env: cleanEnv(dir), stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  try {
    const url = await readUrl(proc.stdout, deadline);
    const bannerMs = performance.now() - t0;
    await okWithin(`${url}/admin/health`, undefined, deadline, POLL_MS);
    const healthMs = performance.now() - t0;
    await okWithin(`${url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: CHAT_BODY }, deadline, POLL_MS);
    const chatMs = performance.now() - t0;
    return { bannerMs, healthMs, chatMs };
  } finally {
    proc.kill("SIGTERM");
    const exited = await Promise.race([proc.exited.then(() => true), Bun.sleep(3000).then(() => false)]);
    if (!exited) proc.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Copies an executable alone into a new empty directory, as a user who
 * downloaded it would have it (no node_modules anywhere near); returns its path.
 */
export function isolate(exe: string): { path: string; dispose(): void } {
  const dir = mkdtempSync(join(tmpdir(), "limitrate-exe-"));
  const path = join(dir, basename(exe));
  copyFileSync(exe, path);
  chmodSync(path, 0o755);
  return { path, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Spawn to exit of `cmd --version`, in an empty directory. */
export async function versionOnce(cmd: readonly string[]): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), "limitrate-cold-"));
  try {
    const t0 = performance.now();
    const proc = Bun.spawn([...cmd, "--version"], { cwd: dir, env: cleanEnv(dir), stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    const [out, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
    const ms = performance.now() - t0;
    if (code !== 0) throw new Error(`${cmd.join(" ")} --version exited ${code}: ${out}`);
    return ms;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface Measured {
  readonly name: string;
  readonly version: Summary;
  readonly banner: Summary;
  readonly health: Summary;
  readonly chat: Summary;
}

export interface Contender {
  readonly name: string;
  readonly cmd: readonly string[];
}

/** Measures each contender `runs` times, interleaved (one run of each per round), after one unmeasured warm-up each. */
export async function measure(contenders: readonly Contender[], runs: number): Promise<Measured[]> {
  const samples = contenders.map(() => ({ version: [] as number[], banner: [] as number[], health: [] as number[], chat: [] as number[] }));
  for (const c of contenders) {
    await versionOnce(c.cmd);
    await coldStartOnce(c.cmd);
  }
  for (let i = 0; i < runs; i++) {
    for (const [j, c] of contenders.entries()) {
      const s = samples[j]!;
      s.version.push(await versionOnce(c.cmd));
      const r = await coldStartOnce(c.cmd);
      s.banner.push(r.bannerMs);
      s.health.push(r.healthMs);
      s.chat.push(r.chatMs);
    }
  }
  return contenders.map((c, j) => {
    const s = samples[j]!;
    return { name: c.name, version: summarize(s.version), banner: summarize(s.banner), health: summarize(s.health), chat: summarize(s.chat) };
  });
}

export function report(results: readonly Measured[]): string {
  const rows: string[][] = [["", "--version p50", "p90", "banner p50", "p90", "ready p50", "p90", "chat 200 p50", "p90", "chat-300 p50"]];
  for (const r of results) {
    rows.push([
      r.name,
      fmt(r.version.median, 1),
      fmt(r.version.p90, 1),
      fmt(r.banner.median, 1),
      fmt(r.banner.p90, 1),
      fmt(r.health.median, 1),
      fmt(r.health.p90, 1),
      fmt(r.chat.median, 1),
      fmt(r.chat.p90, 1),
      fmt(r.chat.median - EMBEDDED_MOCK_LATENCY_MS, 1),
    ]);
  }
  return table(rows);
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      runs: { type: "string", default: "20" },
      exe: { type: "string", default: DEFAULT_EXE },
      "no-script": { type: "boolean", default: false },
      json: { type: "boolean", default: false },
    },
  });
  const runs = Number(values.runs);
  const exe = resolve(values.exe!);
  if (!existsSync(exe)) {
    console.error(`no executable at ${exe}: run \`bun run build\` first`);
    process.exit(1);
  }
  const copy = isolate(exe);
  process.on("exit", () => copy.dispose());
  const contenders: Contender[] = [{ name: "executable", cmd: [copy.path] }];
  if (!values["no-script"]) contenders.push({ name: "bun bin/limitrate", cmd: SCRIPT_CMD });
  const size = statSync(exe).size;
  if (!values.json) {
    console.log(`# cold start of \`serve --port 0\` on the embedded default, ${runs} runs each, bun ${Bun.version}, ${navigator.hardwareConcurrency} cores`);
    console.log(`executable ${exe}: ${(size / 1024 / 1024).toFixed(1)} MiB`);
  }
  const results = await measure(contenders, runs);
  if (values.json) {
    console.log(JSON.stringify({ runs, exe, size_bytes: size, results }, null, 2));
  } else {
    console.log("times in ms from spawn; ready = first 200 of /admin/health; chat includes the embedded mock's 300 ms answer delay\n");
    console.log(report(results));
    const ready = results[0]!.health.median;
    console.log(`\nexecutable median ready ${fmt(ready, 1)} ms: ${ready < TARGET_READY_MS ? "within" : "OVER"} the ${TARGET_READY_MS} ms target`);
    if (ready >= TARGET_READY_MS) console.log("what each import costs at start: bun scripts/profile-startup.ts; build options: bun scripts/build-variants.ts");
  }
}
