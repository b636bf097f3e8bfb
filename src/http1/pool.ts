/**
 * A keep-alive HTTP/1.1 client for plain-http upstreams, run on the JS thread
 * over Bun.connect. fetch hands each request to its own HTTP thread and the
 * answer back; for a gateway in front of a local inference server those
 * hand-offs are a large part of a request's CPU (measured in
 * docs/benchmarks.md). TLS stays with fetch (certificate checks we trust).
 *
 * One pool per origin: idle connections are reused last-in first-out and
 * closed after `idleSeconds` (Bun times sockets in 4 s steps, so 4–8 s); at most `maxSockets` are open, requests beyond
 * that wait in order for one. A reused connection that closes before any byte
 * of the answer came is retried once on a new one (the server closed it idle
 * as we wrote; nothing of ours was read). Bodies up to BUFFER_BYTES with a
 * known length are read whole and answered as bytes (cheapest to pass on);
 * others stream, with backpressure (the socket pauses while the reader lags).
 */
import type { Socket, SocketHandler } from "bun";
import { ResponseParser, type ResponseHead, type ResponseSink } from "./response-parser.ts";

/** Lets the caller abort a request: the pool sets `onAbort` while the request (or its body) is in flight. */
export interface AbortHook {
  onAbort: (() => void) | null;
  readonly aborted: boolean;
}

export interface PoolOptions {
  /** Connections open at once; requests beyond wait for one. */
  readonly maxSockets: number;
  /** An idle connection is closed after this many seconds (rounded up to Bun's 4 s steps). */
  readonly idleSeconds: number;
}

/** An answer: its head, and its body whole (short, known length), as a stream, or none. */
export interface Http1Response {
  readonly status: number;
  readonly statusText: string;
  /** [name, value], names lowercase, in order. */
  readonly headers: [string, string][];
  readonly body: Uint8Array<ArrayBuffer> | ReadableStream<Uint8Array> | null;
}

/** Answers with a known length up to this size are read whole before they are handed over. */
export const BUFFER_BYTES = 256 * 1024;

const ASCII = /^[\x00-\x7f]*$/;

/** An error with a Node-style code, as fetch and sockets give them. */
export class ConnectionError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

function abortError(): DOMException {
  return new DOMException("The operation was aborted.", "AbortError");
}

/** One request and its answer. */
class Exchange implements ResponseSink {
  conn: Connection | null = null;
  /** Already retried once on a new connection. */
  retried = false;
  settled = false;
  /** Socket bytes (never shared memory). */
  private chunks: Uint8Array<ArrayBuffer>[] | null = null;
  private stream: ReadableStreamDefaultController<Uint8Array> | null = null;
  private got: ResponseHead | null = null;

  constructor(
    /** The request's bytes: head and body. */
    readonly request: string | Uint8Array,
    /** Its length in bytes. */
    readonly size: number,
    readonly hook: AbortHook | null,
    private readonly resolve: (r: Http1Response) => void,
    private readonly reject: (e: unknown) => void,
  ) {}

  head(h: ResponseHead): void {
    this.got = h;
    if (h.framing === "none") return; // answered at end()
    if (h.framing === "length" && h.length <= BUFFER_BYTES) {
      this.chunks = [];
      return;
    }
    const conn = this.conn!;
    const body = new ReadableStream<Uint8Array>(
      {
        start: (c) => {
          this.stream = c;
        },
        pull: () => conn.resume(),
        cancel: () => {
          this.stream = null;
          if (this.conn === conn) conn.destroy();
        },
      },
      { highWaterMark: 4 },
    );
    this.answer(body);
  }

  data(chunk: Uint8Array): void {
    if (this.chunks) this.chunks.push(chunk as Uint8Array<ArrayBuffer>);
    else if (this.stream) {
      this.stream.enqueue(chunk);
      if ((this.stream.desiredSize ?? 1) <= 0) this.conn?.pause();
    }
  }

  end(): void {
    if (this.stream) {
      this.stream.close();
      this.stream = null;
    } else if (!this.settled) {
      const c = this.chunks;
      this.answer(c === null || c.length === 0 ? null : c.length === 1 ? c[0]! : Buffer.concat(c));
    }
  }

  /** Nothing is left to abort: let go of the caller's hook. */
  done(): void {
    if (this.hook) this.hook.onAbort = null;
  }

  /** The connection failed or was aborted: whatever is still open of this exchange fails with `e`. */
  fail(e: unknown): void {
    this.done();
    if (!this.settled) {
      this.settled = true;
      this.reject(e);
    } else if (this.stream) {
      try {
        this.stream.error(e);
      } catch {
        // already closed by its reader
      }
      this.stream = null;
    }
  }

