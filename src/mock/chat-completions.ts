/**
 * POST /v1/chat/completions, non-stream and stream, shaped like OpenAI's.
 * Prompt tokens = ceil(characters of all message contents / 4), at least 1.
 */
import { composeAnswer, estimateTokens } from "./answer-text.ts";
import { badParam } from "./mock-error.ts";
import {
  type JsonObject,
  type Plan,
  contentText,
  isObject,
  optionalMaxTokens,
  requireModel,
  wantsStream,
  wantsStreamUsage,
} from "./request-body.ts";
import { SSE_DONE, sseData } from "./sse.ts";

export const FINGERPRINT = "fp_limitrate_mock";

export function planChat(body: JsonObject, models: ReadonlySet<string>): Plan {
  const model = requireModel(body, models);
  const messages = body.messages;
  if (!Array.isArray(messages)) {
    throw badParam("messages", "Missing required parameter: 'messages'.");
  }
  if (messages.length === 0) {
    throw badParam("messages", "Invalid 'messages': empty array. Expected an array with minimum length 1.");
  }
  let allText = "";
  let lastUser = "";
  for (let i = 0; i < messages.length; i++) {
    const m: unknown = messages[i];
    if (!isObject(m) || typeof m.role !== "string") {
      throw badParam(`messages[${i}]`, `Invalid 'messages[${i}]': expected an object with a 'role'.`);
    }
    const text = contentText(m.content);
    allText += text;
    if (m.role === "user") lastUser = text;
  }
  const maxTokens = optionalMaxTokens(body, "max_completion_tokens", "max_tokens");
  const stream = wantsStream(body);
  const includeUsage = stream && wantsStreamUsage(body);
  const answer = composeAnswer(lastUser, maxTokens);
  const promptTokens = Math.max(1, estimateTokens(allText));
  const usage = {
    prompt_tokens: promptTokens,
    completion_tokens: answer.tokens,
    total_tokens: promptTokens + answer.tokens,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0 },
  };

  return {
    promptTokens,
    completionTokens: answer.tokens,
    render({ seq, created }) {
      const id = `chatcmpl-${seq}`;
      if (!stream) {
        return {
          kind: "json",
          body: {
            id,
            object: "chat.completion",
            created,
            model,
            choices: [
              {
                index: 0,
                message: { role: "assistant", content: answer.text, refusal: null, annotations: [] },
                logprobs: null,
                finish_reason: answer.finishReason,
              },
            ],
            usage,
            service_tier: "default",
            system_fingerprint: FINGERPRINT,
          },
        };
      }
      // OpenAI sends `usage: null` on every chunk once include_usage is asked for.
      const chunk = (delta: JsonObject, finish: string | null): string =>
        sseData({
          id,
          object: "chat.completion.chunk",
          created,
          model,
          service_tier: "default",
          system_fingerprint: FINGERPRINT,
          choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
          ...(includeUsage ? { usage: null } : {}),
        });
      const events = [chunk({ role: "assistant", content: "", refusal: null }, null)];
      for (const piece of answer.chunks) events.push(chunk({ content: piece }, null));
      events.push(chunk({}, answer.finishReason));
      if (includeUsage) {
        events.push(
          sseData({
            id,
            object: "chat.completion.chunk",
            created,
            model,
            service_tier: "default",
            system_fingerprint: FINGERPRINT,
            choices: [],
            usage,
          }),
        );
      }
      events.push(SSE_DONE);
      return { kind: "sse", events };
    },
  };
}
