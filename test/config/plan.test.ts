import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { parseConfig } from "../../src/config/load.ts";
import { describePlan, keyLabel, maskSecret, maskUrl } from "../../src/config/plan.ts";
import { PROVIDER, errorMessageOf } from "./helpers.ts";

const PROVIDER_KEY = "sk-proj-VERYSECRETprovider9876";
const CLIENT_KEY = "client-secret-key-abc123";
const AUTH_TOKEN = "gateway-token-do-not-print";
const ADMIN_TOKEN = "admin-token-do-not-print";
const REDIS_PASSWORD = "redis-pass-do-not-print";

const CONFIG = `
server:
  auth_token: ${AUTH_TOKEN}
  admin_token: ${ADMIN_TOKEN}
store:
  redis: redis://:${REDIS_PASSWORD}@cache.test:6379
keys:
  ${CLIENT_KEY}: { rpm: 20, input_tpm: 10000, output_tpm: 10000 }
  named-client-key-000: { name: alice, mode: queue, max_wait_seconds: 30, models: [gpt-4o] }
providers:
  - name: openai
    base_url: https://api.openai.com/v1
    api_key: \${OPENAI_API_KEY}
    headers: { X-Secret-Header: header-value-do-not-print }
    models: [gpt-4o-mini, { name: gpt-4o, rate_limit: { mode: window, rpm: 100, tpm: 30000 } }]
    rate_limit: { rpm: 30, input_tpm: 30000, max_concurrent: 4 }
  - name: local
    base_url: http://127.0.0.1:11434/v1
    models: [llama3]
    rate_limit: { mode: burst, capacity: 10, rpm: 60, max_wait_seconds: 5, retry_upstream_429: false }
  - name: fast
    base_url: http://fast.test
    models: [f]
`;

const plan = () => describePlan(parseConfig(CONFIG, { OPENAI_API_KEY: PROVIDER_KEY }));

describe("describePlan", () => {
  test("pacing in human units", () => {
    const text = plan();
    expect(text).toContain("spaced: 1 request every 2.00 s (30 rpm)");
    expect(text).toContain("burst: capacity 10, refills 60 rpm (1 every 1.00 s)");
    expect(text).toContain("window: 100 requests per sliding minute");
    expect(text).toContain("spaced: unpaced");
    expect(text).toContain("30,000 input tokens/min");
    expect(text).toContain("30,000 tokens/min");
  });

  test("server, store, queue, retry and timeout settings", () => {
    const text = plan();
    expect(text).toContain("http://127.0.0.1:8080");
    expect(text).toContain("client token set, admin token set");
    expect(text).toContain("10 MiB");
    expect(text).toContain("redis redis://:***@cache.test:6379");
    expect(text).toContain("if Redis fails: fall back to in-process limits");
    expect(text).toContain("wait forever, at most 4 in flight");
    expect(text).toContain("wait up to 5 s (then 503), unlimited in flight");
    expect(text).toContain("retried up to 5 times");
    expect(text).toContain("upstream 429/5xx passed to the client");
    expect(text).toContain("300 s per upstream request");
    expect(text).toContain("X-Secret-Header (values hidden)");
    expect(text).toContain("gpt-4o-mini, gpt-4o");
  });

  test("keys by name or short hash, with their limits", () => {
    const text = plan();
    const hash = createHash("sha256").update(CLIENT_KEY).digest("hex").slice(0, 8);
    expect(text).toMatch(new RegExp(`key:${hash} +20 requests/min, 10,000 input tokens/min, 10,000 output tokens/min`));
    expect(text).toContain("over limit: reject (429)");
    expect(text).toMatch(/alice +no limits · over limit: queue, wait up to 30 s · models: gpt-4o/);
  });

  test("an unset token and a missing api key read as such", () => {
    const text = describePlan(parseConfig(PROVIDER, {}));
    expect(text).toContain("client token not set (open), admin token not set (open)");
    expect(text).toMatch(/api key +none/);
    expect(text).toContain("in-process memory");
    expect(text).toContain("none: no per-key limits");
  });

  test("secrets never appear; the provider key shows only its last 4 characters", () => {
    const text = plan();
    expect(text).toContain("sk-…9876");
    for (const secret of [PROVIDER_KEY, CLIENT_KEY, "named-client-key-000", AUTH_TOKEN, ADMIN_TOKEN, REDIS_PASSWORD, "header-value-do-not-print"]) {
      expect(text).not.toContain(secret);
    }
  });

  test("colour is off by default and on when asked", () => {
    const config = parseConfig(CONFIG, { OPENAI_API_KEY: PROVIDER_KEY });
    expect(describePlan(config)).not.toContain("\u001b[");
    expect(describePlan(config, { color: true })).toContain("\u001b[");
  });
});

