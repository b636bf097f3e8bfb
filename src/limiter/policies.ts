/**
 * Config limits → Policy. The one translation from what a user writes
 * (rpm, interval_seconds, capacity, *_tpm, rpd, tpd) to the engine's pacing
 * and windows, shared by providers and client keys.
 */
import type { Policy, WindowLimit } from "../core/policy.ts";

/** The limit fields common to providers, models, keys and groups. */
export interface LimitFields {
  readonly rpm?: number | undefined;
  readonly input_tpm?: number | undefined;
  readonly output_tpm?: number | undefined;
  readonly tpm?: number | undefined;
  readonly rpd?: number | undefined;
  readonly tpd?: number | undefined;
  /** USD per sliding 24 h / 30 days (keys and groups). */
  readonly budget_usd_per_day?: number | undefined;
  readonly budget_usd_per_month?: number | undefined;
}

export interface PacedLimitFields extends LimitFields {
  readonly mode: "spaced" | "burst" | "window" | "adaptive";
  readonly interval_seconds?: number | undefined;
  readonly capacity?: number | undefined;
}

const MINUTE = 60_000;
const DAY = 86_400_000;
const MONTH = 30 * DAY;

/**
 * A window of `span` counted in segments of `segment` ms, with one segment
 * more than the span holds: the counted window at time t reaches back
 * between span and span + segment, so EVERY span-long interval (not only
 * the aligned ones) admits at most the limit. The price: a charge is
 * counted up to one segment longer than the span (1 s for minute limits).
 */
function strict(name: string, dim: WindowLimit["dim"], limit: number, span: number, segment: number): WindowLimit {
  const segments = span / segment + 1;
  return { name, dim, limit, windowMs: span + segment, segments };
}

/** Minute windows: 1 s segments. */
function minute(name: string, dim: WindowLimit["dim"], limit: number): WindowLimit {
  return strict(name, dim, limit, MINUTE, 1000);
}

/** Day windows: 10 min segments (bounded memory: 145 counters). */
function day(name: string, dim: WindowLimit["dim"], limit: number): WindowLimit {
  return strict(name, dim, limit, DAY, 600_000);
}

/** Sliding windows for every limit that is set. `withRpm`: false when rpm is already paced by GCRA. */
export function windowsOf(f: LimitFields, withRpm: boolean): WindowLimit[] {
  const w: WindowLimit[] = [];
  if (withRpm && f.rpm !== undefined) w.push(minute("rpm", "requests", f.rpm));
  if (f.input_tpm !== undefined) w.push(minute("input_tpm", "input_tokens", f.input_tpm));
  if (f.output_tpm !== undefined) w.push(minute("output_tpm", "output_tokens", f.output_tpm));
  if (f.tpm !== undefined) w.push(minute("tpm", "tokens", f.tpm));
  if (f.rpd !== undefined) w.push(day("rpd", "requests", f.rpd));
  if (f.tpd !== undefined) w.push(day("tpd", "tokens", f.tpd));
  if (f.budget_usd_per_day !== undefined) w.push(day("budget_usd_per_day", "usd", f.budget_usd_per_day));
  if (f.budget_usd_per_month !== undefined) w.push(strict("budget_usd_per_month", "usd", f.budget_usd_per_month, MONTH, 6 * 3_600_000));
  return w;
}

/** Interval between requests for spaced/burst pacing: the stricter of rpm and interval_seconds. */
export function pacingIntervalMs(f: PacedLimitFields): number | null {
  const fromRpm = f.rpm !== undefined ? MINUTE / f.rpm : 0;
  const fromInterval = f.interval_seconds !== undefined ? f.interval_seconds * 1000 : 0;
  const ms = Math.max(fromRpm, fromInterval);
  return ms > 0 ? ms : null;
}

/** A provider's or model's policy: pacing per its mode (adaptive starts spaced at rpm), plus token and day windows. */
export function pacedPolicy(f: PacedLimitFields): Policy {
  if (f.mode === "window") return { pacing: null, windows: windowsOf(f, true) };
  const intervalMs = pacingIntervalMs(f);
  const capacity = f.mode === "burst" ? Math.max(1, f.capacity ?? 1) : 1;
  return {
    pacing: intervalMs === null ? null : { intervalMs, capacity },
    windows: windowsOf(f, false),
  };
}

/** A client key's (or group's) policy: sliding windows only. */
export function windowPolicy(f: LimitFields): Policy {
  return { pacing: null, windows: windowsOf(f, true) };
}

export function isUnlimited(p: Policy): boolean {
  return p.pacing === null && p.windows.length === 0;
}
