/**
 * The one conversion point from ApiError to OpenAI's error JSON, and the
 * JSON response helper. Unknown errors become a plain 500 without details:
 * a stack trace never reaches a client.
 */
import { ApiError } from "../errors.ts";
import { log } from "../log.ts";

const JSON_HEADERS = { "content-type": "application/json" };

export function json(body: unknown, status = 200, headers?: Record<string, string>): Response {
  return new Response(JSON.stringify(body), { status, headers: headers ? { ...JSON_HEADERS, ...headers } : JSON_HEADERS });
}

export function errorResponse(err: unknown, extraHeaders?: Record<string, string>): Response {
  if (!(err instanceof ApiError)) log.error(`internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  const e =
    err instanceof ApiError
      ? err
      : new ApiError("The gateway hit an internal error.", { status: 500, type: "server_error", code: "internal_error" });
  const headers: Record<string, string> = { ...extraHeaders, ...e.headers };
  if (e.retryAfterS !== undefined) headers["retry-after"] = String(e.retryAfterS);
  return json({ error: { message: e.message, type: e.type, param: e.param, code: e.code } }, e.status, headers);
}
