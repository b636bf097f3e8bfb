/**
 * An HTTP/1.1 response parser (RFC 9112), fed bytes as they arrive. Pure: no
 * sockets, no clock, so that every split of a response can be tested. It
 * reads one response (skipping 1xx interim ones) and reports its head, its
 * body in pieces and its end to a sink; reset() readies it for the next
 * response on a kept-alive connection.
 */

/** The upstream did not speak HTTP/1.1 as it must: the connection can't be trusted any more. */
export class ProtocolError extends Error {
  readonly code = "UpstreamProtocolError";
}

/** How the body's end is known (RFC 9112 §6.3). */
export type Framing = "none" | "length" | "chunked" | "close";

export interface ResponseHead {
  readonly status: number;
  readonly statusText: string;
  /** [name, value] in order, names lowercased; repeated names kept apart. */
  readonly headers: [string, string][];
  readonly framing: Framing;
  /** Body bytes when framing is "length". */
  readonly length: number;
  /** Whether the connection may carry another request once this response has ended. */
  readonly keepAlive: boolean;
}

export interface ResponseSink {
  head(head: ResponseHead): void;
  /** A piece of the body (a view into the pushed bytes: copy it to keep it past the call only if they are reused). */
  data(chunk: Uint8Array): void;
  end(): void;
}

/** Longest head (status line and headers) accepted, bytes. */
export const MAX_HEAD_BYTES = 64 * 1024;
/** Longest chunk-size line or trailer section accepted, bytes. */
const MAX_LINE_BYTES = 8 * 1024;

const enum State {
  Head,
  Length,
  ChunkSize,
  ChunkData,
  ChunkEnd,
  Trailers,
  Close,
  Done,
}

const LF = 10;
const CR = 13;
const STATUS_LINE = /^HTTP\/1\.([01]) ([1-9]\d\d)(?: ([\t\x20-\x7e\x80-\xff]*))?$/;
const DIGITS = /^\d+$/;
const HEX = /^[0-9A-Fa-f]+$/;

export class ResponseParser {
  private state = State.Head;
  /** Bytes of an unfinished head or line, carried over between pushes. */
  private pending: Uint8Array | null = null;
  private remaining = 0;
  private trailerBytes = 0;
  private bytesSeen = 0;

  constructor(private readonly sink: ResponseSink) {}

  /** Whether any byte of the response has arrived (a connection closed before that may be retried). */
  get started(): boolean {
    return this.bytesSeen > 0;
  }

  /** Whether the response has been read to its end. */
  get done(): boolean {
    return this.state === State.Done;
  }

  /** Ready for the next response on the same connection. */
  reset(): void {
    this.state = State.Head;
    this.pending = null;
    this.remaining = 0;
    this.trailerBytes = 0;
    this.bytesSeen = 0;
  }

  /** Feeds bytes from the connection; throws ProtocolError on what is not HTTP/1.1. */
  push(chunk: Uint8Array): void {
    this.bytesSeen += chunk.byteLength;
    let at = 0;
    const n = chunk.byteLength;
    while (at < n) {
      switch (this.state) {
        case State.Head:
          at = this.readHead(chunk, at);
          break;
        case State.Length:
        case State.ChunkData: {
          // Body bytes of a known count: a whole body, or one chunk's data.
          const take = Math.min(this.remaining, n - at);
          this.sink.data(chunk.subarray(at, at + take));
          at += take;
          this.remaining -= take;
          if (this.remaining > 0) break;
          if (this.state === State.Length) this.finishBody();
          else this.state = State.ChunkEnd;
          break;
        }
        case State.ChunkSize:
          at = this.readLine(chunk, at, (line) => this.chunkSize(line));
          break;
        case State.ChunkEnd:
          at = this.readLine(chunk, at, (line) => {
            if (line.byteLength !== 0) throw new ProtocolError("chunk data longer than its size");
            this.state = State.ChunkSize;
          });
          break;
        case State.Trailers:
          at = this.readLine(chunk, at, (line) => {
            // Trailers are read past, not passed on (the gateway drops them like other hop-by-hop fields).
            if (line.byteLength === 0) this.finishBody();
            else if ((this.trailerBytes += line.byteLength) > MAX_LINE_BYTES) throw new ProtocolError("trailers too long");
          });
          break;
        case State.Close:
          this.sink.data(at === 0 ? chunk : chunk.subarray(at));
          at = n;
          break;
        case State.Done:
          throw new ProtocolError("bytes after the end of the response");
      }
    }
  }

