/**
 * The path of a routed request, top to bottom:
 * who → body → route → cost → key budget → provider line + upstream → relay, settle.
 */
import { type Cost } from "../core/policy.ts";
import type { RouteConfig } from "../config/schema.ts";
import { ApiError, errors } from "../errors.ts";
import { Reservation, SENT_NOTHING_USED } from "../limiter/reservation.ts";
import { requireToken } from "./auth.ts";
import { countOutput, endpointOf, REQUEST_ONLY, requestCost, type Endpoint } from "./cost.ts";
import { admitKey, checkModelAllowed, keyItems, type KeyRuntime } from "./keys.ts";
import { rateLimitHeaders } from "./ratelimit-headers.ts";
import { parseBody, readBody, type RequestBody } from "./read-body.ts";
import { relayBody } from "./relay.ts";
import { errorResponse } from "./respond.ts";
import { lineOf, type ProviderRuntime, type Runtime } from "./runtime.ts";
import { admit, sendUpstream, UpstreamRequest, type UpstreamResult } from "./upstream.ts";
import type { Permit } from "../limiter/dispatcher.ts";
import type { AcquireItem, LimiterRef } from "../store/store.ts";
import { UsageTap } from "./usage.ts";

/**
 * Answers a proxied request; never rejects (errors become OpenAI-shaped
 * answers here). While a request waits in a line, this is its one suspended
 * frame: what comes after the wait lives in functions called after it.
 */
export async function proxy(rt: Runtime, req: Request, path: string, search: string): Promise<Response> {
  rt.received++;
  // Who the request turned out to concern, for counting its outcome.
  let key: KeyRuntime | null = null;
  let seenProvider: ProviderRuntime | null = null;
  let res: Response;
  try {
    // Who: a configured client key, or else the optional shared token.
    key = rt.keys.identify(req);
    if (!key) requireToken(req, rt.config.server.auth_token);
    const prep = await prepare(rt, req, path, key);
    const { cost, candidates, model } = prep;

    // Key budget: 429 (or a wait, in queue mode) before anything else is spent.
    const reservation = new Reservation(rt.store);
    let limitHeaders: Record<string, string> | undefined;
    if (key) {
      const charge = await admitKey(rt.store, key, keyItems(key, prep.requested, prep.routed.name, model), cost, req.signal);
      if (charge) {
        for (let i = 0; i < charge.refs.length; i++) reservation.hold(charge.refs[i]!, charge.tickets[i]!, cost);
        limitHeaders = rateLimitHeaders(charge.status);
      }
    }
    // The key's own cap on requests served at once (and waiting): held until the answer ends.
    let releaseKeySlot = NOTHING;
    if (key?.slots) {
      try {
        releaseKeySlot = await key.slots.take(req.signal);
      } catch (e) {
        reservation.giveBack();
        throw limitHeaders && e instanceof ApiError ? e.withHeaders(limitHeaders) : e;
      }
    }

    // Provider: wait in its line, send, retry 429/5xx through the same line; with a routing
    // policy, fall back to the next provider when one answers 5xx or would make it wait too long.
    let sent: UpstreamResult | null = null;
    let provider = candidates[0]!;
    let modelLine = lineOf(provider, model);
    for (let i = 0; i < candidates.length; i++) {
      const p = candidates[i]!;
      const last = i === candidates.length - 1;
      provider = seenProvider = p;
      modelLine = lineOf(p, model);
      p.counters.requests++;
      const up = new UpstreamRequest(req, path.slice("/v1".length) + search, prep.outgoing, itemsOf(modelLine.refs, cost), key?.label, key?.weight, key ? priorityOf(key, req) : 0);
      try {
        const line = modelLine.line;
        sent = await sendUpstream(p, line, up, line ? await admit(line, up, false) : null);
      } catch (e) {
        if (!last && e instanceof ApiError && FALLBACK_CODES.has(e.code ?? "") && !req.signal.aborted) {
          count(key, p, e.status);
          continue;
        }
        // Never sent (line timeout, shutdown, client gone while waiting) → all back; sent but failed → tokens back.
        if (e instanceof ApiError && e.wasSent) reservation.settle(SENT_NOTHING_USED);
        else reservation.giveBack();
        releaseKeySlot();
        throw limitHeaders && e instanceof ApiError ? e.withHeaders(limitHeaders) : e;
      }
      settleSpent(rt, sent.spent);
      if (!last && sent.answer.status >= 500) {
        sent.answer.discard();
        sent.permit?.release();
        if (sent.permit) settleSpent(rt, [sent.permit]);
        count(key, p, sent.answer.status);
        continue;
      }
      break;
    }
    if (!sent) {
      releaseKeySlot();
      throw errors.badGateway(provider.name, "no provider answered", false);
    }
    const answered = answer(rt, req, prep, provider, modelLine.countsTokens, sent, reservation, limitHeaders, releaseKeySlot);
    res = answered instanceof Response ? answered : await answered; // no promise step for a body handed over as is
  } catch (e) {
    res = errorResponse(e);
  }
  count(key, seenProvider, res.status);
  return res;
}

