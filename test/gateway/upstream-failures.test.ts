// Dead, slow, failing and garbage upstreams: clear errors, retries through the line, nothing leaks.
import { afterEach, expect, test } from "bun:test";
import type { RunningGateway } from "../../src/gateway/server.ts";
import { chat, gateway, post, provider } from "../helpers/gateway.ts";
import { freePort } from "../helpers/ports.ts";
import { okJson, scriptedUpstream, type ScriptedUpstream } from "../helpers/upstream.ts";
import { until } from "../helpers/wait.ts";

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

function setup(up: ScriptedUpstream | string, rate_limit: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): RunningGateway {
  const base = typeof up === "string" ? up : up.url;
  const gw = gateway({ providers: [provider("up", base, { rate_limit, ...extra })] });
  cleanup.push(() => gw.stop());
  if (typeof up !== "string") cleanup.push(() => up.stop());
  return gw;
}

test("dead upstream → 502 without the provider key in the body", async () => {
  const gw = setup(`http://127.0.0.1:${await freePort()}/v1`, { retry_upstream_429: false }); // nothing listens there
  const res = await post(`${gw.url}/v1/chat/completions`, chat());
  expect(res.status).toBe(502);
  const text = await res.text();
  expect(JSON.parse(text).error.code).toBe("upstream_unreachable");
  expect(text).not.toContain("sk-test-up-secret");
});

test("slow upstream → 504 after timeout_seconds", async () => {
  const up = scriptedUpstream(async () => {
    await Bun.sleep(3000);
    return okJson();
  });
  const gw = setup(up, {}, { timeout_seconds: 0.3 });
  const t0 = performance.now();
  const res = await post(`${gw.url}/v1/chat/completions`, chat());
  expect(res.status).toBe(504);
  expect((await res.json()).error.code).toBe("upstream_timeout");
  expect(performance.now() - t0).toBeLessThan(2000);
});

