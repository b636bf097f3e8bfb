// The live screen in a real terminal: `stats` runs inside tmux (80×24) against a real gateway
// whose slow spaced provider has requests waiting; the screen is read with capture-pane.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { resolve } from "node:path";
import type { RunningGateway } from "../../src/gateway/server.ts";
import { type RunningMock, startMockUpstream } from "../../src/mock/mock-upstream.ts";
import { chat, gateway, post, provider } from "../helpers/gateway.ts";

const TMUX = Bun.which("tmux");
if (!TMUX) {
  console.warn("\n\x1b[33m!!! tmux not found: SKIPPING the live terminal test of `limitrate stats` (test/tui/tmux.test.ts) !!!\x1b[0m\n");
}
const tmuxTest = TMUX ? test : test.skip;

const CLI = resolve(import.meta.dir, "stats-cli.ts");
// An own tmux server, so the session gets this process's environment and nothing else is touched.
const SOCKET = `limitrate-test-${process.pid}`;
const SESSION = "stats";

let mock: RunningMock;
let gw: RunningGateway;
const inFlight = new AbortController();

async function tmux(...args: string[]): Promise<string> {
  const p = Bun.spawn([TMUX!, "-L", SOCKET, ...args], { stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  if (code !== 0) throw new Error(`tmux ${args.join(" ")}: ${err}`);
  return out;
}

/** The visible screen, one string per row (trailing newline dropped). */
const screen = async (target = SESSION, ...flags: string[]) => (await tmux("capture-pane", "-p", ...flags, "-t", target)).replace(/\n$/, "");

/** Polls the screen until `check` holds; returns that screen. */
async function waitForScreen(check: (s: string) => boolean, what: string, target = SESSION, timeoutMs = 15_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < deadline) {
    last = await screen(target);
    if (check(last)) return last;
    await Bun.sleep(100);
  }
  throw new Error(`screen never showed ${what}; last screen:\n${last}`);
}

beforeAll(() => {
  if (!TMUX) return;
  mock = startMockUpstream({ port: 0, latencyMs: 200 });
  gw = gateway({
    keys: { "sk-team-a": { name: "team-a", rpm: 100, input_tpm: 100_000 } },
    providers: [provider("slowprov", mock.url, { rate_limit: { mode: "spaced", interval_seconds: 3, max_concurrent: 4 } })],
  });
  for (let i = 0; i < 8; i++) {
    post(`${gw.url}/v1/chat/completions`, chat(), { authorization: "Bearer sk-team-a" }).catch(() => {});
  }
});

afterAll(async () => {
  if (!TMUX) return;
  inFlight.abort();
  await tmux("kill-server").catch(() => {});
  await gw?.stop();
  await mock?.stop();
});

tmuxTest(
  "stats in tmux at 80×24: providers with queue and bar, keys with usage; pause, resize, reconnecting…, q quits",
  async () => {
    const cmd = `${process.execPath} ${CLI} stats --url ${gw.url} --interval 250; echo "stats exited with $?"; sleep 60`;
    await tmux("new-session", "-d", "-s", SESSION, "-x", "80", "-y", "24", cmd);

    // The queue builds up behind the 3 s spacing: 8 sent, 1 out, the rest waiting.
    let s = await waitForScreen((t) => /slowprov +spaced 20\/m +[1-9]\d* [█▏▎▍▌▋▊▉]/.test(t) && t.includes("team-a"), "a queued provider");
    const lines = s.split("\n");
    expect(lines.length).toBeLessThanOrEqual(24);
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(80);
    expect(s).toContain("limitrate stats 127.0.0.1:");
    expect(s).toContain("store memory ok");
    expect(s).toContain("● live");
    expect(s).toMatch(/PROVIDER +mode +queue +in-flt +sent\/m last 60s +429 +503 +next/);
    expect(s).toMatch(/team-a +rpm +[█▏▎▍▌▋▊▉]+░* +8\/100/);
    expect(s).toContain("q quit");
    // Requests have waited in the line: its wait p50/p99 under the provider, and in the key's column.
    s = await waitForScreen((t) => /slowprov .*\n {2}wait p50\/p99 [\d.]+m?s\/[\d.]+m?s/.test(t), "the provider's wait line");
    expect(s).toMatch(/KEY .* spend wait p50\/99 rejected/);
    expect(s).toMatch(/team-a .* [<$][$\d.]+ +[\d.]+m?s\/[\d.]+m?s /);
    for (const line of s.split("\n")) expect(line.length).toBeLessThanOrEqual(80);
    if (process.env.LIMITRATE_SHOW_CAPTURE) console.log(`--- tmux capture-pane at 80×24 ---\n${s}\n---`);

    // Coloured on a terminal…
    expect(await screen(SESSION, "-e")).toContain("\x1b[");
    // …and not a single escape sequence with NO_COLOR.
    await tmux("new-window", "-t", SESSION, "-n", "nocolor", "-e", "NO_COLOR=1", `${process.execPath} ${CLI} stats --url ${gw.url}`);
    const plain = await waitForScreen((t) => t.includes("slowprov"), "the NO_COLOR screen", `${SESSION}:nocolor`);
    expect(plain).toContain("q quit");
    expect(await screen(`${SESSION}:nocolor`, "-e")).not.toContain("\x1b[");
    await tmux("kill-window", "-t", `${SESSION}:nocolor`);

    await tmux("send-keys", "-t", SESSION, "p");
    await waitForScreen((t) => t.includes("PAUSED"), "PAUSED");
    await tmux("send-keys", "-t", SESSION, "p");
    await waitForScreen((t) => !t.includes("PAUSED"), "resumed");

    await tmux("resize-window", "-t", SESSION, "-x", "110", "-y", "30");
    s = await waitForScreen((t) => t.split("\n").some((l) => l.length > 85 && l.includes("slowprov")), "the wider layout");
    expect(s.split("\n").filter((l) => l.includes("limitrate stats"))).toHaveLength(1);
    await tmux("resize-window", "-t", SESSION, "-x", "80", "-y", "24");
    s = await waitForScreen((t) => t.split("\n").every((l) => l.length <= 80) && t.includes("slowprov"), "the 80-column layout again");
    expect(s.split("\n").filter((l) => l.includes("limitrate stats"))).toHaveLength(1);

    await gw.stop();
    // First the stream breaks, then the reconnect attempts are refused.
    s = await waitForScreen((t) => t.includes("reconnecting…") && t.includes("connection refused"), "reconnecting… connection refused");
    expect(s).toContain("slowprov");
    if (process.env.LIMITRATE_SHOW_CAPTURE) console.log(`--- reconnecting ---\n${s}\n---`);
    // The last data stays, greyed.
    const row = (await screen(SESSION, "-e")).split("\n").find((l) => l.includes("slowprov"))!;
    expect(row).toContain("\x1b[90m");
    expect(row).not.toContain("\x1b[36m");

    await tmux("send-keys", "-t", SESSION, "q");
    s = await waitForScreen((t) => t.includes("stats exited with 0"), "the process to exit");
    // The alternate screen is gone: the shell's screen is back.
    expect(s).not.toContain("PROVIDER");
  },
  60_000,
);
