// Turns zod's issues into the config's messages ("must be > 0", "required",
// unknown key "rpn" (did you mean "rpm"?)). Messages never echo a value: a
// value may be a secret that came from the environment.
import { z } from "zod";
import { didYouMean } from "./did-you-mean.ts";
import { maskSecret } from "./secrets.ts";

/** Separates per-key messages of one unrecognized_keys issue; load.ts splits on it. */
export const MESSAGE_SEPARATOR = "\n";

function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (value === "") return "an empty string";
  switch (typeof value) {
    case "object":
      return "a mapping";
    case "string":
      return "a string";
    case "number":
      return Number.isInteger(value) ? "an integer" : "a number";
    case "boolean":
      return value ? "true" : "false";
    default:
      return typeof value;
  }
}

const expectedLabel: Record<string, string> = {
  string: "a string",
  number: "a number",
  int: "an integer",
  boolean: "true or false",
  object: "a mapping (key: value)",
  record: "a mapping (key: value)",
  array: "a list",
  null: "null",
};

/** Unwraps optional/default/preprocess layers to the object schema inside, if any. */
function objectInside(schema: z.core.$ZodType | undefined): z.ZodObject | undefined {
  let current: unknown = schema;
  for (let depth = 0; depth < 10 && current !== undefined; depth++) {
    if (current instanceof z.ZodObject) return current;
    if (
      current instanceof z.ZodOptional ||
      current instanceof z.ZodNullable ||
      current instanceof z.ZodDefault ||
      current instanceof z.ZodPrefault
    ) {
      current = current.unwrap();
    } else if (current instanceof z.ZodPipe) {
      current = current.in instanceof z.ZodTransform ? current.out : current.in;
    } else {
      return undefined;
    }
  }
  return undefined;
}

// Unknown keys are echoed only when they look like field names: a client key
// pasted at the wrong indentation would otherwise end up in the message.
function displayKey(key: string, suggestion: string | undefined): string {
  return suggestion !== undefined || /^[A-Za-z_][A-Za-z0-9_]{0,40}$/.test(key) ? key : maskSecret(key);
}

function unknownKeyMessages(keys: readonly string[], object: z.ZodObject | undefined): string {
  const shape: Record<string, z.core.$ZodType> = object?.shape ?? {};
  const allowed = Object.keys(shape);
  return keys
    .map((key) => {
      const close = didYouMean(key, allowed);
      let hint = close === undefined ? "" : ` (did you mean "${close}"?)`;
      if (close === undefined) {
        // A field one level too high, e.g. `rpm` directly under a provider.
        const parent = allowed.find((k) => objectInside(shape[k])?.shape[key] !== undefined);
        if (parent !== undefined) hint = ` (did you mean "${parent}.${key}"?)`;
      }
      const listed = allowed.length > 0 && hint === "" ? `; allowed: ${allowed.join(", ")}` : "";
      return `unknown key "${displayKey(key, close)}"${hint}${listed}`;
    })
    .join(MESSAGE_SEPARATOR);
}

function bound(kind: "min" | "max", n: number | bigint, inclusive: boolean | undefined): string {
  const op = kind === "min" ? (inclusive ? ">=" : ">") : inclusive ? "<=" : "<";
  return `must be ${op} ${n}`;
}

/** The zod error map for the config: every issue code the schema can raise. */
export function configErrorMap(issue: z.core.$ZodRawIssue): string | undefined {
  switch (issue.code) {
    case "invalid_type":
      if (issue.input === undefined) return "required";
      if (issue.expected === "int" && typeof issue.input === "number") return "must be an integer";
      return `must be ${expectedLabel[issue.expected] ?? issue.expected} (got ${describeValue(issue.input)})`;
    case "too_small":
      if (issue.origin === "string" && Number(issue.minimum) === 1) return "must not be empty";
      if (issue.origin === "array" && Number(issue.minimum) === 1) return "must not be empty (list at least one)";
      if (issue.origin === "string" || issue.origin === "array") return `must have at least ${issue.minimum} entries`;
      return bound("min", issue.minimum, issue.inclusive);
    case "too_big":
      if (issue.origin === "string" || issue.origin === "array") return `must have at most ${issue.maximum} entries`;
      return bound("max", issue.maximum, issue.inclusive);
    case "invalid_value":
      return issue.values.length === 1
        ? `must be ${String(issue.values[0])}`
        : `must be one of ${issue.values.map(String).join(", ")}`;
    case "unrecognized_keys":
      return unknownKeyMessages(issue.keys, issue.inst instanceof z.ZodObject ? issue.inst : undefined);
    case "invalid_key":
      return issue.issues[0]?.message ?? "invalid key";
    case "invalid_format":
      return `must be a valid ${issue.format}`;
    default:
      return undefined;
  }
}
