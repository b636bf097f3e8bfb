import { describe, expect, test } from "bun:test";
import { parseConfig } from "../../src/config/load.ts";
import { configSchema, type Config, type ModelConfig } from "../../src/config/schema.ts";
import { PROVIDER, problemsOf } from "./helpers.ts";

/** A config with one provider whose rate_limit is `rateLimit` (flow YAML). */
const withRateLimit = (rateLimit: string) => `${PROVIDER}    rate_limit: ${rateLimit}\n`;

describe("defaults", () => {
  test("a minimal config gets every default", () => {
    const config = parseConfig(PROVIDER, {});
    expect(config.server).toEqual({ host: "127.0.0.1", port: 8080, max_body_bytes: 10_485_760 });
    expect(config.store).toMatchObject({ prefix: "limitrate", on_failure: "local", timeout_ms: 250 });
    expect(config.store.redis).toBeUndefined();
    expect(config.defaults).toEqual({ default_output_tokens: 4096 });
    expect(config.keys).toBeUndefined();
    expect(config.providers[0]).toEqual({
      name: "p",
      base_url: "http://upstream.test/v1",
      models: [{ name: "m" }],
      timeout_seconds: 300,
      upstream_client: "auto",
      rate_limit: {
        mode: "spaced",
        max_wait_seconds: null,
        max_concurrent: null,
        retry_upstream_429: true,
        max_upstream_retries: 5,
        upstream_retry_backoff_seconds: 1,
      },
    });
  });

  test("empty sections (a key with nothing under it) take the defaults", () => {
    const config = parseConfig(`server:\nstore:\ndefaults:\nkeys:\n${PROVIDER}`, {});
    expect(config.server.port).toBe(8080);
    expect(config.store.on_failure).toBe("local");
    expect(config.defaults.default_output_tokens).toBe(4096);
    expect(config.keys).toBeUndefined();
  });

  test("client keys default to reject, and a bare key has no limits", () => {
    const config = parseConfig(`keys:\n  bare-client-key:\n  limited-key: { rpm: 5 }\n${PROVIDER}`, {});
    const keyDefaults = { mode: "reject" as const, max_wait_seconds: null, weight: 1, priority: 0, allow_priority_header: false, max_concurrent: null, max_queued: null };
    expect(config.keys?.["bare-client-key"]).toEqual(keyDefaults);
    expect(config.keys?.["limited-key"]).toEqual({ rpm: 5, ...keyDefaults });
  });

  test("base_url loses trailing slashes; empty redis means in-process", () => {
    const config = parseConfig(`store: { redis: "" }\n${PROVIDER.replace("/v1", "/v1//")}`, {});
    expect(config.providers[0]?.base_url).toBe("http://upstream.test/v1");
    expect(config.store.redis).toBeUndefined();
  });
});

describe("models", () => {
  test("strings and objects are normalised to { name, rate_limit? } with defaults filled", () => {
    const config = parseConfig(
      `providers:\n  - name: p\n    base_url: https://x.test\n    models: [a, { name: b }, { name: c, rate_limit: { rpm: 10 } }]\n`,
      {},
    );
    const models: ModelConfig[] = config.providers[0]?.models ?? [];
    expect(models[0]).toEqual({ name: "a" });
    expect(models[1]).toEqual({ name: "b" });
    expect(models[2]?.rate_limit).toMatchObject({ mode: "spaced", rpm: 10, max_wait_seconds: null });
  });

  test("duplicate model names are reported at the repeated entry", () => {
    const problems = problemsOf(`providers:\n  - name: p\n    base_url: http://x.test\n    models: [a, b, { name: a }]\n`);
    expect(problems).toEqual(['providers[0].models[2]: duplicate model "a" (first used at models[0])']);
  });

  test("a model entry of the wrong kind", () => {
    expect(problemsOf(`providers:\n  - name: p\n    base_url: http://x.test\n    models: [a, 5]\n`)).toEqual([
      "providers[0].models[1]: must be a model name or { name, rate_limit }",
    ]);
  });
});

