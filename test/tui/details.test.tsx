// The snapshot's newer fields on screen: model lines under their provider, the learned rate of
// mode adaptive, queue waits, the provider's own hold and what it says is left, spend and USD
// budgets, groups — in ink frames (80×24 and narrower), in the plain lines, and in their helpers.
import { afterEach, expect, test } from "bun:test";
import { cleanup, render } from "ink-testing-library";
import pc from "picocolors";
import { quantile } from "../../src/stats/histogram.ts";
import type { ProviderSnapshot } from "../../src/stats/snapshot.ts";
import { KeyTable } from "../../src/tui/KeyTable.tsx";
import { ProviderTable } from "../../src/tui/ProviderTable.tsx";
import { Screen } from "../../src/tui/Screen.tsx";
import type { NodeState } from "../../src/tui/follow-node.ts";
import { clockTime, money, waitMs, waitPair } from "../../src/tui/format-units.ts";
import { keyColumns, planViews } from "../../src/tui/layout.ts";
import { formatPlain } from "../../src/tui/plain-report.ts";
import { deriveView } from "../../src/tui/view-model.ts";
import { groupSnap, keySnap, liveNode, modelLine, providerSnap, snap, waitHist, win } from "./fixtures.ts";

afterEach(() => cleanup());

const T = 1_700_000_000; // the snapshots' own time, epoch s
const HOLD = T + 42;
const hist = waitHist({ 25: 50, 250: 45, 2500: 5 }); // p50 25 ms, p99 2.5 s

const openai = (extra: Partial<ProviderSnapshot> = {}) =>
  providerSnap("openai", {
    interval_seconds: 2,
    waiting_in_acquire: 12,
    in_flight: 3,
    max_concurrent: 8,
    sent: 40,
    upstream_429: 2,
    queue_timeouts: 1,
    next_slot_in_seconds: 1.5,
    queue_wait_ms: hist,
    queue_wait_p50_ms: quantile(hist, 0.5),
    queue_wait_p99_ms: quantile(hist, 0.99),
    upstream: { hold_until: HOLD, reason: "requests exhausted", remaining_requests: 0, remaining_tokens: 12_000 },
    model_lines: [
      modelLine("gpt-4o", { waiting_in_acquire: 3, in_flight: 1, max_concurrent: 2, sent: 4, queue_timeouts: 2, next_slot_in_seconds: 0.5 }),
      modelLine("o1-mini", { mode: "window", interval_seconds: null, windows: { rpm: win(2, 20) }, sent: 2, next_slot_in_seconds: null }),
    ],
    ...extra,
  });
const deepseek = providerSnap("deepseek", {
  mode: "adaptive",
  interval_seconds: 1.333,
  learned_rpm: 45,
  sent: 7,
  queue_wait_ms: waitHist({ 5: 60, 25: 1 }),
  queue_wait_p50_ms: 5,
  queue_wait_p99_ms: 25,
});
const teamA = keySnap("team-a", {
  windows: { budget_usd_per_day: win(12.34, 50, 3600), rpm: win(12, 20, 41) },
  requests: 15,
  rejected: 3,
  rejected_by: { rpm: 2, budget_usd_per_day: 1 },
  spend_usd: 12.34,
  queue_wait_ms: hist,
  queue_wait_p50_ms: 25,
  queue_wait_p99_ms: 2500,
});
const freeTier = keySnap("free-tier", { spend_usd: 0.004 });
const eng = groupSnap("eng", { windows: { budget_usd_per_month: win(123.4, 500, 9 * 86400) }, requests: 20, rejected: 1, rejected_by: { budget_usd_per_month: 1 }, spend_usd: 123.4 });

// Up for 30 s: everything sent counts as the last minute, exactly.
const full = (extra = {}) => snap({ time: T, uptime_seconds: 30, providers: [openai(), deepseek], keys: [teamA, freeTier], groups: [eng], ...extra });
const node = (s = full()) => liveNode("http://127.0.0.1:8080", [s]);

