// /metrics (checked with a Prometheus text parser), /admin/events (SSE of snapshots), admin_token.
import { afterAll, beforeAll, expect, test } from "bun:test";
import parsePrometheus from "parse-prometheus-text-format";
import { startMockUpstream, type RunningMock } from "../../src/mock/mock-upstream.ts";
import type { RunningGateway } from "../../src/gateway/server.ts";
import { chat, gateway, post, provider } from "../helpers/gateway.ts";

let mock: RunningMock;
let gw: RunningGateway;
const KEY = "lr-observe-key-123456";
const ADMIN = { authorization: "Bearer admin-secret" };

beforeAll(async () => {
  mock = startMockUpstream({ port: 0 });
  gw = gateway({
    server: { admin_token: "admin-secret" },
    keys: { [KEY]: { rpm: 3, output_tpm: 100000, name: "bob" } },
    providers: [provider("mock", mock.url, { rate_limit: { mode: "burst", capacity: 10, rpm: 600 } })],
  });
  for (let i = 0; i < 4; i++) await post(`${gw.url}/v1/chat/completions`, chat("gpt-4o-mini", { max_tokens: 50 }), { authorization: `Bearer ${KEY}` });
});

afterAll(async () => {
  await gw.stop();
  await mock.stop();
});

test("admin_token guards stats, events and metrics, not health", async () => {
  for (const path of ["/admin/stats", "/admin/events", "/metrics"]) {
    const res = await fetch(`${gw.url}${path}`);
    expect(res.status).toBe(401);
    expect((await res.json()).error.code).toBe("invalid_api_key");
  }
  expect((await fetch(`${gw.url}/admin/health`)).status).toBe(200);
  expect((await fetch(`${gw.url}/health`)).status).toBe(200);
});

test("/metrics is valid Prometheus text with the promised families and no secrets", async () => {
  const res = await fetch(`${gw.url}/metrics`, { headers: ADMIN });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toContain("text/plain");
  const text = await res.text();
  expect(text).not.toContain(KEY);
  expect(text).not.toContain("sk-test-mock-secret");
  const families = parsePrometheus(text);
  const byName = new Map(families.map((f) => [f.name, f]));
  for (const name of [
    "limitrate_provider_requests_total",
    "limitrate_key_requests_total",
    "limitrate_queue_depth",
    "limitrate_in_flight",
    "limitrate_queue_wait_ms",
    "limitrate_upstream_latency_ms",
    "limitrate_provider_tokens_total",
    "limitrate_upstream_429_total",
    "limitrate_queue_timeouts_total",
    "limitrate_store_up",
  ]) {
    expect(byName.has(name)).toBe(true);
  }
  const byStatus = byName.get("limitrate_key_requests_total")!.metrics;
  expect(byStatus.find((m) => m.labels?.status === "200" && m.labels.key === "bob")?.value).toBe("3");
  expect(byStatus.find((m) => m.labels?.status === "429")?.value).toBe("1");
  const latency = byName.get("limitrate_upstream_latency_ms")!;
  expect(latency.type).toBe("HISTOGRAM");
  expect(latency.metrics[0]!.buckets?.["+Inf"]).toBe("3");
  expect(text).toContain('limitrate_upstream_latency_ms_count{provider="mock"} 3');
  const tokens = byName.get("limitrate_provider_tokens_total")!.metrics;
  expect(Number(tokens.find((m) => m.labels?.direction === "out")?.value)).toBeGreaterThan(0);
});

test("/admin/events streams snapshots at once and on change", async () => {
  const ctl = new AbortController();
  const res = await fetch(`${gw.url}/admin/events?interval_ms=5000`, { headers: ADMIN, signal: ctl.signal });
  expect(res.headers.get("content-type")).toContain("text/event-stream");
  const reader = res.body!.getReader();
  const snapshots: { totals: { requests: number } }[] = [];
  let buf = "";
  const read = async () => {
    while (true) {
      const i = buf.indexOf("\n\n");
      if (i >= 0) {
        const ev = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const data = ev.split("\n").find((l) => l.startsWith("data: "));
        if (data) return JSON.parse(data.slice(6));
        continue;
      }
      const { value, done } = await reader.read();
      if (done) throw new Error("stream ended");
      buf += new TextDecoder().decode(value);
    }
  };
  snapshots.push(await read());
  expect(snapshots[0]!.totals.requests).toBe(4);
  const t0 = performance.now();
  await post(`${gw.url}/v1/chat/completions`, chat(), { authorization: `Bearer ${KEY}` }); // a 429: totals change
  snapshots.push(await read());
  expect(performance.now() - t0).toBeLessThan(2000); // on change, well before the 5 s interval
  ctl.abort();
  expect(JSON.stringify(snapshots)).not.toContain(KEY);
});
