/**
 * Reads and checks a request body: never more than max_body_bytes read into
 * memory, JSON parsed once, field types checked before anything is spent.
 */
import { errors } from "../errors.ts";

export interface RequestBody {
  /** The client's body as text, forwarded as it is when nothing needs rewriting. */
  readonly raw: string;
  readonly json: Record<string, unknown>;
  readonly model: string;
  readonly stream: boolean;
}

const decoder = new TextDecoder();

/**
 * The body as text (JSON is UTF-8; one string is the least a waiting request
 * can hold, and what JSON.parse reads).
 */
export function readBody(req: Request, maxBytes: number): Promise<string> {
  const declared = req.headers.get("content-length");
  if (declared !== null) {
    if (Number(declared) > maxBytes) return Promise.reject(errors.tooLarge(maxBytes));
    // Read natively, without a JS stream (touching req.body would make one, kept as long as the
    // request waits); HTTP framing holds the body to its declared length. (Not an async
    // function: no extra promise step on the common path.)
    return req.text();
  }
  return readChunked(req, maxBytes);
}

/** Chunked: count as we go and stop reading at the limit. */
async function readChunked(req: Request, maxBytes: number): Promise<string> {
  if (!req.body) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = req.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      void reader.cancel().catch(() => {});
      throw errors.tooLarge(maxBytes);
    }
    chunks.push(value);
  }
  return decoder.decode(Buffer.concat(chunks));
}

const OPTIONAL_COUNTS = ["max_tokens", "max_completion_tokens", "max_output_tokens", "n"] as const;

export function parseBody(raw: string): RequestBody {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw errors.badRequest(
      "We could not parse the JSON body of your request. The body must be a JSON object (Content-Type: application/json).",
    );
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw errors.badRequest("The request body must be a JSON object.");
  }
  const body = json as Record<string, unknown>;
  const model = body.model;
  if (model === undefined || model === null) throw errors.badRequest("You must provide a model parameter.", "model");
  if (typeof model !== "string" || model.length === 0) throw errors.badRequest("'model' must be a non-empty string.", "model");
  if (body.stream !== undefined && body.stream !== null && typeof body.stream !== "boolean") {
    throw errors.badRequest("'stream' must be a boolean.", "stream");
  }
  for (const f of OPTIONAL_COUNTS) {
    const v = body[f];
    if (v !== undefined && v !== null && !(typeof v === "number" && Number.isInteger(v) && v >= 0)) {
      throw errors.badRequest(`'${f}' must be a non-negative integer.`, f);
    }
  }
  const so = body.stream_options;
  if (so !== undefined && so !== null && (typeof so !== "object" || Array.isArray(so))) {
    throw errors.badRequest("'stream_options' must be an object.", "stream_options");
  }
  return { raw, json: body, model, stream: body.stream === true };
}
