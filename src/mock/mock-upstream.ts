/**
 * A fake OpenAI-compatible provider: the built-in upstream of `limitrate
 * serve` without config, the upstream of tests and benchmarks, and
 * `limitrate mock-upstream`. `createMockUpstream` is a plain
 * fetch(Request) → Response function (testable without a socket);
 * `startMockUpstream` puts it on a port.
 *
 * A request goes: route → auth → body checks → own limits (429) → count →
 * wait `latencyMs` → answer. Control routes live under /mock (outside /v1, so
 * they never clash with routed paths) and are not counted.
 */
import { planChat } from "./chat-completions.ts";
import { type MockCounts, CountsRecorder } from "./counts.ts";
import { planEmbeddings } from "./embeddings.ts";
import { planCompletion } from "./legacy-completions.ts";
import { MockError, errorResponse, jsonResponse } from "./mock-error.ts";
import { buildModelList } from "./models.ts";
import { OwnLimits } from "./own-limits.ts";
import { type Planner, readJsonObject } from "./request-body.ts";
import { planResponse } from "./responses-api.ts";
import { SSE_HEADERS, pacedEvents } from "./sse.ts";

export type { MockCounts } from "./counts.ts";

export interface MockUpstreamOptions {
  /** Wait before answering, ms (default 0); for streams, time to the first chunk. */
  latencyMs?: number;
  /** Wait between stream chunks, ms (default 20 when latencyMs > 0, else 0). */
  chunkDelayMs?: number;
  /** Own limit: requests per sliding 60 s window; over → 429. Default: none. */
  rpm?: number;
  /** Own limit: prompt + completion tokens per sliding 60 s window. Default: none. */
  tpm?: number;
  /** Models served (default ["gpt-4o-mini", "gpt-4o"]); any other → 404 model_not_found. */
  models?: string[];
  /** If set, `Authorization: Bearer <apiKey>` is required, else 401. */
  apiKey?: string;
  /** Clock in ms (default Date.now); drives limit windows, `created` and counts. */
  now?: () => number;
}

export interface MockUpstream {
  fetch(req: Request): Promise<Response>;
  counts(): MockCounts;
  /** Clears counts and the own-limit windows. */
  reset(): void;
}

export interface RunningMock extends MockUpstream {
  /** Base URL for an OpenAI client, e.g. http://127.0.0.1:PORT/v1 */
  url: string;
  port: number;
  stop(): Promise<void>;
}

export const DEFAULT_MODELS: readonly string[] = ["gpt-4o-mini", "gpt-4o"];

/** POST endpoints, one planner each: body → token cost + answer. */
const PLANNERS: Record<string, Planner> = {
  "/v1/chat/completions": planChat,
  "/v1/completions": planCompletion,
  "/v1/embeddings": planEmbeddings,
  "/v1/responses": planResponse,
};

/** How a request leaves the in-flight count: at once, or when its stream body ends. */
interface Track {
  streaming: boolean;
  end: () => void;
}

/** Path of a request URL without building a URL object (hot path). */
function pathOf(url: string): string {
  const scheme = url.indexOf("://");
  const start = url.indexOf("/", scheme === -1 ? 0 : scheme + 3);
  if (start === -1) return "/";
  let end = url.indexOf("?", start);
  if (end === -1) end = url.indexOf("#", start);
  return end === -1 ? url.slice(start) : url.slice(start, end);
}

/** A malformed %-escape is just an unknown model name, not a server error. */
function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function methodNotAllowed(method: string, path: string, allow: string): MockError {
  return new MockError(405, `Method ${method} is not allowed on ${path}; use ${allow}.`, "invalid_request_error",
    "method_not_allowed", null, { allow });
}

function checkPositive(name: string, v: number | undefined, allowZero: boolean): void {
  if (v === undefined) return;
  if (!Number.isFinite(v) || v < 0 || (!allowZero && v === 0)) {
    throw new RangeError(`mock upstream: ${name} must be ${allowZero ? ">= 0" : "> 0"}, got ${v}`);
  }
}

