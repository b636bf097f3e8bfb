// The resolved plan printed by `limitrate check`: what the gateway will do
// with this config, in human units. Secrets are never printed: tokens show
// as set / not set, provider keys masked, client keys by name or short hash.
import { createColors } from "picocolors";
import { describeKeyPolicy, describeRateLimit, formatCount } from "./describe-limits.ts";
import type { Config, ProviderConfig } from "./schema.ts";
import { keyLabel, maskSecret, maskUrl } from "./secrets.ts";

export { keyLabel, maskSecret, maskUrl } from "./secrets.ts";

export interface PlanOptions {
  /** ANSI colours; default false (the CLI decides from the terminal) */
  color?: boolean;
}

type Colors = ReturnType<typeof createColors>;

function formatBytes(n: number): string {
  const units = ["bytes", "KiB", "MiB", "GiB"];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1 && value % 1024 === 0) {
    value /= 1024;
    unit += 1;
  }
  return `${formatCount(value)} ${units[unit]}`;
}

const LABEL_WIDTH = 10;

function row(c: Colors, indent: string, label: string, value: string): string {
  return `${indent}${c.dim(label.padEnd(LABEL_WIDTH))}${value}`;
}

function describeStore(config: Config): string[] {
  const s = config.store;
  const backend =
    s.redis !== undefined
      ? `redis ${maskUrl(s.redis)}`
      : s.redis_cluster !== undefined
        ? `redis cluster, ${s.redis_cluster.length} seed node(s): ${s.redis_cluster.map(maskUrl).join(", ")}`
        : "in-process memory (limits are per instance)";
  if (s.redis === undefined && s.redis_cluster === undefined) return [backend];
  const onFailure = s.on_failure === "local" ? "fall back to in-process limits" : "reject with 503";
  return [backend, `prefix "${s.prefix}", timeout ${formatCount(s.timeout_ms)} ms, if Redis fails: ${onFailure}`];
}

function describeProvider(p: ProviderConfig, c: Colors): string[] {
  const indent = "    ";
  const lines = [
    `  ${c.bold(p.name)}  ${p.base_url}`,
    row(c, indent, "api key", p.api_key === undefined ? "none" : maskSecret(p.api_key)),
    row(c, indent, "models", p.models.map((m) => m.name).join(", ")),
  ];
  for (const [label, text] of describeRateLimit(p.rate_limit)) lines.push(row(c, indent, label, text));
  lines.push(row(c, indent, "timeout", `${formatCount(p.timeout_seconds)} s per upstream request`));
  if (p.headers !== undefined && Object.keys(p.headers).length > 0) {
    // Header values are often credentials: names only.
    lines.push(row(c, indent, "headers", `${Object.keys(p.headers).join(", ")} (values hidden)`));
  }
  for (const model of p.models) {
    if (model.rate_limit === undefined) continue;
    lines.push(row(c, indent, "model", `${c.bold(model.name)} has its own limits:`));
    for (const [label, text] of describeRateLimit(model.rate_limit)) lines.push(row(c, `${indent}  `, label, text));
  }
  return lines;
}

/** The human-readable plan for `limitrate check`. */
export function describePlan(config: Config, opts: PlanOptions = {}): string {
  const c = createColors(opts.color ?? false);
  const { server } = config;
  const tokenState = (t: string | undefined) => (t === undefined ? "not set (open)" : "set");
  const auth = `client token ${tokenState(server.auth_token)}, admin token ${tokenState(server.admin_token)}`;
  const lines = [
    c.bold("server"),
    row(c, "  ", "listen", `http://${server.host}:${server.port}`),
    row(c, "  ", "auth", auth),
    row(c, "  ", "body", `at most ${formatBytes(server.max_body_bytes)} per request`),
    row(
      c,
      "  ",
      "estimate",
      `${formatCount(config.defaults.default_output_tokens)} output tokens reserved when max_tokens is absent`,
    ),
    c.bold("store"),
    ...describeStore(config).map((text, i) => row(c, "  ", i === 0 ? "backend" : "", text)),
    c.bold(`providers (${config.providers.length})`),
    ...config.providers.flatMap((p) => describeProvider(p, c)),
  ];

  const keys = Object.entries(config.keys ?? {});
  if (keys.length === 0) {
    lines.push(c.bold("keys"), "  none: no per-key limits");
  } else {
    lines.push(c.bold(`keys (${keys.length})`));
    const labels = keys.map(([key, policy]) => keyLabel(key, policy.name));
    const width = Math.max(...labels.map((l) => l.length));
    keys.forEach(([, policy], i) => lines.push(`  ${(labels[i] ?? "").padEnd(width)}  ${describeKeyPolicy(policy)}`));
  }
  return lines.join("\n");
}
