/**
 * Sends one request to a provider: waits its turn in the provider's line,
 * fetches with the provider's timeout, and absorbs an upstream 429/5xx or a
 * dropped connection by retrying through the same line (Retry-After honoured,
 * else exponential backoff with jitter). Nothing here has reached the client
 * yet, so a retry is always safe.
 */
import { parseUpstreamLimits } from "../adaptive/upstream-limits.ts";
import { errors, ApiError } from "../errors.ts";
import { log } from "../log.ts";
import { ProtocolError } from "../http1/response-parser.ts";
import { sleep } from "../sleep.ts";
import type { AcquireItem } from "../store/store.ts";
import type { Dispatcher, Permit } from "../limiter/dispatcher.ts";
import type { HeaderLookup } from "../adaptive/upstream-limits.ts";
import { lookup, upstreamHeaders } from "./headers.ts";
import type { UpstreamAnswer } from "./upstream-answer.ts";
import { setProviderRpm, type ProviderRuntime } from "./runtime.ts";

/** A request on its way to a provider. */
export class UpstreamRequest {
  constructor(
    /** The client's request. */
    private readonly client: Request,
    /** Path after /v1, with the query string, e.g. "/chat/completions". */
    readonly path: string,
    readonly body: string,
    readonly items: readonly AcquireItem[],
    /** Fair-queuing identity in the provider's line: the client key, its weight and priority. */
    readonly flow: string | undefined,
    readonly weight: number | undefined,
    readonly priority: number,
  ) {}

  /**
   * Aborts when the client goes away. Read only when needed (waiting in
   * line, an attempt outliving a tick, an error): Bun sets a request's
   * signal up when first asked, and a late asker gets it already aborted.
   */
  get signal(): AbortSignal {
    return this.client.signal;
  }

  /** The client's headers: the upstream's are built from them only once the request's turn has come. */
  get clientHeaders(): Headers {
    return this.client.headers;
  }
}

export interface UpstreamResult {
  readonly answer: UpstreamAnswer;
  /** The line's permit (null for an unlimited provider): release it when the body ends. */
  readonly permit: Permit | null;
  /** Permits of attempts that were answered 429/5xx and retried, to settle as unused. */
  readonly spent: readonly Permit[];
  readonly waitedMs: number;
  /** Time from sending the last attempt to its response headers, ms. */
  readonly latencyMs: number;
}

const MAX_BACKOFF_MS = 60_000;
/** A Retry-After further out than this is not believed. */
const MAX_RETRY_AFTER_MS = 10 * 60_000;

/** Waits for the request's turn in the line (a retry keeps its place at the front). */
export function admit(line: Dispatcher, req: UpstreamRequest, retry: boolean): Promise<Permit> {
  // A first turn asks with the request itself (one object less per waiting request).
  return line.admit(retry ? { items: req.items, signal: req.signal, front: true, flow: req.flow, weight: req.weight, priority: req.priority } : req);
}

/**
 * Sends a request whose first turn in the line (`first`, from admit(); null
 * for an unlimited provider) has come, retrying through the line as needed.
 * The wait for the first turn happens in the caller, so that a waiting
 * request holds no frame of this function.
 */
