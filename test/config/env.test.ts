import { describe, expect, test } from "bun:test";
import { expandEnv, parseConfig } from "../../src/config/load.ts";
import { PROVIDER, problemsOf } from "./helpers.ts";

describe("expandEnv", () => {
  test("replaces a set variable", () => {
    expect(expandEnv("Bearer ${TOKEN}", { TOKEN: "abc" })).toEqual({ text: "Bearer abc", missing: [], malformed: [] });
  });

  test("reports an unset variable without a default, once", () => {
    const r = expandEnv("${A}-${B}-${A}", { B: "b" });
    expect(r.missing).toEqual(["A"]);
    expect(r.text).toBe("-b-");
  });

  test("a set but empty variable is used as is", () => {
    expect(expandEnv("[${A}]", { A: "" })).toMatchObject({ text: "[]", missing: [] });
  });

  test("default applies when unset or empty, not when set", () => {
    expect(expandEnv("${A:-x}", {}).text).toBe("x");
    expect(expandEnv("${A:-x}", { A: "" }).text).toBe("x");
    expect(expandEnv("${A:-x}", { A: "y" }).text).toBe("y");
    expect(expandEnv("${A:-}", {})).toMatchObject({ text: "", missing: [] });
    expect(expandEnv("${A:-a:b c}", {}).text).toBe("a:b c");
  });

  test("$${ is a literal ${ and a lone $ is kept", () => {
    expect(expandEnv("$${HOME} costs $5 pa$$word", { HOME: "/root" })).toMatchObject({
      text: "${HOME} costs $5 pa$$word",
      missing: [],
    });
  });

  test("malformed references are reported and kept as written", () => {
    const unterminated = expandEnv("x ${OOPS", {});
    expect(unterminated.text).toBe("x ${OOPS");
    expect(unterminated.malformed).toHaveLength(1);
    const badName = expandEnv("${not valid}", {});
    expect(badName.text).toBe("${not valid}");
    expect(badName.malformed[0]).toContain("invalid ${...} reference");
  });
});

describe("expansion inside the config", () => {
  test("values with quotes, colons and newlines cannot break the YAML", () => {
    const tricky = `sk-"quoted": {x}\n- not: a list`;
    const config = parseConfig(`${PROVIDER}    api_key: \${KEY}\n`, { KEY: tricky });
    expect(config.providers[0]?.api_key).toBe(tricky);
  });

  test("numbers and booleans from variables become numbers and booleans", () => {
    const config = parseConfig(
      `server:\n  port: \${PORT:-9000}\n${PROVIDER}    rate_limit: { rpm: "\${RPM}", retry_upstream_429: "\${RETRY}" }\n`,
      { RPM: "30", RETRY: "false" },
    );
    expect(config.server.port).toBe(9000);
    expect(config.providers[0]?.rate_limit.rpm).toBe(30);
    expect(config.providers[0]?.rate_limit.retry_upstream_429).toBe(false);
  });

  test("a numeric secret stays a string with its leading zeros", () => {
    const config = parseConfig(`${PROVIDER}    api_key: \${KEY}\n`, { KEY: "000123" });
    expect(config.providers[0]?.api_key).toBe("000123");
  });

  test("an empty default means the optional secret is not set", () => {
    const config = parseConfig(`server:\n  auth_token: \${TOKEN:-}\n${PROVIDER}`, {});
    expect(config.server.auth_token).toBeUndefined();
  });

  test("each missing variable is reported with its path, without follow-on noise", () => {
    const problems = problemsOf(
      `server:\n  port: \${PORT}\n${PROVIDER}    api_key: \${OPENAI_API_KEY}\n`,
      {},
    );
    expect(problems).toEqual([
      "server.port: environment variable PORT is not set",
      "providers[0].api_key: environment variable OPENAI_API_KEY is not set",
    ]);
  });

  test("client keys may come from the environment; a missing one is reported by position", () => {
    const text = `keys:\n  "\${TEAM_KEY}": { rpm: 5 }\n  "\${OTHER_KEY}": { rpm: 5 }\n${PROVIDER}`;
    const config = parseConfig(text, { TEAM_KEY: "sk-team-secret", OTHER_KEY: "sk-other-secret" });
    expect(Object.keys(config.keys ?? {})).toEqual(["sk-team-secret", "sk-other-secret"]);
    expect(problemsOf(text, { TEAM_KEY: "sk-team-secret" })).toEqual([
      "keys[#1]: environment variable OTHER_KEY is not set",
    ]);
  });

  test("two keys that only collide after expansion are an error", () => {
    const text = `keys:\n  "\${A}": {}\n  "\${B}": {}\n${PROVIDER}`;
    expect(problemsOf(text, { A: "same-client-key", B: "same-client-key" })).toEqual([
      "keys[#0]: duplicate key after expanding variables",
    ]);
  });

  test("an anchored value is expanded once and shared by its aliases", () => {
    const text = `${PROVIDER}    api_key: &k \${KEY}\n  - name: q\n    base_url: http://q.test\n    models: [n]\n    api_key: *k\n`;
    const config = parseConfig(text, { KEY: "sk-shared-secret-1" });
    expect(config.providers.map((p) => p.api_key)).toEqual(["sk-shared-secret-1", "sk-shared-secret-1"]);
  });

  test("an unquoted reference inside { } gets a hint to quote it", () => {
    const problems = problemsOf(`server: { port: \${PORT} }\n${PROVIDER}`, { PORT: "1" });
    expect(problems.at(-1)).toBe('hint: inside { } or [ ], quote values that use variables: "${VAR}"');
    expect(problems.length).toBeLessThanOrEqual(7);
  });

  test("a comment mentioning ${VAR} is not expanded", () => {
    expect(() => parseConfig(`# uses \${NOT_SET}\n${PROVIDER}`, {})).not.toThrow();
  });
});
