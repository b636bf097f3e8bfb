/** The request every bench sends, and the shared process environment. */
export const CHAT_PATH = "/v1/chat/completions";

/** A small non-stream chat completion. */
export const CHAT_BODY = JSON.stringify({
  model: "gpt-4o-mini",
  messages: [{ role: "user", content: "hello there" }],
  max_tokens: 16,
});

/** fetch keeps 256 requests in flight per process unless told otherwise (BUN-NOTES). */
export function fetchCapEnv(max: number): Record<string, string> {
  return { BUN_CONFIG_MAX_HTTP_REQUESTS: String(max) };
}