describe("validation errors carry their path", () => {
  const cases: [string, string, string][] = [
    ["number not > 0", withRateLimit("{ rpm: 0 }"), "providers[0].rate_limit.rpm: must be > 0"],
    ["negative wait", withRateLimit("{ max_wait_seconds: -1 }"), "providers[0].rate_limit.max_wait_seconds: must be >= 0"],
    ["integer", withRateLimit("{ max_concurrent: 1.5 }"), "providers[0].rate_limit.max_concurrent: must be an integer"],
    ["wrong type", withRateLimit("{ rpm: fast }"), "providers[0].rate_limit.rpm: must be a number (got a string)"],
    ["boolean", withRateLimit("{ retry_upstream_429: yes }"), "providers[0].rate_limit.retry_upstream_429: must be true or false (got a string)"],
    ["enum", withRateLimit("{ mode: fast }"), "providers[0].rate_limit.mode: must be one of spaced, burst, window, adaptive"],
    ["port range", `server: { port: 65536 }\n${PROVIDER}`, "server.port: must be <= 65535"],
    ["required", "providers:\n  - name: p\n    models: [m]\n", "providers[0].base_url: required"],
    ["url", "providers:\n  - name: p\n    base_url: ftp://x\n    models: [m]\n", "providers[0].base_url: must be an http:// or https:// URL"],
    ["slash in name", "providers:\n  - name: a/b\n    base_url: http://x\n    models: [m]\n", 'providers[0].name: must not contain "/"'],
    ["no providers", "providers: []\n", "providers: must not be empty (list at least one)"],
    ["providers absent", "server: {}\n", "providers: required"],
    ["no models", "providers:\n  - name: p\n    base_url: http://x\n    models: []\n", "providers[0].models: must not be empty (list at least one)"],
    ["section type", `server: [1]\n${PROVIDER}`, "server: must be a mapping (key: value) (got a list)"],
    ["redis url", `store: { redis: "http://r" }\n${PROVIDER}`, "store.redis: must be a redis:// or rediss:// URL"],
    ["on_failure", `store: { on_failure: crash }\n${PROVIDER}`, "store.on_failure: must be one of local, reject"],
    ["empty cluster", `store: { redis_cluster: [] }\n${PROVIDER}`, "store.redis_cluster: must not be empty (list at least one)"],
    ["redis and cluster", `store: { redis: "redis://a", redis_cluster: ["redis://b"] }\n${PROVIDER}`, "store.redis_cluster: cannot be combined with store.redis (choose one)"],
    ["output estimate", `defaults: { default_output_tokens: 0 }\n${PROVIDER}`, "defaults.default_output_tokens: must be > 0"],
    ["header value", `${PROVIDER}    headers: { X-A: 1 }\n`, "providers[0].headers.X-A: must be a string (got an integer)"],
    ["header injection", `${PROVIDER}    headers: { X-A: "a\\r\\nX-Evil: 1" }\n`, "providers[0].headers.X-A: must not contain line breaks or NUL"],
    ["header name", `${PROVIDER}    headers: { "X A": b }\n`, "providers[0].headers[\"X A\"]: must be a header name (letters, digits and !#$%&'*+-.^_`|~, no spaces)"],
    ["upstream_client", `${PROVIDER}    upstream_client: native\n`, "providers[0].upstream_client: must be one of auto, fetch"],
    ["timeout", `${PROVIDER}    timeout_seconds: 0\n`, "providers[0].timeout_seconds: must be > 0"],
    ["retries", withRateLimit("{ max_upstream_retries: -1 }"), "providers[0].rate_limit.max_upstream_retries: must be >= 0"],
    ["backoff", withRateLimit("{ upstream_retry_backoff_seconds: 0 }"), "providers[0].rate_limit.upstream_retry_backoff_seconds: must be > 0"],
    ["key mode", `keys: { k1: { mode: wait } }\n${PROVIDER}`, "keys[#0].mode: must be one of reject, queue"],
    ["key models type", `keys: { k1: { models: gpt-4o } }\n${PROVIDER}`, "keys[#0].models: must be a list of models or a map of model → limits"],
  ];
  for (const [name, text, expected] of cases) {
    test(name, () => expect(problemsOf(text)).toEqual([expected]));
  }
});

