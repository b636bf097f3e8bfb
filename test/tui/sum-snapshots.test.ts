// sumSnapshots: several nodes seen as one.
import { expect, test } from "bun:test";
import { sumSnapshots } from "../../src/tui/sum-snapshots.ts";
import { groupSnap, keySnap, modelLine, providerSnap, snap, waitHist, win } from "./fixtures.ts";

test("one snapshot is returned as is; none gives an empty snapshot", () => {
  const a = snap({ providers: [providerSnap("openai")] });
  expect(sumSnapshots([a])).toBe(a);
  const empty = sumSnapshots([]);
  expect(empty.providers).toEqual([]);
  expect(empty.totals.requests).toBe(0);
});

test("counters add up per provider, matched by name, in order of first appearance", () => {
  const a = snap({
    providers: [
      providerSnap("openai", { waiting_in_acquire: 3, queued_ahead: 2, in_flight: 1, sent: 10, requests: 14, upstream_429: 1, queue_timeouts: 2, by_status: { "200": 10, "503": 2 } }),
      providerSnap("deepseek", { sent: 5, requests: 5 }),
    ],
  });
  const b = snap({
    providers: [
      providerSnap("openai", { waiting_in_acquire: 4, queued_ahead: 4, in_flight: 2, sent: 7, requests: 11, upstream_429: 2, queue_timeouts: 0, by_status: { "200": 7, "429": 1 } }),
      providerSnap("ollama", { sent: 1, requests: 1 }),
    ],
  });
  const s = sumSnapshots([a, b]);
  expect(s.providers.map((p) => p.provider)).toEqual(["openai", "deepseek", "ollama"]);
  const o = s.providers[0]!;
  expect(o.waiting_in_acquire).toBe(7);
  expect(o.queued_ahead).toBe(6);
  expect(o.in_flight).toBe(3);
  expect(o.sent).toBe(17);
  expect(o.requests).toBe(25);
  expect(o.upstream_429).toBe(3);
  expect(o.queue_timeouts).toBe(2);
  expect(o.by_status).toEqual({ "200": 17, "503": 2, "429": 1 });
  expect(o.tokens_in).toBe(0);
  expect(s.totals).toEqual({ requests: 31, queued: 7, in_flight: 3, sent: 23, upstream_429: 3, queue_timeouts: 2 });
});

test("memory stores: each node has its own budget, so limits add up and the cadence gets faster", () => {
  const p = (extra = {}) => providerSnap("openai", { interval_seconds: 2, capacity: 1, tokens: 1, rpm: 30, max_concurrent: 4, ...extra });
  const s = sumSnapshots([snap({ providers: [p()] }), snap({ providers: [p({ tokens: 0, max_concurrent: 6 })] })]);
  const o = s.providers[0]!;
  expect(o.interval_seconds).toBe(1);
  expect(o.capacity).toBe(2);
  expect(o.tokens).toBe(1);
  expect(o.rpm).toBe(60);
  expect(o.max_concurrent).toBe(10);
});

test("shared store: one global budget, reported by every node, is counted once", () => {
  const redis = { kind: "redis", state: "ok" };
  const p = (extra = {}) => providerSnap("openai", { interval_seconds: 2, capacity: 1, tokens: 1, rpm: 30, max_concurrent: 4, windows: { tpm: win(100, 1000) }, ...extra });
  const s = sumSnapshots([
    snap({ store: redis, providers: [p()], keys: [keySnap("team", { windows: { rpm: win(12, 20, 40) }, requests: 12, rejected: 1, rejected_by: { rpm: 1 } })] }),
    snap({ store: redis, providers: [p({ tokens: 0, windows: { tpm: win(120, 1000) } })], keys: [keySnap("team", { windows: { rpm: win(13, 20, 30) }, requests: 1, rejected: 2, rejected_by: { rpm: 1, tpm: 1 } })] }),
  ]);
  const o = s.providers[0]!;
  expect(o.interval_seconds).toBe(2);
  expect(o.rpm).toBe(30);
  expect(o.tokens).toBe(0);
  // in-flight caps live in each process even with a shared store
  expect(o.max_concurrent).toBe(8);
  expect(o.windows.tpm).toEqual({ limit: 1000, used: 120, remaining: 880, reset_seconds: 30 });
  const k = s.keys[0]!;
  expect(k.windows.rpm).toEqual({ limit: 20, used: 13, remaining: 7, reset_seconds: 30 });
  expect(k.requests).toBe(13);
  expect(k.rejected).toBe(3);
  expect(k.rejected_by).toEqual({ rpm: 2, tpm: 1 });
});

test("memory stores: key windows add up", () => {
  const s = sumSnapshots([
    snap({ keys: [keySnap("team", { windows: { rpm: win(5, 20, 10) } })] }),
    snap({ keys: [keySnap("team", { windows: { rpm: win(7, 20, 50) } }), keySnap("other")] }),
  ]);
  expect(s.keys.map((k) => k.key)).toEqual(["team", "other"]);
  expect(s.keys[0]!.windows.rpm).toEqual({ limit: 40, used: 12, remaining: 28, reset_seconds: 10 });
});

