// SSE passes through as it arrives; a client that leaves cancels the upstream; slots free when streams end.
import { afterEach, expect, test } from "bun:test";
import { chat, gateway, post, provider } from "../helpers/gateway.ts";
import { scriptedUpstream } from "../helpers/upstream.ts";

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

const enc = new TextEncoder();

/** An upstream that sends one SSE event every `gapMs`, `n` in all, and records whether it was cancelled. */
function sseUpstream(n: number, gapMs: number) {
  const seen = { cancelled: 0, finished: 0 };
  const up = scriptedUpstream(() => {
    let i = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        const tick = () => {
          if (i < n) {
            c.enqueue(enc.encode(`data: {"i":${i++}}\n\n`));
            timer = setTimeout(tick, gapMs);
          } else {
            c.enqueue(enc.encode("data: [DONE]\n\n"));
            seen.finished++;
            c.close();
          }
        };
        tick();
      },
      cancel() {
        clearTimeout(timer);
        seen.cancelled++;
      },
    });
    return new Response(body, { headers: { "content-type": "text/event-stream" } });
  });
  return { up, seen };
}

test("the first event reaches the client long before the stream ends", async () => {
  const { up } = sseUpstream(5, 150);
  const gw = gateway({ providers: [provider("up", up.url)] });
  cleanup.push(() => up.stop(), () => gw.stop());
  const t0 = performance.now();
  const res = await post(`${gw.url}/v1/chat/completions`, chat("gpt-4o-mini", { stream: true }));
  expect(res.headers.get("content-type")).toContain("text/event-stream");
  const reader = res.body!.getReader();
  const first = await reader.read();
  const tFirst = performance.now() - t0;
  expect(new TextDecoder().decode(first.value)).toContain('"i":0');
  expect(tFirst).toBeLessThan(400);
  let all = new TextDecoder().decode(first.value);
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    all += new TextDecoder().decode(value);
  }
  expect(performance.now() - t0).toBeGreaterThanOrEqual(600);
  expect(all).toBe([0, 1, 2, 3, 4].map((i) => `data: {"i":${i}}\n\n`).join("") + "data: [DONE]\n\n");
});

/** Starts a stream through the gateway, reads its first event, then leaves; resolves once the upstream saw the cancel. */
async function leaveMidStream(rate_limit: Record<string, unknown> | undefined) {
  const { up, seen } = sseUpstream(100, 50);
  const gw = gateway({ providers: [provider("up", up.url, rate_limit ? { rate_limit } : {})] });
  cleanup.push(() => up.stop(), () => gw.stop());
  const ctl = new AbortController();
  const res = await fetch(`${gw.url}/v1/chat/completions`, {
    method: "POST",
    body: JSON.stringify(chat("gpt-4o-mini", { stream: true })),
    headers: { "content-type": "application/json" },
    signal: ctl.signal,
  });
  const reader = res.body!.getReader();
  await reader.read();
  ctl.abort();
  await reader.cancel().catch(() => {});
  for (let i = 0; i < 50 && seen.cancelled === 0; i++) await Bun.sleep(20);
  return { gw, seen };
}

test("a client that goes away mid-stream cancels the upstream and frees the concurrency slot", async () => {
  const { gw, seen } = await leaveMidStream({ max_concurrent: 1 });
  expect(seen.cancelled).toBe(1);
  expect(seen.finished).toBe(0);
  const s = await (await fetch(`${gw.url}/admin/stats`)).json();
  expect(s.providers[0].in_flight).toBe(0);
});

test("on an unlimited provider (body handed over untouched) a client that leaves still cancels the upstream", async () => {
  const { seen } = await leaveMidStream(undefined);
  expect(seen.cancelled).toBe(1);
  expect(seen.finished).toBe(0);
});
