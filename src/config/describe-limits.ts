// Limits in human units ("spaced: 1 request every 2.00 s (30 rpm)"), for
// `limitrate check` and anything else that explains a policy to a person.
import type { KeyPolicy, RateLimit } from "./schema.ts";

/** 30000 → "30,000"; 0.5 → "0.5". */
export function formatCount(n: number): string {
  return n.toLocaleString("en-US", { maximumFractionDigits: 2 });
}

const seconds = (s: number): string => `${s.toFixed(2)} s`;

/** How requests are paced (spaced/burst) or counted (window). */
export function describePacing(rl: RateLimit): string {
  const rpmInterval = rl.rpm === undefined ? undefined : 60 / rl.rpm;
  switch (rl.mode) {
    case "spaced": {
      // The stricter of rpm and interval_seconds wins.
      const interval = Math.max(rpmInterval ?? 0, rl.interval_seconds ?? 0);
      if (interval === 0) return "spaced: unpaced (requests go out as they come)";
      const both = rl.rpm !== undefined && rl.interval_seconds !== undefined ? ", stricter of rpm and interval" : "";
      return `spaced: 1 request every ${seconds(interval)} (${formatCount(60 / interval)} rpm${both})`;
    }
    case "burst": {
      const interval = Math.max(rpmInterval ?? 0, rl.interval_seconds ?? 0);
      const refill = `${formatCount(60 / interval)} rpm (1 every ${seconds(interval)})`;
      return `burst: capacity ${rl.capacity ?? "?"}, refills ${refill}`;
    }
    case "window":
      return rl.rpm === undefined
        ? "window: no per-minute request limit"
        : `window: ${formatCount(rl.rpm)} requests per sliding minute`;
    case "adaptive": {
      const start = rl.rpm ?? 0;
      const min = rl.min_rpm ?? Math.max(1, start / 10);
      const max = rl.max_rpm ?? start * 4;
      return `adaptive: starts at ${formatCount(start)} rpm, learns the provider's rate from its 429s within ${formatCount(min)}–${formatCount(max)} rpm`;
    }
  }
}

type Dimensions = Pick<RateLimit, "rpm" | "input_tpm" | "output_tpm" | "tpm" | "rpd" | "tpd">;

const dimensionUnits: readonly [keyof Dimensions, string][] = [
  ["rpm", "requests/min"],
  ["input_tpm", "input tokens/min"],
  ["output_tpm", "output tokens/min"],
  ["tpm", "tokens/min"],
  ["rpd", "requests/day"],
  ["tpd", "tokens/day"],
];

/** "20 requests/min, 30,000 input tokens/min"; `skipRpm` when pacing already said it. */
export function describeDimensions(d: Dimensions, skipRpm = false): string[] {
  return dimensionUnits
    .filter(([field]) => d[field] !== undefined && !(skipRpm && field === "rpm"))
    .map(([field, unit]) => `${formatCount(d[field] ?? 0)} ${unit}`);
}

export function describeWait(maxWait: number | null): string {
  return maxWait === null ? "wait forever" : `wait up to ${formatCount(maxWait)} s`;
}

/** Labelled lines that explain one RateLimit (provider or model): pacing, limits, queue, retry. */
export function describeRateLimit(rl: RateLimit): [label: string, text: string][] {
  const tokens = describeDimensions(rl, true);
  const concurrent = rl.max_concurrent === null ? "unlimited in flight" : `at most ${rl.max_concurrent} in flight`;
  const backoff = formatCount(rl.upstream_retry_backoff_seconds);
  const retry = rl.retry_upstream_429
    ? `upstream 429/5xx retried up to ${rl.max_upstream_retries} times ` +
      `(honouring Retry-After, else backoff from ${backoff} s, doubling)`
    : "upstream 429/5xx passed to the client";
  const giveUp = rl.max_wait_seconds === null ? "" : " (then 503)";
  const lines: [string, string][] = [["pacing", describePacing(rl)]];
  if (tokens.length > 0) lines.push(["limits", tokens.join(", ")]);
  lines.push(["queue", `${describeWait(rl.max_wait_seconds)}${giveUp}, ${concurrent}`], ["retry", retry]);
  return lines;
}

/** One line for a client key's policy. */
export function describeKeyPolicy(policy: KeyPolicy): string {
  const limits = describeDimensions(policy);
  const over =
    policy.mode === "reject"
      ? "over limit: reject (429)"
      : `over limit: queue, ${describeWait(policy.max_wait_seconds)}`;
  const models =
    policy.models === undefined
      ? "all models"
      : Array.isArray(policy.models)
        ? `models: ${policy.models.join(", ")}`
        : `models: ${Object.entries(policy.models)
            .map(([m, l]) => {
              const d = describeDimensions(l);
              return d.length > 0 ? `${m} (${d.join(", ")})` : m;
            })
            .join(", ")}`;
  const extra = [
    policy.group !== undefined ? `group ${policy.group}` : null,
    policy.budget_usd_per_day !== undefined ? `$${policy.budget_usd_per_day}/day` : null,
    policy.budget_usd_per_month !== undefined ? `$${policy.budget_usd_per_month}/month` : null,
  ].filter((x): x is string => x !== null);
  return [limits.length > 0 ? limits.join(", ") : "no limits", over, models, ...extra].join(" · ");
}
