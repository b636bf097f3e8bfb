/**
 * An upstream's answer, whichever client brought it: fetch's Response, or the
 * HTTP/1.1 pool's status, header list and body (bytes when short and whole,
 * else a stream). The gateway reads it through this one shape, so the pool's
 * bytes reach the client's Response without a stream in between.
 */
import type { Http1Response } from "../http1/pool.ts";
import { clientHeaders, clientHeadersOf, headerRecord, type HeaderRecord } from "./headers.ts";

export type AnswerBody = Uint8Array<ArrayBuffer> | ReadableStream<Uint8Array> | null;

export class UpstreamAnswer {
  private constructor(
    readonly status: number,
    readonly statusText: string,
    /** Names lowercase; values of repeated names joined, as by Headers.get. */
    readonly headers: HeaderRecord,
    /** fetch's Response (null from the pool). */
    private readonly res: Response | null,
    private readonly raw: AnswerBody,
  ) {}

  static fromFetch(res: Response): UpstreamAnswer {
    return new UpstreamAnswer(res.status, res.statusText, headerRecord(res.headers), res, null);
  }

  static fromPool(r: Http1Response): UpstreamAnswer {
    const headers: HeaderRecord = {};
    for (const [name, value] of r.headers) headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
    return new UpstreamAnswer(r.status, r.statusText, headers, null, r.body);
  }

  get body(): AnswerBody {
    return this.res ? this.res.body : this.raw;
  }

  /** The headers to send the client, with `extra` (our rate-limit headers) added. */
  headersForClient(extra: Record<string, string> | undefined): HeadersInit {
    if (this.res) {
      // fetch decoded the body; its own Headers, filtered in place, are cheapest to hand on.
      const h = clientHeaders(this.res.headers, this.headers);
      if (extra) for (const k in extra) h.set(k, extra[k]!);
      return h;
    }
    const h = clientHeadersOf(this.headers);
    if (extra) for (const k in extra) h[k] = extra[k]!;
    return h;
  }

  /** The whole body. */
  bytes(): Promise<Uint8Array<ArrayBuffer>> {
    if (this.res) return this.res.arrayBuffer().then((b) => new Uint8Array(b));
    const b = this.raw;
    if (b === null) return Promise.resolve(new Uint8Array(0));
    if (b instanceof Uint8Array) return Promise.resolve(b);
    return new Response(b).arrayBuffer().then((buf) => new Uint8Array(buf));
  }

  /** Not wanted (a retry or fallback follows): stop reading it. */
  discard(): void {
    const b = this.body;
    if (b !== null && !(b instanceof Uint8Array)) void b.cancel().catch(() => {});
  }
}
