/**
 * Portkey's open-source gateway (npm @portkey-ai/gateway), run as its users
 * run it: `npx @portkey-ai/gateway` executes the package's bin
 * (build/start-server.js) under Node, a Hono app on @hono/node-server. We
 * install the package once into a cache directory outside the project (never
 * into package.json) and start that same bin with `node`, so the pid we
 * measure is the server itself (npx would put an npm process in front). The
 * only flag is its own `--port=N` (default 8787) so a busy 8787 never
 * matters. A request reaches our mock with Portkey's headers:
 *   x-portkey-provider: openai
 *   x-portkey-custom-host: http://127.0.0.1:<mock>/v1    (127.0.0.1 is in its default trusted hosts)
 *   authorization: Bearer <key>                          (passed on as the provider key)
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../../test/helpers/ports.ts";
import type { ServerProc } from "./proc.ts";

export const PORTKEY_PACKAGE = "@portkey-ai/gateway";
/** Pinned so runs compare like with like; override with LIMITRATE_BENCH_PORTKEY_VERSION. */
export const PORTKEY_VERSION = process.env.LIMITRATE_BENCH_PORTKEY_VERSION ?? "1.15.2";
const INSTALL_TIMEOUT_MS = 240_000;
const READY_TIMEOUT_MS = 30_000;

export function portkeyDir(): string {
  return join(tmpdir(), `limitrate-bench-portkey-${PORTKEY_VERSION}`);
}

function entry(dir: string): string {
  return join(dir, "node_modules", "@portkey-ai", "gateway", "build", "start-server.js");
}

export type Installed = { readonly ok: true; readonly entry: string; readonly node: string; readonly nodeVersion: string } | { readonly ok: false; readonly reason: string };

async function run(cmd: string[], cwd: string, timeoutMs: number): Promise<{ code: number | null; out: string }> {
  const p = Bun.spawn(cmd, { cwd, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const timer = setTimeout(() => p.kill("SIGKILL"), timeoutMs);
  try {
    const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
    return { code: p.signalCode ? null : code, out: `${out}\n${err}`.trim() };
  } finally {
    clearTimeout(timer);
  }
}

/** Installs the pinned version into the cache directory if it is not there yet; says why not when it cannot. */
export async function ensurePortkey(): Promise<Installed> {
  const node = Bun.which("node");
  if (!node) return { ok: false, reason: "node is not on PATH (Portkey's gateway runs under Node: npx @portkey-ai/gateway)" };
  const nodeVersion = (await run([node, "--version"], tmpdir(), 10_000)).out;
  const dir = portkeyDir();
  if (!existsSync(entry(dir))) {
    const npm = Bun.which("npm");
    if (!npm) return { ok: false, reason: "npm is not on PATH: cannot install @portkey-ai/gateway" };
    mkdirSync(dir, { recursive: true });
    if (!existsSync(join(dir, "package.json"))) writeFileSync(join(dir, "package.json"), '{"name":"limitrate-bench-portkey","private":true}\n');
    console.error(`  installing ${PORTKEY_PACKAGE}@${PORTKEY_VERSION} into ${dir} (npm, once)…`);
    const r = await run([npm, "install", "--no-audit", "--no-fund", "--loglevel=error", `${PORTKEY_PACKAGE}@${PORTKEY_VERSION}`], dir, INSTALL_TIMEOUT_MS);
    if (r.code !== 0 || !existsSync(entry(dir))) {
      const tail = r.out.split("\n").slice(-6).join(" | ");
      return { ok: false, reason: `npm install ${PORTKEY_PACKAGE}@${PORTKEY_VERSION} failed (exit ${r.code ?? "killed after timeout"}): ${tail}` };
    }
  }
  return { ok: true, entry: entry(dir), node, nodeVersion };
}

/** Starts the gateway on a free port of 127.0.0.1 and waits until it answers its root route. */
export async function startPortkey(inst: Extract<Installed, { ok: true }>): Promise<ServerProc> {
  const port = await freePort();
  const proc = Bun.spawn([inst.node, inst.entry, `--port=${port}`], {
    cwd: portkeyDir(),
    stdin: "ignore",
    stdout: "ignore", // a spinner and a banner; nothing we read
    stderr: "pipe",
  });
  let stderr = "";
  void (async () => {
    for await (const chunk of proc.stderr) if (stderr.length < 4000) stderr += new TextDecoder().decode(chunk);
  })();
  const url = `http://127.0.0.1:${port}`;
  const deadline = performance.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`Portkey exited with ${proc.exitCode} before it answered: ${stderr.slice(0, 800)}`);
    try {
      const res = await fetch(`${url}/`);
      const text = await res.text();
      if (res.status === 200 && text.includes("Gateway")) break;
    } catch {
      // not listening yet
    }
    if (performance.now() > deadline) {
      proc.kill("SIGKILL");
      throw new Error(`Portkey did not answer on ${url} within ${READY_TIMEOUT_MS} ms: ${stderr.slice(0, 800)}`);
    }
    await Bun.sleep(50);
  }
  return {
    pid: proc.pid,
    url,
    async stop() {
      proc.kill("SIGTERM");
      const exited = await Promise.race([proc.exited.then(() => true), Bun.sleep(5000).then(() => false)]);
      if (!exited) proc.kill("SIGKILL");
    },
  };
}

/** The headers a Portkey user sends to reach an OpenAI-compatible upstream at `upstreamV1`. */
export function portkeyHeaders(upstreamV1: string): Record<string, string> {
  return { "x-portkey-provider": "openai", "x-portkey-custom-host": upstreamV1, authorization: "Bearer sk-bench" };
}
