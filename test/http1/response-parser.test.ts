// The HTTP/1.1 response parser, fed every way bytes can arrive: whole, at every split point, byte by byte.
import { describe, expect, test } from "bun:test";
import { MAX_HEAD_BYTES, ProtocolError, ResponseParser, type ResponseHead } from "../../src/http1/response-parser.ts";

interface Parsed {
  heads: ResponseHead[];
  body: string;
  ended: number;
}

const enc = new TextEncoder();

function collector(): { parser: ResponseParser; out: Parsed } {
  const out: Parsed = { heads: [], body: "", ended: 0 };
  const parser = new ResponseParser({
    head: (h) => out.heads.push(h),
    data: (c) => (out.body += Buffer.from(c).toString("latin1")),
    end: () => out.ended++,
  });
  return { parser, out };
}

/** Parses `wire` in the given pieces; `close` = the connection closes after the last. */
function parse(pieces: readonly Uint8Array[], close = false): Parsed {
  const { parser, out } = collector();
  for (const p of pieces) parser.push(p);
  if (close) parser.finish();
  return out;
}

/** `bytes` whole, cut in two at every point, and byte by byte. */
function* splits(bytes: Uint8Array): Generator<Uint8Array[]> {
  yield [bytes];
  for (let i = 1; i < bytes.length; i++) yield [bytes.subarray(0, i), bytes.subarray(i)];
  yield [...bytes].map((b) => Uint8Array.of(b));
}

/** `wire` parsed every way it can be cut: all must parse alike. */
function everySplit(wire: string, close = false): Parsed[] {
  return [...splits(enc.encode(wire))].map((pieces) => parse(pieces, close));
}

function expectAllAlike(wire: string, expected: { status: number; body: string; framing: string; keepAlive: boolean; headers?: [string, string][] }, close = false): void {
  for (const r of everySplit(wire, close)) {
    expect(r.heads.length).toBe(1);
    expect(r.heads[0]!.status).toBe(expected.status);
    expect(r.heads[0]!.framing).toBe(expected.framing as ResponseHead["framing"]);
    expect(r.heads[0]!.keepAlive).toBe(expected.keepAlive);
    if (expected.headers) expect(r.heads[0]!.headers).toEqual(expected.headers);
    expect(r.body).toBe(expected.body);
    expect(r.ended).toBe(1);
  }
}

describe("framing", () => {
  test("content-length body, every split", () => {
    expectAllAlike("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"ok\":true}", {
      status: 200,
      body: '{"ok":true}',
      framing: "length",
      keepAlive: true,
      headers: [["content-type", "application/json"], ["content-length", "11"]],
    });
  });

  test("chunked body with extensions and trailers, every split", () => {
    const wire = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n1\r\n \r\nA \r\n0123456789\r\n0\r\nX-Trailer: t\r\n\r\n";
    expectAllAlike(wire, { status: 200, body: "hello 0123456789", framing: "chunked", keepAlive: true });
  });

  test("an SSE stream in chunks reaches the sink piece by piece, before the response ends", () => {
    const { parser, out } = collector();
    parser.push(enc.encode("HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"));
    expect(out.heads.length).toBe(1);
    parser.push(enc.encode("f\r\ndata: {\"a\":1}\n\n\r\n"));
    expect(out.body).toBe('data: {"a":1}\n\n');
    expect(out.ended).toBe(0);
    parser.push(enc.encode("0\r\n\r\n"));
    expect(out.ended).toBe(1);
    expect(parser.done).toBe(true);
  });

  test("no length and no chunking: the body runs to the close, and the connection is not reused", () => {
    expectAllAlike("HTTP/1.1 200 OK\r\n\r\nall of it", { status: 200, body: "all of it", framing: "close", keepAlive: false }, true);
  });

  test("204, 304 and content-length 0 have no body", () => {
    expectAllAlike("HTTP/1.1 204 No Content\r\n\r\n", { status: 204, body: "", framing: "none", keepAlive: true });
    expectAllAlike("HTTP/1.1 304 Not Modified\r\ncontent-length: 10\r\n\r\n", { status: 304, body: "", framing: "none", keepAlive: true });
    expectAllAlike("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n", { status: 200, body: "", framing: "none", keepAlive: true });
  });

  test("transfer-encoding wins over content-length, and the connection is then not reused", () => {
    expectAllAlike("HTTP/1.1 200 OK\r\ncontent-length: 100\r\ntransfer-encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n", {
      status: 200,
      body: "hi",
      framing: "chunked",
      keepAlive: false,
    });
  });

  test("a coding other than chunked last: read to the close", () => {
    expectAllAlike("HTTP/1.1 200 OK\r\ntransfer-encoding: gzip\r\n\r\nxyz", { status: 200, body: "xyz", framing: "close", keepAlive: false }, true);
  });

  test("repeated identical content-length is one length", () => {
    expectAllAlike("HTTP/1.1 200 OK\r\ncontent-length: 2, 2\r\ncontent-length: 2\r\n\r\nok", { status: 200, body: "ok", framing: "length", keepAlive: true });
  });
});

