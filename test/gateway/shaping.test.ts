// Provider shaping through the running server: pacing, waiting line, max_wait, max_concurrent, leaving the line.
// Timing assertions use generous tolerances; exact cadences are proven with a fake clock in test/core and test/limiter.
import { afterEach, expect, test } from "bun:test";
import type { RunningGateway } from "../../src/gateway/server.ts";
import { chat, gateway, post, provider } from "../helpers/gateway.ts";
import { okJson, scriptedUpstream } from "../helpers/upstream.ts";

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

function setup(rate_limit: Record<string, unknown>, handler: (req: Request) => Response | Promise<Response> = () => okJson()) {
  const up = scriptedUpstream(handler);
  const gw = gateway({ providers: [provider("up", up.url, { rate_limit })] });
  cleanup.push(() => up.stop(), () => gw.stop());
  return { up, gw };
}

const stats = async (gw: RunningGateway) => (await (await fetch(`${gw.url}/admin/stats`)).json()) as { providers: Record<string, unknown>[] };

test("spaced: concurrent requests wait in line and reach the upstream one interval apart, in order", async () => {
  const { up, gw } = setup({ mode: "spaced", interval_seconds: 0.1 });
  const results = await Promise.all(
    Array.from({ length: 6 }, (_, i) => post(`${gw.url}/v1/chat/completions`, chat("gpt-4o-mini", { n_id: i }))),
  );
  expect(results.every((r) => r.status === 200)).toBe(true);
  const times = up.requests.map((r) => r.at);
  // A single gap can shrink by how late the previous send's timer fired on a busy machine; the pace cannot.
  for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(60);
  expect(times[5]! - times[0]!).toBeGreaterThanOrEqual(5 * 100 - 25);
  expect(times[5]! - times[0]!).toBeLessThan(1500);
  // first come first served
  const order = up.requests.map((r) => JSON.parse(r.body).n_id);
  expect(order).toEqual([...order].sort((a, b) => a - b));
});

test("burst: capacity at once, then one per interval", async () => {
  const { up, gw } = setup({ mode: "burst", capacity: 3, interval_seconds: 0.2 });
  await Promise.all(Array.from({ length: 5 }, () => post(`${gw.url}/v1/chat/completions`, chat())));
  const t = up.requests.map((r) => r.at - up.requests[0]!.at);
  expect(t[2]!).toBeLessThan(100);
  expect(t[3]!).toBeGreaterThanOrEqual(170);
  expect(t[4]! - t[3]!).toBeGreaterThanOrEqual(150);
  expect(t[4]!).toBeGreaterThanOrEqual(2 * 200 - 25);
});

test("max_wait_seconds: a request whose turn is too far answers 503 at once with an honest Retry-After", async () => {
  const { up, gw } = setup({ mode: "spaced", interval_seconds: 10, max_wait_seconds: 5 });
  expect((await post(`${gw.url}/v1/chat/completions`, chat())).status).toBe(200);
  const t0 = performance.now();
  const res = await post(`${gw.url}/v1/chat/completions`, chat());
  expect(performance.now() - t0).toBeLessThan(500);
  expect(res.status).toBe(503);
  expect((await res.json()).error.code).toBe("rate_limit_queue_timeout");
  const ra = Number(res.headers.get("retry-after"));
  expect(ra).toBeGreaterThanOrEqual(9);
  expect(ra).toBeLessThanOrEqual(10);
  expect(up.requests).toHaveLength(1);
  expect((await stats(gw)).providers[0]!.queue_timeouts).toBe(1);
});

test("max_concurrent caps requests in flight upstream; a finished one lets the next go", async () => {
  const { up, gw } = setup({ max_concurrent: 2 }, async () => {
    await Bun.sleep(80);
    return okJson();
  });
  const all = Promise.all(Array.from({ length: 7 }, () => post(`${gw.url}/v1/chat/completions`, chat())));
  await Bun.sleep(30);
  const mid = await stats(gw);
  expect(mid.providers[0]!.in_flight).toBe(2);
  expect(mid.providers[0]!.queued_ahead).toBe(5);
  const res = await all;
  expect(res.every((r) => r.status === 200)).toBe(true);
  expect(up.maxInFlight).toBe(2);
  expect(up.requests).toHaveLength(7);
  expect((await stats(gw)).providers[0]!.in_flight).toBe(0);
});

test("a caller that disconnects while queued leaves at once and is never sent", async () => {
  const { up, gw } = setup({ mode: "spaced", interval_seconds: 0.4 });
  const first = post(`${gw.url}/v1/chat/completions`, chat());
  const ctl = new AbortController();
  await Bun.sleep(20);
  const leaving = fetch(`${gw.url}/v1/chat/completions`, {
    method: "POST",
    body: JSON.stringify(chat("gpt-4o-mini", { who: "leaver" })),
    headers: { "content-type": "application/json" },
    signal: ctl.signal,
  }).catch(() => null);
  await Bun.sleep(30);
  const third = post(`${gw.url}/v1/chat/completions`, chat("gpt-4o-mini", { who: "third" }));
  await Bun.sleep(30);
  expect((await stats(gw)).providers[0]!.queued_ahead).toBe(2);
  ctl.abort();
  await leaving;
  await Bun.sleep(30);
  const s = await stats(gw);
  expect(s.providers[0]!.queued_ahead).toBe(1);
  expect(s.providers[0]!.cancelled).toBe(1);
  await first;
  const t0 = performance.now();
  expect((await third).status).toBe(200);
  // the third took the leaver's slot: one interval after the first, not two
  expect(performance.now() - t0).toBeLessThan(600);
  expect(up.requests.map((r) => JSON.parse(r.body).who)).toEqual([undefined, "third"]);
});

test("stats keep the contract fields per provider", async () => {
  const { gw } = setup({ mode: "burst", capacity: 4, rpm: 120 });
  await post(`${gw.url}/v1/chat/completions`, chat());
  const s = await stats(gw);
  const p = s.providers[0]!;
  for (const f of ["provider", "mode", "interval_seconds", "capacity", "tokens", "queued_ahead", "waiting_in_acquire", "in_flight", "last_send_time"]) {
    expect(p).toHaveProperty(f);
  }
  expect(p.provider).toBe("up");
  expect(p.mode).toBe("burst");
  expect(p.interval_seconds).toBe(0.5);
  expect(p.capacity).toBe(4);
  expect(p.tokens).toBe(3);
  expect(typeof p.last_send_time).toBe("number");
  expect(JSON.stringify(s)).not.toContain("sk-test-up-secret");
});
