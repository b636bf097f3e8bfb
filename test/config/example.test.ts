// config.example.yaml documents every field; it must stay a valid config.
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseConfig } from "../../src/config/load.ts";
import { describePlan } from "../../src/config/plan.ts";
import { configSchema } from "../../src/config/schema.ts";
import { problemsOf } from "./helpers.ts";

const text = readFileSync(join(import.meta.dir, "../../config.example.yaml"), "utf8");
const env = { OPENAI_API_KEY: "sk-example-openai-0001", DEEPSEEK_API_KEY: "sk-example-deepseek-0002" };

test("config.example.yaml parses with its required variables set", () => {
  const config = parseConfig(text, env, "config.example.yaml");
  expect(config.providers.map((p) => p.name)).toEqual(["openai", "deepseek", "ollama"]);
  expect(config.providers[0]?.api_key).toBe(env.OPENAI_API_KEY);
  expect(config.providers[0]?.headers).toEqual({ "OpenAI-Organization": "org-example" });
  expect(config.providers[1]?.rate_limit).toMatchObject({ mode: "burst", capacity: 10, interval_seconds: 2 });
  expect(config.keys?.["test-key-1"]).toMatchObject({ name: "alice", rpm: 20, mode: "reject" });
  expect(config.server.auth_token).toBeUndefined();
  expect(config.store.redis).toBeUndefined();
  expect(describePlan(config)).not.toContain(env.OPENAI_API_KEY);
});

test("optional variables in the example take effect when set", () => {
  const config = parseConfig(text, { ...env, LIMITRATE_TOKEN: "tok", LIMITRATE_REDIS: "redis://r.test:6379" });
  expect(config.server.auth_token).toBe("tok");
  expect(config.store.redis).toBe("redis://r.test:6379");
});

test("the example names its required variables when they are missing", () => {
  expect(problemsOf(text, {})).toEqual([
    "providers[0].api_key: environment variable OPENAI_API_KEY is not set",
    "providers[1].api_key: environment variable DEEPSEEK_API_KEY is not set",
  ]);
});

test("the example mentions every field of every section", () => {
  const rateLimitFields = Object.keys(configSchema.shape.providers.element.shape.rate_limit.unwrap().shape);
  const fields = [
    ...Object.keys(configSchema.shape),
    ...rateLimitFields,
    "host", "port", "auth_token", "admin_token", "max_body_bytes",
    "redis", "redis_cluster", "prefix", "on_failure", "timeout_ms",
    "default_output_tokens", "name", "mode", "models", "base_url", "api_key", "headers", "timeout_seconds",
  ];
  for (const field of fields) expect(text).toMatch(new RegExp(`\\b${field}:`));
});
