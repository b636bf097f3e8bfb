/**
 * Sends one chat request and times it: to the last byte of the answer, and
 * for streams to the first SSE `data:` chunk. The body is always read to the
 * end, so the connection goes back to the pool.
 */

export interface Sent {
  /** HTTP status, 0 when no response came. */
  readonly status: number;
  readonly error?: string;
  /** Clock time of the last byte (or of the failure). */
  readonly endAt: number;
  /** Streams: clock time of the first chunk carrying `data:`. */
  readonly firstDataAt?: number;
}

export interface SendSpec {
  readonly url: string;
  readonly body: string;
  readonly apiKey: string | null;
  readonly stream: boolean;
  readonly timeoutMs: number;
  /** Aborts when the run is cut off. */
  readonly signal: AbortSignal;
  readonly now: () => number;
  readonly fetch: typeof fetch;
}

const decoder = new TextDecoder();

export async function sendOne(s: SendSpec): Promise<Sent> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (s.apiKey !== null) headers.authorization = `Bearer ${s.apiKey}`;
  const signal = AbortSignal.any([s.signal, AbortSignal.timeout(s.timeoutMs)]);
  let status = 0;
  try {
    const res = await s.fetch(s.url, { method: "POST", headers, body: s.body, signal });
    status = res.status;
    let firstDataAt: number | undefined;
    if (s.stream && res.ok && res.body) {
      firstDataAt = await readStream(res.body, s.now);
    } else {
      await res.arrayBuffer();
    }
    return { status, endAt: s.now(), firstDataAt };
  } catch (e) {
    // A status already received means the body broke off: still a failure.
    return { status: 0, error: errorKind(e, s.signal, status), endAt: s.now() };
  }
}

/** Reads a stream to its end; returns when the first `data:` arrived. */
async function readStream(body: ReadableStream<Uint8Array>, now: () => number): Promise<number | undefined> {
  let firstDataAt: number | undefined;
  let carry = "";
  const reader = body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return firstDataAt;
    if (firstDataAt === undefined && value) {
      const t = now();
      // "data:" may straddle two chunks: keep the tail of the last one.
      const text = carry + decoder.decode(value, { stream: true });
      if (text.includes("data:")) firstDataAt = t;
      else carry = text.slice(-5);
    }
  }
}

/** A short, stable name for why no answer came. */
export function errorKind(e: unknown, runSignal: AbortSignal, status = 0): string {
  if (runSignal.aborted) return "cut_off";
  const err = e as { name?: string; code?: string; message?: string };
  if (err?.name === "TimeoutError") return "timeout";
  if (status !== 0) return "body_broken";
  const code = String(err?.code ?? "");
  if (/ConnectionRefused|ECONNREFUSED/i.test(code)) return "connection_refused";
  if (/ConnectionClosed|ECONNRESET|socket/i.test(code)) return "connection_reset";
  if (code) return code.toLowerCase();
  return (err?.name ?? "error").toLowerCase();
}
