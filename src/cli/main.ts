/**
 * The command line: commander declares commands and options; each action
 * parses, loads, and calls one library function. Errors the user can fix are
 * printed plainly (no stack trace) with exit code 1.
 */
import { Command, InvalidArgumentError } from "commander";
import pkg from "../../package.json" with { type: "json" };
import { ConfigError } from "../config/errors.ts";
import { PortInUseError } from "../gateway/server.ts";
import { runCheck } from "./check.ts";
import { runMockUpstream } from "./mock-upstream.ts";
import { runServe, UsageError } from "./serve.ts";
import { registerStats } from "./stats.ts";
import { registerBench } from "./bench.ts";

declare const LIMITRATE_COMMIT: string | undefined;

/** "0.1.0", or "0.1.0 (abc1234)" in an executable built by scripts/build.ts. */
export function versionString(): string {
  const commit = typeof LIMITRATE_COMMIT === "string" ? LIMITRATE_COMMIT : undefined;
  return commit ? `${pkg.version} (${commit})` : pkg.version;
}

export function intArg(min: number, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`must be an integer from ${min} to ${max}.`);
    return n;
  };
}

export function numArg(min: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < min) throw new InvalidArgumentError(`must be a number ≥ ${min}.`);
    return n;
  };
}

export function buildProgram(): Command {
  const program = new Command("limitrate")
    .description("OpenAI-compatible LLM gateway that keeps your traffic inside its rate limits")
    .version(versionString(), "-V, --version")
    .showHelpAfterError();

  program
    .command("serve")
    .description("run the gateway (with no config file: a built-in mock provider)")
    .option("-c, --config <file>", "config file (else $LIMITRATE_CONFIG, ./limitrate.yaml, ./config.yaml, ~/.config/limitrate/config.yaml)")
    .option("--host <host>", "address to bind (default from config: 127.0.0.1)")
    .option("--port <port>", "port to listen on (default from config: 8080)", intArg(0, 65535))
    .option("--redis <url>", "share limits through this Redis (overrides store.redis)")
    .option("--instances <n>", "start N nodes on consecutive ports sharing the Redis store", intArg(1, 64))
    .option("--watch", "reload the config when its file changes (SIGHUP always reloads)")
    .action(async (o: { config?: string; host?: string; port?: number; redis?: string; instances?: number; watch?: boolean }) => {
      await runServe(o);
    });

  program
    .command("check")
    .description("validate a config file and print the resolved plan")
    .option("-c, --config <file>", "config file (same lookup as serve)")
    .action((o: { config?: string }) => {
      process.exitCode = runCheck(o);
    });

  program
    .command("mock-upstream")
    .description("run a fake OpenAI-compatible provider, with optional limits of its own")
    .option("--port <port>", "port to listen on", intArg(0, 65535), 9090)
    .option("--host <host>", "address to bind", "127.0.0.1")
    .option("--latency-ms <ms>", "delay before answering (and before the first stream chunk)", numArg(0), 0)
    .option("--rpm <n>", "own limit: requests per minute (over it: 429)", intArg(1))
    .option("--tpm <n>", "own limit: tokens per minute (over it: 429)", intArg(1))
    .action(async (o: { port: number; host: string; latencyMs: number; rpm?: number; tpm?: number }) => {
      await runMockUpstream(o);
    });

  registerStats(program);
  registerBench(program);
  return program;
}

export async function main(argv: readonly string[]): Promise<void> {
  try {
    await buildProgram().parseAsync([...argv]);
  } catch (e) {
    if (e instanceof ConfigError || e instanceof PortInUseError || e instanceof UsageError) {
      process.stderr.write(`limitrate: ${e.message}\n`);
      process.exit(1);
    }
    throw e;
  }
}