test("unlimited anywhere stays unlimited; nulls are skipped in minima and maxima", () => {
  const s = sumSnapshots([
    snap({ providers: [providerSnap("p", { max_concurrent: 4, last_send_time: 100, next_slot_in_seconds: null })] }),
    snap({ providers: [providerSnap("p", { max_concurrent: null, last_send_time: null, next_slot_in_seconds: 1.5 })] }),
  ]);
  const p = s.providers[0]!;
  expect(p.max_concurrent).toBeNull();
  expect(p.last_send_time).toBe(100);
  expect(p.next_slot_in_seconds).toBe(1.5);
});

test("header fields: youngest uptime, newest time, worst store state", () => {
  const s = sumSnapshots([
    snap({ uptime_seconds: 50, time: 10, store: { kind: "redis", state: "ok" } }),
    snap({ uptime_seconds: 20, time: 12, store: { kind: "redis", state: "degraded", detail: "fallback to local" } }),
    snap({ uptime_seconds: 90, time: 11, store: { kind: "redis", state: "ok" } }),
  ]);
  expect(s.uptime_seconds).toBe(20);
  expect(s.time).toBe(12);
  expect(s.store).toEqual({ kind: "redis", state: "degraded", detail: "fallback to local" });
});

test("tokens and latency histograms add up", () => {
  const h = (counts: number[], sum: number) => ({ le: [100, 1000], counts, sum, count: counts[counts.length - 1]! });
  const s = sumSnapshots([
    snap({ providers: [providerSnap("p", { tokens_in: 10, tokens_out: 5, queue_wait_ms: h([1, 2, 3], 900) })], keys: [keySnap("k", { tokens_in: 3, by_status: { "200": 2 } })] }),
    snap({ providers: [providerSnap("p", { tokens_in: 1, tokens_out: 2, queue_wait_ms: h([0, 1, 1], 50) })], keys: [keySnap("k", { tokens_in: 4, by_status: { "200": 1, "429": 1 } })] }),
  ]);
  const p = s.providers[0]!;
  expect([p.tokens_in, p.tokens_out]).toEqual([11, 7]);
  expect(p.queue_wait_ms).toEqual({ le: [100, 1000], counts: [1, 3, 4], sum: 950, count: 4 });
  expect(s.keys[0]!.tokens_in).toBe(7);
  expect(s.keys[0]!.by_status).toEqual({ "200": 3, "429": 1 });
});

test("model lines add up like providers, matched by model within their provider (memory stores)", () => {
  const m = (extra = {}) =>
    modelLine("gpt-4o", { interval_seconds: 6, capacity: 1, tokens: 1, rpm: 10, max_concurrent: 2, windows: { tpm: win(100, 1000, 20) }, ...extra });
  const s = sumSnapshots([
    snap({ providers: [providerSnap("openai", { model_lines: [m({ queued_ahead: 2, waiting_in_acquire: 3, in_flight: 1, sent: 10, queue_timeouts: 1, next_slot_in_seconds: 2, last_send_time: 50 })] })] }),
    snap({
      providers: [
        providerSnap("openai", {
          model_lines: [
            modelLine("o1-mini", { sent: 4 }),
            m({ queued_ahead: 1, waiting_in_acquire: 1, in_flight: 2, sent: 5, queue_timeouts: 0, tokens: 0, max_concurrent: 3, next_slot_in_seconds: 0.5, last_send_time: 60, windows: { tpm: win(50, 1000, 40) } }),
          ],
        }),
      ],
    }),
  ]);
  const lines = s.providers[0]!.model_lines;
  expect(lines.map((l) => l.model)).toEqual(["gpt-4o", "o1-mini"]);
  expect(lines[0]).toEqual({
    model: "gpt-4o",
    mode: "spaced",
    // two nodes, each with its own budget: twice the cadence and the limits
    interval_seconds: 3,
    capacity: 2,
    tokens: 1,
    rpm: 20,
    queued_ahead: 3,
    waiting_in_acquire: 4,
    in_flight: 3,
    max_concurrent: 5,
    last_send_time: 60,
    next_slot_in_seconds: 0.5,
    windows: { tpm: { limit: 2000, used: 150, remaining: 1850, reset_seconds: 20 } },
    sent: 15,
    queue_timeouts: 1,
  });
  // a model line on one node only is that node's
  expect(lines[1]!.sent).toBe(4);
});

test("model lines with a shared store: one budget counted once, counters still add up", () => {
  const redis = { kind: "redis", state: "ok" };
  const m = (extra = {}) => modelLine("gpt-4o", { interval_seconds: 6, rpm: 10, max_concurrent: 2, windows: { rpm: win(4, 10) }, ...extra });
  const s = sumSnapshots([
    snap({ store: redis, providers: [providerSnap("openai", { model_lines: [m({ sent: 3, in_flight: 1 })] })] }),
    snap({ store: redis, providers: [providerSnap("openai", { model_lines: [m({ sent: 2, in_flight: 2, windows: { rpm: win(6, 10) } })] })] }),
  ]);
  const l = s.providers[0]!.model_lines[0]!;
  expect([l.interval_seconds, l.rpm, l.max_concurrent, l.sent, l.in_flight]).toEqual([6, 10, 4, 5, 3]);
  expect(l.windows.rpm).toEqual({ limit: 10, used: 6, remaining: 4, reset_seconds: 30 });
});

