/**
 * `limitrate stats`: watch one or more gateway nodes. A live ink screen on a
 * terminal, plain lines otherwise, one JSON snapshot with --json. Everything
 * it shows is loaded lazily (dynamic import), so `serve` never loads ink.
 */
import { type Command, InvalidArgumentError, Option } from "commander";

export const DEFAULT_STATS_URL = "http://127.0.0.1:8080";

export interface StatsOptions {
  /** Gateway nodes (repeatable; commas also split). Default: http://127.0.0.1:8080. */
  readonly url?: readonly string[];
  readonly json?: boolean;
  /** Refresh interval, ms. */
  readonly interval: number;
  /** Admin token (server.admin_token), else $LIMITRATE_ADMIN_TOKEN. */
  readonly token?: string;
}

export function registerStats(program: Command): void {
  program
    .command("stats")
    .description("watch queue depth and usage per provider and key (live on a terminal, plain lines otherwise)")
    .option("--url <url>", `gateway node; repeat for several, shown summed (default ${DEFAULT_STATS_URL})`, collect)
    .option("--json", "print one /admin/stats snapshot (several nodes: each and their sum) and exit")
    .option("--interval <ms>", "refresh interval in milliseconds", msArg, 1000)
    .addOption(new Option("--token <token>", "admin token, if the gateway sets server.admin_token").env("LIMITRATE_ADMIN_TOKEN"))
    .action(async (o: StatsOptions) => {
      process.exitCode = await runStats(o);
    });
}

/** Runs the command; resolves with the exit code (the live views resolve when the user quits). */
export async function runStats(o: StatsOptions, signal?: AbortSignal): Promise<number> {
  const { normalizeUrl } = await import("../tui/fetch-snapshot.ts");
  const urls = [...new Set((o.url?.length ? o.url : [DEFAULT_STATS_URL]).map(normalizeUrl))];
  const token = o.token || undefined;
  if (o.json) {
    const [{ statsJson }, { StatsFetchError }] = await Promise.all([import("../tui/stats-json.ts"), import("../tui/fetch-snapshot.ts")]);
    try {
      process.stdout.write(`${JSON.stringify(await statsJson(urls, token), null, 2)}\n`);
      return 0;
    } catch (e) {
      if (!(e instanceof StatsFetchError)) throw e;
      process.stderr.write(`limitrate: ${e.message}\n`);
      return 1;
    }
  }
  const color = colorWanted(process.env);
  const follow = { token, intervalMs: o.interval };
  if (process.stdout.isTTY && process.stdin.isTTY) {
    // chalk (inside ink) reads this once, when first loaded: NO_COLOR turns every style off.
    if (!color) process.env.FORCE_COLOR = "0";
    // ink renders only a final frame when it thinks it runs in CI (is-in-ci reads CI when loaded);
    // on a real terminal the user wants the live view whatever CI says.
    delete process.env.CI;
    delete process.env.CONTINUOUS_INTEGRATION;
    const { runTui } = await import("../tui/run-tui.tsx");
    await runTui(urls, { follow, color });
    return 0;
  }
  const { runPlain } = await import("../tui/plain-report.ts");
  const stop = new AbortController();
  signal?.addEventListener("abort", () => stop.abort(), { once: true });
  const onSignal = () => stop.abort();
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    await runPlain(urls, { follow, color: color && process.stdout.isTTY === true }, stop.signal);
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
  return 0;
}

/** https://no-color.org: NO_COLOR set and not empty turns colour off. */
export function colorWanted(env: Record<string, string | undefined>): boolean {
  return !env.NO_COLOR;
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(",").map((s) => s.trim()).filter(Boolean)];
}

function msArg(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 100 || n > 60_000) throw new InvalidArgumentError("must be an integer from 100 to 60000 (milliseconds).");
  return n;
}
