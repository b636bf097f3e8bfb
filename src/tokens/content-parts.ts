/**
 * Message content: a string, or an array of parts (chat: text, image_url,
 * input_audio, file, refusal; responses: input_text, output_text,
 * input_image, input_file, refusal, summary_text).
 */
import { isRecord, type Pieces } from "./pieces.ts";

/**
 * Images are billed by size, which the gateway does not decode. Fixed
 * figures from OpenAI's vision pricing for gpt-4o: "low" detail costs 85
 * tokens whatever the size; "high"/"auto" costs 85 + 170 per 512-px tile,
 * 765 for a 1024×1024 image (4 tiles), the common case. gpt-4o-mini and the
 * gpt-4.1-mini/nano family bill images differently; this is an estimate.
 */
export const IMAGE_TOKENS_LOW_DETAIL = 85;
export const IMAGE_TOKENS_HIGH_DETAIL = 765;

const IMAGE_PARTS = new Set(["image_url", "input_image", "image"]);
/** Audio and files are not estimated: counting them needs decoding the media. */
const UNCOUNTED_PARTS = new Set(["input_audio", "audio", "file", "input_file"]);

export function contentPieces(p: Pieces, content: unknown): void {
  if (typeof content === "string") p.text(content);
  else if (Array.isArray(content)) for (const part of content) partPieces(p, part);
  else if (isRecord(content)) partPieces(p, content);
}

function partPieces(p: Pieces, part: unknown): void {
  if (typeof part === "string") return p.text(part);
  if (!isRecord(part)) return;
  const type = part.type;
  if (typeof type === "string" && IMAGE_PARTS.has(type)) return p.tokens(imageTokens(part));
  if (typeof type === "string" && UNCOUNTED_PARTS.has(type)) return;
  if (type === "refusal") return p.text(part.refusal);
  // text, input_text, output_text, summary_text, reasoning_text, and unknown parts that carry text
  p.text(part.text);
}

function imageTokens(part: Record<string, unknown>): number {
  const nested = isRecord(part.image_url) ? part.image_url.detail : undefined;
  const detail = part.detail ?? nested;
  return detail === "low" ? IMAGE_TOKENS_LOW_DETAIL : IMAGE_TOKENS_HIGH_DETAIL;
}