describe("cross-field rules", () => {
  const rl = (text: string) => problemsOf(withRateLimit(text));

  test("burst needs capacity and a refill rate", () => {
    expect(rl("{ mode: burst }")).toEqual([
      "providers[0].rate_limit.capacity: required for mode burst",
      "providers[0].rate_limit.rpm: mode burst needs rpm or interval_seconds (the refill rate)",
    ]);
    expect(() => parseConfig(withRateLimit("{ mode: burst, capacity: 5, interval_seconds: 2 }"), {})).not.toThrow();
  });

  test("capacity is only for burst", () => {
    expect(rl("{ capacity: 3, rpm: 5 }")).toEqual([
      "providers[0].rate_limit.capacity: only used with mode burst (mode is spaced)",
    ]);
  });

  test("capacity must be a whole number >= 1", () => {
    expect(rl("{ mode: burst, capacity: 0, rpm: 1 }")).toEqual(["providers[0].rate_limit.capacity: must be >= 1"]);
  });

  test("window needs some limit and no interval", () => {
    expect(rl("{ mode: window, interval_seconds: 1 }")).toEqual([
      "providers[0].rate_limit.interval_seconds: only used with mode spaced or burst",
      "providers[0].rate_limit.rpm: mode window needs at least one of rpm, rpd, input_tpm, output_tpm, tpm, tpd",
    ]);
    expect(() => parseConfig(withRateLimit("{ mode: window, tpm: 1000 }"), {})).not.toThrow();
  });

  test("spaced without rpm or interval is allowed (unpaced)", () => {
    expect(parseConfig(withRateLimit("{ mode: spaced }"), {}).providers[0]?.rate_limit.rpm).toBeUndefined();
  });

  test("a key's max_wait_seconds needs mode queue", () => {
    expect(problemsOf(`keys: { k1: { max_wait_seconds: 5 } }\n${PROVIDER}`)).toEqual([
      "keys[#0].max_wait_seconds: only used with mode queue",
    ]);
  });

  test("provider names are unique", () => {
    const text = `${PROVIDER}  - name: p\n    base_url: http://y.test\n    models: [n]\n`;
    expect(problemsOf(text)).toEqual(['providers[1].name: duplicate provider name "p" (first used at providers[0])']);
  });

  test("a key's models must be served by some provider", () => {
    const text = `keys:\n  k1: { models: [m, p/anything, q/m, gpt-5] }\n${PROVIDER}`;
    expect(problemsOf(text)).toEqual([
      'keys[#0].models[2]: no provider serves model "q/m"',
      'keys[#0].models[3]: no provider serves model "gpt-5"',
    ]);
  });

  test("the key-models rule still runs when another section has problems", () => {
    const text = `server: { port: abc }\nkeys:\n  k1: { models: [gpt-5] }\n${PROVIDER}`;
    expect(problemsOf(text)).toEqual([
      "server.port: must be a number (got a string)",
      'keys[#0].models[0]: no provider serves model "gpt-5"',
    ]);
  });

  test("an empty client key is an error", () => {
    expect(problemsOf(`keys: { "": { rpm: 1 } }\n${PROVIDER}`)).toEqual(["keys[#0]: client key must not be empty"]);
  });

  test("two keys with the same name are an error, shown by position", () => {
    const text = `keys:\n  k1: { name: bob }\n  k2: { name: bob }\n${PROVIDER}`;
    expect(problemsOf(text)).toEqual(['keys[#1].name: duplicate key name "bob" (first used at keys[#0])']);
  });
});

