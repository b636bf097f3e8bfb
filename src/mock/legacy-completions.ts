/**
 * POST /v1/completions (legacy text completions): `prompt` is a string or an
 * array of strings, one choice per prompt, as OpenAI answers.
 * Prompt tokens = ceil(characters of each prompt / 4), summed, at least 1.
 */
import { type Answer, composeAnswer, estimateTokens } from "./answer-text.ts";
import { badParam } from "./mock-error.ts";
import {
  type JsonObject,
  type Plan,
  optionalMaxTokens,
  requireModel,
  wantsStream,
  wantsStreamUsage,
} from "./request-body.ts";
import { SSE_DONE, sseData } from "./sse.ts";

function readPrompts(body: JsonObject): string[] {
  const p = body.prompt;
  if (typeof p === "string") return [p];
  if (Array.isArray(p) && p.length > 0 && p.every((x): x is string => typeof x === "string")) {
    return p;
  }
  throw badParam("prompt", "Invalid 'prompt': expected a string or a non-empty array of strings.");
}

export function planCompletion(body: JsonObject, models: ReadonlySet<string>): Plan {
  const model = requireModel(body, models);
  const prompts = readPrompts(body);
  const maxTokens = optionalMaxTokens(body, "max_tokens");
  const stream = wantsStream(body);
  const includeUsage = stream && wantsStreamUsage(body);
  const answers: Answer[] = prompts.map((p) => composeAnswer(p, maxTokens));
  let promptTokens = 0;
  for (const p of prompts) promptTokens += estimateTokens(p);
  promptTokens = Math.max(1, promptTokens);
  let completionTokens = 0;
  for (const a of answers) completionTokens += a.tokens;
  const usage = {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
  };

  return {
    promptTokens,
    completionTokens,
    render({ seq, created }) {
      const id = `cmpl-${seq}`;
      const base = { id, object: "text_completion", created, model, system_fingerprint: null };
      if (!stream) {
        const choices = answers.map((a, index) => ({
          text: a.text,
          index,
          logprobs: null,
          finish_reason: a.finishReason,
        }));
        return { kind: "json", body: { ...base, choices, usage } };
      }
      const events: string[] = [];
      answers.forEach((a, index) => {
        for (const text of a.chunks) {
          events.push(sseData({ ...base, choices: [{ text, index, logprobs: null, finish_reason: null }] }));
        }
        events.push(
          sseData({ ...base, choices: [{ text: "", index, logprobs: null, finish_reason: a.finishReason }] }),
        );
      });
      if (includeUsage) events.push(sseData({ ...base, choices: [], usage }));
      events.push(SSE_DONE);
      return { kind: "sse", events };
    },
  };
}
