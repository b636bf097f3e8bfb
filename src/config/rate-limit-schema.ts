// The policy blocks: RateLimit (providers and models: shape outbound traffic)
// and KeyPolicy (client keys: limit inbound traffic). They share the limit
// dimensions so one limiter engine can serve both.
import { z } from "zod";
import { bool, intAtLeast, nonEmpty, nonNegative, number, positive, whenValid } from "./fields.ts";

/** Limit dimensions shared by every policy; each is optional (absent = unlimited). */
export const limitFields = {
  /** requests per minute */
  rpm: positive().optional(),
  /** prompt tokens per minute */
  input_tpm: positive().optional(),
  /** completion tokens per minute */
  output_tpm: positive().optional(),
  /** prompt + completion tokens per minute */
  tpm: positive().optional(),
  /** requests per day */
  rpd: positive().optional(),
  /** prompt + completion tokens per day */
  tpd: positive().optional(),
};

const windowDimensions = ["rpm", "rpd", "input_tpm", "output_tpm", "tpm", "tpd"] as const;

/** seconds; null = wait forever */
const maxWait = () => nonNegative().nullable().default(null);

export const rateLimitModes = ["spaced", "burst", "window", "adaptive"] as const;

export const rateLimitSchema = z
  .strictObject({
    /** spaced: one request every N s; burst: token bucket; window: sliding-minute counts */
    mode: z.enum(rateLimitModes).default("spaced"),
    ...limitFields,
    /** seconds between requests (spaced) or per refilled slot (burst) */
    interval_seconds: positive().optional(),
    /** bucket size in requests (burst only) */
    capacity: intAtLeast(1).optional(),
    /** adaptive: the learned rate stays between these, rpm (default rpm/10 and rpm×4) */
    min_rpm: positive().optional(),
    max_rpm: positive().optional(),
    /** adaptive: seconds between rate adjustments (and the least time between two cuts), default 10 */
    adjust_every_seconds: positive().optional(),
    max_wait_seconds: maxWait(),
    /** requests in flight at once; null = unlimited */
    max_concurrent: intAtLeast(1).nullable().default(null),
    retry_upstream_429: bool().default(true),
    max_upstream_retries: intAtLeast(0).default(5),
    /** seconds; first backoff when the upstream gives no Retry-After, doubled each retry */
    upstream_retry_backoff_seconds: positive().default(1),
  })
  .superRefine(
    (rl, ctx) => {
      const problem = (field: string, message: string) =>
        ctx.addIssue({ code: "custom", path: [field], message });
      if (rl.capacity !== undefined && rl.mode !== "burst") {
        problem("capacity", `only used with mode burst (mode is ${rl.mode})`);
      }
      if (rl.mode === "burst") {
        if (rl.capacity === undefined) problem("capacity", "required for mode burst");
        if (rl.rpm === undefined && rl.interval_seconds === undefined) {
          problem("rpm", "mode burst needs rpm or interval_seconds (the refill rate)");
        }
      }
      if (rl.mode === "adaptive" && rl.rpm === undefined) problem("rpm", "mode adaptive needs rpm (the starting rate)");
      if (rl.mode !== "adaptive") {
        if (rl.min_rpm !== undefined) problem("min_rpm", "only used with mode adaptive");
        if (rl.max_rpm !== undefined) problem("max_rpm", "only used with mode adaptive");
        if (rl.adjust_every_seconds !== undefined) problem("adjust_every_seconds", "only used with mode adaptive");
      } else if (rl.min_rpm !== undefined && rl.max_rpm !== undefined && rl.min_rpm > rl.max_rpm) {
        problem("min_rpm", "must be ≤ max_rpm");
      }
      if (rl.mode === "window") {
        if (rl.interval_seconds !== undefined) {
          problem("interval_seconds", "only used with mode spaced or burst");
        }
        if (!windowDimensions.some((d) => rl[d] !== undefined)) {
          problem("rpm", `mode window needs at least one of ${windowDimensions.join(", ")}`);
        }
      }
    },
    { when: whenValid("mode", "capacity", "interval_seconds", "min_rpm", "max_rpm", "adjust_every_seconds", ...windowDimensions) },
  );

export const keyModes = ["reject", "queue"] as const;

/** Money budgets (USD), priced from the pricing table at admission and settled on real usage. */
export const budgetFields = {
  /** USD per sliding 24 h */
  budget_usd_per_day: positive().optional(),
  /** USD per sliding 30 days */
  budget_usd_per_month: positive().optional(),
};

/** A group of keys (a team): limits all its keys share. */
export const groupPolicySchema = z.strictObject({
  ...limitFields,
  ...budgetFields,
});

/** Per-key limits on one model, on top of the key's own. */
const keyModelLimitsSchema = z.preprocess((v) => (v === null ? {} : v), z.strictObject({ ...limitFields }));

export const keyPolicySchema = z
  .strictObject({
    /** shown in stats, logs and error paths instead of the key itself */
    name: nonEmpty().optional(),
    ...limitFields,
    /** over limit: reject (429) or queue until the key has budget */
    mode: z.enum(keyModes).default("reject"),
    max_wait_seconds: maxWait(),
    /**
     * models this key may use ("model" or "provider/model"); absent = all.
     * A map gives each listed model its own limits for this key: { gpt-4o: { rpm: 5 } }.
     */
    models: z
      .union([z.array(nonEmpty()), z.record(nonEmpty(), keyModelLimitsSchema)], {
        error: "must be a list of models or a map of model → limits",
      })
      .optional(),
    /** a group (team) whose limits this key also counts against */
    group: nonEmpty().optional(),
    ...budgetFields,
    /** share of a busy provider line relative to other keys (fair queuing) */
    weight: positive().default(1),
    /** higher goes first in a provider's line */
    priority: number(z.number().int()).default(0),
    /** let requests lower (never raise) their priority with x-limitrate-priority */
    allow_priority_header: bool().default(false),
    /** requests of this key in flight at once; null = unlimited */
    max_concurrent: intAtLeast(1).nullable().default(null),
    /** requests of this key waiting in lines at once; beyond → 429 at once */
    max_queued: intAtLeast(0).nullable().default(null),
  })
  .superRefine(
    (key, ctx) => {
      if (key.mode === "reject" && key.max_wait_seconds !== null) {
        ctx.addIssue({ code: "custom", path: ["max_wait_seconds"], message: "only used with mode queue" });
      }
    },
    { when: whenValid("mode", "max_wait_seconds") },
  );

export type RateLimitMode = (typeof rateLimitModes)[number];
export type RateLimit = z.output<typeof rateLimitSchema>;
export type KeyMode = (typeof keyModes)[number];
export type KeyPolicy = z.output<typeof keyPolicySchema>;
export type GroupPolicy = z.output<typeof groupPolicySchema>;
