// Config reload: new limits apply to waiting requests, removed providers drain with 503, counters kept.
import { afterEach, expect, test } from "bun:test";
import { startMockUpstream } from "../../src/mock/mock-upstream.ts";
import { chat, gateway, makeConfig, post, provider } from "../helpers/gateway.ts";

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

const KEY = "reload-key-0123456789";

test("new limits apply to requests already waiting; queues and key counters are kept", async () => {
  const mock = startMockUpstream({ port: 0 });
  const raw = (interval: number) => ({
    server: { host: "127.0.0.1", port: 0 },
    keys: { [KEY]: { rpm: 4 } },
    providers: [provider("mock", mock.url, { rate_limit: { mode: "spaced", interval_seconds: interval } })],
  });
  const gw = gateway(raw(5));
  cleanup.push(() => mock.stop(), () => gw.stop());
  const url = `${gw.url}/v1/chat/completions`;
  const auth = { authorization: `Bearer ${KEY}` };
  expect((await post(url, chat(), auth)).status).toBe(200);
  const waiting = [post(url, chat(), auth), post(url, chat(), auth)];
  await Bun.sleep(50);
  expect((await (await fetch(`${gw.url}/admin/stats`)).json()).providers[0].queued_ahead).toBeGreaterThanOrEqual(1);
  const t0 = performance.now();
  const summary = gw.reload(makeConfig(raw(0.05)));
  expect(summary.kept).toEqual(["mock"]);
  const res = await Promise.all(waiting);
  expect(res.map((r) => r.status)).toEqual([200, 200]);
  expect(performance.now() - t0).toBeLessThan(1500); // not the 5 s and 10 s of the old interval
  // the key's window survived the reload: 3 used of 4
  expect((await post(url, chat(), auth)).status).toBe(200);
  expect((await post(url, chat(), auth)).status).toBe(429);
});

test("a removed provider drains with 503; an added one serves at once", async () => {
  const a = startMockUpstream({ port: 0, models: ["model-a"] });
  const b = startMockUpstream({ port: 0, models: ["model-b"] });
  const gw = gateway({ providers: [provider("a", a.url, { models: ["model-a"], rate_limit: { mode: "spaced", interval_seconds: 10 } })] });
  cleanup.push(() => a.stop(), () => b.stop(), () => gw.stop());
  const url = `${gw.url}/v1/chat/completions`;
  expect((await post(url, chat("model-a"))).status).toBe(200);
  const waiting = post(url, chat("model-a"));
  await Bun.sleep(50);
  gw.reload(makeConfig({ server: { host: "127.0.0.1", port: 0 }, providers: [provider("b", b.url, { models: ["model-b"] })] }));
  const w = await waiting;
  expect(w.status).toBe(503);
  expect((await w.json()).error.code).toBe("provider_removed");
  expect((await post(url, chat("model-b"))).status).toBe(200);
  expect((await post(url, chat("model-a"))).status).toBe(404);
});
