// `limitrate stats` as a process against real gateways: --json, plain lines when piped, errors.
import { afterEach, expect, test } from "bun:test";
import { resolve } from "node:path";
import type { RunningGateway } from "../../src/gateway/server.ts";
import type { StatsSnapshot } from "../../src/stats/snapshot.ts";
import { chat, gateway, post, provider } from "../helpers/gateway.ts";
import { okJson, scriptedUpstream } from "../helpers/upstream.ts";

const CLI = resolve(import.meta.dir, "stats-cli.ts");
const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

function startGateway(keys?: Record<string, unknown>): RunningGateway {
  const up = scriptedUpstream(() => okJson());
  const gw = gateway({ ...(keys ? { keys } : {}), providers: [provider("openai", up.url, { rate_limit: { mode: "spaced", interval_seconds: 0.05 } })] });
  cleanup.push(() => up.stop(), () => gw.stop());
  return gw;
}

function stats(args: string[], env: Record<string, string> = {}) {
  const p = Bun.spawn([process.execPath, CLI, "stats", ...args], { env: { ...process.env, ...env }, stdout: "pipe", stderr: "pipe" });
  cleanup.push(() => p.kill("SIGKILL"));
  return p;
}

async function finish(p: ReturnType<typeof stats>) {
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { out, err, code };
}

test("--json prints one /admin/stats snapshot and exits 0", async () => {
  const gw = startGateway();
  expect((await post(`${gw.url}/v1/chat/completions`, chat())).status).toBe(200);
  const r = await finish(stats(["--json", "--url", gw.url]));
  expect(r.err).toBe("");
  expect(r.code).toBe(0);
  const s = JSON.parse(r.out) as StatsSnapshot;
  expect(s.providers[0]!.provider).toBe("openai");
  expect(s.providers[0]!.sent).toBe(1);
  expect(typeof s.uptime_seconds).toBe("number");
});

test("--json with several --url prints each node and their sum", async () => {
  const a = startGateway();
  const b = startGateway();
  await post(`${a.url}/v1/chat/completions`, chat());
  await post(`${b.url}/v1/chat/completions`, chat());
  await post(`${b.url}/v1/chat/completions`, chat());
  const r = await finish(stats(["--json", "--url", a.url, "--url", b.url]));
  expect(r.code).toBe(0);
  const out = JSON.parse(r.out) as { nodes: { url: string; snapshot: StatsSnapshot }[]; sum: StatsSnapshot };
  expect(out.nodes.map((n) => n.url)).toEqual([a.url, b.url]);
  expect(out.nodes.map((n) => n.snapshot.providers[0]!.sent)).toEqual([1, 2]);
  expect(out.sum.providers[0]!.sent).toBe(3);
  expect(out.sum.totals.requests).toBe(3);
});

test("--json against an unreachable node: a clear message, exit 1", async () => {
  const gw = startGateway();
  const url = gw.url;
  await gw.stop();
  const r = await finish(stats(["--json", "--url", url]));
  expect(r.code).toBe(1);
  expect(r.out).toBe("");
  expect(r.err).toBe(`limitrate: cannot reach ${url}: connection refused\n`);
});

test("--json with a wrong admin token says how to pass one", async () => {
  const up = scriptedUpstream(() => okJson());
  const gw = gateway({ server: { admin_token: "adm" }, providers: [provider("openai", up.url)] });
  cleanup.push(() => up.stop(), () => gw.stop());
  const r = await finish(stats(["--json", "--url", gw.url], { LIMITRATE_ADMIN_TOKEN: "" }));
  expect(r.code).toBe(1);
  expect(r.err).toContain("--token");
  const ok = await finish(stats(["--json", "--url", gw.url], { LIMITRATE_ADMIN_TOKEN: "adm" }));
  expect(ok.code).toBe(0);
});

