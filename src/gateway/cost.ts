/**
 * What a request may cost, decided before it is admitted: one request, its
 * input tokens counted from the body, and its output reserved at the most it
 * may produce (max_completion_tokens / max_tokens / max_output_tokens, times
 * n), else the configured estimate. Settled later against real usage.
 */
import type { Cost } from "../core/policy.ts";
import { countRequestInput, countText, encodingForModel } from "../tokens/index.ts";

export type Endpoint = "chat" | "completions" | "embeddings" | "responses";

const ENDPOINTS: Record<string, Endpoint> = {
  "/v1/chat/completions": "chat",
  "/v1/completions": "completions",
  "/v1/embeddings": "embeddings",
  "/v1/responses": "responses",
};

export function endpointOf(path: string): Endpoint {
  return ENDPOINTS[path] ?? "chat";
}

export const REQUEST_ONLY: Cost = { requests: 1, input_tokens: 0, output_tokens: 0 };

export function reservedOutput(endpoint: Endpoint, body: Record<string, unknown>, defaultOutput: number): number {
  if (endpoint === "embeddings") return 0;
  const cap = [body.max_completion_tokens, body.max_tokens, body.max_output_tokens].find(
    (v): v is number => typeof v === "number" && Number.isInteger(v) && v >= 0,
  );
  const n = typeof body.n === "number" && Number.isInteger(body.n) && body.n > 1 ? body.n : 1;
  return (cap ?? defaultOutput) * n;
}

export async function requestCost(
  endpoint: Endpoint,
  body: Record<string, unknown>,
  model: string,
  defaultOutput: number,
): Promise<Cost> {
  return {
    requests: 1,
    input_tokens: await countRequestInput(endpoint, body, model),
    output_tokens: reservedOutput(endpoint, body, defaultOutput),
  };
}

/** Output tokens of streamed text, when the upstream reported no usage. */
export function countOutput(text: string, model: string): Promise<number> {
  return text.length === 0 ? Promise.resolve(0) : countText(text, encodingForModel(model));
}
