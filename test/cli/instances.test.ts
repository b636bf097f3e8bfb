// serve --instances N: N nodes on consecutive ports over one Redis; a crashed node is restarted; SIGTERM stops all.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { freePorts } from "../helpers/ports.ts";
import { describeRedis, startRedis, type TestRedis } from "../helpers/redis.ts";

const BIN = resolve(import.meta.dir, "../../bin/limitrate");

async function health(port: number): Promise<{ pid: number; store: { kind: string } } | null> {
  try {
    const r = await fetch(`http://127.0.0.1:${port}/admin/health`);
    return r.ok ? await r.json() : null;
  } catch {
    return null;
  }
}

/** A process that exited but was not reaped yet (a zombie: its parent died, init has not waited) counts as gone. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // /proc/<pid>/stat: "pid (comm) state …"
    return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return true; // no /proc: signal 0 reached it
  }
}

async function waitFor<T>(what: string, f: () => Promise<T | null>, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const v = await f();
    if (v) return v;
    await Bun.sleep(100);
  }
  throw new Error(`timed out waiting for ${what}`);
}

describeRedis("serve --instances", () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis.close();
  });

  test("refuses clearly without a Redis store", async () => {
    const dir = mkdtempSync(join(tmpdir(), "limitrate-inst-"));
    const p = Bun.spawn([process.execPath, BIN, "serve", "--instances", "2", "--port", "0"], { cwd: dir, env: { ...process.env, HOME: dir, LIMITRATE_CONFIG: "" }, stdout: "pipe", stderr: "pipe" });
    expect(await p.exited).toBe(1);
    expect(await new Response(p.stderr).text()).toContain("--instances needs a Redis store");
  });

  /** A supervisor of two nodes; `until` shows its and its nodes' output when a step times out. */
  async function startTwo() {
    const dir = mkdtempSync(join(tmpdir(), "limitrate-inst-"));
    const base = await freePorts([0, 1]);
    const p = Bun.spawn([process.execPath, BIN, "serve", "--instances", "2", "--port", String(base), "--redis", redis.url], {
      cwd: dir,
      env: { ...process.env, HOME: dir, LIMITRATE_CONFIG: "" },
      stdout: "pipe",
      stderr: "pipe",
    });
    let out = "";
    const drain = async (s: ReadableStream<Uint8Array>) => {
      for await (const chunk of s) out += new TextDecoder().decode(chunk);
    };
    const drained = Promise.all([drain(p.stdout), drain(p.stderr)]);
    const until = <T>(what: string, f: () => Promise<T | null>) =>
      waitFor(what, f).catch((e: Error) => {
        throw new Error(`${e.message}; output so far:\n${out}`);
      });
    const pids: number[] = [];
    const bothUp = async () => {
      const h0 = await until("node 0", () => health(base));
      const h1 = await until("node 1", () => health(base + 1));
      pids.push(h0.pid, h1.pid);
      return [h0, h1] as const;
    };
    return {
      p,
      base,
      until,
      bothUp,
      /** Node pids seen, killed at the end whatever happened. */
      pids,
      output: async () => (await drained, out),
      kill: () => {
        p.kill("SIGKILL");
        for (const pid of pids) alive(pid) && process.kill(pid, "SIGKILL");
      },
    };
  }

  test("two nodes share one Redis; a killed node comes back; SIGTERM stops both and exits 0", async () => {
    const { p, base, until, bothUp, pids, output, kill } = await startTwo();
    try {
      const [h0, h1] = await bothUp();
      expect(h0.store.kind).toBe("redis");
      expect(h1.pid).not.toBe(h0.pid);
      process.kill(h1.pid, "SIGKILL");
      const back = await until("node 1 restarted", async () => {
        const h = await health(base + 1);
        return h && h.pid !== h1.pid ? h : null;
      });
      pids.push(back.pid);
      expect(back.store.kind).toBe("redis");
      p.kill("SIGTERM");
      expect(await p.exited).toBe(0);
      expect(await health(base)).toBeNull();
      expect(await health(base + 1)).toBeNull();
      const out = await output();
      expect(out).toContain(`node 1: port ${base + 1}`);
      expect(out).toMatch(/node 1 \(port \d+\) exited \(SIGKILL\); restarting/);
    } finally {
      kill();
    }
  });

  test("a supervisor killed outright (no signal reaches its nodes) does not leave them running", async () => {
    const { p, base, until, bothUp, pids, output, kill } = await startTwo();
    try {
      await bothUp();
      p.kill("SIGKILL");
      await p.exited;
      // Nodes look for their parent once a second, then stop as on SIGTERM.
      await until("both nodes gone", async () => (pids.some(alive) ? null : true));
      expect(await health(base)).toBeNull();
      expect(await health(base + 1)).toBeNull();
      expect(await output()).toContain("supervisor gone, shutting down");
    } finally {
      kill();
    }
  });
});
