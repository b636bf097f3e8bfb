// `${VAR}` / `${VAR:-default}` expansion. It runs on the parsed YAML's string
// scalars (keys included), not on the raw text, so a value holding quotes,
// colons or newlines cannot change the file's structure.
import { isMap, isScalar, isSeq, type Document } from "yaml";
import type { PathSegment } from "./config-path.ts";

export type Env = Record<string, string | undefined>;

export interface Expansion {
  text: string;
  /** variables referenced without a default and not set (each once, in order) */
  missing: string[];
  /** malformed references; the text is kept as written */
  malformed: string[];
}

const REFERENCE = /^([A-Za-z_][A-Za-z0-9_]*)(?::-([^]*))?$/;

/**
 * Expands `${VAR}` (unset → reported in `missing`, replaced by ""),
 * `${VAR:-default}` (default when unset or empty, as in sh) and `$${` (a
 * literal `${`). A `$` not followed by `{` is kept, so `pa$$word` stays intact.
 */
export function expandEnv(text: string, env: Env): Expansion {
  const missing: string[] = [];
  const malformed: string[] = [];
  let out = "";
  let i = 0;
  while (i < text.length) {
    if (text.startsWith("$${", i)) {
      out += "${";
      i += 3;
      continue;
    }
    if (!text.startsWith("${", i)) {
      out += text[i];
      i += 1;
      continue;
    }
    const close = text.indexOf("}", i + 2);
    if (close < 0) {
      malformed.push("unterminated ${ (write $${ for a literal ${)");
      out += text.slice(i);
      break;
    }
    const match = REFERENCE.exec(text.slice(i + 2, close));
    if (match === null) {
      // The reference is not echoed: it may be a pasted secret.
      malformed.push("invalid ${...} reference (expected ${NAME} or ${NAME:-default})");
      out += text.slice(i, close + 1);
    } else {
      const [, name = "", fallback] = match;
      const value = env[name];
      if (fallback !== undefined) out += value === undefined || value === "" ? fallback : value;
      else if (value !== undefined) out += value;
      else if (!missing.includes(name)) missing.push(name);
    }
    i = close + 1;
  }
  return { text: out, missing, malformed };
}

export interface EnvProblem {
  path: PathSegment[];
  message: string;
}

/** Expands every string scalar of `doc` in place; returns the problems found, with their paths. */
export function expandDocument(doc: Document, env: Env): EnvProblem[] {
  const problems: EnvProblem[] = [];

  // `pathOf` gets the expanded text: a map key's problems sit at the key's final path.
  const expandScalar = (value: string, pathOf: (expanded: string) => PathSegment[]): string => {
    if (!value.includes("${")) return value;
    const result = expandEnv(value, env);
    const path = pathOf(result.text);
    for (const name of result.missing) {
      problems.push({ path, message: `environment variable ${name} is not set` });
    }
    for (const message of result.malformed) problems.push({ path, message });
    return result.text;
  };

  const walk = (node: unknown, path: PathSegment[]): void => {
    if (isScalar(node)) {
      if (typeof node.value === "string") node.value = expandScalar(node.value, () => path);
    } else if (isSeq(node)) {
      node.items.forEach((item, index) => walk(item, [...path, index]));
    } else if (isMap(node)) {
      const seen = new Set<string>();
      for (const pair of node.items) {
        let key = "?";
        if (isScalar(pair.key)) {
          const raw = pair.key.value;
          if (typeof raw === "string") pair.key.value = expandScalar(raw, (expanded) => [...path, expanded]);
          key = String(pair.key.value);
        }
        // Two keys may become equal only after expansion; the YAML parser cannot see that.
        if (seen.has(key)) problems.push({ path: [...path, key], message: "duplicate key after expanding variables" });
        seen.add(key);
        walk(pair.value, [...path, key]);
      }
    }
    // An alias needs nothing: its anchored node is expanded where it is defined.
  };

  walk(doc.contents, []);
  return problems;
}