function count(key: KeyRuntime | null, provider: ProviderRuntime | null, status: number): void {
  if (provider) provider.counters.byStatus[status] = (provider.counters.byStatus[status] ?? 0) + 1;
  if (key) key.counters.byStatus[status] = (key.counters.byStatus[status] ?? 0) + 1;
}

/** What the rest of the path needs from the body. The parsed body itself is dropped here, so waiting requests stay small. */
interface Prepared {
  readonly key: KeyRuntime | null;
  readonly requested: string;
  readonly routed: ProviderRuntime;
  readonly model: string;
  readonly candidates: readonly ProviderRuntime[];
  readonly endpoint: Endpoint;
  readonly metered: boolean;
  readonly cost: Cost;
  readonly askUsage: boolean;
  readonly outgoing: string;
}

async function prepare(rt: Runtime, req: Request, path: string, key: KeyRuntime | null): Promise<Prepared> {
  const { server, defaults } = rt.config;

  const body = parseBody(await readBody(req, server.max_body_bytes));
  const route = rt.router.resolve(body.model);
  if (key) checkModelAllowed(key, body.model, route.provider.name, route.upstreamModel);
  const model = route.upstreamModel;
  const found = candidatesFor(rt, route.provider, model, route.rewritten);
  const candidates = found instanceof Promise ? await found : found; // no await (a microtask) without a routing policy

  // Cost: tokens are counted only when some limit on this path counts them.
  const endpoint = endpointOf(path);
  const metered = (key?.countsTokens ?? false) || candidates.some((p) => lineOf(p, model).countsTokens);
  const cost = metered ? rt.prices.priced(model, await requestCost(endpoint, body.json, model, defaults.default_output_tokens)) : REQUEST_ONLY;
  const askUsage = metered && body.stream && (endpoint === "chat" || endpoint === "completions") && !clientAskedUsage(body);
  const outgoing = outgoingBody(body, route.rewritten ? model : null, askUsage);
  return { key, requested: body.model, routed: route.provider, model, candidates, endpoint, metered, cost, askUsage, outgoing };
}

const NOTHING = (): void => {};

/** (A loop, not a closure: nothing of proxy()'s frame is captured while it waits.) */
function itemsOf(refs: readonly LimiterRef[], cost: Cost): AcquireItem[] {
  const items: AcquireItem[] = [];
  for (const ref of refs) items.push({ ref, cost });
  return items;
}

