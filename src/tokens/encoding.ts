/**
 * Which BPE encoding a model bills with. Only the two that current OpenAI
 * models use are supported; older ones (p50k/r50k: davinci-era completions
 * models) are retired and fall to the default.
 */
export type Encoding = "o200k_base" | "cl100k_base";

export const ENCODINGS: readonly Encoding[] = ["o200k_base", "cl100k_base"];

/**
 * Unknown models count with o200k_base: every OpenAI model released since
 * gpt-4o (May 2024) uses it, so a new model name is far likelier to be o200k
 * than cl100k; and for a non-OpenAI model behind the gateway no tiktoken
 * encoding is right, but o200k's larger vocabulary is the nearer to the
 * tokenizers of current models.
 */
export const DEFAULT_ENCODING: Encoding = "o200k_base";

/** Checked in order; the first match wins. Names are lower-cased and stripped of "provider/" and "ft:". */
const RULES: readonly [RegExp, Encoding][] = [
  // gpt-4o*, chatgpt-4o*, gpt-4.1*, gpt-4.5*: before the gpt-4 rule, which would also match them.
  [/^(chatgpt-4o|gpt-4o|gpt-4\.\d)/, "o200k_base"],
  // gpt-4, gpt-4-0613, gpt-4-32k, gpt-4-turbo, gpt-4-1106-preview, gpt-4-vision-preview
  [/^gpt-4(-|$)/, "cl100k_base"],
  [/^gpt-3\.5/, "cl100k_base"],
  [/^(text-embedding-3|text-embedding-ada-002)/, "cl100k_base"],
  // base models of the completions endpoint
  [/^(davinci-002|babbage-002)/, "cl100k_base"],
  // o1, o3, o4-mini, and later o-series
  [/^o\d/, "o200k_base"],
  // gpt-5*, and later numbered generations
  [/^gpt-([5-9]|\d\d)/, "o200k_base"],
  // omni-moderation, gpt-image, gpt-realtime, gpt-audio, gpt-oss (o200k_harmony: same ranks for text), codex-mini, computer-use
  [/^(omni-|gpt-image|gpt-realtime|gpt-audio|gpt-oss|codex|computer-use)/, "o200k_base"],
];

export function encodingForModel(model: string): Encoding {
  if (typeof model !== "string") return DEFAULT_ENCODING;
  let name = model.trim().toLowerCase();
  name = name.slice(name.lastIndexOf("/") + 1);
  // fine-tuned models: "ft:gpt-4o-mini-2024-07-18:org::id" bills like its base model
  if (name.startsWith("ft:")) name = name.slice(3);
  for (const [pattern, encoding] of RULES) if (pattern.test(name)) return encoding;
  return DEFAULT_ENCODING;
}