test("piped (not a terminal): plain lines every interval, per provider and per key, no ANSI with NO_COLOR", async () => {
  const gw = startGateway({ "sk-team-a": { name: "team-a", rpm: 20 } });
  await post(`${gw.url}/v1/chat/completions`, chat(), { authorization: "Bearer sk-team-a" });
  const p = stats(["--url", gw.url, "--interval", "200"], { NO_COLOR: "1", FORCE_COLOR: "1" });
  const reader = p.stdout.getReader();
  let text = "";
  const deadline = Date.now() + 10_000;
  while ((text.match(/ up /g) ?? []).length < 2 && Date.now() < deadline) {
    const { value, done } = await reader.read();
    if (done) break;
    text += new TextDecoder().decode(value);
  }
  p.kill("SIGINT");
  expect(await p.exited).toBe(0);
  expect(text).not.toContain("\x1b");
  const lines = text.trim().split("\n");
  expect(lines[0]).toMatch(/^\d\d:\d\d:\d\d http:\/\/127\.0\.0\.1:\d+ up \S+ store memory ok$/);
  expect(lines[1]).toMatch(/^ {2}provider openai spaced 1\.2k\/m queue 0 in_flight 0\/∞ sent\/min 1\/1\.2k 429s 0 503s 0 next \S+ wait p50\/p99 [\d.]+m?s\/[\d.]+m?s$/);
  // The request waited a few ms in the provider's line (histogram bucket bounds).
  expect(lines[2]).toMatch(/^ {2}key team-a rpm 1\/20 requests 1 rejected 0 spend \$\S+ wait p50\/p99 [\d.]+m?s\/[\d.]+m?s$/);
});

test("piped, from a real gateway: adaptive learned rate, model line, upstream hold, wait, USD budgets, group", async () => {
  // The provider answers but says its requests are used up for 30 s: the gateway holds its line.
  const up = scriptedUpstream(() => {
    const r = okJson("gpt-4o");
    r.headers.set("x-ratelimit-remaining-requests", "0");
    r.headers.set("x-ratelimit-reset-requests", "30s");
    r.headers.set("x-ratelimit-remaining-tokens", "1000");
    return r;
  });
  const gw = gateway({
    groups: { eng: { budget_usd_per_day: 50 } },
    keys: { "sk-team-a": { name: "team-a", group: "eng", budget_usd_per_day: 10 } },
    providers: [
      provider("openai", up.url, {
        models: ["gpt-4o-mini", { name: "gpt-4o", rate_limit: { mode: "spaced", interval_seconds: 0.05 } }],
        rate_limit: { mode: "adaptive", rpm: 600 },
      }),
    ],
  });
  cleanup.push(() => up.stop(), () => gw.stop());
  expect((await post(`${gw.url}/v1/chat/completions`, chat("gpt-4o"), { authorization: "Bearer sk-team-a" })).status).toBe(200);
  const p = stats(["--url", gw.url, "--interval", "200"], { NO_COLOR: "1" });
  const reader = p.stdout.getReader();
  let text = "";
  const deadline = Date.now() + 10_000;
  while (!/ {2}group .*\n/.test(text) && Date.now() < deadline) {
    const { value, done } = await reader.read();
    if (done) break;
    text += new TextDecoder().decode(value);
  }
  p.kill("SIGINT");
  expect(await p.exited).toBe(0);
  const lines = text.split("\n");
  const at = (prefix: string) => lines.find((l) => l.startsWith(prefix)) ?? "";
  expect(at("  provider openai")).toMatch(
    /^ {2}provider openai learned 600\/m queue 0 .* wait p50\/p99 [\d.]+m?s\/[\d.]+m?s upstream left requests 0 tokens 1k held until \d\d:\d\d:\d\d \(requests exhausted\)$/,
  );
  expect(at("    model")).toMatch(/^ {4}model openai\/gpt-4o spaced 1\.2k\/m queue 0 in_flight 0\/∞ sent\/min 1\/1\.2k 503s 0 next /);
  expect(at("  key")).toMatch(/^ {2}key team-a budget_usd_per_day <\$0\.01\/\$10 requests 1 rejected 0 spend <\$0\.01 wait p50\/p99 /);
  expect(at("  group")).toBe("  group eng budget_usd_per_day <$0.01/$50 requests 1 rejected 0 spend <$0.01");
});

test("piped, gateway down: says reconnecting… and keeps trying", async () => {
  const gw = startGateway();
  const url = gw.url;
  await gw.stop();
  const p = stats(["--url", url, "--interval", "100"], { NO_COLOR: "1" });
  const reader = p.stdout.getReader();
  const { value } = await reader.read();
  p.kill("SIGTERM");
  expect(new TextDecoder().decode(value)).toMatch(/reconnecting… cannot reach .*connection refused/);
  expect(await p.exited).toBe(0);
});

test("--help lists the options", async () => {
  const r = await finish(stats(["--help"]));
  expect(r.code).toBe(0);
  for (const o of ["--url <url>", "--json", "--interval <ms>", "--token <token>", "LIMITRATE_ADMIN_TOKEN"]) expect(r.out).toContain(o);
});
