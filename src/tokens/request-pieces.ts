/**
 * The input of a request to each routed endpoint, as Pieces. Any shape is
 * accepted: what is countable is counted, the rest ignored.
 */
import { contentPieces } from "./content-parts.ts";
import type { Encoding } from "./encoding.ts";
import { messagePieces, plainMessagePieces, REPLY_PRIMING_TOKENS, TOKENS_PER_MESSAGE } from "./messages.ts";
import { isRecord, type Pieces } from "./pieces.ts";
import { toolDefinitionPieces } from "./tool-definitions.ts";

export type Endpoint = "chat" | "completions" | "embeddings" | "responses";

export function requestPieces(p: Pieces, endpoint: Endpoint, body: unknown, encoding: Encoding): void {
  if (!isRecord(body)) return;
  switch (endpoint) {
    case "chat":
      return chatPieces(p, body, encoding);
    case "completions":
      promptPieces(p, body.prompt);
      return p.text(body.suffix);
    case "embeddings":
      return promptPieces(p, body.input);
    case "responses":
      return responsesPieces(p, body, encoding);
  }
}

/** /v1/chat/completions: messages, then tool or function definitions. */
function chatPieces(p: Pieces, body: Record<string, unknown>, encoding: Encoding): void {
  if (Array.isArray(body.messages)) for (const m of body.messages) if (isRecord(m)) messagePieces(p, m);
  p.tokens(REPLY_PRIMING_TOKENS);
  toolDefinitionPieces(p, body.tools, encoding);
  toolDefinitionPieces(p, body.functions, encoding);
}

/**
 * /v1/completions `prompt` and /v1/embeddings `input`: a string, strings, a
 * token array (number[]) or token arrays (number[][]); a token array costs
 * its length. No framing tokens.
 */
function promptPieces(p: Pieces, prompt: unknown): void {
  if (typeof prompt === "string") return p.text(prompt);
  if (!Array.isArray(prompt)) return;
  for (const item of prompt) {
    if (typeof item === "string") p.text(item);
    else if (typeof item === "number") p.tokens(1);
    else if (Array.isArray(item)) p.tokens(numbersIn(item));
  }
}

function numbersIn(items: unknown[]): number {
  let n = 0;
  for (const item of items) if (typeof item === "number") n++;
  return n;
}

/**
 * /v1/responses: `instructions` as a system message, `input` as a user
 * message or a list of items, then tools. Context held by the server
 * (`previous_response_id`, `conversation`, item references) is not in the
 * body and cannot be counted here.
 */
function responsesPieces(p: Pieces, body: Record<string, unknown>, encoding: Encoding): void {
  if (typeof body.instructions === "string" && body.instructions.length > 0) {
    plainMessagePieces(p, "system", body.instructions);
  }
  if (typeof body.input === "string") plainMessagePieces(p, "user", body.input);
  else if (Array.isArray(body.input)) for (const item of body.input) responseItemPieces(p, item);
  p.tokens(REPLY_PRIMING_TOKENS);
  toolDefinitionPieces(p, body.tools, encoding);
}

function responseItemPieces(p: Pieces, item: unknown): void {
  if (typeof item === "string") return plainMessagePieces(p, "user", item);
  if (!isRecord(item)) return;
  switch (item.type) {
    case "message":
    case undefined:
      return messagePieces(p, item);
    case "function_call":
    case "custom_tool_call":
      p.tokens(TOKENS_PER_MESSAGE);
      p.text(item.name);
      p.text(item.arguments);
      return p.text(item.input);
    case "function_call_output":
    case "custom_tool_call_output":
      p.tokens(TOKENS_PER_MESSAGE);
      return contentPieces(p, item.output);
    case "reasoning":
      // only the visible summary; encrypted reasoning cannot be counted
      return contentPieces(p, item.summary);
    case "item_reference":
      return;
    default:
      // other item kinds (tool call records, …): whatever text they carry
      p.tokens(TOKENS_PER_MESSAGE);
      contentPieces(p, item.content);
      p.text(item.text);
      p.text(item.arguments);
      return contentPieces(p, item.output);
  }
}
