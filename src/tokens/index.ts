/** Input token counts as OpenAI bills them: see count.ts and request-pieces.ts. */
export { type Encoding, DEFAULT_ENCODING, ENCODINGS, encodingForModel } from "./encoding.ts";
export { countRequestInput, countText, INLINE_COST_LIMIT, NON_ASCII_COST, preloadTokenizers } from "./count.ts";
export { IMAGE_TOKENS_HIGH_DETAIL, IMAGE_TOKENS_LOW_DETAIL } from "./content-parts.ts";
export { REPLY_PRIMING_TOKENS, TOKENS_PER_MESSAGE, TOKENS_PER_NAME } from "./messages.ts";
export type { Endpoint } from "./request-pieces.ts";
export { stopCountWorker } from "./worker-client.ts";