  /** The connection closed: ends a body that runs to the close, else throws (the response was cut short). */
  finish(): void {
    if (this.state === State.Close) {
      this.state = State.Done;
      this.sink.end();
      return;
    }
    if (this.state === State.Done) return;
    throw new ProtocolError(this.bytesSeen === 0 ? "connection closed before any response" : "connection closed before the response ended");
  }

  private finishBody(): void {
    this.state = State.Done;
    this.sink.end();
  }

  /** Looks for the empty line that ends the head; parses the head once it is whole. */
  private readHead(chunk: Uint8Array, at: number): number {
    const carried = this.pending?.byteLength ?? 0;
    // With bytes carried over, the end may straddle the two pieces: rescan the last 3 carried bytes.
    const bytes = this.pending ? concat(this.pending, chunk.subarray(at)) : chunk;
    const from = this.pending ? 0 : at;
    const end = headEnd(bytes, this.pending ? Math.max(0, carried - 3) : at);
    if (end < 0) {
      if (bytes.byteLength - from > MAX_HEAD_BYTES) throw new ProtocolError("response head too long");
      this.pending = this.pending ? bytes : chunk.slice(at);
      return chunk.byteLength;
    }
    if (end - from > MAX_HEAD_BYTES) throw new ProtocolError("response head too long");
    this.pending = null;
    this.onHead(latin1(bytes, from, end));
    // The end lies past the carried bytes (they held no end), so it falls inside this chunk.
    return bytes === chunk ? end : at + (end - carried);
  }

  private onHead(text: string): void {
    let eol = text.indexOf("\n");
    const statusLine = text.slice(0, text.charCodeAt(eol - 1) === CR ? eol - 1 : eol);
    const m = STATUS_LINE.exec(statusLine);
    if (!m) throw new ProtocolError(`not an HTTP/1.1 status line: ${JSON.stringify(statusLine.slice(0, 40))}`);
    const minor = m[1]!;
    const status = Number(m[2]);
    const headers: [string, string][] = [];
    let contentLength: string | null = null;
    let transferEncoding: string | null = null;
    let connection = "";
    // Line by line with indexOf (no split, no regex per line): this runs for every answer.
    for (let at = eol + 1; at < text.length; at = eol + 1) {
      eol = text.indexOf("\n", at);
      if (eol < 0) eol = text.length;
      const end = text.charCodeAt(eol - 1) === CR ? eol - 1 : eol;
      if (end <= at) continue; // the empty line(s) that end the head
      const first = text.charCodeAt(at);
      if (first === 32 || first === 9) {
        // obs-fold: a continuation of the previous value, read as one space (RFC 9112 §5.2).
        const last = headers[headers.length - 1];
        if (!last) throw new ProtocolError("header continuation before any header");
        last[1] = `${last[1]} ${text.slice(at, end).trim()}`;
        continue;
      }
      const colon = text.indexOf(":", at);
      if (colon <= at || colon > end || !isToken(text, at, colon)) throw new ProtocolError(`malformed header line: ${JSON.stringify(text.slice(at, Math.min(end, at + 40)))}`);
      let vs = colon + 1;
      let ve = end;
      while (vs < ve && isOws(text.charCodeAt(vs))) vs++;
      while (ve > vs && isOws(text.charCodeAt(ve - 1))) ve--;
      const value = text.slice(vs, ve);
      if (hasCtl(text, vs, ve)) throw new ProtocolError(`malformed value of header ${text.slice(at, colon)}`);
      const lower = text.slice(at, colon).toLowerCase();
      headers.push([lower, value]);
      if (lower.length < 10 || lower.length > 17) continue; // none of the three below
      if (lower === "content-length") contentLength = contentLength === null ? value : `${contentLength},${value}`;
      else if (lower === "transfer-encoding") transferEncoding = transferEncoding === null ? value : `${transferEncoding},${value}`;
      else if (lower === "connection") connection += `,${value.toLowerCase()}`;
    }
    if (status < 200) {
      // 1xx: interim (100 Continue, 103 Early Hints); the real response follows. 101 would switch protocols: never asked for.
      if (status === 101) throw new ProtocolError("unexpected 101 Switching Protocols");
      return;
    }
    if (status > 599) throw new ProtocolError(`status ${status} out of range`);
    let keepAlive = minor === "1" && (connection === "" || !hasToken(connection, "close"));
    let framing: Framing;
    let length = 0;
    if (status === 204 || status === 304) framing = "none";
    else if (transferEncoding !== null) {
      // The final coding decides; a length beside it is ignored and the connection not reused (§6.1, §6.3).
      const codings = transferEncoding.toLowerCase().split(",").map((t) => t.trim()).filter((t) => t !== "");
      framing = codings[codings.length - 1] === "chunked" ? "chunked" : "close";
      if (contentLength !== null || framing === "close") keepAlive = false;
    } else if (contentLength !== null) {
      // Repeated identical values are allowed (§6.3 item 5); differing or malformed ones are not.
      if (DIGITS.test(contentLength)) length = Number(contentLength);
      else {
        const values = contentLength.split(",").map((v) => v.trim());
        if (!values.every((v) => DIGITS.test(v) && v === values[0])) throw new ProtocolError(`invalid content-length ${JSON.stringify(contentLength)}`);
        length = Number(values[0]);
      }
      if (!Number.isSafeInteger(length)) throw new ProtocolError("content-length too large");
      framing = length === 0 ? "none" : "length";
    } else {
      framing = "close";
      keepAlive = false;
    }
    this.sink.head({ status, statusText: m[3] ?? "", headers, framing, length, keepAlive });
    if (framing === "none") this.finishBody();
    else if (framing === "length") {
      this.state = State.Length;
      this.remaining = length;
    } else if (framing === "chunked") this.state = State.ChunkSize;
    else this.state = State.Close;
  }

