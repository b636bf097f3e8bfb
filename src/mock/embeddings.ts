/**
 * POST /v1/embeddings: small deterministic vectors (8 floats, unit length,
 * from a hash of the input), as floats or, when asked (the `openai` SDK asks
 * by default), base64 of little-endian float32 like OpenAI.
 * Prompt tokens = ceil(characters of each input / 4), summed, at least 1.
 */
import { estimateTokens, hashText } from "./answer-text.ts";
import { badParam } from "./mock-error.ts";
import { type JsonObject, type Plan, requireModel } from "./request-body.ts";

const DIMENSIONS = 8;

function readInputs(body: JsonObject): string[] {
  const input = body.input;
  if (typeof input === "string") return [input];
  if (Array.isArray(input) && input.length > 0 && input.every((x): x is string => typeof x === "string")) {
    return input;
  }
  throw badParam("input", "Invalid 'input': expected a string or a non-empty array of strings.");
}

export function embedText(text: string): Float32Array {
  const v = new Float32Array(DIMENSIONS);
  let norm = 0;
  for (let i = 0; i < DIMENSIONS; i++) {
    // A different seed per dimension; map the 32-bit hash to [-1, 1).
    const x = hashText(text, 0x811c9dc5 ^ Math.imul(i + 1, 0x9e3779b1)) / 0x80000000 - 1;
    v[i] = x;
    norm += x * x;
  }
  const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
  for (let i = 0; i < DIMENSIONS; i++) v[i] = v[i]! * scale;
  return v;
}

export function planEmbeddings(body: JsonObject, models: ReadonlySet<string>): Plan {
  const model = requireModel(body, models);
  const inputs = readInputs(body);
  const format = body.encoding_format ?? "float";
  if (format !== "float" && format !== "base64") {
    throw badParam("encoding_format", "Invalid 'encoding_format': expected 'float' or 'base64'.");
  }
  let promptTokens = 0;
  for (const s of inputs) promptTokens += estimateTokens(s);
  promptTokens = Math.max(1, promptTokens);

  return {
    promptTokens,
    completionTokens: 0,
    render() {
      const data = inputs.map((s, index) => {
        const v = embedText(s);
        const embedding =
          format === "base64" ? Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("base64") : Array.from(v);
        return { object: "embedding", index, embedding };
      });
      return {
        kind: "json",
        body: { object: "list", data, model, usage: { prompt_tokens: promptTokens, total_tokens: promptTokens } },
      };
    },
  };
}
