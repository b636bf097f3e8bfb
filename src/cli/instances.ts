/**
 * `serve --instances N`: N gateway nodes on consecutive ports, each its own
 * process, sharing one Redis budget. The supervisor prints each node's URL,
 * restarts a node that crashes (with a backoff, so a node that cannot start
 * does not spin), and stops all of them on SIGINT/SIGTERM.
 */
import { log } from "../log.ts";

export interface InstancesOptions {
  readonly count: number;
  readonly basePort: number;
  /** Arguments every node gets after `serve` (config, host, redis). */
  readonly nodeArgs: readonly string[];
}

/** How to start this program again: a compiled executable runs itself; `bun bin/limitrate` needs its script. */
export function selfCommand(): string[] {
  return Bun.main.startsWith("/$bunfs/") || Bun.main.startsWith("B:/~BUN/") ? [process.execPath] : [process.execPath, Bun.main];
}

interface Node {
  readonly index: number;
  readonly port: number;
  proc: Bun.Subprocess | null;
  restarts: number;
  startedAt: number;
}

const MAX_BACKOFF_MS = 30_000;

export async function runInstances(o: InstancesOptions): Promise<void> {
  let stopping = false;
  const nodes: Node[] = Array.from({ length: o.count }, (_, i) => ({ index: i, port: o.basePort + i, proc: null, restarts: 0, startedAt: 0 }));

  const start = (n: Node) => {
    n.startedAt = Date.now();
    n.proc = Bun.spawn([...selfCommand(), "serve", ...o.nodeArgs, "--port", String(n.port)], {
      stdout: "inherit",
      stderr: "inherit",
      stdin: "ignore",
      env: { ...process.env, LIMITRATE_NODE: String(n.index) },
      onExit: (_p, code, signal) => {
        n.proc = null;
        if (stopping) return;
        // A node that ran a while before crashing starts over with a short backoff.
        if (Date.now() - n.startedAt > 60_000) n.restarts = 0;
        const delay = Math.min(MAX_BACKOFF_MS, 500 * 2 ** n.restarts++);
        log.warn(`node ${n.index} (port ${n.port}) exited (${signal ?? `code ${code}`}); restarting in ${(delay / 1000).toFixed(1)} s`);
        setTimeout(() => !stopping && start(n), delay);
      },
    });
  };

  for (const n of nodes) start(n);
  process.stdout.write(
    `limitrate: ${o.count} nodes sharing one Redis budget:\n` + nodes.map((n) => `  node ${n.index}: port ${n.port}`).join("\n") + "\n",
  );

  const stopAll = async (signal: string) => {
    if (stopping) process.exit(1);
    stopping = true;
    process.stderr.write(`\nlimitrate: ${signal}, stopping ${o.count} nodes…\n`);
    const running = nodes.map((n) => n.proc).filter((p): p is Bun.Subprocess => p !== null);
    for (const p of running) p.kill("SIGTERM");
    const all = Promise.all(running.map((p) => p.exited));
    const timeout = new Promise<"timeout">((r) => setTimeout(() => r("timeout"), 15_000));
    if ((await Promise.race([all, timeout])) === "timeout") for (const p of running) p.kill("SIGKILL");
    process.exit(0);
  };
  process.on("SIGINT", () => void stopAll("SIGINT"));
  process.on("SIGTERM", () => void stopAll("SIGTERM"));
}
