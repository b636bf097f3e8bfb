// The HTTP/1.1 pool against real TCP servers on 127.0.0.1 that play scripted bytes: reuse, races, caps,
// aborts, garbage, backpressure. No mocked sockets.
import { afterEach, expect, test } from "bun:test";
import type { Socket, TCPSocketListener } from "bun";
import { BUFFER_BYTES, Http1Pool, type AbortHook, type Http1Response } from "../../src/http1/pool.ts";
import { ProtocolError } from "../../src/http1/response-parser.ts";
import { freePort } from "../helpers/ports.ts";
import { until } from "../helpers/wait.ts";

interface Conn {
  id: number;
  got: string;
}

interface Scripted {
  readonly port: number;
  /** Connections accepted so far. */
  connections: number;
  /** Connections open now. */
  open: number;
  maxOpen: number;
  /** Requests seen (whole: head and body), in order, with their connection. */
  readonly requests: { conn: number; raw: string }[];
  stop(): void;
}

/**
 * A TCP server that, for each whole request (by content-length), calls `answer`
 * with the socket and the request's index.
 */
function server(answer: (s: Socket<Conn>, n: number, raw: string) => void, onDrain?: (s: Socket<Conn>) => void): Scripted {
  const st: Scripted = { port: 0, connections: 0, open: 0, maxOpen: 0, requests: [], stop: () => {} };
  const listener: TCPSocketListener<Conn> = Bun.listen<Conn>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(s) {
        s.data = { id: ++st.connections, got: "" };
        st.open++;
        st.maxOpen = Math.max(st.maxOpen, st.open);
      },
      data(s, d) {
        s.data.got += Buffer.from(d).toString("latin1");
        for (;;) {
          const end = s.data.got.indexOf("\r\n\r\n");
          if (end < 0) return;
          const len = Number(/content-length: (\d+)/i.exec(s.data.got.slice(0, end))?.[1] ?? 0);
          if (s.data.got.length < end + 4 + len) return;
          const raw = s.data.got.slice(0, end + 4 + len);
          s.data.got = s.data.got.slice(end + 4 + len);
          st.requests.push({ conn: s.data.id, raw });
          answer(s, st.requests.length, raw);
        }
      },
      drain(s) {
        onDrain?.(s);
      },
      close() {
        st.open--;
      },
    },
  });
  return Object.assign(st, { port: listener.port, stop: () => listener.stop(true) });
}

const cleanup: (() => void)[] = [];
afterEach(() => {
  while (cleanup.length) cleanup.pop()!();
});

function setup(answer: (s: Socket<Conn>, n: number, raw: string) => void, opts: { maxSockets?: number; idleSeconds?: number; onDrain?: (s: Socket<Conn>) => void } = {}) {
  const srv = server(answer, opts.onDrain);
  const pool = new Http1Pool("127.0.0.1", srv.port, `127.0.0.1:${srv.port}`, { maxSockets: opts.maxSockets ?? 16, idleSeconds: opts.idleSeconds ?? 4 });
  cleanup.push(() => {
    pool.close();
    srv.stop();
  });
  return { srv, pool };
}

