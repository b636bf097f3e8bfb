/**
 * The launcher side of the bench process protocol: a server script prints one
 * `LISTENING <url>` line on stdout, then lives until SIGTERM/SIGINT or until
 * its stdin closes (the parent bench died), so no server outlives a bench.
 */
export const READY_PREFIX = "LISTENING ";

export function announce(url: string): void {
  process.stdout.write(`${READY_PREFIX}${url}\n`);
}

export function stopOnExitSignals(stop: () => Promise<void> | void): void {
  let stopping = false;
  const quit = async () => {
    if (stopping) return;
    stopping = true;
    try {
      await stop();
    } finally {
      process.exit(0);
    }
  };
  process.on("SIGTERM", () => void quit());
  process.on("SIGINT", () => void quit());
  // stdin is a pipe from the parent: EOF means the parent is gone.
  void (async () => {
    const reader = Bun.stdin.stream().getReader();
    for (;;) {
      const { done } = await reader.read();
      if (done) break;
    }
    await quit();
  })();
}
