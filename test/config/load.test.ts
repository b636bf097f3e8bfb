import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, findConfigFile, loadConfigFile, parseConfig } from "../../src/config/load.ts";
import { PROVIDER, errorMessageOf, problemsOf } from "./helpers.ts";

describe("findConfigFile", () => {
  let root: string;
  let cwd: string;
  let home: string;
  const homeConfig = () => join(home, ".config", "limitrate", "config.yaml");

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), "limitrate-config-"));
    cwd = join(root, "project");
    home = join(root, "home");
    mkdirSync(cwd);
    mkdirSync(join(home, ".config", "limitrate"), { recursive: true });
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const touch = (path: string) => writeFileSync(path, PROVIDER);

  test("none found → null", () => {
    expect(findConfigFile({ env: {}, cwd, home })).toBeNull();
  });

  test("each place in order wins over the ones after it", () => {
    const explicit = join(root, "explicit.yaml");
    const fromEnv = join(root, "env.yaml");
    for (const path of [explicit, fromEnv, join(cwd, "limitrate.yaml"), join(cwd, "config.yaml"), homeConfig()]) {
      touch(path);
    }
    const env = { LIMITRATE_CONFIG: fromEnv };
    expect(findConfigFile({ explicit, env, cwd, home })).toBe(explicit);
    expect(findConfigFile({ env, cwd, home })).toBe(fromEnv);
    expect(findConfigFile({ env: {}, cwd, home })).toBe(join(cwd, "limitrate.yaml"));
    rmSync(join(cwd, "limitrate.yaml"));
    expect(findConfigFile({ env: {}, cwd, home })).toBe(join(cwd, "config.yaml"));
    rmSync(join(cwd, "config.yaml"));
    expect(findConfigFile({ env: {}, cwd, home })).toBe(homeConfig());
  });

  test("a relative -c path is resolved against cwd", () => {
    touch(join(cwd, "mine.yaml"));
    expect(findConfigFile({ explicit: "mine.yaml", env: {}, cwd, home })).toBe(join(cwd, "mine.yaml"));
  });

  test("a missing -c file is an error, not a fallback", () => {
    touch(join(cwd, "limitrate.yaml"));
    expect(() => findConfigFile({ explicit: "nope.yaml", env: {}, cwd, home })).toThrow(ConfigError);
    expect(() => findConfigFile({ explicit: "nope.yaml", env: {}, cwd, home })).toThrow(/-c: .*nope\.yaml does not exist/);
  });

  test("a missing $LIMITRATE_CONFIG file is an error; an empty one is ignored", () => {
    touch(join(cwd, "config.yaml"));
    expect(() => findConfigFile({ env: { LIMITRATE_CONFIG: join(root, "gone.yaml") }, cwd, home })).toThrow(
      /LIMITRATE_CONFIG/,
    );
    expect(findConfigFile({ env: { LIMITRATE_CONFIG: "" }, cwd, home })).toBe(join(cwd, "config.yaml"));
  });

  test("a directory is not a config file", () => {
    mkdirSync(join(cwd, "limitrate.yaml"));
    touch(join(cwd, "config.yaml"));
    expect(findConfigFile({ env: {}, cwd, home })).toBe(join(cwd, "config.yaml"));
  });

  test("loadConfigFile reads, expands and names the file in errors", () => {
    const path = join(root, "c.yaml");
    writeFileSync(path, `${PROVIDER}    api_key: \${K}\n`);
    expect(loadConfigFile(path, { K: "sk-from-env-0001" }).providers[0]?.api_key).toBe("sk-from-env-0001");
    expect(() => loadConfigFile(path, {})).toThrow(`invalid config ${path} (1 problem)`);
    expect(() => loadConfigFile(join(root, "absent.yaml"), {})).toThrow(/cannot read the file \(ENOENT\)/);
  });
});

describe("document-level errors", () => {
  test("an empty file", () => {
    expect(problemsOf("")).toEqual(["the file is empty; it needs at least a `providers:` list"]);
    expect(problemsOf("# only a comment\n")).toHaveLength(1);
  });

  test("a top level that is not a mapping", () => {
    expect(problemsOf("- a\n- b\n")[0]).toContain("top level must be a mapping");
    expect(problemsOf("just text\n")[0]).toContain("not a single value");
  });

  test("YAML syntax errors carry line and column, not the offending text", () => {
    const text = `providers:\n  - name: p\n    api_key: sk-secret-in-a-broken-line: [\n`;
    const message = errorMessageOf(text);
    expect(message).toMatch(/line 3, column \d+: /);
    expect(message).not.toContain("sk-secret-in-a-broken-line");
  });

  test("tokens quoted by the YAML parser are dropped from its messages", () => {
    const message = errorMessageOf("server: { port: 1 }\n}\nsk-secret-token-xyz: 1\n");
    expect(message).toContain("line 3, column 1: Unexpected scalar token in YAML stream");
    expect(message).not.toContain("sk-secret-token-xyz");
  });

  test("a cascade of syntax errors is cut to the first few", () => {
    const problems = problemsOf("a: [1,\n}\n}\n}\n}\n}\n}\n}\n");
    expect(problems.length).toBe(6);
    expect(problems.at(-1)).toMatch(/^\.\.\. and \d+ more$/);
  });

  test("duplicate keys in one mapping are a syntax error with their position", () => {
    const problems = problemsOf(`server:\n  port: 1\n  port: 2\n${PROVIDER}`);
    expect(problems).toEqual(["line 3, column 3: Map keys must be unique"]);
  });

  test("ConfigError lists all problems in its message", () => {
    try {
      parseConfig(`server: { port: -1, host: "" }\n${PROVIDER}`, {}, "x.yaml");
      throw new Error("not rejected");
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const e = error as ConfigError;
      expect(e.problems).toEqual(["server.host: must not be empty", "server.port: must be >= 0"]);
      expect(e.message).toBe(
        "invalid config x.yaml (2 problems):\n  - server.host: must not be empty\n  - server.port: must be >= 0",
      );
    }
  });
});
