// The whole YAML config as one zod schema; the types the rest of limitrate
// uses are inferred from it. Objects are strict: an unknown key is an error.
import { z } from "zod";
import {
  blankAsAbsent,
  httpUrl,
  intAtLeast,
  headerName,
  headerValue,
  nonEmpty,
  nonNegative,
  optionalSecret,
  positive,
  positiveInt,
  redisUrl,
  section,
  whenValid,
} from "./fields.ts";
import { groupPolicySchema, keyPolicySchema, rateLimitSchema } from "./rate-limit-schema.ts";

export {
  keyModes,
  keyPolicySchema,
  rateLimitModes,
  rateLimitSchema,
  type KeyMode,
  type KeyPolicy,
  type RateLimit,
  type RateLimitMode,
} from "./rate-limit-schema.ts";

const serverSchema = z.strictObject({
  host: nonEmpty().default("127.0.0.1"),
  port: intAtLeast(0, 65535).default(8080),
  /** one bearer token every client must send; unset = open */
  auth_token: optionalSecret(),
  /** guards /admin/* and /metrics; unset = open */
  admin_token: optionalSecret(),
  /** bytes; larger request bodies get 413 */
  max_body_bytes: positiveInt().default(10_485_760),
});

export const storeFailureModes = ["local", "reject"] as const;

const storeSchema = z
  .strictObject({
    /** standalone Redis; absent (and no cluster) = in-process store */
    redis: blankAsAbsent(redisUrl()),
    /** Redis Cluster seed nodes */
    redis_cluster: z.array(redisUrl()).min(1).optional(),
    /** prefix of every Redis key */
    prefix: nonEmpty().default("limitrate"),
    /** Redis down: local = fall back to in-process limits, reject = 503 */
    on_failure: z.enum(storeFailureModes).default("local"),
    /** milliseconds per Redis call before it counts as a failure */
    timeout_ms: positive().default(250),
  })
  .superRefine(
    (store, ctx) => {
      if (store.redis !== undefined && store.redis_cluster !== undefined) {
        ctx.addIssue({
          code: "custom",
          path: ["redis_cluster"],
          message: "cannot be combined with store.redis (choose one)",
        });
      }
    },
    { when: whenValid("redis", "redis_cluster") },
  );

const defaultsSchema = z.strictObject({
  /** output tokens reserved when a request gives no max_tokens */
  default_output_tokens: positiveInt().default(4096),
});

const modelObjectSchema = z.strictObject(
  {
    name: nonEmpty(),
    /** the model's own limits, on top of its provider's */
    rate_limit: rateLimitSchema.optional(),
  },
  {
    error: (issue) =>
      issue.code === "invalid_type" ? "must be a model name or { name, rate_limit }" : undefined,
  },
);

/** A model entry: "name" or { name, rate_limit }; always an object in the output. */
const modelSchema = z.preprocess((v) => (typeof v === "string" ? { name: v } : v), modelObjectSchema);

/** Reports each repeated name at the later entry's path. */
function flagDuplicates(
  names: readonly (string | undefined)[],
  ctx: z.core.$RefinementCtx,
  pathOf: (index: number) => PropertyKey[],
  what: string,
  where: (index: number) => string,
): void {
  const first = new Map<string, number>();
  names.forEach((name, i) => {
    if (name === undefined) return;
    const seen = first.get(name);
    if (seen === undefined) first.set(name, i);
    else {
      const message = `duplicate ${what} "${name}" (first used at ${where(seen)})`;
      ctx.addIssue({ code: "custom", path: pathOf(i), message });
    }
  });
}

// Uniqueness rules run even when entries have other problems (so all are
// reported at once); the value is then only known to be an array.
const isArray = (payload: z.core.ParsePayload): boolean => Array.isArray(payload.value);

/** Reads `name` from entries that may have failed to parse (rules run despite unrelated problems). */
function nameOf(entry: unknown): string | undefined {
  if (typeof entry !== "object" || entry === null || !("name" in entry)) return undefined;
  return typeof entry.name === "string" && entry.name !== "" ? entry.name : undefined;
}

const providerSchema = z.strictObject({
  /** unique; clients force it with "name/model" */
  name: nonEmpty().refine((s) => !s.includes("/"), { error: 'must not contain "/"' }),
  /** the OpenAI-compatible API root, e.g. https://api.openai.com/v1 */
  base_url: httpUrl(),
  /** sent upstream as "Authorization: Bearer ..." */
  api_key: optionalSecret(),
  models: z
    .array(modelSchema)
    .min(1)
    .superRefine(
      (models, ctx) => flagDuplicates(models.map(nameOf), ctx, (i) => [i], "model", (i) => `models[${i}]`),
      { when: isArray },
    ),
  /** extra headers sent upstream */
  headers: z.record(headerName(), headerValue()).optional(),
  /** seconds per upstream request */
  timeout_seconds: positive().default(300),
  /** auto: limitrate's own HTTP/1.1 client for http:// upstreams, fetch for https:// (or behind an HTTP proxy); fetch: always fetch */
  upstream_client: z.enum(["auto", "fetch"]).default("auto"),
  rate_limit: rateLimitSchema.prefault({}),
});