/** Relays the upstream's answer to the client; when it ends, frees the slots and settles real usage. */
function answer(
  rt: Runtime,
  req: Request,
  prep: Prepared,
  provider: ProviderRuntime,
  lineCountsTokens: boolean,
  sent: UpstreamResult,
  reservation: Reservation,
  limitHeaders: Record<string, string> | undefined,
  releaseKeySlot: () => void,
): Response | Promise<Response> {
  const { key, model, cost, endpoint, metered, askUsage } = prep;
  provider.counters.queueWait.record(sent.waitedMs);
  key?.counters.queueWait.record(sent.waitedMs);
  provider.counters.upstreamLatency.record(sent.latencyMs);
  const permit = sent.permit;
  if (permit && lineCountsTokens) permit.items.forEach((it, i) => reservation.hold(it.ref, permit.tickets[i]!, it.cost));

  const res = sent.answer;
  const init = { status: res.status, statusText: res.statusText, headers: res.headersForClient(limitHeaders) };
  const isSse = (res.headers["content-type"] ?? "").includes("text/event-stream");
  const tap = metered ? new UsageTap(isSse, askUsage && isSse) : null;

  // Nothing waits for the end of this answer: hand the upstream body over untouched (fastest).
  // A whole (JSON) answer from a line that does not cap requests in flight counts as ended
  // once its headers are in: its body follows at once, and no other request waits for it.
  // Unmetered charges (requests only) are settled once sent: there is nothing left to correct.
  if (!tap && !key?.slots && (!permit || (!permit.capped && !isSse))) {
    permit?.release();
    reservation.settle(REQUEST_ONLY);
    return new Response(res.body, init);
  }

  const settle = (actual: Cost) => {
    reservation.settle(actual);
    provider.counters.tokensIn += actual.input_tokens;
    provider.counters.tokensOut += actual.output_tokens;
    for (const c of key ? [key.counters, ...(key.group ? [key.group.counters] : [])] : []) {
      c.tokensIn += actual.input_tokens;
      c.tokensOut += actual.output_tokens;
      c.spendUsd += actual.usd ?? 0;
    }
  };
  const finish = () => {
    permit?.release();
    releaseKeySlot();
    if (!tap) return reservation.settle(REQUEST_ONLY);
    void actualCost(tap, res.status, endpoint, cost, model).then(
      (actual) => settle(rt.prices.priced(model, actual)),
      () => settle(cost),
    );
  };

  // (fetch makes a body stream when asked: ask only for a stream.)
  const body = isSse ? res.body : null;
  if (!isSse || body instanceof Uint8Array) {
    // A whole answer (JSON, or a short stream already read whole): settle, answer with the bytes;
    // cheaper than a JS stream.
    return res.bytes().then(
      (bytes) => {
        const out = tap ? whole(tap, bytes) : bytes;
        finish();
        return new Response(out, init);
      },
      () => {
        permit?.release();
        releaseKeySlot();
        reservation.settle(SENT_NOTHING_USED);
        throw req.signal.aborted ? errors.clientClosed() : errors.badGateway(provider.name, "the answer broke off", true);
      },
    );
  }

  // A stream: passed on chunk by chunk, never buffered whole.
  const stream = relayBody(body, { transform: tap?.transform, flush: tap ? () => tap.flush() : undefined, onEnd: finish });
  return new Response(stream, init);
}

/** A whole body through the tap: what it passes on (a stream's hidden usage chunk left out). */
function whole(tap: UsageTap, bytes: Uint8Array<ArrayBuffer>): Uint8Array<ArrayBuffer> {
  const out = tap.transform(bytes);
  const rest = tap.flush();
  if (!rest || rest.byteLength === 0) return (out ?? new Uint8Array(0)) as Uint8Array<ArrayBuffer>;
  return Buffer.concat([out ?? new Uint8Array(0), rest]) as Uint8Array<ArrayBuffer>;
}

/** Errors after which a routing policy tries the next provider. */
const FALLBACK_CODES = new Set(["rate_limit_queue_timeout", "upstream_unreachable", "upstream_timeout", "request_exceeds_limit"]);

