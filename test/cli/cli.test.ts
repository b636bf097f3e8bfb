// The CLI as a user runs it: real processes, real ports.
import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import pkg from "../../package.json" with { type: "json" };

const BIN = resolve(import.meta.dir, "../../bin/limitrate");
const procs: Bun.Subprocess[] = [];
afterEach(() => {
  for (const p of procs.splice(0)) p.kill("SIGKILL");
});

function run(args: string[], cwd: string, env: Record<string, string> = {}) {
  const p = Bun.spawn([process.execPath, BIN, ...args], {
    cwd,
    env: { ...process.env, HOME: cwd, LIMITRATE_CONFIG: "", ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  procs.push(p);
  return p;
}

async function finish(p: Bun.Subprocess<"ignore", "pipe", "pipe">) {
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { out, err, code };
}

/** Reads stdout until a line with the gateway URL appears. */
async function waitForUrl(p: Bun.Subprocess<"ignore", "pipe", "pipe">): Promise<string> {
  const reader = p.stdout.getReader();
  let text = "";
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const { done, value } = await reader.read();
    if (done) break;
    text += new TextDecoder().decode(value);
    const m = /listening on (http:\/\/[^\s]+)/.exec(text);
    if (m) {
      reader.releaseLock();
      return m[1]!;
    }
  }
  throw new Error(`no URL in output: ${text}`);
}

const tmp = () => mkdtempSync(join(tmpdir(), "limitrate-cli-"));

test("--version prints the package version", async () => {
  const r = await finish(run(["--version"], tmp()));
  expect(r.code).toBe(0);
  expect(r.out.trim()).toBe(pkg.version);
});

test("check: a valid config prints the plan with secrets masked, exit 0", async () => {
  const dir = tmp();
  writeFileSync(
    join(dir, "limitrate.yaml"),
    "providers:\n  - name: openai\n    base_url: https://api.openai.com/v1\n    api_key: ${OPENAI_API_KEY}\n    models: [gpt-4o-mini]\n    rate_limit: { mode: spaced, rpm: 60 }\n",
  );
  const r = await finish(run(["check"], dir, { OPENAI_API_KEY: "sk-proj-verysecretvalue1234" }));
  expect(r.code).toBe(0);
  expect(r.out).toContain("openai");
  expect(r.out).toContain("gpt-4o-mini");
  expect(r.out).not.toContain("verysecret");
});

test("check: a bad config lists every problem by path, exit 1, no stack trace", async () => {
  const dir = tmp();
  writeFileSync(
    join(dir, "bad.yaml"),
    "providers:\n  - name: a\n    base_url: not-a-url\n    models: []\n    rate_limit: { mode: spaced, rpn: 5 }\n  - name: b\n    base_url: http://x/v1\n    models: [m]\n    rate_limit: { rpm: -1 }\n",
  );
  const r = await finish(run(["check", "-c", "bad.yaml"], dir));
  expect(r.code).toBe(1);
  expect(r.err).toContain("providers[0].base_url");
  expect(r.err).toContain("providers[0].models");
  expect(r.err).toContain('did you mean "rpm"');
  expect(r.err).toContain("providers[1].rate_limit.rpm");
  expect(r.err).not.toMatch(/\n\s+at /);
});

test("serve: embedded default answers at once, then stops cleanly on SIGTERM", async () => {
  const p = run(["serve", "--port", "0"], tmp());
  const url = await waitForUrl(p);
  const models = await (await fetch(`${url}/v1/models`)).json();
  expect(models.data.map((m: { id: string }) => m.id)).toContain("gpt-4o-mini");
  const res = await fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] }),
  });
  expect(res.status).toBe(200);
  p.kill("SIGTERM");
  expect(await p.exited).toBe(0);
});

test("serve: SIGTERM answers queued requests 503 and exits 0", async () => {
  const p = run(["serve", "--port", "0"], tmp());
  const url = await waitForUrl(p);
  const ask = () =>
    fetch(`${url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] }),
    });
  const first = ask();
  await Bun.sleep(50);
  const queued = ask(); // the embedded default paces one request every 2 s
  await Bun.sleep(100);
  p.kill("SIGTERM");
  expect((await first).status).toBe(200);
  const q = await queued;
  expect(q.status).toBe(503);
  expect((await q.json()).error.code).toBe("shutting_down");
  expect(await p.exited).toBe(0);
});

test("serve: a port in use is a clear message and exit 1", async () => {
  const blocker = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("") });
  try {
    const r = await finish(run(["serve", "--port", String(blocker.port)], tmp()));
    expect(r.code).toBe(1);
    expect(r.err).toContain(`Port ${blocker.port}`);
    expect(r.err).toContain("already in use");
    expect(r.err).not.toMatch(/\n\s+at /);
  } finally {
    blocker.stop(true);
  }
});

test("serve --watch: a bad new config is refused (old stays), a good one is applied; SIGHUP reloads too", async () => {
  const dir = tmp();
  const cfg = (models: string) =>
    `providers:\n  - name: m\n    base_url: http://127.0.0.1:9/v1\n    models: [${models}]\n`;
  writeFileSync(join(dir, "limitrate.yaml"), cfg("one"));
  const p = run(["serve", "--port", "0", "--watch"], dir);
  const url = await waitForUrl(p);
  const ids = async () => ((await (await fetch(`${url}/v1/models`)).json()).data as { id: string }[]).map((m) => m.id);
  expect(await ids()).toContain("one");
  writeFileSync(join(dir, "limitrate.yaml"), "providers: [ { name: m, base_url: nope } ]\n");
  await Bun.sleep(1500);
  expect(await ids()).toContain("one"); // refused: the old config stays
  writeFileSync(join(dir, "limitrate.yaml"), cfg("one, two"));
  let seen: string[] = [];
  for (let i = 0; i < 40 && !seen.includes("two"); i++) {
    await Bun.sleep(100);
    seen = await ids();
  }
  expect(seen).toContain("two");
  writeFileSync(join(dir, "limitrate.yaml"), cfg("three"));
  p.kill("SIGHUP");
  for (let i = 0; i < 40 && !seen.includes("three"); i++) {
    await Bun.sleep(50);
    seen = await ids();
  }
  expect(seen).toContain("three");
  p.kill("SIGTERM");
  expect(await p.exited).toBe(0);
  const err = await new Response(p.stderr).text();
  expect(err).toContain("refused");
  expect(err).toContain("base_url");
});