function screen(nodes: readonly NodeState[], extra: Partial<Parameters<typeof Screen>[0]> = {}) {
  return <Screen urls={nodes.map((n) => n.url)} nodes={nodes} viewIndex={0} paused={false} columns={80} rows={24} color={false} {...extra} />;
}

const providerFrame = (s = full(), width = 80, maxLines?: number) => {
  const m = deriveView([node(s)], 1_000_000, 10);
  return render(<ProviderTable rows={m.providers} width={width} queueScale={m.queueScale} maxLines={maxLines} />).lastFrame()!.split("\n");
};

test("format: money with cents below $100, waits from ms to minutes", () => {
  expect([money(0), money(0.004), money(4.2), money(12.345), money(50), money(123.4), money(1234), money(12_345)]).toEqual([
    "$0",
    "<$0.01",
    "$4.20",
    "$12.35",
    "$50",
    "$123",
    "$1.2k",
    "$12k",
  ]);
  expect([waitMs(5), waitMs(250), waitMs(2500), waitMs(30_000), waitMs(120_000), waitMs(null)]).toEqual(["5ms", "250ms", "2.5s", "30s", "2m", "–"]);
  expect(waitPair(25, 2500)).toBe("25ms/2.5s");
  expect(waitPair(null, null)).toBe("–");
});

test("ProviderTable: model lines as indented rows under their provider, with their own columns", () => {
  const [, main, , m1, m2, ds] = providerFrame();
  expect(main).toMatch(/^openai +spaced 30\/m +12 /);
  expect(m1).toMatch(/^├ gpt-4o +spaced 10\/m +3 [█▏▎▍▌▋▊▉]/);
  expect(m1).toContain("1/2");
  // 4 sent, limit 10/m (6 s apart); no 429 column of its own; 2 timeouts; next slot in 0.5 s
  expect(m1).toMatch(/ 4\/10 /);
  expect(m1).toMatch(/ {6}2 +0\.5s$/);
  expect(m2).toMatch(/^└ o1-mini +window 20\/m +0 /);
  expect(m2).toMatch(/ 2\/20 .* 0 +–$/);
  expect(ds).toMatch(/^deepseek /);
});

test("ProviderTable: mode adaptive shows the learned rate in the mode column", () => {
  const lines = providerFrame();
  const ds = lines.find((l) => l.startsWith("deepseek"))!;
  expect(ds).toContain("learned 45/m");
  expect(ds).toMatch(/ 7\/45 /);
  // a fast learned rate still fits the mode column
  const [, fast] = providerFrame(snap({ time: T, providers: [providerSnap("p", { mode: "adaptive", interval_seconds: 0.05, learned_rpm: 1234 })] }));
  expect(fast).toMatch(/^p +learned 1\.2k\/m /);
  // without a learned rate yet, the mode and its pace
  const [, row] = providerFrame(snap({ time: T, providers: [providerSnap("p", { mode: "adaptive", interval_seconds: 2, learned_rpm: null })] }));
  expect(row).toContain("adaptive 30/m");
});

test("ProviderTable: a hold in the future marks the row held and says until when and why", () => {
  const [, main, detail] = providerFrame();
  expect(main).toMatch(/ 2 +1 +held$/);
  expect(detail).toStartWith(`  held until ${clockTime(HOLD * 1000)} (requests exhausted) · wait p50/p99 25ms/2.5s`);
  // A hold already over by the snapshot's time is not shown: the next slot is back.
  const [, row, after] = providerFrame(full({ time: HOLD + 1 }));
  expect(row).toMatch(/ 1\.5s$/);
  expect(after).not.toContain("held");
  expect(after).toStartWith("  wait p50/p99 25ms/2.5s · upstream left 0 req 12k tok");
});

test("ProviderTable: the wait p50/p99 line, and none before any request", () => {
  const lines = providerFrame();
  const i = lines.findIndex((l) => l.startsWith("deepseek"));
  expect(lines[i + 1]).toBe("  wait p50/p99 5ms/25ms");
  const plain = providerFrame(snap({ time: T, providers: [providerSnap("p"), providerSnap("q")] }));
  expect(plain).toHaveLength(3);
  expect(plain.join("\n")).not.toContain("wait");
});