describe("head", () => {
  test("1xx interim responses are skipped; the final one is reported", () => {
    expectAllAlike("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nlink: </a>\r\n\r\nHTTP/1.1 201 Created\r\ncontent-length: 1\r\n\r\nx", {
      status: 201,
      body: "x",
      framing: "length",
      keepAlive: true,
      headers: [["content-length", "1"]],
    });
  });

  test("Connection: close, and HTTP/1.0, are not kept alive", () => {
    expectAllAlike("HTTP/1.1 200 OK\r\nConnection: keep-alive, Close\r\ncontent-length: 1\r\n\r\nx", { status: 200, body: "x", framing: "length", keepAlive: false });
    expectAllAlike("HTTP/1.0 200 OK\r\ncontent-length: 1\r\n\r\nx", { status: 200, body: "x", framing: "length", keepAlive: false });
  });

  test("bare LF line ends, a status line without a reason, obs-fold and repeated names, every split", () => {
    // Every split too: a bare-LF head end cut between two pieces is found across them.
    for (const r of everySplit("HTTP/1.1 429\nx-a: 1\nx-fold: a\n  b\nX-A: 2\ncontent-length: 0\n\n")) {
      expect(r.heads[0]!.status).toBe(429);
      expect(r.heads[0]!.statusText).toBe("");
      expect(r.heads[0]!.headers).toEqual([["x-a", "1"], ["x-fold", "a b"], ["x-a", "2"], ["content-length", "0"]]);
      expect(r.ended).toBe(1);
    }
  });

  test("the reason phrase and values keep their spaces inside; outer whitespace goes", () => {
    const r = parse([enc.encode("HTTP/1.1 503 Service  Unavailable\r\nretry-after: \t 7 \r\ncontent-length: 0\r\n\r\n")]);
    expect(r.heads[0]!.statusText).toBe("Service  Unavailable");
    expect(r.heads[0]!.headers[0]).toEqual(["retry-after", "7"]);
  });

  test("bytes ≥ 0x80 in a value are read as latin1, as fetch does", () => {
    const r = parse([Uint8Array.from([...enc.encode("HTTP/1.1 200 OK\r\nx-n: caf"), 0xe9, ...enc.encode("\r\ncontent-length: 0\r\n\r\n")])]);
    expect(r.heads[0]!.headers[0]).toEqual(["x-n", "café"]);
  });
});

