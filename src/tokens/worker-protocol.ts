/** Messages between the main thread and the counting worker. */
import type { Encoding } from "./encoding.ts";

export interface CountRequest {
  id: number;
  encoding: Encoding;
  /** Counted apart and summed; empty to only load the encoding. */
  texts: string[];
}

export type CountReply = { id: number; tokens: number } | { id: number; error: string };
