// The compiled executable as a user gets it: built once here (scripts/build.ts,
// the release options), copied alone into an empty directory (no
// node_modules, no config, HOME there too), and run from there.
// LIMITRATE_EXE=path tests an existing executable instead of building one.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pkg from "../../package.json" with { type: "json" };
import { buildExecutable, CHOSEN } from "../../scripts/build.ts";
import { freePort } from "../helpers/ports.ts";

const procs: Bun.Subprocess[] = [];
const dirs: string[] = [];
let exe = "";
let dir = "";

beforeAll(async () => {
  const buildDir = mkdtempSync(join(tmpdir(), "limitrate-build-"));
  dirs.push(buildDir);
  let built = process.env.LIMITRATE_EXE;
  if (!built) built = (await buildExecutable({ ...CHOSEN, outfile: join(buildDir, "limitrate") })).outfile;
  dir = mkdtempSync(join(tmpdir(), "limitrate-exe-"));
  dirs.push(dir);
  exe = join(dir, "limitrate");
  copyFileSync(built, exe);
  chmodSync(exe, 0o755);
}, 60_000);

afterAll(async () => {
  for (const p of procs.splice(0)) {
    if (p.exitCode === null && p.signalCode === null) p.kill("SIGKILL");
    await p.exited;
  }
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

type Piped = Bun.Subprocess<"ignore", "pipe", "pipe">;

function env(): Record<string, string> {
  const e: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) e[k] = v;
  delete e.LIMITRATE_CONFIG;
  delete e.LIMITRATE_ADMIN_TOKEN;
  return { ...e, HOME: dir, NO_COLOR: "1" };
}

function run(args: string[]): Piped {
  const p = Bun.spawn([exe, ...args], { cwd: dir, env: env(), stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  procs.push(p);
  return p;
}

async function finish(p: Piped, timeoutMs = 20_000) {
  const timer = setTimeout(() => p.kill("SIGKILL"), timeoutMs);
  try {
    const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
    return { out, err, code };
  } finally {
    clearTimeout(timer);
  }
}

/** Collects a stream into a string in the background. */
function collect(stream: ReadableStream<Uint8Array>): { text: () => string; done: Promise<void> } {
  let text = "";
  const decoder = new TextDecoder();
  const done = (async () => {
    for await (const chunk of stream) text += decoder.decode(chunk, { stream: true });
  })().catch(() => {});
  return { text: () => text, done };
}

/** A long-running command: its stderr is collected, its stdout read until the gateway's URL shows. */
async function startServe(args: string[]): Promise<{ p: Piped; url: string; stderr: ReturnType<typeof collect> }> {
  const p = run(args);
  const stderr = collect(p.stderr);
  const reader = p.stdout.getReader();
  const decoder = new TextDecoder();
  let text = "";
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const { done, value } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
    const m = /listening on (http:\/\/\S+)/.exec(text);
    if (m) {
      void (async () => {
        while (!(await reader.read().catch(() => ({ done: true }))).done);
      })();
      return { p, url: m[1]!, stderr };
    }
  }
  p.kill("SIGKILL");
  await stderr.done;
  throw new Error(`no URL from ${args.join(" ")}; stdout: ${text}; stderr: ${stderr.text()}`);
}

async function waitOk(url: string, timeoutMs = 10_000): Promise<Response> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url);
      if (res.ok) return res;
      last = `status ${res.status}`;
    } catch (e) {
      last = String(e);
    }
    await Bun.sleep(20);
  }
  throw new Error(`${url}: ${last}`);
}

function chat(url: string, content: string): Promise<Response> {
  return fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content }] }),
  });
}

async function sigterm(p: Piped): Promise<number> {
  p.kill("SIGTERM");
  const code = await Promise.race([p.exited, Bun.sleep(5000).then(() => "timeout" as const)]);
  if (code === "timeout") {
    p.kill("SIGKILL");
    throw new Error("did not exit within 5 s of SIGTERM");
  }
  return code;
}

test("--version prints the package version", async () => {
  const r = await finish(run(["--version"]));
  expect(r.code).toBe(0);
  // The version, optionally followed by the commit the executable was built from.
  expect(r.out.trim()).toMatch(new RegExp(`^${pkg.version.replaceAll(".", "\\.")}\\b`));
});

test("check -c validates a config and prints the plan", async () => {
  const cfg = join(dir, "check.yaml");
  writeFileSync(
    cfg,
    "providers:\n  - name: exe-check-provider\n    base_url: http://127.0.0.1:9/v1\n    models: [gpt-4o-mini]\n    rate_limit: { mode: spaced, rpm: 60 }\n",
  );
  const r = await finish(run(["check", "-c", cfg]));
  expect(r.err).toBe("");
  expect(r.code).toBe(0);
  expect(r.out).toContain("exe-check-provider");
});

