/**
 * One policy type for every limiter (client keys, providers, later models and
 * groups): optional GCRA pacing plus any number of sliding windows, each on
 * one dimension of a request's cost. Pure: state and `now` in, decision out.
 *
 * A decision over several limiters at once (a key and its group, a provider
 * and a model) first checks every dimension of every limiter, then charges
 * all of them: a refused request consumes nothing.
 */
import * as gcra from "./gcra.ts";
import * as win from "./sliding-window.ts";

export type Dimension = "requests" | "input_tokens" | "output_tokens" | "tokens" | "usd";

export interface Cost {
  readonly requests: number;
  readonly input_tokens: number;
  readonly output_tokens: number;
  /** Money, USD (priced per model; absent = 0). */
  readonly usd?: number;
}

export const ZERO_COST: Cost = { requests: 0, input_tokens: 0, output_tokens: 0 };

export function costOf(cost: Cost, dim: Dimension): number {
  if (dim === "tokens") return cost.input_tokens + cost.output_tokens;
  if (dim === "usd") return cost.usd ?? 0;
  return cost[dim];
}

export interface WindowLimit extends win.WindowSpec {
  readonly dim: Dimension;
  /** Config name, e.g. "rpm", "input_tpm", "rpd": used in messages and stats. */
  readonly name: string;
}

export interface Policy {
  readonly pacing: gcra.PacingSpec | null;
  readonly windows: readonly WindowLimit[];
}

export interface LimiterState {
  pacing: gcra.PacingState;
  windows: win.WindowState[];
  /** Nothing is admitted before this time (the upstream said it is exhausted until then); 0 = no hold. */
  holdUntil: number;
}

/** What a charge needs to be settled or given back later. */
export interface Ticket {
  /** Absolute segment charged, per window of the policy. */
  readonly segments: readonly number[];
  /** Whether a pacing slot was claimed. */
  readonly paced: boolean;
}

export interface WindowStatus {
  readonly name: string;
  readonly dim: Dimension;
  readonly limit: number;
  readonly used: number;
  readonly remaining: number;
  /** Milliseconds until everything now counted has expired. */
  readonly resetMs: number;
}

export interface Check {
  readonly ok: boolean;
  /** When not ok: ms until this limiter may admit the cost (Infinity: never). */
  readonly waitMs: number;
  /** Names of the dimensions that refused ("pacing" for the GCRA). */
  readonly blocked: readonly string[];
  /** Names of dimensions whose limit is below this cost alone. */
  readonly never: readonly string[];
  /** Send time the pacing would give (≥ now). */
  readonly slot: number;
}

export interface ItemInput {
  readonly state: LimiterState;
  readonly policy: Policy;
  readonly cost: Cost;
}

export type Decision =
  | {
      readonly allowed: true;
      readonly delayMs: number;
      readonly tickets: readonly Ticket[];
      /** Per item, its windows after this charge (for rate-limit headers). */
      readonly status: readonly (readonly WindowStatus[])[];
    }
  | {
      readonly allowed: false;
      /** Per item, its windows as they stand (nothing charged). */
      readonly status: readonly (readonly WindowStatus[])[];
      readonly waitMs: number;
      readonly blocked: readonly { item: number; names: readonly string[] }[];
      readonly never: readonly { item: number; names: readonly string[] }[];
    };

export function newState(policy: Policy): LimiterState {
  return { pacing: gcra.newPacing(), windows: policy.windows.map((w) => win.newWindow(w)), holdUntil: 0 };
}

/** Shared empty results (frozen: nothing may add to them). */
const NONE: readonly string[] = Object.freeze([]);
const NO_SEGMENTS: readonly number[] = Object.freeze([]);
const NO_STATUS: readonly WindowStatus[] = Object.freeze([]);