test("ProviderTable: with few lines, whole providers first, the last one cut, the rest summarised", () => {
  // openai takes 4 lines (row, detail, 2 models), deepseek 2
  const starts = (lines: string[]) => lines.slice(1).map((l) => l.trim().slice(0, 8).trim());
  expect(starts(providerFrame(full(), 80, 6))).toEqual(["openai", "held unt", "├ gpt-4o", "└ o1-min", "deepseek", "wait p50"]);
  // the last provider may lose its detail line; one that does not fit at all is summarised
  expect(starts(providerFrame(full(), 80, 5))).toEqual(["openai", "held unt", "├ gpt-4o", "└ o1-min", "deepseek"]);
  expect(starts(providerFrame(full(), 80, 4))).toEqual(["openai", "held unt", "├ gpt-4o", "deepseek"]);
  const three = full({ providers: [openai(), deepseek, providerSnap("ollama")] });
  expect(starts(providerFrame(three, 80, 3))).toEqual(["openai", "held unt", "… 2 more"]);
});

test("KeyTable: spend as money, USD budgets as $used/$limit, wait p50/p99 column", () => {
  const m = deriveView([node()], 1_000_000, 0);
  const lines = render(<KeyTable rows={m.keys} width={80} />).lastFrame()!.split("\n");
  expect(lines[0]).toMatch(/^KEY +limit +usage +used\/limit +reset +spend wait p50\/99 rejected$/);
  expect(lines[1]).toMatch(/^team-a +rpm .* 12\/20 +41s +\$12\.34 +25ms\/2\.5s 3 rpm:2/);
  expect(lines[2]).toMatch(/^ +\$\/day +[█▏▎▍▌▋▊▉]+░* +\$12\.34\/\$50 +1h00m$/);
  expect(lines[3]).toMatch(/^free-tier +no limits +<\$0\.01 +– 0$/);
  for (const line of lines) expect(line.length).toBeLessThanOrEqual(79);
  // narrower: spend and wait go first, the rest stays
  expect(keyColumns(60)).toMatchObject({ spend: 0, wait: 0 });
  const narrow = render(<KeyTable rows={m.keys} width={60} />).lastFrame()!;
  expect(narrow).not.toContain("spend");
  expect(narrow).toContain("$12.34/$50");
});

test("KeyTable for groups: GROUP header, USD budget, spend, no wait", () => {
  const m = deriveView([node()], 1_000_000, 0);
  const lines = render(<KeyTable rows={m.groups} width={80} groups />).lastFrame()!.split("\n");
  expect(lines[0]).toMatch(/^GROUP +limit +usage +used\/limit +reset +spend +rejected$/);
  expect(lines[0]).not.toContain("wait");
  expect(lines[1]).toMatch(/^eng +\$\/month +[█▏▎▍▌▋▊▉]+░* +\$123\/\$500 +9d00h +\$123 +1 \$\/mon…$/);
});

test("Screen at 80×24: every new element on one screen, within the terminal", () => {
  const frame = render(screen([node()])).lastFrame()!;
  if (process.env.LIMITRATE_SHOW_CAPTURE) console.log(`--- ink frame at 80×24 ---\n${frame}\n---`);
  const lines = frame.split("\n");
  expect(lines.length).toBeLessThanOrEqual(23);
  for (const line of lines) expect(line.length).toBeLessThanOrEqual(79);
  expect(frame).toMatch(/openai .* held\n/);
  expect(frame).toContain(`held until ${clockTime(HOLD * 1000)} (requests exhausted)`);
  expect(frame).toContain("wait p50/p99 25ms/2.5s");
  expect(frame).toMatch(/├ gpt-4o +spaced 10\/m/);
  expect(frame).toMatch(/└ o1-mini +window 20\/m/);
  expect(frame).toContain("learned 45/m");
  expect(frame).toContain("$12.34/$50");
  expect(frame).toMatch(/GROUP .*\neng +\$\/month/);
  expect(frame).toContain("$123/$500");
  expect(frame).toContain("q quit");
  expect(frame).not.toContain("tab ");
});

