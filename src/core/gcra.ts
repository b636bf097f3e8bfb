/**
 * GCRA, the "virtual scheduling" form of a token bucket: one number per
 * limiter, the theoretical arrival time `tat` (ms).
 *
 * A request may go at max(now, tat − tolerance); claiming it sets
 * tat = max(now, tat) + interval. `spaced` is tolerance 0 (one request every
 * interval); `burst` is tolerance (capacity − 1) × interval (capacity at once,
 * refilled one per interval). O(1) time and memory, no timers.
 *
 * Pure: `now` comes in. A clock that goes back only makes waits longer.
 */
export interface PacingSpec {
  readonly intervalMs: number;
  /** Requests that may go at once (1 = spaced). */
  readonly capacity: number;
}

export interface PacingState {
  tat: number;
}

export function newPacing(): PacingState {
  return { tat: -Infinity };
}

function tolerance(spec: PacingSpec): number {
  return (spec.capacity - 1) * spec.intervalMs;
}

/** Earliest time the next request may go. */
export function nextSlot(state: PacingState, spec: PacingSpec, now: number): number {
  return Math.max(now, state.tat - tolerance(spec));
}

/**
 * Claims the slot returned by `nextSlot` (which may lie ahead of `now`, when a
 * dispatcher claims just before the slot so timer jitter does not slow the
 * cadence). Returns the claimed send time.
 */
export function claim(state: PacingState, spec: PacingSpec, now: number, sendAt = now): number {
  const slot = Math.max(nextSlot(state, spec, now), sendAt);
  // After a long idle tat lies in the past; pacing restarts from the send time.
  state.tat = Math.max(state.tat, sendAt) + spec.intervalMs;
  return slot;
}

/**
 * Gives back one claimed slot (a request that left before it was sent).
 * Later claims keep their times: they were computed with this one counted,
 * so returning it can only leave the line stricter than needed, never looser.
 */
export function giveBack(state: PacingState, spec: PacingSpec): void {
  state.tat -= spec.intervalMs;
}

/** Whole requests that could go right now (the bucket's "tokens", for stats). */
export function available(state: PacingState, spec: PacingSpec, now: number): number {
  if (state.tat <= now) return spec.capacity;
  const free = Math.floor((now - (state.tat - tolerance(spec))) / spec.intervalMs) + 1;
  return Math.max(0, Math.min(spec.capacity, free));
}

/**
 * Send time of the n-th further request (0-based) if nothing else claims:
 * each claim moves tat from max(tat, now) by one interval, so
 * slot(n) = max(now, max(tat, now) + n × interval − tolerance).
 */
export function slotOf(state: PacingState, spec: PacingSpec, now: number, n: number): number {
  return Math.max(now, Math.max(state.tat, now) + n * spec.intervalMs - tolerance(spec));
}
