/**
 * The chat message overhead from OpenAI's cookbook ("How to count tokens
 * with tiktoken"), which matches the API's prompt_tokens for gpt-3.5-turbo,
 * gpt-4, gpt-4o and gpt-4o-mini: every message costs 3 tokens
 * (<|start|>{role}\n{content}<|end|>\n) plus its role and content; a `name`
 * costs its text plus 1; every reply is primed with 3 more
 * (<|start|>assistant<|message|>). The same framing is assumed for
 * /v1/responses items, whose billing OpenAI has not published.
 */
import { contentPieces } from "./content-parts.ts";
import { isRecord, type Pieces } from "./pieces.ts";

export const TOKENS_PER_MESSAGE = 3;
export const TOKENS_PER_NAME = 1;
export const REPLY_PRIMING_TOKENS = 3;

/**
 * One chat message. Tool calls count their name and arguments (the few
 * framing tokens around each call are not public and not counted);
 * `tool_call_id` is not rendered as text and not counted.
 */
export function messagePieces(p: Pieces, message: Record<string, unknown>): void {
  p.tokens(TOKENS_PER_MESSAGE);
  p.text(message.role);
  contentPieces(p, message.content);
  if (typeof message.name === "string" && message.name.length > 0) {
    p.text(message.name);
    p.tokens(TOKENS_PER_NAME);
  }
  if (typeof message.refusal === "string") p.text(message.refusal);
  if (Array.isArray(message.tool_calls)) for (const call of message.tool_calls) toolCallPieces(p, call);
  toolCallPieces(p, { function: message.function_call });
}

function toolCallPieces(p: Pieces, call: unknown): void {
  if (!isRecord(call)) return;
  const fn = isRecord(call.function) ? call.function : isRecord(call.custom) ? call.custom : undefined;
  if (fn === undefined) return;
  p.text(fn.name);
  p.text(fn.arguments);
  p.text(fn.input);
}

/** A message built from a bare role and content (responses `instructions` and string `input`). */
export function plainMessagePieces(p: Pieces, role: string, content: unknown): void {
  p.tokens(TOKENS_PER_MESSAGE);
  p.text(role);
  contentPieces(p, content);
}