describe("unknown keys", () => {
  test("are errors with a did-you-mean", () => {
    expect(problemsOf(withRateLimit("{ rpn: 5 }"))).toEqual([
      'providers[0].rate_limit: unknown key "rpn" (did you mean "rpm"?)',
    ]);
    expect(problemsOf(`server: { prot: 1 }\n${PROVIDER}`)).toEqual(['server: unknown key "prot" (did you mean "port"?)']);
    expect(problemsOf(`serevr: {}\n${PROVIDER}`)).toEqual(['unknown key "serevr" (did you mean "server"?)']);
    expect(problemsOf(withRateLimit("{ max-wait-seconds: 5 }"))).toEqual([
      'providers[0].rate_limit: unknown key "max-wait-seconds" (did you mean "max_wait_seconds"?)',
    ]);
  });

  test("a field one level too high is pointed to its section", () => {
    expect(problemsOf(`${PROVIDER}    rpm: 5\n`)).toEqual([
      'providers[0]: unknown key "rpm" (did you mean "rate_limit.rpm"?)',
    ]);
  });

  test("with nothing close, the allowed keys are listed", () => {
    expect(problemsOf(`store: { colour: blue }\n${PROVIDER}`)).toEqual([
      'store: unknown key "colour"; allowed: redis, redis_cluster, prefix, on_failure, timeout_ms',
    ]);
  });

  test("an unknown key does not hide a rule violation in the same object", () => {
    expect(problemsOf(withRateLimit("{ mode: burst, rpn: 5, interval_seconds: 1 }"))).toEqual([
      'providers[0].rate_limit: unknown key "rpn" (did you mean "rpm"?)',
      "providers[0].rate_limit.capacity: required for mode burst",
    ]);
  });

  test("each unknown key is its own problem", () => {
    expect(problemsOf(`server: { prot: 1, hots: x }\n${PROVIDER}`)).toEqual([
      'server: unknown key "prot" (did you mean "port"?)',
      'server: unknown key "hots" (did you mean "host"?)',
    ]);
  });
});

test("every problem is reported at once, across sections and alongside rule violations", () => {
  const text = `
server: { port: 70000, max_body_bytes: 0, extra: 1 }
store: { on_failure: maybe }
keys:
  client-key-one: { rpn: 20, rpm: -5 }
providers:
  - name: a
    base_url: nope
    models: [m, m]
    rate_limit: { mode: burst, max_concurrent: 2.5 }
  - name: a
    base_url: http://x.test
    models: [n]
    rate_limit: { mode: window, capacity: 2 }
`;
  expect(problemsOf(text)).toEqual([
    "server.port: must be <= 65535",
    "server.max_body_bytes: must be > 0",
    'server: unknown key "extra"; allowed: host, port, auth_token, admin_token, max_body_bytes',
    "store.on_failure: must be one of local, reject",
    "keys[#0].rpm: must be > 0",
    'keys[#0]: unknown key "rpn" (did you mean "rpm"?)',
    "providers[0].base_url: must be an http:// or https:// URL",
    'providers[0].models[1]: duplicate model "m" (first used at models[0])',
    "providers[0].rate_limit.max_concurrent: must be an integer",
    "providers[0].rate_limit.capacity: required for mode burst",
    "providers[0].rate_limit.rpm: mode burst needs rpm or interval_seconds (the refill rate)",
    "providers[1].rate_limit.capacity: only used with mode burst (mode is window)",
    "providers[1].rate_limit.rpm: mode window needs at least one of rpm, rpd, input_tpm, output_tpm, tpm, tpd",
    'providers[1].name: duplicate provider name "a" (first used at providers[0])',
  ]);
});

test("the inferred Config type has optional keys where the YAML may omit them", () => {
  // Compile-time check (tsc): only always-present fields are required here.
  const minimal: Config = {
    server: { host: "127.0.0.1", port: 8080, max_body_bytes: 1 },
    store: { prefix: "limitrate", on_failure: "local", timeout_ms: 250 },
    defaults: { default_output_tokens: 4096 },
    providers: [
      {
        name: "p",
        base_url: "http://x.test",
        models: [{ name: "m" }],
        timeout_seconds: 300,
        upstream_client: "auto",
        rate_limit: {
          mode: "spaced",
          max_wait_seconds: null,
          max_concurrent: null,
          retry_upstream_429: true,
          max_upstream_retries: 5,
          upstream_retry_backoff_seconds: 1,
        },
      },
    ],
  };
  expect(configSchema.parse(minimal)).toEqual(minimal);
});
