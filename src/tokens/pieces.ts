/**
 * What a request's input is made of, before any tokenizer runs: the texts to
 * encode (each counted on its own, as OpenAI renders them apart) and a fixed
 * number of tokens known without encoding (message overhead, image
 * estimates, token arrays given as numbers). Building it never throws and
 * never copies the body's strings.
 */
export class Pieces {
  readonly texts: string[] = [];
  /** Tokens known without encoding. */
  fixed = 0;

  /** Adds `value` if it is a non-empty string; anything else is ignored. */
  text(value: unknown): void {
    if (typeof value === "string" && value.length > 0) this.texts.push(value);
  }

  tokens(n: number): void {
    if (Number.isFinite(n)) this.fixed += n;
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** JSON text of a value, or "" for what JSON cannot hold (cycles, BigInt). */
export function jsonText(value: unknown): string {
  try {
    return JSON.stringify(value) ?? "";
  } catch {
    return "";
  }
}