  private chunkSize(line: Uint8Array): void {
    const text = latin1(line, 0, line.byteLength);
    const semi = text.indexOf(";");
    const hex = (semi < 0 ? text : text.slice(0, semi)).trim();
    if (!HEX.test(hex) || hex.length > 12) throw new ProtocolError(`invalid chunk size ${JSON.stringify(text.slice(0, 20))}`);
    const size = parseInt(hex, 16);
    if (size === 0) this.state = State.Trailers;
    else {
      this.state = State.ChunkData;
      this.remaining = size;
    }
  }

  /**
   * Reads one line (up to LF, CR before it dropped), possibly across pushes,
   * and hands it to `use`; returns where reading stopped.
   */
  private readLine(chunk: Uint8Array, at: number, use: (line: Uint8Array) => void): number {
    let lf = -1;
    for (let i = at; i < chunk.byteLength; i++) {
      if (chunk[i] === LF) {
        lf = i;
        break;
      }
    }
    if (lf < 0) {
      const piece = chunk.subarray(at);
      this.pending = this.pending ? concat(this.pending, piece) : piece.slice();
      if (this.pending.byteLength > MAX_LINE_BYTES) throw new ProtocolError("line too long");
      return chunk.byteLength;
    }
    let line = chunk.subarray(at, lf);
    if (this.pending) {
      line = concat(this.pending, line);
      this.pending = null;
    }
    if (line.byteLength > MAX_LINE_BYTES) throw new ProtocolError("line too long");
    if (line.byteLength > 0 && line[line.byteLength - 1] === CR) line = line.subarray(0, line.byteLength - 1);
    use(line);
    return lf + 1;
  }
}

/** Index just past the empty line ending a head (CRLF CRLF, or bare LFs), or -1. */
function headEnd(b: Uint8Array, from: number): number {
  for (let i = from; i < b.byteLength; i++) {
    if (b[i] !== LF) continue;
    if (b[i + 1] === LF) return i + 2;
    if (b[i + 1] === CR && b[i + 2] === LF) return i + 3;
  }
  return -1;
}

/** tchar (RFC 9110 §5.6.2), by char code. */
const TCHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") TCHAR[c.charCodeAt(0)] = 1;

function isToken(s: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c > 127 || TCHAR[c] === 0) return false;
  }
  return true;
}

function isOws(c: number): boolean {
  return c === 32 || c === 9;
}

/** A CR or NUL inside a value (a value may hold neither). */
function hasCtl(s: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c === CR || c === 0) return true;
  }
  return false;
}

function hasToken(list: string, token: string): boolean {
  return list.split(",").some((t) => t.trim() === token);
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.byteLength + b.byteLength);
  out.set(a);
  out.set(b, a.byteLength);
  return out;
}

function latin1(b: Uint8Array, from: number, to: number): string {
  return Buffer.from(b.buffer, b.byteOffset + from, to - from).toString("latin1");
}