test("Screen: when groups do not fit with the rest, tab reaches them on their own", () => {
  const keys = [teamA, ...Array.from({ length: 8 }, (_, i) => keySnap(`key-${i}`, { windows: { rpm: win(i, 10) } }))];
  const n = node(full({ keys }));
  const { lastFrame, rerender } = render(screen([n]));
  expect(lastFrame()).toContain("├ gpt-4o");
  expect(lastFrame()).toContain("tab keys");
  rerender(screen([n], { viewIndex: 1 }));
  expect(lastFrame()).toContain("key-7");
  expect(lastFrame()).toContain("tab groups");
  rerender(screen([n], { viewIndex: 2 }));
  const frame = lastFrame()!;
  expect(frame).toMatch(/^GROUP /m);
  expect(frame).toContain("$123/$500");
  expect(frame).not.toContain("key-7");
  expect(frame).toContain("tab providers");
  expect(planViews({ providers: 6, keys: 10, groups: 1 }, 2, 24)).toEqual(["providers", "keys", "groups", "nodes"]);
  expect(planViews({ providers: 6, keys: 3, groups: 0 }, 1, 24)).toEqual(["overview"]);
});

test("Screen: two nodes — model lines and groups summed, the held marker kept", () => {
  const a = liveNode("http://10.0.0.1:8080", [full()]);
  const b = liveNode("http://10.0.0.2:8080", [full({ providers: [openai({ upstream: { hold_until: null, reason: null, remaining_requests: 5, remaining_tokens: null } }), deepseek] })]);
  const frame = render(screen([a, b])).lastFrame()!;
  // gpt-4o: 3 + 3 waiting, 1 + 1 in flight of 2 + 2
  expect(frame).toMatch(/├ gpt-4o +spaced 20\/m +6 .* 2\/4 /);
  expect(frame).toContain("learned 90/m");
  expect(frame).toMatch(/openai .* held\n/);
  // USD budgets: memory stores, so each node's budget adds up; $100 and more without cents
  expect(frame).toMatch(/team-a .* \$24\.68 +25ms\/2\.5s /);
  expect(frame).toContain("$24.68/$100");
  expect(frame).toMatch(/eng +\$\/month .* \$247\/\$1k .* \$247 +2 /);
});

test("plain lines: model lines, learned rate, wait, upstream left, hold, spend, USD budgets and groups", () => {
  const out = formatPlain(["http://127.0.0.1:8080"], [node()], 1_000_000, pc.createColors(false)).trimEnd().split("\n");
  expect(out[1]).toMatch(/^ {2}provider openai spaced 30\/m queue 12 in_flight 3\/8 sent\/min 40\/30 429s 2 503s 1 next 1\.5s wait p50\/p99 25ms\/2\.5s/);
  expect(out[1]).toEndWith(` upstream left requests 0 tokens 12k held until ${clockTime(HOLD * 1000)} (requests exhausted)`);
  expect(out[2]).toMatch(/^ {4}model openai\/gpt-4o spaced 10\/m queue 3 in_flight 1\/2 sent\/min 4\/10 503s 2 next 0\.5s$/);
  expect(out[3]).toMatch(/^ {4}model openai\/o1-mini window 20\/m queue 0 in_flight 0\/∞ sent\/min 2\/20 503s 0 next -$/);
  expect(out[4]).toMatch(/^ {2}provider deepseek learned 45\/m .* wait p50\/p99 5ms\/25ms$/);
  expect(out[5]).toBe("  key team-a rpm 12/20 budget_usd_per_day $12.34/$50 requests 15 rejected 3 rpm:2 budget_usd_per_day:1 spend $12.34 wait p50/p99 25ms/2.5s");
  expect(out[6]).toBe("  key free-tier no limits requests 0 rejected 0 spend <$0.01 wait p50/p99 –");
  expect(out[7]).toBe("  group eng budget_usd_per_month $123/$500 requests 20 rejected 1 budget_usd_per_month:1 spend $123");
  expect(out).toHaveLength(8);
});