const ok = (body: string, extra = "") => `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n${extra}content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

async function text(r: Http1Response): Promise<string> {
  if (r.body === null) return "";
  if (r.body instanceof Uint8Array) return new TextDecoder().decode(r.body);
  return new Response(r.body).text();
}

function hook(): AbortHook & { abort(): void } {
  const h = {
    onAbort: null as (() => void) | null,
    aborted: false,
    abort() {
      h.aborted = true;
      h.onAbort?.();
    },
  };
  return h;
}

test("sends the request as given and reuses one connection for requests one after another", async () => {
  const { srv, pool } = setup((s, n) => s.write(ok(`{"n":${n}}`, "x-a: 1\r\nX-A: 2\r\n")));
  const body = JSON.stringify({ model: "m", messages: [{ role: "user", content: "héllo ✓" }] });
  for (let i = 1; i <= 3; i++) {
    const r = await pool.post("/v1/chat/completions?x=1", { "content-type": "application/json", authorization: "Bearer k" }, body, null);
    expect(r.status).toBe(200);
    expect(r.headers).toContainEqual(["x-a", "1"]);
    expect(r.headers).toContainEqual(["x-a", "2"]);
    expect(r.body).toBeInstanceOf(Uint8Array); // short, known length: handed over whole
    expect(await text(r)).toBe(`{"n":${i}}`);
  }
  expect(srv.connections).toBe(1);
  const raw = srv.requests[0]!.raw;
  expect(raw.startsWith(`POST /v1/chat/completions?x=1 HTTP/1.1\r\nhost: 127.0.0.1:${srv.port}\r\n`)).toBe(true);
  expect(raw).toContain("authorization: Bearer k\r\n");
  expect(raw).toContain(`content-length: ${Buffer.byteLength(body)}\r\n`);
  // The body went out as UTF-8 (the server read it as latin1 bytes).
  expect(Buffer.from(raw.slice(raw.indexOf("\r\n\r\n") + 4), "latin1").toString("utf8")).toBe(body);
  expect(pool.size).toEqual({ open: 1, idle: 1, waiting: 0 });
});

test("a header value with latin1 bytes goes out as latin1, as fetch sends it", async () => {
  const { srv, pool } = setup((s) => s.write(ok("{}")));
  await pool.post("/", { "x-name": "café" }, "ü", null);
  const raw = Buffer.from(srv.requests[0]!.raw, "latin1");
  expect(raw.includes(Buffer.from("x-name: caf\xe9\r\n", "latin1"))).toBe(true);
  expect(raw.subarray(raw.length - 2)).toEqual(Buffer.from("ü"));
  expect(srv.requests[0]!.raw).toContain("content-length: 2\r\n");
});

test("a long answer and a chunked stream come as streams; the first event arrives before the answer ends", async () => {
  const big = "y".repeat(BUFFER_BYTES + 1000);
  let sock: Socket<Conn> | null = null;
  const { pool } = setup((s, n) => {
    if (n === 1) s.write(ok(big));
    else {
      sock = s;
      s.write("HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n");
      s.write("d\r\ndata: first\n\n\r\n");
    }
  });
  const long = await pool.post("/", {}, "", null);
  expect(long.body).toBeInstanceOf(ReadableStream);
  expect(await text(long)).toBe(big);

  const sse = await pool.post("/", {}, "", null);
  const reader = (sse.body as ReadableStream<Uint8Array>).getReader();
  const first = await reader.read();
  expect(new TextDecoder().decode(first.value)).toBe("data: first\n\n");
  sock!.write("e\r\ndata: second\n\n\r\n0\r\n\r\n");
  let rest = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    rest += new TextDecoder().decode(value);
  }
  expect(rest).toBe("data: second\n\n");
  expect(await until(() => pool.size.idle === 1)).toBe(true); // back in the pool once the stream ended
});

test("a body that runs to the close is read to the close", async () => {
  const { pool } = setup((s) => {
    s.write("HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\npart one, ");
    setTimeout(() => s.end("part two"), 20);
  });
  const r = await pool.post("/", {}, "", null);
  expect(await text(r)).toBe("part one, part two");
});

test("a reused connection the server closed as we wrote is retried once on a new one", async () => {
  // The server answers the first request, then drops the connection on the second without a byte:
  // what a server closing an idle keep-alive connection looks like to the client.
  const { srv, pool } = setup((s, n) => {
    if (n === 2) s.end();
    else s.write(ok(`{"n":${n}}`));
  });
  expect(await text(await pool.post("/", {}, "", null))).toBe('{"n":1}');
  expect(await text(await pool.post("/", {}, "", null))).toBe('{"n":3}');
  expect(srv.requests.map((r) => r.conn)).toEqual([1, 1, 2]);
});

test("a new connection closed before any answer fails (no retry: the server had it)", async () => {
  const { srv, pool } = setup((s) => s.end());
  const err = await pool.post("/", {}, "", null).then(() => null, (e: unknown) => e);
  expect((err as { code?: string }).code).toBe("ECONNRESET");
  expect(srv.requests).toHaveLength(1);
});

test("an answer cut short fails; garbage fails as a ProtocolError; neither connection is reused", async () => {
  const { srv, pool } = setup((s, n) => {
    if (n === 1) s.end("HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nonly this");
    else if (n === 2) s.write("SSH-2.0-OpenSSH\r\n\r\n");
    else s.write(ok("{}"));
  });
  // A short body of known length is read whole before it is handed over: the cut shows as a failure.
  const cut = await pool.post("/", {}, "", null).then(() => null, (e: unknown) => e);
  expect((cut as { code?: string }).code).toBe("ECONNRESET");
  const garbage = await pool.post("/", {}, "", null).then(() => null, (e: unknown) => e);
  expect(garbage).toBeInstanceOf(ProtocolError);
  expect(await text(await pool.post("/", {}, "", null))).toBe("{}");
  expect(srv.requests.map((r) => r.conn)).toEqual([1, 2, 3]);
});

test("a refused connection fails with ECONNREFUSED", async () => {
  const port = await freePort(); // outside the ephemeral range: no other connection takes it meanwhile
  const pool = new Http1Pool("127.0.0.1", port, `127.0.0.1:${port}`, { maxSockets: 4, idleSeconds: 4 });
  const err = await pool.post("/", {}, "", null).then(() => null, (e: unknown) => e);
  expect((err as { code?: string }).code).toBe("ECONNREFUSED");
  expect(pool.size).toEqual({ open: 0, idle: 0, waiting: 0 });
});

test("aborting while the answer is awaited closes the connection and fails at once", async () => {
  const { srv, pool } = setup(() => {}); // never answers
  const h = hook();
  const pending = pool.post("/", {}, "{}", h).then(() => null, (e: unknown) => e);
  expect(await until(() => srv.requests.length === 1)).toBe(true);
  h.abort();
  const err = await pending;
  expect((err as Error).name).toBe("AbortError");
  expect(await until(() => srv.open === 0)).toBe(true); // the server sees the connection go
  expect(pool.size.open).toBe(0);
  expect(h.onAbort).toBeNull();
});

test("aborting during a streamed body errors the stream and drops the connection", async () => {
  const { srv, pool } = setup((s) => {
    s.write("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n");
  });
  const h = hook();
  const r = await pool.post("/", {}, "", h);
  const reader = (r.body as ReadableStream<Uint8Array>).getReader();
  expect(new TextDecoder().decode((await reader.read()).value)).toBe("hello");
  expect(h.onAbort).not.toBeNull(); // still abortable while the body flows
  h.abort();
  const next = await reader.read().then(() => "read", (e: unknown) => (e as Error).name);
  expect(next).toBe("AbortError");
  expect(await until(() => srv.open === 0)).toBe(true);
});

test("a hook is let go once the answer has ended: a late abort cannot touch the reused connection", async () => {
  const { srv, pool } = setup((s) => s.write(ok("{}")));
  const h = hook();
  await pool.post("/", {}, "", h).then(text);
  expect(h.onAbort).toBeNull();
  h.abort();
  expect(await text(await pool.post("/", {}, "", null))).toBe("{}");
  expect(srv.connections).toBe(1);
});

test("at most maxSockets connections; requests beyond wait their turn and all complete", async () => {
  const held: Socket<Conn>[] = [];
  const { srv, pool } = setup((s) => held.push(s), { maxSockets: 2 });
  const all = Array.from({ length: 5 }, (_, i) => pool.post("/", {}, String(i), null).then(text));
  expect(await until(() => held.length === 2)).toBe(true);
  await Bun.sleep(30);
  expect(pool.size).toEqual({ open: 2, idle: 0, waiting: 3 });
  // Answer as they come, until all five are done.
  const timer = setInterval(() => {
    while (held.length) held.shift()!.write(ok("{}"));
  }, 5);
  cleanup.push(() => clearInterval(timer));
  expect(await Promise.all(all)).toEqual(["{}", "{}", "{}", "{}", "{}"]);
  expect(srv.maxOpen).toBe(2);
  expect(srv.connections).toBe(2);
});

test("a waiting request that is aborted leaves the queue", async () => {
  const held: Socket<Conn>[] = [];
  const { pool } = setup((s) => held.push(s), { maxSockets: 1 });
  const first = pool.post("/", {}, "", null).then(text);
  const h = hook();
  const second = pool.post("/", {}, "", h).then(() => null, (e: unknown) => (e as Error).name);
  expect(await until(() => held.length === 1)).toBe(true);
  expect(pool.size.waiting).toBe(1);
  h.abort();
  expect(await second).toBe("AbortError");
  expect(pool.size.waiting).toBe(0);
  held[0]!.write(ok("{}"));
  expect(await first).toBe("{}");
});

test("a request body larger than the socket takes at once is written in full (drain)", async () => {
  const { srv, pool } = setup((s) => s.write(ok("{}")));
  const body = "z".repeat(8 * 1024 * 1024);
  expect(await text(await pool.post("/", {}, body, null))).toBe("{}");
  expect(srv.requests[0]!.raw.length).toBe(srv.requests[0]!.raw.indexOf("\r\n\r\n") + 4 + body.length);
});

test("a reader that lags pauses the socket: the server cannot push the whole answer into memory", async () => {
  const total = 64 * 1024 * 1024;
  let written = 0;
  const piece = Buffer.alloc(256 * 1024, 0x61);
  // Writes until the socket stops taking bytes; the server's drain writes on, as a real server does.
  const pump = (s: Socket<Conn>) => {
    while (written < total) {
      const n = s.write(piece);
      written += Math.max(0, n);
      if (n < piece.length) return;
    }
  };
  const { pool } = setup(
    (s) => {
      s.write(`HTTP/1.1 200 OK\r\ncontent-length: ${total}\r\n\r\n`);
      pump(s);
    },
    { onDrain: pump },
  );
  const r = await pool.post("/", {}, "", null);
  await Bun.sleep(300); // nobody reads: without the pause, the client would take all 64 MB by now
  expect(written).toBeLessThan(total / 2);
  void (r.body as ReadableStream).cancel();
});

test("idle connections are closed after idleSeconds (Bun times sockets in 4 s steps)", async () => {
  const { srv, pool } = setup((s) => s.write(ok("{}")), { idleSeconds: 1 });
  await pool.post("/", {}, "", null).then(text);
  expect(pool.size.idle).toBe(1);
  expect(await until(() => srv.open === 0, 12_000)).toBe(true); // 4–8 s, with room for a busy machine
  expect(pool.size).toEqual({ open: 0, idle: 0, waiting: 0 });
}, 20_000);