/** Checks one limiter without charging. `horizonMs`: how far ahead a pacing slot may be claimed. */
export function check(state: LimiterState, policy: Policy, cost: Cost, now: number, horizonMs: number): Check {
  let waitMs = 0;
  // Built only when something refuses: a decision that admits allocates as little as it can.
  let blocked: string[] | null = null;
  let never: string[] | null = null;
  for (let i = 0; i < policy.windows.length; i++) {
    const w = policy.windows[i]!;
    const s = state.windows[i]!;
    win.advance(s, w, now);
    const c = costOf(cost, w.dim);
    if (c <= 0 || win.fits(s, w, c)) continue;
    const wait = win.waitToFit(s, w, now, c);
    (blocked ??= []).push(w.name);
    if (wait === Infinity) (never ??= []).push(w.name);
    waitMs = Math.max(waitMs, wait);
  }
  if (state.holdUntil > now) {
    (blocked ??= []).push("hold");
    waitMs = Math.max(waitMs, state.holdUntil - now);
  }
  let slot = now;
  if (policy.pacing && cost.requests > 0) {
    slot = gcra.nextSlot(state.pacing, policy.pacing, now);
    if (slot - now > horizonMs) {
      (blocked ??= []).push("pacing");
      waitMs = Math.max(waitMs, slot - now - horizonMs);
    }
  }
  return { ok: blocked === null, waitMs, blocked: blocked ?? NONE, never: never ?? NONE, slot };
}

/**
 * Charges a cost that `check` admitted at the same `now`. `sendAt` is when
 * the request will really go (the latest slot of all its limiters): pacing
 * books from then, so a provider's gap holds even when a model's slower
 * slot made the request wait.
 */
export function commit(state: LimiterState, policy: Policy, cost: Cost, now: number, sendAt = now): Ticket {
  const n = policy.windows.length;
  let segments = NO_SEGMENTS;
  if (n > 0) {
    const segs = new Array<number>(n);
    for (let i = 0; i < n; i++) {
      const w = policy.windows[i]!;
      const s = state.windows[i]!;
      const seg = win.advance(s, w, now);
      win.charge(s, w, seg, costOf(cost, w.dim));
      segs[i] = seg;
    }
    segments = segs;
  }
  const paced = policy.pacing !== null && cost.requests > 0;
  if (paced) gcra.claim(state.pacing, policy.pacing!, now, sendAt);
  return { segments, paced };
}

/** All-or-nothing decision over several limiters. */
export function decide(items: readonly ItemInput[], now: number, horizonMs: number): Decision {
  let waitMs = 0;
  let slot = now;
  let blocked: { item: number; names: readonly string[] }[] | null = null;
  let never: { item: number; names: readonly string[] }[] | null = null;
  for (let i = 0; i < items.length; i++) {
    const it = items[i]!;
    const c = check(it.state, it.policy, it.cost, now, horizonMs);
    if (!c.ok) {
      (blocked ??= []).push({ item: i, names: c.blocked });
      if (c.never.length) (never ??= []).push({ item: i, names: c.never });
      waitMs = Math.max(waitMs, c.waitMs);
    }
    slot = Math.max(slot, c.slot);
  }
  if (blocked !== null) return { allowed: false, waitMs: never ? Infinity : waitMs, blocked, never: never ?? [], status: statuses(items, now) };
  const tickets = new Array<Ticket>(items.length);
  for (let i = 0; i < items.length; i++) tickets[i] = commit(items[i]!.state, items[i]!.policy, items[i]!.cost, now, slot);
  return { allowed: true, delayMs: slot - now, tickets, status: statuses(items, now) };
}

function statuses(items: readonly ItemInput[], now: number): (readonly WindowStatus[])[] {
  const out = new Array<readonly WindowStatus[]>(items.length);
  for (let i = 0; i < items.length; i++) out[i] = statusOf(items[i]!.state, items[i]!.policy, now);
  return out;
}

/**
 * Corrects a charge by `delta` (actual − reserved, per dimension), in the
 * segment where it was made, while that segment is still counted.
 */
