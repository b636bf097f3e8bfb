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
/** Minute windows: 60 segments of 1 s, so a charge expires 59–60 s after it was made. */
const MINUTE_SEGMENTS = 60;
/** Day windows: 144 segments of 10 min (bounded memory; error under 10 min a day). */
const DAY_SEGMENTS = 144;
const MONTH = 30 * DAY;
/** 30-day windows: 120 segments of 6 h. */
const MONTH_SEGMENTS = 120;

function minute(name: string, dim: WindowLimit["dim"], limit: number): WindowLimit {
  return { name, dim, limit, windowMs: MINUTE, segments: MINUTE_SEGMENTS };
}

function day(name: string, dim: WindowLimit["dim"], limit: number): WindowLimit {
  return { name, dim, limit, windowMs: DAY, segments: DAY_SEGMENTS };
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
  if (f.budget_usd_per_month !== undefined) {
    w.push({ name: "budget_usd_per_month", dim: "usd", limit: f.budget_usd_per_month, windowMs: MONTH, segments: MONTH_SEGMENTS });
  }
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
