// serve --instances N: N nodes on consecutive ports over one Redis; a crashed node is restarted; SIGTERM stops all.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
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

  test("two nodes share one Redis; a killed node comes back; SIGTERM stops both and exits 0", async () => {
    const dir = mkdtempSync(join(tmpdir(), "limitrate-inst-"));
    const base = await freePorts([0, 1]);
    const p = Bun.spawn([process.execPath, BIN, "serve", "--instances", "2", "--port", String(base), "--redis", redis.url], {
      cwd: dir,
      env: { ...process.env, HOME: dir, LIMITRATE_CONFIG: "" },
      stdout: "pipe",
      stderr: "pipe",
    });
    // The supervisor's and nodes' output, shown when a step times out.
    let out = "";
    const drain = async (s: ReadableStream<Uint8Array>) => {
      for await (const chunk of s) out += new TextDecoder().decode(chunk);
    };
    const drained = Promise.all([drain(p.stdout), drain(p.stderr)]);
    const until = <T>(what: string, f: () => Promise<T | null>) => waitFor(what, f).catch((e: Error) => {
      throw new Error(`${e.message}; output so far:\n${out}`);
    });
    try {
      const h0 = await until("node 0", () => health(base));
      const h1 = await until("node 1", () => health(base + 1));
      expect(h0.store.kind).toBe("redis");
      expect(h1.pid).not.toBe(h0.pid);
      process.kill(h1.pid, "SIGKILL");
      const back = await until("node 1 restarted", async () => {
        const h = await health(base + 1);
        return h && h.pid !== h1.pid ? h : null;
      });
      expect(back.store.kind).toBe("redis");
      p.kill("SIGTERM");
      expect(await p.exited).toBe(0);
      expect(await health(base)).toBeNull();
      expect(await health(base + 1)).toBeNull();
      await drained;
      expect(out).toContain(`node 1: port ${base + 1}`);
      expect(out).toMatch(/node 1 \(port \d+\) exited \(SIGKILL\); restarting/);
    } finally {
      p.kill("SIGKILL");
    }
  });
});
