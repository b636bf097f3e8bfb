/**
 * POST /v1/responses: a minimal Responses API. `input` is a string or a list
 * of message items; streaming uses typed events (`event:` lines, no [DONE]).
 * Input tokens = ceil(characters of instructions + all input text / 4), at least 1.
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
} from "./request-body.ts";
import { sseEvent } from "./sse.ts";

/** Returns all input text (for the token count) and the last user text (to answer). */
function readInput(body: JsonObject): { all: string; lastUser: string } {
  const input = body.input;
  if (typeof input === "string") return { all: input, lastUser: input };
  if (!Array.isArray(input) || input.length === 0) {
    throw badParam("input", "Invalid 'input': expected a string or a non-empty array of input items.");
  }
  let all = "";
  let lastUser = "";
  for (const item of input) {
    if (!isObject(item)) throw badParam("input", "Invalid 'input': every item must be an object.");
    const text = contentText(item.content);
    all += text;
    if (item.role === "user") lastUser = text;
  }
  return { all, lastUser };
}

export function planResponse(body: JsonObject, models: ReadonlySet<string>): Plan {
  const model = requireModel(body, models);
  const { all, lastUser } = readInput(body);
  const instructions = typeof body.instructions === "string" ? body.instructions : null;
  const maxTokens = optionalMaxTokens(body, "max_output_tokens");
  const stream = wantsStream(body);
  const answer = composeAnswer(lastUser, maxTokens);
  const inputTokens = Math.max(1, estimateTokens(all) + (instructions ? estimateTokens(instructions) : 0));
  const complete = answer.finishReason === "stop";

  return {
    promptTokens: inputTokens,
    completionTokens: answer.tokens,
    render({ seq, created }) {
      const itemId = `msg_${seq}`;
      const part = { type: "output_text", text: answer.text, annotations: [] };
      const item = { type: "message", id: itemId, status: "completed", role: "assistant", content: [part] };
      const response = (status: string, done: boolean): JsonObject => ({
        id: `resp_${seq}`,
        object: "response",
        created_at: created,
        status,
        error: null,
        incomplete_details: status === "incomplete" ? { reason: "max_output_tokens" } : null,
        instructions,
        max_output_tokens: maxTokens ?? null,
        model,
        output: done ? [item] : [],
        parallel_tool_calls: true,
        previous_response_id: null,
        temperature: 1,
        top_p: 1,
        tool_choice: "auto",
        tools: [],
        text: { format: { type: "text" } },
        truncation: "disabled",
        usage: done
          ? {
              input_tokens: inputTokens,
              input_tokens_details: { cached_tokens: 0 },
              output_tokens: answer.tokens,
              output_tokens_details: { reasoning_tokens: 0 },
              total_tokens: inputTokens + answer.tokens,
            }
          : null,
        metadata: {},
      });
      const finalStatus = complete ? "completed" : "incomplete";
      if (!stream) return { kind: "json", body: response(finalStatus, true) };

      let n = 0;
      const ev = (type: string, fields: JsonObject): string =>
        sseEvent(type, { type, sequence_number: n++, ...fields });
      const at = { item_id: itemId, output_index: 0, content_index: 0 };
      const events = [
        ev("response.created", { response: response("in_progress", false) }),
        ev("response.in_progress", { response: response("in_progress", false) }),
        ev("response.output_item.added", {
          output_index: 0,
          item: { ...item, status: "in_progress", content: [] },
        }),
        ev("response.content_part.added", { ...at, part: { ...part, text: "" } }),
      ];
      for (const delta of answer.chunks) events.push(ev("response.output_text.delta", { ...at, delta, logprobs: [] }));
      events.push(
        ev("response.output_text.done", { ...at, text: answer.text, logprobs: [] }),
        ev("response.content_part.done", { ...at, part }),
        ev("response.output_item.done", { output_index: 0, item }),
        ev(complete ? "response.completed" : "response.incomplete", { response: response(finalStatus, true) }),
      );
      return { kind: "sse", events };
    },
  };
}