export async function sendUpstream(p: ProviderRuntime, line: Dispatcher | null, req: UpstreamRequest, first: Permit | null): Promise<UpstreamResult> {
  const rl = p.config.rate_limit;
  const maxRetries = rl.retry_upstream_429 ? rl.max_upstream_retries : 0;
  let spent: Permit[] | null = null;
  let waitedMs = 0;
  for (let attempt = 0; ; attempt++) {
    const permit = attempt === 0 ? first : line ? await admit(line, req, true) : null;
    waitedMs += permit?.waitedMs ?? 0;
    const watched = p.attempts.start(req);
    const sentAt = performance.now();
    let res: UpstreamAnswer;
    try {
      const outgoing = upstreamHeaders(req.clientHeaders, p.config.api_key, p.config.headers);
      res = await p.client.post(req.path, outgoing, req.body, watched);
    } catch (e) {
      permit?.release();
      if (req.signal.aborted) throw errors.clientClosed();
      if (watched.timedOut) throw errors.gatewayTimeout(p.name, p.timeoutMs / 1000);
      if (attempt < maxRetries) {
        if (permit) (spent ??= []).push(permit);
        p.counters.retries++;
        if (await sleep(backoffMs(rl.upstream_retry_backoff_seconds, attempt), req.signal)) throw errors.clientClosed();
        continue;
      }
      const detail = describe(e);
      throw errors.badGateway(p.name, detail, detail !== "connection refused");
    } finally {
      // The timeout covers the wait for response headers. A client that leaves during the body
      // cancels the stream relayed to it (and so the upstream read); an attempt that was old
      // enough to listen for the client aborts its read too.
      p.attempts.end(watched);
    }
    listen(p, res);
    const retryable = res.status === 429 || res.status >= 500;
    if (res.status === 429) p.counters.upstream429++;
    else if (res.status >= 500) p.counters.upstream5xx++;
    if (retryable && attempt < maxRetries) {
      const wait = retryAfterMs(lookup(res.headers)) ?? backoffMs(rl.upstream_retry_backoff_seconds, attempt);
      res.discard();
      permit?.release();
      if (permit) (spent ??= []).push(permit);
      p.counters.retries++;
      if (await sleep(wait, req.signal)) throw errors.clientClosed();
      continue;
    }
    return { answer: res, permit, spent: spent ?? NONE, waitedMs, latencyMs: performance.now() - sentAt };
  }
}

const NONE: readonly Permit[] = [];

/**
 * Acts on what the provider says about its limits: when a dimension is
 * exhausted until T (or a 429/503 says Retry-After), the provider's whole
 * line holds until T instead of sending requests only to be refused.
 */
function listen(p: ProviderRuntime, res: UpstreamAnswer): void {
  const headers = res.headers;
  if (p.adaptive) {
    const now = Date.now();
    if (res.status === 429) p.adaptive.onThrottle(now);
    else if (res.status < 400) p.adaptive.onSuccess(now);
    setProviderRpm(p, p.adaptive.rpm(now));
  }
  if (
    res.status !== 429 &&
    res.status !== 503 &&
    headers["x-ratelimit-remaining-requests"] === undefined &&
    headers["x-ratelimit-remaining-tokens"] === undefined &&
    headers["anthropic-ratelimit-requests-remaining"] === undefined
  ) {
    return;
  }
  const now = Date.now();
  const signal = parseUpstreamLimits(res.status, lookup(headers), now);
  for (const w of signal.warnings) {
    if (p.warned.has(w)) continue;
    p.warned.add(w);
    log.warn(`provider '${p.name}': ignoring a rate-limit header: ${w}`);
  }
  p.upstream = {
    holdUntil: signal.holdUntil,
    reason: signal.reason,
    remainingRequests: signal.limits.requests?.remaining ?? null,
    remainingTokens: signal.limits.tokens?.remaining ?? null,
  };
  if (signal.holdUntil !== null && signal.holdUntil > now) p.hold(signal.holdUntil - now);
}

/** Retry-After as seconds or an HTTP date (and OpenAI's retry-after-ms); null if absent or absurd. */
export function retryAfterMs(h: HeaderLookup, now = Date.now()): number | null {
  const ms = h.get("retry-after-ms");
  if (ms !== null && /^\d+(\.\d+)?$/.test(ms.trim())) return bounded(Number(ms));
  const v = h.get("retry-after")?.trim();
  if (!v) return null;
  if (/^\d+(\.\d+)?$/.test(v)) return bounded(Number(v) * 1000);
  const at = Date.parse(v);
  return Number.isNaN(at) ? null : bounded(at - now);
}

function bounded(ms: number): number | null {
  if (!Number.isFinite(ms) || ms > MAX_RETRY_AFTER_MS) return null;
  return Math.max(0, ms);
}

/** base × 2^attempt, with "equal jitter" (half fixed, half random) so retries spread out. */
export function backoffMs(baseSeconds: number, attempt: number, random = Math.random): number {
  const full = Math.min(MAX_BACKOFF_MS, baseSeconds * 1000 * 2 ** attempt);
  return full / 2 + random() * (full / 2);
}


function describe(e: unknown): string {
  if (e instanceof ApiError) return e.message;
  if (e instanceof ProtocolError) return `malformed answer: ${e.message}`;
  const code = (e as { code?: unknown })?.code;
  if (typeof code === "string") return code === "ConnectionRefused" || code === "ECONNREFUSED" ? "connection refused" : code;
  return e instanceof Error ? e.message : "connection failed";
}
