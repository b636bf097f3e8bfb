/**
 * Real Redis for tests: a standalone redis-server on a free port (stop and
 * restart it on the same port for outage tests) and a 3-master Redis Cluster.
 * Each server runs in its own temp dir with no persistence.
 *
 * Without redis-server the Redis suites are skipped LOUDLY, or fail when
 * LIMITRATE_REQUIRE_REDIS=1 (CI). Every process started here is killed in
 * the suite's afterAll and, as a last resort, when the test process exits.
 */
import { describe, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { freePort, freePorts } from "./ports.ts";

const live = new Set<Subprocess>();
process.on("exit", () => {
  for (const p of live) p.kill("SIGKILL");
});

/** Why Redis tests cannot run here, or null when they can. */
export function redisMissing(): string | null {
  const missing = ["redis-server", "redis-cli"].filter((b) => Bun.which(b) === null);
  return missing.length ? `${missing.join(" and ")} not found on PATH (install the redis-server package)` : null;
}

/**
 * describe() for suites that need redis-server: skipped with a loud warning
 * when it is missing, or failing when LIMITRATE_REQUIRE_REDIS=1.
 */
export function describeRedis(name: string, fn: () => void): void {
  const why = redisMissing();
  if (why === null) return describe(name, fn);
  if (process.env.LIMITRATE_REQUIRE_REDIS === "1") {
    describe(name, () => {
      test("redis-server is required (LIMITRATE_REQUIRE_REDIS=1)", () => {
        throw new Error(`cannot run '${name}': ${why}`);
      });
    });
    return;
  }
  console.warn(`\n⚠️  SKIPPING Redis tests '${name}': ${why}. Set LIMITRATE_REQUIRE_REDIS=1 to make this a failure.\n`);
  describe.skip(name, fn);
}

async function cli(port: number, ...args: string[]): Promise<string> {
  const p = Bun.spawn(["redis-cli", "-h", "127.0.0.1", "-p", String(port), ...args], { stdout: "pipe", stderr: "pipe" });
  const [out] = await Promise.all([new Response(p.stdout).text(), p.exited]);
  return out.trim();
}

async function waitFor(what: string, ok: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await ok().catch(() => false)) return;
    await Bun.sleep(25);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

class ServerProc {
  private proc: Subprocess | null = null;
  readonly dir: string;

  constructor(
    readonly port: number,
    private readonly extra: readonly string[],
  ) {
    this.dir = mkdtempSync(join(tmpdir(), `limitrate-redis-${port}-`));
  }

  async start(): Promise<void> {
    const args = ["redis-server", "--port", String(this.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"];
    args.push("--dir", this.dir, ...this.extra);
    this.proc = Bun.spawn(args, { cwd: this.dir, stdout: "ignore", stderr: "pipe" });
    live.add(this.proc);
    const proc = this.proc;
    await waitFor(`redis-server on port ${this.port}`, async () => {
      if (proc.exitCode !== null) throw new Error(`redis-server on port ${this.port} exited with ${proc.exitCode}`);
      const pong = await cli(this.port, "ping");
      return pong === "PONG" || pong.startsWith("NOAUTH"); // up, with a password
    });
  }

  /** SIGKILL: an outage, not a shutdown. */
  async stop(): Promise<void> {
    const p = this.proc;
    if (!p) return;
    this.proc = null;
    p.kill("SIGKILL");
    await p.exited;
    live.delete(p);
  }

  async remove(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface TestRedis {
  readonly port: number;
  readonly url: string;
  /** redis-cli against this server; returns stdout. */
  cli(...args: string[]): Promise<string>;
  /** Kills the server (an outage). */
  stop(): Promise<void>;
  /** Starts it again on the same port (empty: no persistence). */
  restart(): Promise<void>;
  /** Kills it for good and removes its directory. */
  close(): Promise<void>;
}

/**
 * A standalone redis-server; `extra` are more server arguments (e.g.
 * ["--requirepass", "pw"]); `port` a chosen port (default: a free one).
 */
export async function startRedis(extra: readonly string[] = [], port?: number): Promise<TestRedis> {
  port ??= await freePort();
  const srv = new ServerProc(port, extra);
  await srv.start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    cli: (...args) => cli(port!, ...args),
    stop: () => srv.stop(),
    restart: () => srv.start(),
    close: () => srv.remove(),
  };
}

export interface TestCluster {
  readonly ports: readonly number[];
  readonly urls: readonly string[];
  /** redis-cli -c against the first node; returns stdout. */
  cli(...args: string[]): Promise<string>;
  close(): Promise<void>;
}

/** A 3-master Redis Cluster (no replicas), ready when every node reports cluster_state:ok. */
export async function startRedisCluster(): Promise<TestCluster> {
  const ports: number[] = [];
  while (ports.length < 3) {
    // The cluster bus listens on port + 10000: it must be free too.
    const p = await freePorts([0, 10_000]);
    if (!ports.includes(p)) ports.push(p);
  }
  const servers = ports.map(
    (p) => new ServerProc(p, ["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "5000"]),
  );
  const close = async () => {
    await Promise.all(servers.map((s) => s.remove()));
  };
  try {
    await Promise.all(servers.map((s) => s.start()));
    const create = Bun.spawn(
      ["redis-cli", "--cluster", "create", ...ports.map((p) => `127.0.0.1:${p}`), "--cluster-replicas", "0", "--cluster-yes"],
      { stdout: "pipe", stderr: "pipe" },
    );
    const [out, err, code] = await Promise.all([new Response(create.stdout).text(), new Response(create.stderr).text(), create.exited]);
    if (code !== 0) throw new Error(`redis-cli --cluster create failed (${code}): ${out}\n${err}`);
    await waitFor("cluster_state:ok on every node", async () => {
      const infos = await Promise.all(ports.map((p) => cli(p, "cluster", "info")));
      return infos.every((i) => i.includes("cluster_state:ok"));
    });
  } catch (e) {
    await close();
    throw e;
  }
  return {
    ports,
    urls: ports.map((p) => `redis://127.0.0.1:${p}`),
    cli: (...args) => cli(ports[0]!, "-c", ...args),
    close,
  };
}