test("check -c on a bad config lists the problem by path, exit 1", async () => {
  const cfg = join(dir, "bad.yaml");
  writeFileSync(cfg, "providers:\n  - name: p\n    base_url: http://127.0.0.1:9/v1\n    models: [m]\n    rate_limit: { mode: spaced, rpm: -1 }\n");
  const r = await finish(run(["check", "-c", cfg]));
  expect(r.code).toBe(1);
  expect(r.out + r.err).toContain("providers[0].rate_limit.rpm");
});

describe("serve on the embedded default", () => {
  let gw: Awaited<ReturnType<typeof startServe>>;

  test("answers a chat completion with 200", async () => {
    gw = await startServe(["serve", "--port", "0"]);
    expect((await (await waitOk(`${gw.url}/admin/health`)).json()).status).toBe("ok");
    const res = await chat(gw.url, "hi");
    expect(res.status).toBe(200);
    const body = (await res.json()) as { choices: { message: { content: string } }[] };
    expect(body.choices[0]!.message.content.length).toBeGreaterThan(0);
  });

  test("stats --json reads its /admin/stats", async () => {
    const r = await finish(run(["stats", "--json", "--url", gw.url]));
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    const snap = JSON.parse(r.out) as { uptime_seconds: number; providers: { provider: string }[] };
    expect(typeof snap.uptime_seconds).toBe("number");
    expect(snap.providers.map((p) => p.provider)).toContain("mock");
  });

  test("exits 0 on SIGTERM", async () => {
    expect(await sigterm(gw.p)).toBe(0);
  });
});

describe("mock-upstream, and serve on a config that counts tokens", () => {
  let mockUrl = "";

  test("mock-upstream --port serves /v1/models", async () => {
    const port = await freePort();
    const p = run(["mock-upstream", "--port", String(port)]);
    collect(p.stdout);
    collect(p.stderr);
    mockUrl = `http://127.0.0.1:${port}`;
    const models = (await (await waitOk(`${mockUrl}/v1/models`)).json()) as { data: { id: string }[] };
    expect(models.data.map((m) => m.id)).toContain("gpt-4o-mini");
  });

  test("a large prompt is counted by the bundled token-counting worker", async () => {
    // Over the inline limit (16 K characters), counting goes to the worker
    // (scripts/count-worker.ts); were it missing, the gateway would say so on stderr.
    const cfg = join(dir, "tokens.yaml");
    writeFileSync(
      cfg,
      `providers:\n  - name: m\n    base_url: ${mockUrl}/v1\n    models: [gpt-4o-mini]\n    rate_limit: { mode: window, rpm: 1000, input_tpm: 100000000 }\n`,
    );
    const gw = await startServe(["serve", "-c", cfg, "--port", "0"]);
    const res = await chat(gw.url, "hello world ".repeat(3000));
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    expect(await sigterm(gw.p)).toBe(0);
    await gw.stderr.done;
    expect(gw.stderr.text()).not.toContain("worker unavailable");
  });
});

/** A throwaway redis-server on a free port, or null when it is not installed. */
async function startRedis(): Promise<{ url: string; p: Bun.Subprocess } | null> {
  if (Bun.which("redis-server") === null) return null;
  const port = await freePort();
  const cwd = mkdtempSync(join(tmpdir(), "limitrate-exe-redis-"));
  dirs.push(cwd);
  const p = Bun.spawn(["redis-server", "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { cwd, stdout: "ignore", stderr: "ignore" });
  procs.push(p);
  for (const deadline = Date.now() + 5000; Date.now() < deadline; await Bun.sleep(20)) {
    try {
      const s = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {} } });
      s.end();
      return { url: `redis://127.0.0.1:${port}`, p };
    } catch {
      // not up yet
    }
  }
  throw new Error("redis-server did not start");
}

test("serve --redis keeps its limits in Redis", async () => {
  const redis = await startRedis();
  if (redis === null) {
    console.warn("skipping: redis-server not installed");
    return;
  }
  const gw = await startServe(["serve", "--redis", redis.url, "--port", "0"]);
  const health = (await (await waitOk(`${gw.url}/admin/health`)).json()) as { store: { kind: string; state: string } };
  expect(health.store).toMatchObject({ kind: "redis", state: "ok" });
  expect((await chat(gw.url, "hi")).status).toBe(200);
  expect(await sigterm(gw.p)).toBe(0);
  redis.p.kill("SIGTERM");
});

test("bench -n 20 -c 2 --json runs its own gateway and reports JSON", async () => {
  const r = await finish(run(["bench", "-n", "20", "-c", "2", "--json"]), 30_000);
  expect(r.code).toBe(0);
  const report = JSON.parse(r.out) as { requests: number; errors: number; status: Record<string, number>; latency_ms: { p50: number } };
  expect(report.requests).toBe(20);
  expect(report.errors).toBe(0);
  expect(Object.values(report.status).reduce((a, b) => a + b, 0)).toBe(20);
  expect(report.status["200"]).toBeGreaterThan(0);
  expect(report.latency_ms.p50).toBeGreaterThan(0);
}, 40_000);
