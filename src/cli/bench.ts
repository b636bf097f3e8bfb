/**
 * `limitrate bench`: declares the options and calls runBench. Before that it
 * makes sure Bun's fetch may have enough requests in flight (re-running
 * itself with BUN_CONFIG_MAX_HTTP_REQUESTS set when needed).
 */
import { Command, InvalidArgumentError, Option } from "commander";
import { planFetchCap, reexec } from "../bench/fetch-cap.ts";
import { systemClock } from "../clock.ts";
import { DEFAULTS, inFlightNeeded, runBench, type BenchRunOptions } from "../bench/run.ts";
import { DEFAULT_MODEL } from "../bench/workload.ts";

function intAtLeast(min: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`must be an integer ≥ ${min}.`);
    return n;
  };
}

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError("must be a number > 0.");
  return n;
}

/** Repeated or space-separated values collect into one list. */
const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

interface BenchCliOptions {
  url?: string[];
  requests?: number;
  duration?: number;
  concurrency?: number;
  rate?: number;
  apiKey?: string[];
  model: string;
  stream?: boolean;
  maxTokens?: number;
  json?: boolean;
  timeout?: number;
  adminToken?: string;
}

export function registerBench(program: Command): void {
  program
    .command("bench")
    .description("load a gateway: spread requests over nodes and keys, report throughput, latency and status counts (no --url: a built-in demo)")
    .addOption(new Option("--url <url>", "gateway base URL, e.g. http://127.0.0.1:8080 (repeat for several nodes)").argParser(collect))
    .addOption(new Option("-n, --requests <n>", "stop after this many requests").argParser(intAtLeast(1)).conflicts("duration"))
    .addOption(new Option("-d, --duration <seconds>", `stop after this long (default ${DEFAULTS.durationS}, demo ${DEFAULTS.demoDurationS})`).argParser(positiveNumber))
    .addOption(new Option("-c, --concurrency <n>", `workers (closed loop, default ${DEFAULTS.concurrency}, demo ${DEFAULTS.demoConcurrency}); with --rate, the most requests in flight (default 10 × rate)`).argParser(intAtLeast(1)))
    .addOption(new Option("--rate <rps>", "open loop: send this many requests per second whatever the answers; latency counts from each intended send time").argParser(positiveNumber))
    .addOption(new Option("--api-key <key>", "client key sent as a Bearer token (repeat for several; requests pick one at random)").argParser(collect))
    .option("--model <model>", "model of every request", DEFAULT_MODEL)
    .option("--stream", "stream the answers and measure time to the first token")
    .addOption(new Option("--max-tokens <n>", "max_tokens of every request").argParser(intAtLeast(1)))
    .option("--json", "write only the report, as one JSON object, on stdout")
    .addOption(new Option("--timeout <seconds>", `per request (default ${DEFAULTS.timeoutS})`).argParser(positiveNumber))
    .addOption(new Option("--admin-token <token>", "for reading key limits from /admin/stats when it is guarded").env("LIMITRATE_ADMIN_TOKEN"))
    .action(async (o: BenchCliOptions) => {
      process.exitCode = await benchCommand({
        urls: o.url,
        requests: o.requests,
        duration: o.duration,
        concurrency: o.concurrency,
        rate: o.rate,
        apiKeys: o.apiKey,
        model: o.model,
        stream: o.stream === true,
        maxTokens: o.maxTokens,
        json: o.json === true,
        timeout: o.timeout,
        adminToken: o.adminToken,
      });
    });
}

/** The command's body: fetch cap, Ctrl-C, run. Resolves with the exit code. */
export async function benchCommand(o: BenchRunOptions): Promise<number> {
  const demo = (o.urls ?? []).length === 0;
  // The demo's gateway runs in this process too: its upstream calls use the same fetch.
  const needed = inFlightNeeded(o) * (demo ? 2 : 1);
  const plan = planFetchCap(needed, { env: process.env, execPath: process.execPath, main: Bun.main, argv: process.argv });
  if (plan.kind === "reexec") {
    const code = await reexec(plan);
    if (code !== null) return code;
    process.stderr.write(`limitrate bench: could not re-run with BUN_CONFIG_MAX_HTTP_REQUESTS=${plan.cap}; Bun keeps at most 256 requests in flight, so set it yourself for more.\n`);
  } else if (plan.kind === "hint") {
    process.stderr.write(`limitrate bench: ${plan.message}\n`);
  }

  // First Ctrl-C: stop and report what was measured; a later one quits at once.
  // A second SIGINT within a moment is the same keypress forwarded by a re-running parent.
  const stop = new AbortController();
  let firstAt = 0;
  const onInt = () => {
    if (firstAt === 0) {
      firstAt = systemClock.now();
      process.stderr.write("\nlimitrate bench: stopping (Ctrl-C again to quit without a report)…\n");
      stop.abort();
    } else if (systemClock.now() - firstAt > 500) {
      process.exit(130);
    }
  };
  process.on("SIGINT", onInt);
  try {
    return await runBench(o, { stdout: process.stdout, stderr: process.stderr, signal: stop.signal });
  } finally {
    process.off("SIGINT", onInt);
  }
}