const keysSchema = z
  .record(
    z.string().min(1, { error: "client key must not be empty" }),
    // `my-key:` with nothing under it = a key with no limits
    z.preprocess((v) => (v === null ? {} : v), keyPolicySchema),
  )
  .superRefine(
    (keys, ctx) => {
      const entries = Object.entries(keys);
      const pathOf = (i: number) => [entries[i]?.[0] ?? "", "name"];
      flagDuplicates(entries.map(([, p]) => nameOf(p)), ctx, pathOf, "key name", (i) => `keys[#${i}]`);
    },
    { when: (payload) => typeof payload.value === "object" && payload.value !== null },
  );

const providersSchema = z
  .array(providerSchema)
  .min(1)
  .superRefine(
    (providers, ctx) =>
      flagDuplicates(providers.map(nameOf), ctx, (i) => [i, "name"], "provider name", (i) => `providers[${i}]`),
    { when: isArray },
  );

const groupsSchema = z.record(
  nonEmpty(),
  z.preprocess((v) => (v === null ? {} : v), groupPolicySchema),
);

/** USD per 1M tokens for a model; overrides the built-in table. */
const priceSchema = z.strictObject({
  input_usd_per_1m: nonNegative(),
  output_usd_per_1m: nonNegative(),
});

export const routingStrategies = ["first", "earliest_slot"] as const;

const routeSchema = z.strictObject({
  /** first: the first listed provider; earliest_slot: the one whose next free slot comes first */
  strategy: z.enum(routingStrategies).default("first"),
  /** candidate providers, in order of preference */
  providers: z.array(nonEmpty()).min(1),
});

const configShape = z.strictObject({
  server: section(serverSchema.prefault({})),
  store: section(storeSchema.prefault({})),
  defaults: section(defaultsSchema.prefault({})),
  /** client API key → its limits; absent = no per-key limits */
  keys: section(keysSchema.optional()).optional(),
  /** a model served by several providers goes to the first listed */
  providers: providersSchema,
  /** limits shared by several keys (teams) */
  groups: section(groupsSchema.optional()).optional(),
  /** model → USD per 1M tokens */
  pricing: section(z.record(nonEmpty(), priceSchema).optional()).optional(),
  /** model → how to pick among the providers that serve it */
  routing: section(z.record(nonEmpty(), routeSchema).optional()).optional(),
});

export const configSchema = configShape
  .superRefine(checkKeyModels, { when: whenValid("keys", "providers") })
  .superRefine(checkReferences, { when: whenValid("keys", "providers", "groups", "routing") });

/** Names that refer to other parts of the config must exist there. */
function checkReferences(config: z.output<typeof configShape>, ctx: z.core.$RefinementCtx): void {
  const groups = new Set(Object.keys(config.groups ?? {}));
  for (const [key, policy] of Object.entries(config.keys ?? {})) {
    if (policy.group !== undefined && !groups.has(policy.group)) {
      ctx.addIssue({ code: "custom", path: ["keys", key, "group"], message: `no group "${policy.group}" under groups` });
    }
  }
  const byName = new Map(config.providers.map((p) => [p.name, new Set(p.models.map((m) => m.name))]));
  for (const [model, route] of Object.entries(config.routing ?? {})) {
    route.providers.forEach((name, i) => {
      const models = byName.get(name);
      if (!models) ctx.addIssue({ code: "custom", path: ["routing", model, "providers", i], message: `no provider "${name}"` });
      else if (!models.has(model)) {
        ctx.addIssue({ code: "custom", path: ["routing", model, "providers", i], message: `provider "${name}" does not serve "${model}"` });
      }
    });
  }
}

/** A key's `models` must name a model some provider serves (or "provider/..."), to catch typos at start-up. */
function checkKeyModels(config: z.output<typeof configShape>, ctx: z.core.$RefinementCtx): void {
  const served = new Set(config.providers.flatMap((p) => p.models.map((m) => m.name)));
  const providers = new Set(config.providers.map((p) => p.name));
  for (const [key, policy] of Object.entries(config.keys ?? {})) {
    const listed = Array.isArray(policy.models) ? policy.models : Object.keys(policy.models ?? {});
    listed.forEach((model, i) => {
      if (served.has(model)) return;
      const slash = model.indexOf("/");
      if (slash > 0 && providers.has(model.slice(0, slash))) return;
      ctx.addIssue({
        code: "custom",
        path: ["keys", key, "models", Array.isArray(policy.models) ? i : model],
        message: `no provider serves model "${model}"`,
      });
    });
  }
}

export type Config = z.output<typeof configSchema>;
export type ServerConfig = Config["server"];
export type StoreConfig = Config["store"];
export type DefaultsConfig = Config["defaults"];
export type ProviderConfig = Config["providers"][number];
export type ModelConfig = ProviderConfig["models"][number];
export type RouteConfig = NonNullable<Config["routing"]>[string];
