// Listening to the upstream: its own rate-limit headers hold the provider's whole line until it has room again.
import { afterEach, expect, test } from "bun:test";
import { chat, gateway, post, provider } from "../helpers/gateway.ts";
import { okJson, scriptedUpstream } from "../helpers/upstream.ts";

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

test("remaining-requests 0 with a reset: nothing reaches the upstream before the reset, then the line resumes", async () => {
  let exhaustedUntil = 0;
  const up = scriptedUpstream((_req, _body, n) => {
    const res = okJson();
    if (n === 1) {
      exhaustedUntil = Date.now() + 1000;
      res.headers.set("x-ratelimit-limit-requests", "100");
      res.headers.set("x-ratelimit-remaining-requests", "0");
      res.headers.set("x-ratelimit-reset-requests", "1s");
    }
    return res;
  });
  const gw = gateway({ providers: [provider("up", up.url, { rate_limit: { mode: "burst", capacity: 100, rpm: 6000 } })] });
  cleanup.push(() => up.stop(), () => gw.stop());
  const url = `${gw.url}/v1/chat/completions`;
  expect((await post(url, chat())).status).toBe(200);
  const s = await (await fetch(`${gw.url}/admin/stats`)).json();
  expect(s.providers[0].upstream.reason).toContain("requests");
  expect(s.providers[0].upstream.hold_until).toBeGreaterThan(Date.now() / 1000);
  const res = await Promise.all(Array.from({ length: 4 }, () => post(url, chat())));
  expect(res.every((r) => r.status === 200)).toBe(true);
  const later = up.requests.slice(1).map((r) => r.at);
  for (const at of later) expect(at).toBeGreaterThanOrEqual(exhaustedUntil - 5);
});

test("a 429 with Retry-After holds the whole line, not just the request that got it", async () => {
  let refusedUntil = 0;
  const up = scriptedUpstream((_req, _body, n) => {
    if (n === 1) {
      refusedUntil = Date.now() + 1000;
      return Response.json({ error: { message: "slow down", code: "rate_limit_exceeded" } }, { status: 429, headers: { "retry-after": "1" } });
    }
    return okJson();
  });
  const gw = gateway({ providers: [provider("up", up.url, { rate_limit: { max_concurrent: 10, upstream_retry_backoff_seconds: 0.01 } })] });
  cleanup.push(() => up.stop(), () => gw.stop());
  const url = `${gw.url}/v1/chat/completions`;
  const first = post(url, chat());
  await Bun.sleep(50);
  const others = Array.from({ length: 3 }, () => post(url, chat()));
  const res = await Promise.all([first, ...others]);
  expect(res.every((r) => r.status === 200)).toBe(true);
  // after the 429, nothing reached the upstream until the Retry-After had passed
  for (const r of up.requests.slice(1)) expect(r.at).toBeGreaterThanOrEqual(refusedUntil - 5);
});

test("absurd or malformed headers are ignored (no hold), the request still answers", async () => {
  const up = scriptedUpstream(() => {
    const res = okJson();
    res.headers.set("x-ratelimit-remaining-requests", "0");
    res.headers.set("x-ratelimit-reset-requests", "99999h");
    return res;
  });
  const gw = gateway({ providers: [provider("up", up.url, { rate_limit: { max_concurrent: 5 } })] });
  cleanup.push(() => up.stop(), () => gw.stop());
  const t0 = performance.now();
  for (let i = 0; i < 3; i++) expect((await post(`${gw.url}/v1/chat/completions`, chat())).status).toBe(200);
  expect(performance.now() - t0).toBeLessThan(1000);
});

test("mode adaptive: 429s from an upstream with an unknown limit lower the learned rate, and the pace follows it", async () => {
  // The upstream allows 3 requests per second; the gateway starts at 600 rpm (10/s) without knowing.
  const recent: number[] = [];
  const up = scriptedUpstream(() => {
    const now = Date.now();
    while (recent.length && recent[0]! <= now - 1000) recent.shift();
    if (recent.length >= 3) return Response.json({ error: { message: "limit" } }, { status: 429 });
    recent.push(now);
    return okJson();
  });
  const gw = gateway({ providers: [provider("up", up.url, { rate_limit: { mode: "adaptive", rpm: 600, min_rpm: 30, retry_upstream_429: false } })] });
  cleanup.push(() => up.stop(), () => gw.stop());
  const url = `${gw.url}/v1/chat/completions`;
  const codes = await Promise.all(Array.from({ length: 12 }, () => post(url, chat()).then((r) => r.status)));
  expect(codes.filter((c) => c === 429).length).toBeGreaterThan(0);
  const s = await (await fetch(`${gw.url}/admin/stats`)).json();
  expect(s.providers[0].mode).toBe("adaptive");
  expect(s.providers[0].learned_rpm).toBeLessThan(600);
  expect(s.providers[0].interval_seconds).toBeGreaterThan(0.1);
});

test("mode adaptive converges: against an upstream allowing 5 requests a second (unknown to the gateway), the accepted rate settles within 20 % and 429s become rare", async () => {
  const LIMIT_PER_S = 5;
  const recent: number[] = [];
  const up = scriptedUpstream(() => {
    const now = Date.now();
    while (recent.length && recent[0]! <= now - 1000) recent.shift();
    if (recent.length >= LIMIT_PER_S) return Response.json({ error: { message: "limit" } }, { status: 429 });
    recent.push(now);
    return okJson();
  });
  const gw = gateway({
    providers: [
      provider("up", up.url, {
        rate_limit: { mode: "adaptive", rpm: 900, min_rpm: 60, max_rpm: 1200, adjust_every_seconds: 0.5, retry_upstream_429: false },
      }),
    ],
  });
  cleanup.push(() => up.stop(), () => gw.stop());
  const url = `${gw.url}/v1/chat/completions`;
  const outcomes: { at: number; status: number }[] = [];
  const end = Date.now() + 16_000;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (Date.now() < end) {
        const r = await post(url, chat());
        await r.arrayBuffer();
        outcomes.push({ at: Date.now(), status: r.status });
      }
    }),
  );
  const tail = outcomes.filter((o) => o.at >= end - 6_000 && o.at < end);
  const accepted = tail.filter((o) => o.status === 200).length / 6;
  const refused = tail.filter((o) => o.status === 429).length / Math.max(1, tail.length);
  const learned = (await (await fetch(`${gw.url}/admin/stats`)).json()).providers[0].learned_rpm;
  console.log(`adaptive: last 6 s accepted ${accepted.toFixed(2)}/s of ${LIMIT_PER_S}/s, ${(refused * 100).toFixed(1)} % 429, learned ${learned} rpm`);
  expect(accepted).toBeGreaterThanOrEqual(LIMIT_PER_S * 0.8);
  expect(accepted).toBeLessThanOrEqual(LIMIT_PER_S * 1.2);
  expect(refused).toBeLessThan(0.05);
  expect(learned).toBeGreaterThanOrEqual(LIMIT_PER_S * 60 * 0.8);
  expect(learned).toBeLessThanOrEqual(LIMIT_PER_S * 60 * 1.2);
}, 30_000);
