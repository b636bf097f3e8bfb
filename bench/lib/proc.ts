/**
 * The parent side of the bench process protocol: start each server and each
 * load generator in its own Bun process (so a measured server shares its
 * process with nothing else), read RSS from /proc.
 */
import { readFileSync } from "node:fs";
import { READY_PREFIX } from "./lifecycle.ts";

export const LIB_DIR = import.meta.dir;
const BUN = process.execPath;
const READY_TIMEOUT_MS = 15_000;

export interface ServerProc {
  readonly pid: number;
  readonly url: string;
  stop(): Promise<void>;
}

export interface SpawnOptions {
  /** Extra environment, e.g. BUN_CONFIG_MAX_HTTP_REQUESTS (fetch caps in-flight requests at 256 otherwise). */
  readonly env?: Record<string, string>;
  /** Raise the soft open-file limit to at least this (up to the hard limit) before exec. */
  readonly openFiles?: number;
}

/** The command line, wrapped in `sh -c 'ulimit -n N; exec ...'` when more file descriptors are needed (exec keeps the pid). */
function command(script: string, args: readonly string[], opts: SpawnOptions): string[] {
  const direct = [BUN, `${LIB_DIR}/${script}`, ...args];
  if (opts.openFiles === undefined) return direct;
  const n = opts.openFiles;
  return ["sh", "-c", `ulimit -n ${n} 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$0" "$@"`, ...direct];
}

function envWith(extra: Record<string, string> | undefined): Record<string, string> {
  const base: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) base[k] = v;
  return { ...base, ...extra };
}

/** Reads lines from a stream until one satisfies `match`; the rest of the stream keeps draining. */
async function waitForLine(stream: ReadableStream<Uint8Array>, match: (line: string) => boolean, timeoutMs: number): Promise<string> {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let buf = "";
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const left = deadline - Date.now();
    const next = await Promise.race([
      reader.read(),
      new Promise<null>((r) => setTimeout(() => r(null), left).unref()),
    ]);
    if (next === null) break;
    if (next.done) throw new Error(`process exited before printing its ready line; output so far: ${buf}`);
    buf += decoder.decode(next.value, { stream: true });
    let nl: number;
    while ((nl = buf.indexOf("\n")) !== -1) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (match(line)) {
        // Keep draining so a chatty child never blocks on a full pipe.
        void (async () => {
          while (!(await reader.read().catch(() => ({ done: true }))).done);
        })();
        return line;
      }
    }
  }
  throw new Error(`no ready line within ${timeoutMs} ms`);
}

/** Starts `bench/lib/<script>` and waits for its LISTENING line. */
export async function startServer(script: string, args: readonly string[], opts: SpawnOptions = {}): Promise<ServerProc> {
  const proc = Bun.spawn(command(script, args, opts), {
    stdin: "pipe", // closed when we exit: the child's cue to stop
    stdout: "pipe",
    stderr: "inherit",
    env: envWith(opts.env),
  });
  let line: string;
  try {
    line = await waitForLine(proc.stdout, (l) => l.startsWith(READY_PREFIX), READY_TIMEOUT_MS);
  } catch (e) {
    proc.kill();
    throw new Error(`${script} ${args.join(" ")}: ${(e as Error).message}`);
  }
  return {
    pid: proc.pid,
    url: line.slice(READY_PREFIX.length).trim(),
    async stop() {
      proc.kill("SIGTERM");
      const exited = await Promise.race([proc.exited.then(() => true), Bun.sleep(5000).then(() => false)]);
      if (!exited) proc.kill("SIGKILL");
    },
  };
}

/** The servers one bench starts, stopped together when it ends. */
export class ServerGroup {
  private readonly procs: ServerProc[] = [];

  constructor(private readonly opts: SpawnOptions = {}) {}

  async start(script: string, args: readonly string[]): Promise<ServerProc> {
    return this.add(await startServer(script, args, this.opts));
  }

  /** A server started some other way, to be stopped with the rest. */
  add(s: ServerProc): ServerProc {
    this.procs.push(s);
    return s;
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.procs.splice(0).map((s) => s.stop()));
  }
}

export interface ChildRun {
  readonly pid: number;
  /** Resolves with the child's stdout once it exits 0 within `timeoutMs`. */
  readonly output: Promise<string>;
}

/**
 * Runs `bench/lib/<script>` to completion (a load generator): async, so
 * servers in this process (if any) and our own polling keep running.
 */
export function runScript(script: string, args: readonly string[], timeoutMs: number, opts: SpawnOptions = {}): ChildRun {
  const proc = Bun.spawn(command(script, args, opts), {
    stdin: "ignore",
    stdout: "pipe",
    stderr: "inherit",
    env: envWith(opts.env),
  });
  const output = (async () => {
    const timer = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
    try {
      const [text, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
      if (code !== 0) throw new Error(`${script} exited with ${code}${proc.signalCode ? ` (${proc.signalCode})` : ""}`);
      return text;
    } finally {
      clearTimeout(timer);
    }
  })();
  return { pid: proc.pid, output };
}

/** Resident set size of a process, in KiB (VmRSS of /proc/<pid>/status). */
export function rssKb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]);
}

/** The per-process open-file limit this shell hands to children. */
export async function openFileLimit(): Promise<number> {
  const p = Bun.spawn(["sh", "-c", "ulimit -n"], { stdout: "pipe" });
  const text = await new Response(p.stdout).text();
  await p.exited;
  const n = Number(text.trim());
  return Number.isFinite(n) ? n : Infinity; // "unlimited"
}

/** CPU time (user + system) a process has used so far, ms; from /proc/<pid>/stat at 100 ticks/s (Linux USER_HZ). */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the ")" that closes the command name: utime is the 12th, stime the 13th.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}
