// Which client carries a provider's requests, and that both carry them alike end to end.
import { afterEach, describe, expect, test } from "bun:test";
import { gzipSync } from "node:zlib";
import { proxied, upstreamClient } from "../../src/gateway/upstream-client.ts";
import { chat, gateway, post, provider } from "../helpers/gateway.ts";
import { freePort } from "../helpers/ports.ts";
import { okJson, scriptedUpstream, type Handler } from "../helpers/upstream.ts";

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

describe("choice", () => {
  test("own HTTP/1.1 client for http://, fetch for https:// or when asked", () => {
    expect(upstreamClient("http://127.0.0.1:8000/v1", "auto", {}).kind).toBe("http1");
    expect(upstreamClient("http://[::1]:8000/v1", "auto", {}).kind).toBe("http1");
    expect(upstreamClient("https://api.openai.com/v1", "auto", {}).kind).toBe("fetch");
    expect(upstreamClient("http://127.0.0.1:8000/v1", "fetch", {}).kind).toBe("fetch");
  });

  test("an HTTP proxy in the environment sends http:// through fetch, unless NO_PROXY exempts the host", () => {
    const env = { HTTP_PROXY: "http://proxy.corp:3128", NO_PROXY: "localhost,.internal, 10.0.0.5:8000" };
    expect(upstreamClient("http://vllm.example.com/v1", "auto", env).kind).toBe("fetch");
    expect(upstreamClient("http://localhost:8000/v1", "auto", env).kind).toBe("http1");
    expect(proxied(new URL("http://gpu1.internal:8000"), env)).toBe(false);
    expect(proxied(new URL("http://internal:8000"), env)).toBe(false);
    expect(proxied(new URL("http://notinternal:8000"), env)).toBe(true);
    expect(proxied(new URL("http://10.0.0.5:8000"), env)).toBe(false);
    expect(proxied(new URL("http://x"), { http_proxy: "http://p", no_proxy: "*" })).toBe(false);
    expect(proxied(new URL("http://x"), {})).toBe(false);
  });
});

/** A gateway in front of `handler` whose provider uses the given client. */
function via(client: "auto" | "fetch", handler: Handler, extra: Record<string, unknown> = {}) {
  const up = scriptedUpstream(handler);
  const gw = gateway({ providers: [provider("up", up.url, { upstream_client: client, ...extra })] });
  cleanup.push(() => gw.stop(), () => up.stop());
  return { up, gw };
}

for (const client of ["auto", "fetch"] as const) {
  describe(`upstream_client: ${client}`, () => {
    test("a JSON answer, its status and headers come back; the request went out with the provider's key", async () => {
      const { up, gw } = via(client, () => new Response(JSON.stringify({ id: "x", choices: [] }), { status: 201, headers: { "content-type": "application/json", "x-request-id": "r1" } }));
      const res = await post(`${gw.url}/v1/chat/completions`, chat(), { "x-custom": "kept" });
      expect(res.status).toBe(201);
      expect(res.headers.get("x-request-id")).toBe("r1");
      expect(await res.json()).toEqual({ id: "x", choices: [] });
      expect(up.requests[0]!.headers.get("authorization")).toBe("Bearer sk-test-up-secret");
      expect(up.requests[0]!.headers.get("x-custom")).toBe("kept");
      expect(JSON.parse(up.requests[0]!.body)).toEqual(chat());
    });

    test("an SSE stream arrives event by event", async () => {
      // The upstream sends its first event, then holds the rest until the client has read that one:
      // a gateway that buffered the stream would never hand the first event on.
      let more!: () => void;
      const held = new Promise<void>((r) => (more = r));
      const { gw } = via(client, () => {
        const enc = new TextEncoder();
        let i = 0;
        const body = new ReadableStream<Uint8Array>({
          async pull(c) {
            if (i === 3) return c.close();
            if (i === 1) await held;
            c.enqueue(enc.encode(`data: {"n":${i++}}\n\n`));
          },
        });
        return new Response(body, { headers: { "content-type": "text/event-stream" } });
      });
      const res = await post(`${gw.url}/v1/chat/completions`, chat("gpt-4o-mini", { stream: true }));
      expect(res.headers.get("content-type")).toContain("text/event-stream");
      const reader = res.body!.getReader();
      const dec = new TextDecoder();
      let first = "";
      const timeout = setTimeout(() => void reader.cancel(), 5000); // a buffered stream ends the read empty
      while (!first.endsWith("\n\n")) {
        const { done, value } = await reader.read();
        if (done) break;
        first += dec.decode(value, { stream: true });
      }
      clearTimeout(timeout);
      expect(first).toBe('data: {"n":0}\n\n');
      more();
      let rest = "";
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        rest += dec.decode(value, { stream: true });
      }
      expect(rest).toBe('data: {"n":1}\n\ndata: {"n":2}\n\n');
    });

    test("an upstream that compresses anyway: the client still reads the JSON it was sent", async () => {
      const json = JSON.stringify({ id: "gz", choices: [], pad: "x".repeat(2000) });
      const { up, gw } = via(client, () => new Response(gzipSync(json), { headers: { "content-type": "application/json", "content-encoding": "gzip" } }));
      const res = await post(`${gw.url}/v1/chat/completions`, chat());
      expect(await res.json()).toEqual(JSON.parse(json));
      // Our own client asks for no coding; fetch asks for its own and decodes.
      if (client === "auto") expect(up.requests[0]!.headers.get("accept-encoding")).toBe("identity");
    });

    test("dead upstream → 502, slow upstream → 504", async () => {
      const dead = gateway({ providers: [provider("up", `http://127.0.0.1:${await freePort()}/v1`, { upstream_client: client, rate_limit: { retry_upstream_429: false } })] });
      cleanup.push(() => dead.stop());
      const r1 = await post(`${dead.url}/v1/chat/completions`, chat());
      expect(r1.status).toBe(502);
      expect((await r1.json()).error.message).toContain("connection refused");

      const { gw } = via(client, async () => {
        await Bun.sleep(2000);
        return okJson();
      }, { timeout_seconds: 0.2 });
      const r2 = await post(`${gw.url}/v1/chat/completions`, chat());
      expect(r2.status).toBe(504);
    });
  });
}

test("an upstream that answers garbage → 502 naming a malformed answer, and the next request is served", async () => {
  let n = 0;
  const srv = Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      data(s) {
        n++;
        if (n === 1) s.write("HELLO I AM NOT HTTP\r\n\r\n");
        else s.write('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}');
      },
    },
  });
  const gw = gateway({ providers: [provider("up", `http://127.0.0.1:${srv.port}/v1`, { rate_limit: { retry_upstream_429: false } })] });
  cleanup.push(async () => {
    await gw.stop();
    srv.stop(true);
  });
  const bad = await post(`${gw.url}/v1/chat/completions`, chat());
  expect(bad.status).toBe(502);
  const err = (await bad.json()).error;
  expect(err.code).toBe("upstream_unreachable");
  expect(err.message).toContain("malformed answer");
  const good = await post(`${gw.url}/v1/chat/completions`, chat());
  expect(good.status).toBe(200);
  expect(await good.json()).toEqual({});
});