describe("keep-alive", () => {
  test("reset() reads the next response on the same connection", () => {
    const { parser, out } = collector();
    parser.push(enc.encode("HTTP/1.1 200 OK\r\ncontent-length: 1\r\n\r\na"));
    expect(parser.done).toBe(true);
    parser.reset();
    expect(parser.started).toBe(false);
    parser.push(enc.encode("HTTP/1.1 404 Not Found\r\ncontent-length: 1\r\n\r\nb"));
    expect(out.heads.map((h) => h.status)).toEqual([200, 404]);
    expect(out.body).toBe("ab");
    expect(out.ended).toBe(2);
  });

  test("bytes after the end of a response are an error (nothing was asked)", () => {
    const { parser } = collector();
    expect(() => parser.push(enc.encode("HTTP/1.1 200 OK\r\ncontent-length: 1\r\n\r\naHTTP/1.1"))).toThrow(ProtocolError);
  });
});

describe("garbage and cut-offs", () => {
  const bad: [string, string][] = [
    ["not HTTP", "SSH-2.0-OpenSSH_9.6\r\n\r\n"],
    ["HTTP/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"],
    ["status out of range", "HTTP/1.1 700 Odd\r\n\r\n"],
    ["two-digit status", "HTTP/1.1 20 OK\r\n\r\n"],
    ["101 never asked for", "HTTP/1.1 101 Switching Protocols\r\n\r\n"],
    ["header without colon", "HTTP/1.1 200 OK\r\nbroken header\r\n\r\n"],
    ["space in a name", "HTTP/1.1 200 OK\r\nbad name: 1\r\n\r\n"],
    ["fold before any header", "HTTP/1.1 200 OK\r\n folded\r\n\r\n"],
    ["differing content-lengths", "HTTP/1.1 200 OK\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\nx"],
    ["negative content-length", "HTTP/1.1 200 OK\r\ncontent-length: -1\r\n\r\n"],
    ["non-hex chunk size", "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n"],
    ["chunk longer than its size", "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n1\r\nabc\r\n"],
  ];
  for (const [what, wire] of bad) {
    test(`${what}: ProtocolError at every split`, () => {
      for (const pieces of splits(enc.encode(wire))) {
        const { parser } = collector();
        expect(() => {
          for (const p of pieces) parser.push(p);
        }).toThrow(ProtocolError);
      }
    });
  }

  test("a head that never ends is refused once over the limit, not kept growing", () => {
    const { parser } = collector();
    const line = enc.encode(`x-pad: ${"a".repeat(1000)}\r\n`);
    parser.push(enc.encode("HTTP/1.1 200 OK\r\n"));
    let threw: unknown = null;
    let fed = 0;
    try {
      while (fed < MAX_HEAD_BYTES * 2) {
        parser.push(line);
        fed += line.byteLength;
      }
    } catch (e) {
      threw = e;
    }
    expect(threw).toBeInstanceOf(ProtocolError);
    expect(fed).toBeLessThanOrEqual(MAX_HEAD_BYTES + line.byteLength);
  });

  test("an endless chunk-size line is refused", () => {
    const { parser } = collector();
    parser.push(enc.encode("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"));
    expect(() => {
      for (let i = 0; i < 100; i++) parser.push(enc.encode("0".repeat(1000)));
    }).toThrow(ProtocolError);
  });

  test("a close before the end of a length or chunked body is an error; a close-framed body ends", () => {
    for (const wire of ["HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nab", "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nab", "HTTP/1.1 200 OK\r\ncontent-"]) {
      const { parser, out } = collector();
      parser.push(enc.encode(wire));
      expect(() => parser.finish()).toThrow(ProtocolError);
      expect(out.ended).toBe(0);
    }
    const { parser, out } = collector();
    parser.push(enc.encode("HTTP/1.1 200 OK\r\n\r\nab"));
    expect(out.ended).toBe(0); // the body runs on until the close
    parser.finish();
    expect(out.ended).toBe(1);
    expect(out.body).toBe("ab");
  });

  test("a close before any byte says so (the caller may retry a reused connection)", () => {
    const { parser } = collector();
    expect(parser.started).toBe(false);
    expect(() => parser.finish()).toThrow("connection closed before any response");
    const other = collector().parser;
    other.push(enc.encode("H"));
    expect(other.started).toBe(true);
    expect(() => other.finish()).toThrow("connection closed before the response ended");
  });
});