test("groups add up like keys: counters, rejections by limit, spend; windows per store", () => {
  const g = (extra = {}) => groupSnap("eng", { windows: { budget_usd_per_day: win(10.5, 50, 100) }, ...extra });
  const memory = sumSnapshots([
    snap({ groups: [g({ requests: 5, rejected: 1, rejected_by: { rpm: 1 }, tokens_in: 100, tokens_out: 10, spend_usd: 10.1 })] }),
    snap({
      groups: [
        groupSnap("ops", { requests: 1 }),
        g({ requests: 7, rejected: 2, rejected_by: { rpm: 1, budget_usd_per_day: 1 }, tokens_in: 50, tokens_out: 5, spend_usd: 0.2, windows: { budget_usd_per_day: win(0.2, 50, 60) } }),
      ],
    }),
  ]);
  expect(memory.groups.map((x) => x.group)).toEqual(["eng", "ops"]);
  expect(memory.groups[0]).toEqual({
    group: "eng",
    windows: { budget_usd_per_day: { limit: 100, used: 10.7, remaining: 89.3, reset_seconds: 60 } },
    requests: 12,
    rejected: 3,
    rejected_by: { rpm: 2, budget_usd_per_day: 1 },
    tokens_in: 150,
    tokens_out: 15,
    // float sums rounded to a millionth, as the gateway reports them
    spend_usd: 10.3,
  });
  const redis = { kind: "redis", state: "ok" };
  const shared = sumSnapshots([snap({ store: redis, groups: [g({ spend_usd: 1 })] }), snap({ store: redis, groups: [g({ spend_usd: 2, windows: { budget_usd_per_day: win(11, 50, 90) } })] })]);
  expect(shared.groups[0]!.windows.budget_usd_per_day).toEqual({ limit: 50, used: 11, remaining: 39, reset_seconds: 90 });
  expect(shared.groups[0]!.spend_usd).toBe(3);
});

test("key spend adds up; key and provider waits are recomputed from the summed histograms", () => {
  const s = sumSnapshots([
    snap({ keys: [keySnap("k", { spend_usd: 0.1, queue_wait_ms: waitHist({ 5: 90 }), queue_wait_p50_ms: 5, queue_wait_p99_ms: 5 })] }),
    snap({ keys: [keySnap("k", { spend_usd: 0.2, queue_wait_ms: waitHist({ 2500: 10 }), queue_wait_p50_ms: 2500, queue_wait_p99_ms: 2500 })] }),
  ]);
  const k = s.keys[0]!;
  expect(k.spend_usd).toBe(0.3);
  expect([k.queue_wait_p50_ms, k.queue_wait_p99_ms]).toEqual([5, 2500]);
});

test("learned rate (adaptive): adds up with memory stores, the largest with a shared store; nulls skipped", () => {
  const p = (learned_rpm: number | null) => providerSnap("p", { mode: "adaptive", learned_rpm });
  expect(sumSnapshots([snap({ providers: [p(40)] }), snap({ providers: [p(25.5)] })]).providers[0]!.learned_rpm).toBe(65.5);
  const redis = { kind: "redis", state: "ok" };
  expect(sumSnapshots([snap({ store: redis, providers: [p(40)] }), snap({ store: redis, providers: [p(25.5)] })]).providers[0]!.learned_rpm).toBe(40);
  expect(sumSnapshots([snap({ providers: [p(null)] }), snap({ providers: [p(30)] })]).providers[0]!.learned_rpm).toBe(30);
  expect(sumSnapshots([snap({ providers: [p(null)] }), snap({ providers: [p(null)] })]).providers[0]!.learned_rpm).toBeNull();
});

test("upstream: the latest hold wins with its reason; the smallest remaining is kept", () => {
  const p = (hold_until: number | null, reason: string | null, remaining_requests: number | null, remaining_tokens: number | null) =>
    providerSnap("p", { upstream: { hold_until, reason, remaining_requests, remaining_tokens } });
  const s = sumSnapshots([
    snap({ providers: [p(1000, "requests exhausted", 0, null)] }),
    snap({ providers: [p(1030, "429 Retry-After", 3, 5000)] }),
    snap({ providers: [p(null, null, null, 4000)] }),
  ]);
  expect(s.providers[0]!.upstream).toEqual({ hold_until: 1030, reason: "429 Retry-After", remaining_requests: 0, remaining_tokens: 4000 });
  const none = sumSnapshots([snap({ providers: [p(null, null, null, null)] }), snap({ providers: [p(null, null, null, null)] })]);
  expect(none.providers[0]!.upstream).toEqual({ hold_until: null, reason: null, remaining_requests: null, remaining_tokens: null });
});
