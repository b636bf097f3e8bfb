/**
 * Reading and checking request bodies, with the same errors OpenAI gives, and
 * the Plan every endpoint returns: its token cost first (so limits can be
 * checked before any answer is built), its answer on demand.
 */
import { MockError, badParam } from "./mock-error.ts";

export type JsonObject = Record<string, unknown>;

export type Payload =
  | { kind: "json"; body: unknown }
  /** `events` are complete SSE frames, sent in order. */
  | { kind: "sse"; events: string[] };

export interface RenderMeta {
  /** Unique suffix for ids (`chatcmpl-<seq>`). */
  seq: string;
  /** Unix seconds, from the mock's clock. */
  created: number;
}

export interface Plan {
  promptTokens: number;
  completionTokens: number;
  render(meta: RenderMeta): Payload;
}

export type Planner = (body: JsonObject, models: ReadonlySet<string>) => Plan;

export function isObject(v: unknown): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export async function readJsonObject(req: Request): Promise<JsonObject> {
  const text = await req.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new MockError(
      400,
      "We could not parse the JSON body of your request. The body must be valid JSON.",
    );
  }
  if (!isObject(body)) throw new MockError(400, "The request body must be a JSON object.");
  return body;
}

export function requireModel(body: JsonObject, models: ReadonlySet<string>): string {
  const model = body.model;
  if (typeof model !== "string" || model === "") {
    throw badParam("model", "you must provide a model parameter");
  }
  if (!models.has(model)) {
    throw new MockError(
      404,
      `The model \`${model}\` does not exist or you do not have access to it.`,
      "invalid_request_error",
      "model_not_found",
      "model",
    );
  }
  return model;
}

/** The first of `names` present (not null) must be a positive integer. */
export function optionalMaxTokens(body: JsonObject, ...names: string[]): number | undefined {
  for (const name of names) {
    const v = body[name];
    if (v === undefined || v === null) continue;
    if (typeof v !== "number" || !Number.isInteger(v) || v < 1) {
      throw badParam(name, `Invalid '${name}': expected an integer of at least 1.`);
    }
    return v;
  }
  return undefined;
}

export function wantsStream(body: JsonObject): boolean {
  const v = body.stream;
  if (v === undefined || v === null) return false;
  if (typeof v !== "boolean") throw badParam("stream", "Invalid 'stream': expected a boolean.");
  return v;
}

export function wantsStreamUsage(body: JsonObject): boolean {
  const opts = body.stream_options;
  return isObject(opts) && opts.include_usage === true;
}

/** Text of a message `content`: a string, or parts with `text` (text / input_text). */
export function contentText(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  let out = "";
  for (const part of content) {
    if (isObject(part) && typeof part.text === "string") out += out ? ` ${part.text}` : part.text;
  }
  return out;
}