export function settle(state: LimiterState, policy: Policy, ticket: Ticket, delta: Cost, now: number): void {
  for (let i = 0; i < policy.windows.length; i++) {
    const w = policy.windows[i]!;
    const s = state.windows[i]!;
    const d = costOf(delta, w.dim);
    const seg = ticket.segments[i];
    if (d === 0 || seg === undefined) continue;
    win.advance(s, w, now);
    win.adjust(s, w, seg, d);
  }
}

/** Undoes a charge whose request was never sent: refunds `cost` and returns the pacing slot. */
export function giveBack(state: LimiterState, policy: Policy, ticket: Ticket, cost: Cost, now: number): void {
  settle(state, policy, ticket, negate(cost), now);
  if (ticket.paced && policy.pacing) gcra.giveBack(state.pacing, policy.pacing);
}

export function negate(c: Cost): Cost {
  return { requests: -c.requests, input_tokens: -c.input_tokens, output_tokens: -c.output_tokens, usd: -(c.usd ?? 0) };
}

export function status(state: LimiterState, policy: Policy, now: number): readonly WindowStatus[] {
  for (let i = 0; i < policy.windows.length; i++) win.advance(state.windows[i]!, policy.windows[i]!, now);
  return statusOf(state, policy, now);
}

/** Status of windows already advanced to `now`. */
function statusOf(state: LimiterState, policy: Policy, now: number): readonly WindowStatus[] {
  const n = policy.windows.length;
  if (n === 0) return NO_STATUS;
  const out = new Array<WindowStatus>(n);
  for (let i = 0; i < n; i++) {
    const w = policy.windows[i]!;
    const s = state.windows[i]!;
    out[i] = { name: w.name, dim: w.dim, limit: w.limit, used: s.total, remaining: Math.max(0, w.limit - s.total), resetMs: win.resetIn(s, w, now) };
  }
  return out;
}

/**
 * Earliest time (ms from now) at which `ahead` (the summed cost of requests
 * already waiting, `aheadCount` of them) and then `cost` could all be
 * admitted, if nothing else is charged: an honest estimate for answering
 * max_wait_seconds at once instead of after waiting in vain.
 */
export function estimateWait(
  state: LimiterState,
  policy: Policy,
  ahead: Cost,
  aheadCount: number,
  cost: Cost,
  now: number,
): number {
  let wait = 0;
  const total: Cost = {
    requests: ahead.requests + cost.requests,
    input_tokens: ahead.input_tokens + cost.input_tokens,
    output_tokens: ahead.output_tokens + cost.output_tokens,
    usd: (ahead.usd ?? 0) + (cost.usd ?? 0),
  };
  for (let i = 0; i < policy.windows.length; i++) {
    const w = policy.windows[i]!;
    const s = state.windows[i]!;
    win.advance(s, w, now);
    if (costOf(cost, w.dim) > w.limit) return Infinity; // never fits, however short the line
    const c = costOf(total, w.dim);
    if (c <= 0) continue;
    // Beyond one window's worth, each further limit's worth takes one more window.
    const rounds = Math.floor((c - 1e-9) / w.limit);
    const rest = c - rounds * w.limit;
    wait = Math.max(wait, rounds * w.windowMs + win.waitToFit(s, w, now, rest));
  }
  if (policy.pacing && cost.requests > 0) {
    wait = Math.max(wait, gcra.slotOf(state.pacing, policy.pacing, now, aheadCount) - now);
  }
  return wait;
}

/** Holds the limiter until `until` (a later hold wins; an earlier one changes nothing). */
export function hold(state: LimiterState, until: number): void {
  state.holdUntil = Math.max(state.holdUntil, until);
}

/** Pacing tokens available now (burst capacity left), or null without pacing. */
export function pacingAvailable(state: LimiterState, policy: Policy, now: number): number | null {
  return policy.pacing ? gcra.available(state.pacing, policy.pacing, now) : null;
}

export function pacingNextSlot(state: LimiterState, policy: Policy, now: number): number | null {
  return policy.pacing ? gcra.nextSlot(state.pacing, policy.pacing, now) : null;
}