  private answer(body: Http1Response["body"]): void {
    if (this.settled) return;
    this.settled = true;
    const h = this.got!;
    this.resolve({ status: h.status, statusText: h.statusText, headers: h.headers, body });
  }
}

/** One socket to the origin, carrying one exchange at a time. */
class Connection implements ResponseSink {
  socket: Socket<Connection> | null = null;
  exchange: Exchange | null = null;
  readonly parser: ResponseParser = new ResponseParser(this);
  /** Has carried an earlier exchange (then a close before any answer byte may be retried). */
  reused = false;
  closed = false;
  paused = false;
  /** The last answer's head allows another request on this connection. */
  private keepAlive = false;
  /** Bytes of the request the socket did not take yet (written on drain). */
  unsent: Uint8Array | null = null;
  /** What aborting the exchange on it does (one function per connection, not per request). */
  readonly abort = (): void => this.destroy(abortError());

  constructor(readonly pool: Http1Pool) {}

  head(h: ResponseHead): void {
    this.keepAlive = h.keepAlive;
    this.exchange?.head(h);
  }

  data(chunk: Uint8Array): void {
    this.exchange?.data(chunk);
  }

  end(): void {
    this.exchange?.end();
  }

  /** Carries `ex` (or, before it is sent, is being opened for it). */
  attach(ex: Exchange): void {
    this.exchange = ex;
    ex.conn = this;
    if (ex.hook) ex.hook.onAbort = this.abort;
  }

  /** Takes the exchange off this connection. */
  private detach(): Exchange | null {
    const ex = this.exchange;
    this.exchange = null;
    if (ex) ex.conn = null;
    return ex;
  }

  send(ex: Exchange): void {
    this.attach(ex);
    const data = ex.request;
    const wrote = this.socket!.write(data);
    if (wrote < 0) return; // closed under us: the close handler fails or retries the exchange
    if (wrote < ex.size) this.unsent = (typeof data === "string" ? Buffer.from(data) : data).subarray(wrote);
  }

  drain(): void {
    const rest = this.unsent;
    if (!rest || !this.socket) return;
    const wrote = this.socket.write(rest);
    this.unsent = wrote < 0 || wrote >= rest.byteLength ? null : rest.subarray(wrote);
  }

  received(chunk: Uint8Array): void {
    const ex = this.exchange;
    if (!ex) {
      // Nothing asked on this connection: the server is not speaking HTTP/1.1 to us.
      this.destroy();
      return;
    }
    try {
      this.parser.push(chunk);
    } catch (e) {
      this.destroy(e);
      return;
    }
    if (!this.closed && this.parser.done) this.finished(ex);
  }

  /** The exchange's answer has been read to its end. */
  private finished(ex: Exchange): void {
    this.detach();
    ex.done();
    if (this.unsent || !this.keepAlive) {
      // Answered before we finished writing, or not to be reused: close.
      this.destroy();
      return;
    }
    this.resume(); // paused by a lagging reader of the last chunks: the next answer must flow
    this.parser.reset();
    this.reused = true;
    this.pool.release(this);
  }

  pause(): void {
    if (!this.paused && this.socket) {
      this.paused = true;
      this.socket.pause();
    }
  }

  resume(): void {
    if (this.paused && this.socket) {
      this.paused = false;
      this.socket.resume();
    }
  }

  /** Closes the socket at once; the exchange on it, if any, fails with `why`. */
  destroy(why?: unknown): void {
    this.detach()?.fail(why ?? new ConnectionError("connection closed", "ECONNRESET"));
    if (!this.closed) {
      this.closed = true;
      this.socket?.terminate();
      this.pool.gone(this);
    }
  }

  /** The socket closed (by the server or an error; our own closes are handled in destroy()). */
  onClose(error?: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.pool.gone(this);
    const ex = this.exchange;
    if (!ex) return;
    if (this.reused && !this.parser.started && !ex.retried && !ex.settled) {
      // Closed idle by the server as we wrote: it read nothing of ours. Once more, on a new connection.
      this.detach();
      ex.retried = true;
      this.pool.enqueue(ex, true);
      return;
    }
    let why: unknown = error;
    if (why === undefined) {
      try {
        this.parser.finish(); // ends a body that runs to the close
      } catch (e) {
        why = new ConnectionError((e as Error).message, "ECONNRESET");
      }
    }
    this.detach();
    if (why === undefined) ex.done();
    else ex.fail(why);
  }
}