describe("secrets helpers", () => {
  test("maskSecret keeps a vendor prefix and the last 4 characters", () => {
    expect(maskSecret("sk-proj-abcdefghijkl1234")).toBe("sk-…1234");
    expect(maskSecret("nvapi-abcdefghijkl5678")).toBe("nvapi-…5678");
    expect(maskSecret("abcdefghijklmnop4321")).toBe("…4321");
    expect(maskSecret("short-key")).toBe("****");
  });

  test("keyLabel is the name, else key: and 8 hex of sha256", () => {
    expect(keyLabel("anything", "alice")).toBe("alice");
    expect(keyLabel("test-key-1")).toBe(
      `key:${createHash("sha256").update("test-key-1").digest("hex").slice(0, 8)}`,
    );
    expect(keyLabel("test-key-1", "")).toMatch(/^key:[0-9a-f]{8}$/);
    expect(keyLabel("test-key-1")).not.toBe(keyLabel("test-key-2"));
  });

  test("maskUrl hides only the password", () => {
    expect(maskUrl("rediss://user:pw@h:6380/0")).toBe("rediss://user:***@h:6380/0");
    expect(maskUrl("redis://h:6379")).toBe("redis://h:6379");
  });
});

describe("secrets in error messages", () => {
  test("client keys never appear in problem paths or messages", () => {
    const message = errorMessageOf(
      `keys:\n  ${CLIENT_KEY}: { rpn: 5, rpm: -1, models: [nope] }\n  client-key-two-xyz: { name: "" }\n${PROVIDER}`,
    );
    expect(message).toContain("keys[#0].rpm: must be > 0");
    expect(message).toContain("keys[#1].name: must not be empty");
    expect(message).not.toContain(CLIENT_KEY);
    expect(message).not.toContain("client-key-two-xyz");
  });

  test("a key with a name is shown by its name", () => {
    const message = errorMessageOf(`keys:\n  ${CLIENT_KEY}: { name: alice, rpm: 0 }\n${PROVIDER}`);
    expect(message).toContain("keys.alice.rpm: must be > 0");
    expect(message).not.toContain(CLIENT_KEY);
  });

  test("a client key pasted at the wrong level is masked in the unknown-key message", () => {
    const message = errorMessageOf(`${CLIENT_KEY}: { rpm: 5 }\n${PROVIDER}`);
    expect(message).toContain('unknown key "client-…c123"');
    expect(message).not.toContain(CLIENT_KEY);
  });

  test("invalid secret-bearing values are not echoed", () => {
    const message = errorMessageOf(
      `server: { auth_token: 12 }\nstore: { redis: "http://:${REDIS_PASSWORD}@h" }\n` +
        `providers:\n  - { name: p, models: [m], api_key: [${PROVIDER_KEY}], base_url: "ftp://${PROVIDER_KEY}" }\n`,
    );
    expect(message).toContain("server.auth_token: must be a string (got an integer)");
    expect(message).toContain("providers[0].api_key: must be a string (got a list)");
    expect(message).toContain("providers[0].base_url: must be an http:// or https:// URL");
    expect(message).toContain("store.redis: must be a redis:// or rediss:// URL");
    expect(message).not.toContain(REDIS_PASSWORD);
    expect(message).not.toContain(PROVIDER_KEY);
  });
});