export function createMockUpstream(opts: MockUpstreamOptions = {}): MockUpstream {
  checkPositive("latencyMs", opts.latencyMs, true);
  checkPositive("chunkDelayMs", opts.chunkDelayMs, true);
  checkPositive("rpm", opts.rpm, false);
  checkPositive("tpm", opts.tpm, false);
  const now = opts.now ?? Date.now;
  const latencyMs = opts.latencyMs ?? 0;
  const chunkDelayMs = opts.chunkDelayMs ?? (latencyMs > 0 ? 20 : 0);
  const modelIds = opts.models ?? DEFAULT_MODELS;
  const models: ReadonlySet<string> = new Set(modelIds);
  const expectedAuth = opts.apiKey === undefined ? null : `Bearer ${opts.apiKey}`;
  const limits = new OwnLimits({ rpm: opts.rpm, tpm: opts.tpm });
  const recorder = new CountsRecorder();
  const modelList = buildModelList(modelIds, Math.floor(now() / 1000));
  let seq = 0;

  function checkAuth(req: Request): void {
    if (expectedAuth === null || req.headers.get("authorization") === expectedAuth) return;
    throw new MockError(401, "Incorrect API key provided.", "invalid_request_error", "invalid_api_key");
  }

  /** Answers one /v1 request; a stream body takes over `track.end` and sets `track.streaming`. */
  async function answer(req: Request, path: string, t: number, track: Track): Promise<Response> {
    if (path === "/v1/models" || path.startsWith("/v1/models/")) {
      if (req.method !== "GET") throw methodNotAllowed(req.method, path, "GET");
      checkAuth(req);
      if (path === "/v1/models") return jsonResponse(modelList);
      const raw = path.slice("/v1/models/".length);
      const id = safeDecode(raw);
      const model = modelList.data.find((m) => m.id === id);
      if (!model) throw new MockError(404, `The model '${id}' does not exist`, "invalid_request_error", "model_not_found", "model");
      return jsonResponse(model);
    }
    const planner = PLANNERS[path];
    if (!planner) throw new MockError(404, `Invalid URL (${req.method} ${path})`);
    if (req.method !== "POST") throw methodNotAllowed(req.method, path, "POST");
    checkAuth(req);
    const plan = planner(await readJsonObject(req), models);

    let headers: Record<string, string> = {};
    if (limits.active) {
      const admission = limits.admit(plan.promptTokens + plan.completionTokens, t);
      if (!admission.ok) {
        throw new MockError(429, admission.message, admission.type, "rate_limit_exceeded", null, admission.headers);
      }
      headers = admission.headers;
    }
    recorder.usage(plan.promptTokens, plan.completionTokens);
    const id = (++seq).toString(36);
    headers["x-request-id"] = `req_mock${id}`;
    const payload = plan.render({ seq: `mock${id}`, created: Math.floor(t / 1000) });
    if (payload.kind === "sse") {
      track.streaming = true;
      const body = pacedEvents(payload.events, latencyMs, chunkDelayMs, track.end);
      return new Response(body, { status: 200, headers: { ...SSE_HEADERS, ...headers } });
    }
    if (latencyMs > 0) await Bun.sleep(latencyMs);
    return jsonResponse(payload.body, 200, headers);
  }

  function control(req: Request, path: string): Response {
    if (path === "/mock/counts") {
      if (req.method !== "GET") return errorResponse(methodNotAllowed(req.method, path, "GET"));
      return jsonResponse(recorder.snapshot());
    }
    if (path === "/mock/reset") {
      if (req.method !== "POST") return errorResponse(methodNotAllowed(req.method, path, "POST"));
      reset();
      return jsonResponse({ status: "reset" });
    }
    return errorResponse(new MockError(404, `Invalid URL (${req.method} ${path})`));
  }

  function reset(): void {
    recorder.reset();
    limits.reset();
  }

  async function fetch(req: Request): Promise<Response> {
    const path = pathOf(req.url);
    if (path.startsWith("/mock/")) return control(req, path);
    const t = now();
    recorder.begin(path, t);
    const track: Track = { streaming: false, end: () => recorder.end() };
    let res: Response;
    try {
      res = await answer(req, path, t, track);
    } catch (err) {
      res = errorResponse(err);
    }
    recorder.answered(res.status, t);
    // A stream stays in flight until its body ends or the client leaves.
    if (!track.streaming) recorder.end();
    return res;
  }

  return { fetch, counts: () => recorder.snapshot(), reset };
}

export function startMockUpstream(opts: MockUpstreamOptions & { port?: number; host?: string } = {}): RunningMock {
  const mock = createMockUpstream(opts);
  const host = opts.host ?? "127.0.0.1";
  const server = Bun.serve({
    hostname: host,
    port: opts.port ?? 0,
    idleTimeout: 0, // slow streams (big latency or chunk delays) must not be cut off
    fetch: (req) => mock.fetch(req),
    error: (err) => errorResponse(err),
  });
  const port = server.port ?? 0;
  // A wildcard bind address is not something a client can dial: point it at loopback.
  const dialHost = host === "0.0.0.0" ? "127.0.0.1" : host === "::" ? "[::1]" : host.includes(":") ? `[${host}]` : host;
  return {
    ...mock,
    url: `http://${dialHost}:${port}/v1`,
    port,
    stop: async () => {
      await server.stop(true);
    },
  };
}