/** Attempts that reached the upstream but were not used (429/5xx, fallback): one request, no tokens. */
function settleSpent(rt: Runtime, permits: readonly Permit[]): void {
  for (const spent of permits) {
    const r = new Reservation(rt.store);
    spent.items.forEach((it, i) => r.hold(it.ref, spent.tickets[i]!, it.cost));
    r.settle(SENT_NOTHING_USED);
  }
}

/**
 * The providers to try, in order. Without a routing policy (or when the client
 * forced one with provider/model): the routed provider alone. With
 * `earliest_slot`: the listed providers by how soon each could send.
 */
function candidatesFor(rt: Runtime, routed: ProviderRuntime, model: string, forced: boolean): readonly ProviderRuntime[] | Promise<readonly ProviderRuntime[]> {
  const policy = forced ? undefined : rt.config.routing?.[model];
  if (!policy) return alone(routed);
  return byRouting(rt, policy, model);
}

/** The providers of a routing policy, by how soon each could send when it says earliest_slot. */
async function byRouting(rt: Runtime, policy: RouteConfig, model: string): Promise<readonly ProviderRuntime[]> {
  const listed = policy.providers.flatMap((n) => rt.providers.filter((p) => p.name === n));
  if (policy.strategy !== "earliest_slot" || listed.length < 2) return listed;
  const probe = { requests: 1, input_tokens: 0, output_tokens: 0 };
  const waits = await Promise.all(
    listed.map(async (p) => {
      const l = lineOf(p, model);
      if (!l.line) return 0;
      const h = p.counters.upstreamLatency.snapshot();
      const typical = h.count > 0 ? h.sum / h.count : 1000;
      return l.line.expectedWaitMs(l.refs.map((ref) => ({ ref, cost: probe })), typical).catch(() => Infinity);
    }),
  );
  // Stable: ties keep the listed order.
  return listed.map((p, i) => ({ p, w: waits[i]!, i })).sort((a, b) => a.w - b.w || a.i - b.i).map((x) => x.p);
}

const alones = new WeakMap<ProviderRuntime, readonly ProviderRuntime[]>();

/** [p], one array per provider rather than one per request. */
function alone(p: ProviderRuntime): readonly ProviderRuntime[] {
  let a = alones.get(p);
  if (a === undefined) alones.set(p, (a = [p]));
  return a;
}

/** The key's priority, or lower when it may say so per request (x-limitrate-priority); never higher. */
function priorityOf(key: KeyRuntime, req: Request): number {
  if (!key.allowPriorityHeader) return key.priority;
  const asked = Number(req.headers.get("x-limitrate-priority") ?? Number.NaN);
  return Number.isInteger(asked) ? Math.min(asked, key.priority) : key.priority;
}

function clientAskedUsage(body: RequestBody): boolean {
  const so = body.json.stream_options;
  return typeof so === "object" && so !== null && (so as Record<string, unknown>).include_usage === true;
}

/** The client's bytes as they are, unless the model name or stream_options must change. */
function outgoingBody(body: RequestBody, model: string | null, askUsage: boolean): string {
  if (model === null && !askUsage) return body.raw;
  const json: Record<string, unknown> = { ...body.json };
  if (model !== null) json.model = model;
  if (askUsage) {
    const so = typeof json.stream_options === "object" && json.stream_options !== null ? json.stream_options : {};
    json.stream_options = { ...so, include_usage: true };
  }
  return JSON.stringify(json);
}

/** What the request really cost: the upstream's usage, else what can be counted. */
async function actualCost(tap: UsageTap, status: number, endpoint: Endpoint, reserved: Cost, model: string): Promise<Cost> {
  const usage = tap.result();
  if (usage) return { requests: 1, input_tokens: usage.input, output_tokens: usage.output };
  if (status >= 400) return SENT_NOTHING_USED;
  const output = endpoint === "embeddings" ? 0 : await countOutput(tap.streamedText(), model);
  return { requests: 1, input_tokens: reserved.input_tokens, output_tokens: output };
}
