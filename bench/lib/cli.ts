/**
 * A bench's command line: `--short` picks the CI-size preset instead of the
 * full one, and each numeric field named in `numeric` can be set by its own
 * flag (`--duration 3` → durationS: 3). `switches` are boolean flags and
 * `strings` flags whose text the bench reads itself, both returned in `flags`.
 */
import { parseArgs } from "node:util";

type NumericField<T> = { [K in keyof T]: T[K] extends number ? K : never }[keyof T];

export function presetArgs<T extends object>(
  full: T,
  short: T,
  numeric: Readonly<Record<string, NumericField<T>>> = {},
  switches: readonly string[] = [],
  strings: readonly string[] = [],
): { options: T; flags: Readonly<Record<string, string | boolean | undefined>> } {
  const spec: Record<string, { type: "boolean"; default: boolean } | { type: "string" }> = { short: { type: "boolean", default: false } };
  for (const flag of [...Object.keys(numeric), ...strings]) spec[flag] = { type: "string" };
  for (const flag of switches) spec[flag] = { type: "boolean", default: false };
  const flags = parseArgs({ options: spec }).values as Record<string, string | boolean | undefined>;
  const options = { ...(flags.short ? short : full) };
  for (const [flag, field] of Object.entries(numeric)) {
    const v = flags[flag];
    if (typeof v === "string") (options as Record<string, unknown>)[field as string] = Number(v);
  }
  return { options, flags };
}
