/**
 * The one error type of the mock upstream and the one place that turns it
 * into OpenAI's error JSON, so handlers just `throw` and never build error
 * bodies themselves.
 */

export type ErrorType = "invalid_request_error" | "requests" | "tokens" | "server_error";

export class MockError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type: ErrorType = "invalid_request_error",
    readonly code: string | null = null,
    readonly param: string | null = null,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** Shorthand for the commonest case: a 400 about one request parameter. */
export function badParam(param: string, message: string): MockError {
  return new MockError(400, message, "invalid_request_error", null, param);
}

export function jsonResponse(
  body: unknown,
  status = 200,
  headers: Record<string, string> = {},
): Response {
  headers["content-type"] = "application/json";
  return new Response(JSON.stringify(body), { status, headers });
}

/** Any thrown value becomes an OpenAI-shaped error; unknown ones are a 500. */
export function errorResponse(err: unknown): Response {
  const e =
    err instanceof MockError
      ? err
      : new MockError(500, `Mock upstream failed: ${String(err)}`, "server_error");
  const body = { error: { message: e.message, type: e.type, param: e.param, code: e.code } };
  return jsonResponse(body, e.status, { ...e.headers });
}
