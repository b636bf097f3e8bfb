/**
 * The one error type of the gateway. Everything that ends a request early
 * throws an ApiError; `toResponse` (in gateway/respond.ts) is the one place that
 * turns it into OpenAI's error JSON.
 */
export type ErrorType =
  | "invalid_request_error"
  | "authentication_error"
  | "permission_error"
  | "not_found_error"
  | "rate_limit_error"
  /** OpenAI's 429 types: which kind of limit was hit. */
  | "requests"
  | "tokens"
  | "insufficient_quota"
  | "server_error"
  | "upstream_error"
  | "timeout_error";

export interface ApiErrorInit {
  readonly status: number;
  readonly type: ErrorType;
  readonly code: string | null;
  readonly param?: string | null;
  /** Seconds; sent as Retry-After. */
  readonly retryAfterS?: number;
  readonly headers?: Record<string, string>;
  /** The request reached the upstream before failing (its budget stays spent). */
  readonly wasSent?: boolean;
}

export class ApiError extends Error {
  readonly status: number;
  readonly type: ErrorType;
  readonly code: string | null;
  readonly param: string | null;
  readonly retryAfterS: number | undefined;
  readonly headers: Record<string, string> | undefined;
  readonly wasSent: boolean;
  private readonly init: ApiErrorInit;

  constructor(message: string, init: ApiErrorInit) {
    super(message);
    this.name = "ApiError";
    this.status = init.status;
    this.type = init.type;
    this.code = init.code;
    this.param = init.param ?? null;
    this.retryAfterS = init.retryAfterS;
    this.headers = init.headers;
    this.wasSent = init.wasSent ?? false;
    this.init = init;
  }

  /** The same error with more response headers (e.g. the key's rate-limit headers). */
  withHeaders(headers: Record<string, string>): ApiError {
    return new ApiError(this.message, { ...this.init, headers: { ...headers, ...this.headers } });
  }
}

/** Retry-After in whole seconds, at least 1, from a wait in ms. */
export function retryAfterSeconds(waitMs: number): number {
  return Math.max(1, Math.ceil(waitMs / 1000));
}

export const errors = {
  badRequest: (message: string, param: string | null = null) =>
    new ApiError(message, { status: 400, type: "invalid_request_error", code: null, param }),
  unauthorized: (message = "Invalid or missing API key. Pass it as 'Authorization: Bearer <key>'.") =>
    new ApiError(message, { status: 401, type: "invalid_request_error", code: "invalid_api_key" }),
  forbidden: (message: string) =>
    new ApiError(message, { status: 403, type: "permission_error", code: "model_not_allowed" }),
  notFound: (message: string) => new ApiError(message, { status: 404, type: "invalid_request_error", code: "not_found" }),
  modelNotFound: (model: string) =>
    new ApiError(`The model '${model}' does not exist or is not served by any configured provider.`, {
      status: 404,
      type: "invalid_request_error",
      code: "model_not_found",
      param: "model",
    }),
  methodNotAllowed: (method: string, path: string) =>
    new ApiError(`Method ${method} is not allowed on ${path}.`, {
      status: 405,
      type: "invalid_request_error",
      code: "method_not_allowed",
    }),
  tooLarge: (limit: number) =>
    new ApiError(`Request body is larger than the limit of ${limit} bytes.`, {
      status: 413,
      type: "invalid_request_error",
      code: "request_too_large",
    }),
  queueTimeout: (subject: string, waitMs: number, why: string) =>
    new ApiError(
      `The rate limit of ${subject} is reached: ${why}. Retry after ${retryAfterSeconds(waitMs)} s.`,
      { status: 503, type: "rate_limit_error", code: "rate_limit_queue_timeout", retryAfterS: retryAfterSeconds(waitMs) },
    ),
  /** A client key over its limit (reject mode). */
  rateLimited: (message: string, kind: "requests" | "tokens", waitMs: number, headers: Record<string, string>) =>
    new ApiError(message, {
      status: 429,
      type: kind,
      code: "rate_limit_exceeded",
      retryAfterS: retryAfterSeconds(waitMs),
      headers,
    }),
  /** A key's or group's money budget is spent (until the window frees it). */
  budgetExceeded: (message: string, waitMs: number, headers: Record<string, string>) =>
    new ApiError(message, {
      status: 429,
      type: "insufficient_quota",
      code: "budget_exceeded",
      retryAfterS: retryAfterSeconds(waitMs),
      headers,
    }),
  /** The request alone is larger than a per-period limit: waiting would never help. */
  neverFits: (subject: string, dims: readonly string[], headers?: Record<string, string>) =>
    new ApiError(
      `This request can never be admitted: it alone needs more than the whole ${dims.join(", ")} limit of ${subject} allows per period. Reduce its size or max_tokens.`,
      { status: 429, type: "rate_limit_error", code: "request_exceeds_limit", headers },
    ),
  storeUnavailable: () =>
    new ApiError("The rate-limit store is unavailable; retry shortly.", {
      status: 503,
      type: "server_error",
      code: "store_unavailable",
      retryAfterS: 1,
    }),
  providerRemoved: (provider: string) =>
    new ApiError(`Provider '${provider}' was removed from the configuration while this request waited.`, {
      status: 503,
      type: "server_error",
      code: "provider_removed",
      retryAfterS: 1,
    }),
  shuttingDown: () =>
    new ApiError("The gateway is shutting down; retry on another instance.", {
      status: 503,
      type: "server_error",
      code: "shutting_down",
      retryAfterS: 1,
    }),
  badGateway: (provider: string, detail: string, wasSent: boolean) =>
    new ApiError(`Upstream provider '${provider}' is unreachable: ${detail}`, {
      status: 502,
      type: "upstream_error",
      code: "upstream_unreachable",
      wasSent,
    }),
  gatewayTimeout: (provider: string, seconds: number) =>
    new ApiError(`Upstream provider '${provider}' did not answer within ${seconds} s.`, {
      status: 504,
      type: "timeout_error",
      code: "upstream_timeout",
      wasSent: true,
    }),
  /** The client went away; nobody reads this answer, but it ends the request cleanly. */
  clientClosed: () => new ApiError("Client closed the request.", { status: 499, type: "invalid_request_error", code: "client_closed" }),
};
