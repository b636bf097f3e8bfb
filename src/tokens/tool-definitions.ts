/**
 * Function definitions (chat `tools` / legacy `functions`, responses
 * `tools`). OpenAI renders them into a hidden system text whose exact form is
 * not public. The formula here is the one OpenAI's cookbook ("How to count
 * tokens with tiktoken", section 7) fitted to the API: per function its
 * "name:description", per property "name:type:description" and enum values,
 * plus fixed overheads; it reproduces the API's count for the cookbook's
 * example (101 tokens on gpt-4o, 105 on gpt-4). It is an approximation:
 *
 * - schema the formula does not cover (nested `properties`, `items`,
 *   `anyOf`, `$defs`, …) is counted as its JSON text, which overestimates a
 *   little rather than ignoring it;
 * - tools that are not functions (web_search, file_search, custom tools) are
 *   counted as their JSON text; the hidden prompts of built-in tools are not
 *   known and not counted;
 * - `tool_choice` / `function_call` forcing adds a few tokens, not counted.
 */
import type { Encoding } from "./encoding.ts";
import { isRecord, jsonText, type Pieces } from "./pieces.ts";

interface ToolOverheads {
  /** per function */
  funcInit: number;
  /** once per function that has properties */
  propInit: number;
  /** per property */
  propKey: number;
  /** per property that has an enum */
  enumInit: number;
  /** per enum value */
  enumItem: number;
  /** once, when any function is defined */
  funcEnd: number;
}

/** The cookbook's figures: gpt-4o/gpt-4o-mini for o200k, gpt-4/gpt-3.5-turbo for cl100k. */
const OVERHEADS: Record<Encoding, ToolOverheads> = {
  o200k_base: { funcInit: 7, propInit: 3, propKey: 3, enumInit: -3, enumItem: 3, funcEnd: 12 },
  cl100k_base: { funcInit: 10, propInit: 3, propKey: 3, enumInit: -3, enumItem: 3, funcEnd: 12 },
};

/** Property keys the formula covers; the rest of a property's schema is counted as JSON. */
const PROPERTY_KEYS = new Set(["type", "description", "enum"]);
/** Keys of `parameters` that cost nothing in the formula (required and additionalProperties are not rendered as text). */
const PARAMETER_KEYS = new Set(["type", "properties", "required", "additionalProperties"]);

export function toolDefinitionPieces(p: Pieces, tools: unknown, encoding: Encoding): void {
  if (!Array.isArray(tools)) return;
  const k = OVERHEADS[encoding];
  let functions = 0;
  for (const tool of tools) {
    if (!isRecord(tool)) continue;
    const fn = functionOf(tool);
    if (fn === undefined) {
      p.text(jsonText(tool));
      continue;
    }
    functions++;
    functionPieces(p, fn, k);
  }
  if (functions > 0) p.tokens(k.funcEnd);
}

/** Chat tools nest the function ({type:"function", function:{…}}); responses tools and legacy `functions` are flat. */
function functionOf(tool: Record<string, unknown>): Record<string, unknown> | undefined {
  if (isRecord(tool.function)) return tool.function;
  if (tool.type === "function") return tool;
  if (tool.type === undefined && typeof tool.name === "string") return tool;
  return undefined;
}

function functionPieces(p: Pieces, fn: Record<string, unknown>, k: ToolOverheads): void {
  p.tokens(k.funcInit);
  p.text(`${str(fn.name)}:${withoutFinalDot(str(fn.description))}`);
  const params = isRecord(fn.parameters) ? fn.parameters : undefined;
  if (params === undefined) return;
  const props = isRecord(params.properties) ? Object.entries(params.properties) : [];
  if (props.length > 0) p.tokens(k.propInit);
  for (const [name, prop] of props) {
    p.tokens(k.propKey);
    const spec = isRecord(prop) ? prop : {};
    if (Array.isArray(spec.enum)) {
      p.tokens(k.enumInit);
      for (const value of spec.enum) {
        p.tokens(k.enumItem);
        p.text(typeof value === "string" ? value : jsonText(value));
      }
    }
    p.text(`${name}:${typeText(spec.type)}:${withoutFinalDot(str(spec.description))}`);
    p.text(restAsJson(spec, PROPERTY_KEYS));
  }
  p.text(restAsJson(params, PARAMETER_KEYS));
}

function restAsJson(obj: Record<string, unknown>, covered: Set<string>): string {
  let rest: Record<string, unknown> | undefined;
  for (const [key, value] of Object.entries(obj)) {
    if (covered.has(key)) continue;
    (rest ??= {})[key] = value;
  }
  return rest === undefined ? "" : jsonText(rest);
}

function str(value: unknown): string {
  return typeof value === "string" ? value : "";
}

function typeText(type: unknown): string {
  if (typeof type === "string") return type;
  if (Array.isArray(type)) return type.filter((t) => typeof t === "string").join(" | ");
  return "";
}

function withoutFinalDot(text: string): string {
  return text.endsWith(".") ? text.slice(0, -1) : text;
}