test("a client that leaves while the upstream is still thinking aborts the upstream request, early or late", async () => {
  // When the upstream saw each request's abort, by the upstream's request number (same process, same clock).
  const abortedAt = new Map<number, number>();
  const up = scriptedUpstream(async (req, _body, n) => {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 5000);
      const aborted = () => {
        clearTimeout(timer);
        abortedAt.set(n, performance.now());
        resolve();
      };
      if (req.signal.aborted) aborted();
      else req.signal.addEventListener("abort", aborted, { once: true });
    });
    return okJson();
  });
  const gw = setup(up, {}, { timeout_seconds: 30 });
  // Early: gone as soon as the upstream has it (most likely before the gateway listens for the client,
  // whose leaving is then noticed at the watch's next tick); late: gone 400 ms later (heard at once).
  for (const [n, stayMs] of [[1, 0], [2, 400]] as const) {
    const ctl = new AbortController();
    const pending = fetch(`${gw.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(chat()), signal: ctl.signal }).catch(() => null);
    expect(await until(() => up.requests.length === n)).toBe(true);
    if (stayMs > 0) await Bun.sleep(stayMs);
    const leftAt = performance.now();
    ctl.abort();
    expect(await pending).toBeNull();
    // Far below the upstream's 5 s hold; cause before effect.
    expect(await until(() => abortedAt.has(n), 4000)).toBe(true);
    expect(abortedAt.get(n)!).toBeGreaterThanOrEqual(leftAt);
    expect(abortedAt.get(n)! - leftAt).toBeLessThan(2000);
  }
});

test("upstream 429 with Retry-After is retried after that delay, then succeeds", async () => {
  const up = scriptedUpstream((_req, _b, n) =>
    n === 1
      ? Response.json({ error: { message: "slow down", type: "requests", code: "rate_limit_exceeded" } }, { status: 429, headers: { "retry-after": "1" } })
      : okJson(),
  );
  const gw = setup(up, { upstream_retry_backoff_seconds: 0.01 });
  const res = await post(`${gw.url}/v1/chat/completions`, chat());
  expect(res.status).toBe(200);
  expect(up.requests).toHaveLength(2);
  const gap = up.requests[1]!.at - up.requests[0]!.at;
  expect(gap).toBeGreaterThanOrEqual(950);
  const stats = await (await fetch(`${gw.url}/admin/stats`)).json();
  expect(stats.providers[0].upstream_429).toBe(1);
  expect(stats.providers[0].retries).toBe(1);
});

test("5xx and connection resets are retried with backoff; exhausted retries pass the upstream answer back", async () => {
  const up = scriptedUpstream(() => new Response(JSON.stringify({ error: { message: "boom" } }), { status: 503, headers: { "x-upstream": "yes" } }));
  const gw = setup(up, { max_upstream_retries: 2, upstream_retry_backoff_seconds: 0.01 });
  const res = await post(`${gw.url}/v1/chat/completions`, chat());
  expect(res.status).toBe(503);
  expect(res.headers.get("x-upstream")).toBe("yes");
  expect((await res.json()).error.message).toBe("boom");
  expect(up.requests).toHaveLength(3);
});

test("retry disabled: the first 429 goes straight back", async () => {
  const up = scriptedUpstream(() => new Response("{}", { status: 429 }));
  const gw = setup(up, { retry_upstream_429: false });
  const res = await post(`${gw.url}/v1/chat/completions`, chat());
  expect(res.status).toBe(429);
  expect(up.requests).toHaveLength(1);
});

test("upstream garbage is passed through, not turned into a gateway 5xx", async () => {
  const up = scriptedUpstream(() => new Response("\u0000\u0001 not json", { status: 200, headers: { "content-type": "text/plain" } }));
  const gw = setup(up);
  const res = await post(`${gw.url}/v1/chat/completions`, chat());
  expect(res.status).toBe(200);
  expect(await res.text()).toBe("\u0000\u0001 not json");
});

test("headers: provider key replaces the client's, hop-by-hop stripped, others forwarded", async () => {
  const up = scriptedUpstream(() => okJson());
  const gw = setup(up, {}, { headers: { "x-extra": "from-config" } });
  await post(`${gw.url}/v1/chat/completions?api-version=1`, chat(), {
    authorization: "Bearer client-secret",
    "x-custom": "kept",
    "keep-alive": "timeout=5",
    "x-limitrate-priority": "1",
  });
  const r = up.requests[0]!;
  expect(r.path).toBe("/v1/chat/completions?api-version=1");
  expect(r.headers.get("authorization")).toBe("Bearer sk-test-up-secret");
  expect(r.headers.get("x-custom")).toBe("kept");
  expect(r.headers.get("x-extra")).toBe("from-config");
  expect(r.headers.get("keep-alive")).toBeNull();
  expect(r.headers.get("x-limitrate-priority")).toBeNull();
});

test("headers back: the upstream's pass through, less set-cookie and hop-by-hop (those a Connection header names too)", async () => {
  const up = scriptedUpstream(() =>
    new Response(JSON.stringify({ id: "x", object: "chat.completion", choices: [] }), {
      headers: { "content-type": "application/json", "x-request-id": "req_1", "set-cookie": "s=1", "x-hop": "a", connection: "x-hop", "openai-processing-ms": "12" },
    }),
  );
  const plain = setup(up);
  const keyed = gateway({ keys: { "sk-client-1": { rpm: 10 } }, providers: [provider("up", up.url)] });
  cleanup.push(() => keyed.stop());
  // Handed over as is (no limit), and through a key's path, which adds its rate-limit headers.
  for (const [gw, auth] of [[plain, {}], [keyed, { authorization: "Bearer sk-client-1" }]] as const) {
    const res = await post(`${gw.url}/v1/chat/completions`, chat(), auth);
    expect(res.status).toBe(200);
    expect(res.headers.get("x-ratelimit-limit-requests")).toBe(gw === keyed ? "10" : null);
    expect(res.headers.get("x-request-id")).toBe("req_1");
    expect(res.headers.get("openai-processing-ms")).toBe("12");
    expect(res.headers.get("set-cookie")).toBeNull();
    expect(res.headers.get("x-hop")).toBeNull();
    expect(await res.json()).toMatchObject({ id: "x" });
  }
});

test("the client's body bytes are forwarded as they are; provider/model is rewritten to the bare name", async () => {
  const up = scriptedUpstream(() => okJson());
  const gw = setup(up);
  const raw = '{"model":"gpt-4o-mini",  "messages":[{"role":"user","content":"hi"}],"x_unknown":{"a":1}}';
  await post(`${gw.url}/v1/chat/completions`, raw);
  expect(up.requests[0]!.body).toBe(raw);
  await post(`${gw.url}/v1/chat/completions`, chat("up/gpt-4o"));
  expect(JSON.parse(up.requests[1]!.body).model).toBe("gpt-4o");
});
