// Bad input gets a clear OpenAI-shaped error; the gateway keeps running and never answers 5xx itself.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startMockUpstream, type RunningMock } from "../../src/mock/mock-upstream.ts";
import type { RunningGateway } from "../../src/gateway/server.ts";
import { chat, gateway, post, provider } from "../helpers/gateway.ts";

let mock: RunningMock;
let gw: RunningGateway;
const MAX = 4096;

beforeAll(() => {
  mock = startMockUpstream({ port: 0 });
  gw = gateway({ server: { max_body_bytes: MAX }, providers: [provider("mock", mock.url)] });
});

afterAll(async () => {
  await gw.stop();
  await mock.stop();
});

async function expectError(res: Response, status: number, code: string | null, type?: string) {
  expect(res.status).toBe(status);
  const body = (await res.json()) as { error: { message: string; type: string; param: unknown; code: unknown } };
  expect(typeof body.error.message).toBe("string");
  expect(body.error.message.length).toBeGreaterThan(0);
  expect(body.error.code).toBe(code);
  if (type) expect(body.error.type).toBe(type);
  expect(JSON.stringify(body)).not.toContain("    at "); // no stack trace
  return body.error;
}

const url = () => `${gw.url}/v1/chat/completions`;

test("malformed JSON → 400", async () => {
  await expectError(await post(url(), "{not json"), 400, null, "invalid_request_error");
});

test("body that is not an object → 400", async () => {
  for (const b of ["[1,2]", "42", '"str"', "null"]) await expectError(await post(url(), b), 400, null);
});

test("missing or non-string model → 400 naming the param", async () => {
  const e1 = await expectError(await post(url(), { messages: [] }), 400, null);
  expect(e1.param).toBe("model");
  const e2 = await expectError(await post(url(), { model: 5, messages: [] }), 400, null);
  expect(e2.param).toBe("model");
});

test("wrong types of stream / max_tokens → 400", async () => {
  expect((await expectError(await post(url(), chat("gpt-4o-mini", { stream: "yes" })), 400, null)).param).toBe("stream");
  expect((await expectError(await post(url(), chat("gpt-4o-mini", { max_tokens: -1 })), 400, null)).param).toBe("max_tokens");
  expect((await expectError(await post(url(), chat("gpt-4o-mini", { max_tokens: 1.5 })), 400, null)).param).toBe("max_tokens");
});

test("unknown model → 404 model_not_found", async () => {
  await expectError(await post(url(), chat("no-such-model")), 404, "model_not_found");
  await expectError(await post(url(), chat("mock/no-such-model")), 404, "model_not_found");
  await expectError(await post(url(), chat("nope/gpt-4o")), 404, "model_not_found");
});

test("body over max_body_bytes → 413 (declared length, not read)", async () => {
  const big = JSON.stringify(chat("gpt-4o-mini", { pad: "x".repeat(MAX) }));
  await expectError(await post(url(), big), 413, "request_too_large");
});

test("chunked body over max_body_bytes → 413", async () => {
  const chunk = new TextEncoder().encode("x".repeat(1024));
  let sent = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(c) {
      if (sent++ < 64) c.enqueue(chunk);
      else c.close();
    },
  });
  const res = await fetch(url(), { method: "POST", body, headers: { "content-type": "application/json" } });
  await expectError(res, 413, "request_too_large");
});

test("unknown route → 404, wrong method → 405 with Allow", async () => {
  await expectError(await fetch(`${gw.url}/v1/nope`), 404, "not_found");
  const res = await fetch(url());
  expect(res.headers.get("allow")).toBe("POST");
  await expectError(res, 405, "method_not_allowed");
});

test("random garbage bodies never produce a 5xx or a stack trace", async () => {
  let seed = 42;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const pieces = ['{"model":', '"gpt-4o-mini"', "[", "]", "{", "}", ",", "null", '"stream":', "true", "1e999", "\u0000", "\\", '"'];
  for (let i = 0; i < 200; i++) {
    let s = "";
    const n = Math.floor(rnd() * 12);
    for (let j = 0; j < n; j++) s += pieces[Math.floor(rnd() * pieces.length)];
    if (rnd() < 0.3) s = String.fromCharCode(...Array.from({ length: 20 }, () => Math.floor(rnd() * 256)));
    const res = await post(url(), s);
    expect(res.status).toBeLessThan(500);
    const text = await res.text();
    expect(text).not.toContain("    at ");
  }
  expect((await fetch(`${gw.url}/admin/health`)).status).toBe(200);
});
