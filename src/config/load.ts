// Finding, reading and validating the config file. Validation happens here,
// once, at the edge: the rest of limitrate gets a typed, complete Config.
import { readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { isMap, isSeq, parseDocument, type YAMLError } from "yaml";
import { formatPath, KeyLabels, type PathSegment } from "./config-path.ts";
import { expandDocument, type Env } from "./env.ts";
import { ConfigError } from "./errors.ts";
import { configErrorMap, MESSAGE_SEPARATOR } from "./issues.ts";
import { configSchema, type Config } from "./schema.ts";

export { expandEnv, type Env, type Expansion } from "./env.ts";
export { ConfigError } from "./errors.ts";

export interface FindOptions {
  /** `-c FILE`; must exist */
  explicit?: string;
  env: Env;
  cwd: string;
  home: string;
}

const isFile = (path: string): boolean => statSync(path, { throwIfNoEntry: false })?.isFile() ?? false;

function mustExist(path: string, how: string): string {
  if (!isFile(path)) throw new ConfigError(path, [`${how}: ${path} does not exist or is not a file`]);
  return path;
}

/**
 * The config file to use: `-c FILE`, then `$LIMITRATE_CONFIG` (both must
 * exist), then the first of ./limitrate.yaml, ./config.yaml and
 * ~/.config/limitrate/config.yaml; null when there is none.
 */
export function findConfigFile(opts: FindOptions): string | null {
  if (opts.explicit !== undefined) return mustExist(resolve(opts.cwd, opts.explicit), "-c");
  const fromEnv = opts.env.LIMITRATE_CONFIG;
  if (fromEnv !== undefined && fromEnv !== "") return mustExist(resolve(opts.cwd, fromEnv), "LIMITRATE_CONFIG");
  const candidates = [
    join(opts.cwd, "limitrate.yaml"),
    join(opts.cwd, "config.yaml"),
    join(opts.home, ".config", "limitrate", "config.yaml"),
  ];
  return candidates.find(isFile) ?? null;
}

// yaml's messages quote the offending token and source line, either of which
// may hold a secret: keep only the description and the position.
function syntaxProblem(error: YAMLError): string {
  const description = (error.message.split(/ at line \d+, column \d+/)[0] ?? error.message)
    .replace(/: ".*"$/s, "")
    .trim();
  const pos = error.linePos?.[0];
  const where = pos === undefined ? "YAML syntax" : `line ${pos.line}, column ${pos.col}`;
  return `${where}: ${description}`;
}

// One early mistake makes the parser report every later token; the first few locate it.
const MAX_SYNTAX_PROBLEMS = 5;

function syntaxProblems(errors: readonly YAMLError[], text: string): string[] {
  const problems = errors.slice(0, MAX_SYNTAX_PROBLEMS).map(syntaxProblem);
  if (errors.length > MAX_SYNTAX_PROBLEMS) problems.push(`... and ${errors.length - MAX_SYNTAX_PROBLEMS} more`);
  // `{ key: ${VAR} }`: braces end a flow mapping, so the reference must be quoted there.
  if (/(^|[^$])[{[][^\n]*\$\{/m.test(text)) {
    problems.push('hint: inside { } or [ ], quote values that use variables: "${VAR}"');
  }
  return problems;
}

/** True when `path` lies at or under `prefix` (a formatted path). */
function isUnder(path: string, prefix: string): boolean {
  return path === prefix || path.startsWith(`${prefix}.`) || path.startsWith(`${prefix}[`);
}

const problem = (path: string, message: string): string => (path === "" ? message : `${path}: ${message}`);

/** Parses and validates config text; throws ConfigError listing every problem. */
export function parseConfig(text: string, env: Env, source = "<config>"): Config {
  const doc = parseDocument(text, { merge: true, prettyErrors: true });
  if (doc.errors.length > 0) throw new ConfigError(source, syntaxProblems(doc.errors, text));
  if (doc.contents === null) {
    throw new ConfigError(source, ["the file is empty; it needs at least a `providers:` list"]);
  }
  if (!isMap(doc.contents)) {
    const got = isSeq(doc.contents) ? "a list" : "a single value";
    throw new ConfigError(source, [`the top level must be a mapping (server:, store:, providers:, ...), not ${got}`]);
  }

  const envProblems = expandDocument(doc, env);
  let raw: unknown;
  try {
    raw = doc.toJS();
  } catch (error) {
    // e.g. too many aliases (a "billion laughs" file)
    throw new ConfigError(source, [error instanceof Error ? error.message : String(error)]);
  }

  const labels = new KeyLabels(raw);
  const at = (path: readonly PathSegment[]) => formatPath(path, labels);
  const problems = envProblems.map((p) => problem(at(p.path), p.message));
  // A value whose variable is missing would only repeat the problem as "required" or "must be ...".
  const envPaths = envProblems.map((p) => at(p.path));

  const result = configSchema.safeParse(raw, { error: configErrorMap });
  if (!result.success) {
    for (const issue of result.error.issues) {
      const path = at(issue.path);
      if (envPaths.some((prefix) => isUnder(path, prefix))) continue;
      for (const message of issue.message.split(MESSAGE_SEPARATOR)) problems.push(problem(path, message));
    }
  }
  if (problems.length > 0 || !result.success) throw new ConfigError(source, [...new Set(problems)]);
  return result.data;
}

/** Reads and parses a config file; throws ConfigError (unreadable file included). */
export function loadConfigFile(path: string, env: Env): Config {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code = error instanceof Error && "code" in error ? String(error.code) : "unreadable";
    throw new ConfigError(path, [`cannot read the file (${code})`]);
  }
  return parseConfig(text, env, path);
}
