/** Runs `stop` once on SIGINT/SIGTERM, then exits 0; a second signal exits at once. */
export function onShutdown(stop: () => Promise<void>, o: { readonly followParent?: boolean } = {}): void {
  let stopping = false;
  const handler = (why: string) => {
    if (stopping) process.exit(1);
    stopping = true;
    process.stderr.write(`\nlimitrate: ${why}, shutting down…\n`);
    stop().then(
      () => process.exit(0),
      (e: unknown) => {
        process.stderr.write(`limitrate: error while stopping: ${e instanceof Error ? e.message : String(e)}\n`);
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", () => handler("SIGINT"));
  process.on("SIGTERM", () => handler("SIGTERM"));
  if (o.followParent) followParent(() => handler("supervisor gone"));
}

/**
 * A node of `serve --instances` stops when its supervisor dies without stopping
 * it (SIGKILL, OOM): no signal reaches the node then, and an orphan would keep
 * the port and a share of the budget. The kernel re-parents an orphan, so a
 * changed parent pid is the sign; checked once a second.
 */
function followParent(gone: () => void): void {
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    gone();
  }, 1000);
  timer.unref();
}
