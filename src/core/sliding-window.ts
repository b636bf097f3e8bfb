/**
 * Segmented sliding window: a ring of `segments` counters of width
 * g = windowMs / segments, plus a running total.
 *
 * Guarantee: the counted window at time t is the current segment and the
 * S − 1 before it, i.e. [t − W + (g − t mod g), t]. So in every span of
 * S segments aligned to g, admitted cost ≤ limit, and in any span of W − g
 * admitted cost ≤ limit. A charge expires between W − g and W after it was
 * made: the "error under one segment" (1 s for 60 × 1 s minute windows).
 *
 * Pure: time comes in as `now` (ms); no I/O, no clock reads.
 * Time going backwards is clamped to the newest segment seen, so a stepped
 * clock can make the limiter stricter for a while but never admits more.
 */
export interface WindowSpec {
  readonly limit: number;
  readonly windowMs: number;
  readonly segments: number;
}

export interface WindowState {
  ring: Float64Array;
  total: number;
  /** Absolute index (floor(now / g)) of the newest segment seen. */
  head: number;
}

export function segmentMs(spec: WindowSpec): number {
  return spec.windowMs / spec.segments;
}

/** Ring slot of an absolute segment (also for negative times in tests). */
function slot(seg: number, S: number): number {
  return ((seg % S) + S) % S;
}

export function newWindow(spec: WindowSpec): WindowState {
  return { ring: new Float64Array(spec.segments), total: 0, head: -Infinity };
}

/** Drops segments that left the window; returns the current absolute segment. */
export function advance(state: WindowState, spec: WindowSpec, now: number): number {
  const seg = Math.floor(now / segmentMs(spec));
  if (seg <= state.head) return state.head; // same segment, or clock went back
  const S = spec.segments;
  if (seg - state.head >= S || state.total <= 0) {
    state.ring.fill(0);
    state.total = 0;
  } else {
    for (let s = state.head + 1; s <= seg; s++) {
      const i = slot(s, S);
      state.total -= state.ring[i]!;
      state.ring[i] = 0;
    }
    if (state.total < 1e-9) state.total = 0; // float dust from refunds
  }
  state.head = seg;
  return seg;
}

export function fits(state: WindowState, spec: WindowSpec, cost: number): boolean {
  return state.total + cost <= spec.limit;
}

/**
 * Milliseconds from `now` until `cost` fits, assuming nothing else is
 * charged meanwhile: the time the oldest segments that must expire do so.
 * Infinity when cost alone exceeds the limit. Call after `advance`.
 */
export function waitToFit(state: WindowState, spec: WindowSpec, now: number, cost: number): number {
  if (cost > spec.limit) return Infinity;
  let excess = state.total + cost - spec.limit;
  if (excess <= 0) return 0;
  const S = spec.segments;
  const g = segmentMs(spec);
  for (let s = state.head - S + 1; s <= state.head; s++) {
    excess -= state.ring[slot(s, S)]!;
    // Segment s is out of the counted window once the current segment is s + S.
    if (excess <= 1e-9) return Math.max(0, (s + S) * g - now);
  }
  return Math.max(0, (state.head + 1) * g - now); // unreachable unless totals drifted
}

/** Milliseconds until every charge now in the window has expired. */
export function resetIn(state: WindowState, spec: WindowSpec, now: number): number {
  if (state.total <= 0) return 0;
  const S = spec.segments;
  for (let s = state.head; s > state.head - S; s--) {
    if (state.ring[slot(s, S)]! > 0) return Math.max(0, (s + S) * segmentMs(spec) - now);
  }
  return 0;
}

export function charge(state: WindowState, spec: WindowSpec, seg: number, cost: number): void {
  const i = slot(seg, spec.segments);
  state.ring[i] = state.ring[i]! + cost;
  state.total += cost;
}

/**
 * Settles a charge made in segment `seg` by `delta` (negative = refund).
 * Only while that segment is still counted; never below zero.
 */
export function adjust(state: WindowState, spec: WindowSpec, seg: number, delta: number): void {
  if (seg > state.head || seg <= state.head - spec.segments) return;
  const i = slot(seg, spec.segments);
  const next = Math.max(0, state.ring[i]! + delta);
  state.total += next - state.ring[i]!;
  state.ring[i] = next;
  if (state.total < 1e-9) state.total = 0;
}