const HANDLERS: SocketHandler<Connection> = {
  open(s) {
    s.setNoDelay(true);
  },
  data(s, chunk) {
    s.data.received(chunk);
  },
  drain(s) {
    s.data.drain();
  },
  close(s, error) {
    s.data.onClose(error);
  },
  error(s, error) {
    s.data.destroy(error);
  },
  timeout(s) {
    // Only idle connections have a timeout set.
    s.data.destroy();
  },
};

export class Http1Pool {
  private readonly idle: Connection[] = [];
  private readonly waiting: Exchange[] = [];
  private open = 0;
  private closing = false;

  constructor(
    readonly hostname: string,
    readonly port: number,
    /** The Host header: host[:port] as in the URL. */
    readonly host: string,
    private readonly opts: PoolOptions,
  ) {}

  /**
   * POSTs `body` to `path` with `headers` (names lowercase, already filtered,
   * no content-length); resolves with the answer once its head (and, for a
   * short body of known length, the body) has come.
   */
  post(path: string, headers: Record<string, string>, body: string, hook: AbortHook | null): Promise<Http1Response> {
    let head = `POST ${path} HTTP/1.1\r\nhost: ${headers.host ?? this.host}\r\n`;
    for (const name in headers) if (name !== "host") head += `${name}: ${headers[name]}\r\n`;
    const bodyBytes = Buffer.byteLength(body);
    head += `content-length: ${bodyBytes}\r\n\r\n`;
    // Header values are latin1 (as fetch sends them); the body is UTF-8. An ASCII head's length is its size.
    const ascii = ASCII.test(head);
    const data = ascii ? head + body : Buffer.concat([Buffer.from(head, "latin1"), Buffer.from(body)]);
    const size = ascii ? head.length + bodyBytes : (data as Buffer).byteLength;
    return new Promise<Http1Response>((resolve, reject) => {
      if (hook?.aborted) return reject(abortError());
      if (this.closing) return reject(new ConnectionError("client closed", "ECONNRESET"));
      this.enqueue(new Exchange(data, size, hook, resolve, reject), false);
    });
  }

  /** Connections open and idle, and requests waiting for one. */
  get size(): { open: number; idle: number; waiting: number } {
    return { open: this.open, idle: this.idle.length, waiting: this.waiting.length };
  }

  /** Closes idle connections now and busy ones when their answer ends. */
  close(): void {
    this.closing = true;
    for (const c of this.idle.splice(0)) c.destroy();
    for (const ex of this.waiting.splice(0)) ex.fail(new ConnectionError("client closed", "ECONNRESET"));
  }

  /** Sends `ex` on an idle connection, a new one, or (at the cap) when one frees. `fresh`: not on a reused one. */
  enqueue(ex: Exchange, fresh: boolean): void {
    if (!fresh) {
      const c = this.idle.pop();
      if (c) {
        c.socket!.timeout(0);
        c.socket!.ref();
        c.send(ex);
        return;
      }
    }
    if (this.open < this.opts.maxSockets) this.connect(ex);
    else if (fresh && this.idle.length > 0) {
      // At the cap with idle connections: one of those makes room for the new one.
      this.idle.shift()!.destroy();
      this.connect(ex);
    } else {
      this.waiting.push(ex);
      if (ex.hook) ex.hook.onAbort = () => this.abandon(ex);
    }
  }

  /** A connection's answer ended and it may carry another. */
  release(c: Connection): void {
    const next = this.waiting.shift();
    if (next) {
      c.send(next);
      return;
    }
    if (this.closing) {
      c.destroy();
      return;
    }
    c.socket!.timeout(this.opts.idleSeconds);
    c.socket!.unref(); // an idle connection does not keep the process alive
    this.idle.push(c);
  }

  /** A connection is closed for good: forget it, and let a waiting request open another. */
  gone(c: Connection): void {
    this.open--;
    const i = this.idle.indexOf(c);
    if (i >= 0) this.idle.splice(i, 1);
    const next = this.waiting.shift();
    if (next) this.connect(next);
  }

  /** A request aborted before it had a connection. */
  private abandon(ex: Exchange): void {
    const i = this.waiting.indexOf(ex);
    if (i >= 0) this.waiting.splice(i, 1);
    ex.fail(abortError());
  }

  private connect(ex: Exchange): void {
    this.open++;
    const conn = new Connection(this);
    conn.attach(ex); // so that an abort or a failure while connecting reaches it
    Bun.connect<Connection>({ hostname: this.hostname, port: this.port, data: conn, socket: HANDLERS }).then(
      (socket) => {
        conn.socket = socket;
        if (conn.closed) {
          socket.terminate(); // aborted while connecting
          return;
        }
        conn.send(ex);
      },
      // Refused, unresolvable…: the exchange fails (unless an abort got there first and did all this).
      (e: unknown) => conn.destroy(e),
    );
  }
}
