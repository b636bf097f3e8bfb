/**
 * Redis key layout of the limiter state, and the argument encoding the Lua
 * scripts share. Read this next to lua/library.ts.
 *
 * ## Keys
 *
 * One hash per limiter:   {<prefix>:<tag>}:<id>
 *   e.g. {limitrate:key:1a2b3c4d5e6f7a8b}:key:1a2b3c4d5e6f7a8b
 *        {limitrate:openai}:prov:openai     (a provider and its models sharing tag "openai")
 * The braces are a Redis Cluster hash tag: only `<prefix>:<tag>` picks the
 * slot, so limiters that share a tag share a slot and one script may touch
 * them all. `tag` defaults to the id. Ids and tags must not contain `{` or `}`.
 *
 * ## Fields of a limiter hash (window i = 1, 2, … in policy order)
 *
 *   tat     GCRA theoretical arrival time, epoch ms (absent = -Infinity: never paced)
 *   pi      pacing interval (ms) of the last policy seen, -1 = none: a new interval
 *           rescales what tat booked ahead of now (adaptive mode, reloads)
 *   hold    nothing is admitted before this time, epoch ms (absent = 0: no hold;
 *           the upstream said it is exhausted — policy.ts `hold`)
 *   s<i>    layout signature of window i: "<dim>/<window_ms>/<segments>"; when it
 *           differs from the policy passed, window i starts afresh (a reload
 *           changed its layout). The limit is not part of it: a changed limit
 *           keeps what was counted, so nodes reloading at different moments
 *           cannot reset each other's counts.
 *   h<i>    head: absolute index floor(now / g) of the newest segment seen (absent = -Infinity)
 *   t<i>    running total of window i
 *   <i>:<k> ring slot k (0 ≤ k < segments) of window i: cost charged in the
 *           segment whose absolute index ≡ k (mod segments). Absent = 0; a slot
 *           that drops to 0 is deleted, so an idle hash stays small.
 *
 * All numbers are written with %.17g (Redis's conversion of a Lua number), so
 * a double survives the round trip exactly and the scripts compute
 * bit-for-bit what src/core computes.
 *
 * The hash expires (PEXPIRE) after its longest window, or after `tat` if that
 * lies further ahead, plus 1 s, counted from the moment a window's head last
 * moved (or tat changed): every charge sits in a head segment, which leaves
 * its window at most the window's length after becoming the head. So an idle
 * limiter disappears, and a missing hash means exactly what a fresh limiter
 * means.
 *
 * ## Policy block (ARGV: once per limiter, or once per distinct policy in a batched acquire)
 *
 *   n_windows, pacing_interval_ms (-1 = no pacing), pacing_capacity,
 *   then per window: dim (1 requests, 2 input_tokens, 3 output_tokens, 4 tokens, 5 usd),
 *                    limit, window_ms, segments
 *
 * ## Scripts (each documents its KEYS, ARGV and reply)
 *
 *   acquire.ts        a batch of all-or-nothing decisions (one or many acquires)
 *   hold.ts           hold a limiter until a time
 *   settle.ts         settle, and give back (refund + pacing slot)
 *   estimate-wait.ts  wait estimate for a request behind a line
 *   status.ts         windows and pacing, for stats and headers
 *   lease.ts          concurrency leases (max_concurrent across nodes): a sorted
 *                     set {<prefix>:<tag>}:lease:<id> of lease ids scored by expiry
 */
import type { Cost, Dimension, Policy } from "../../core/policy.ts";
import type { LimiterRef } from "../store.ts";

const DIM_CODE: Record<Dimension, string> = { requests: "1", input_tokens: "2", output_tokens: "3", tokens: "4", usd: "5" };

/** A number as the scripts read it back exactly (tonumber / strtod). */
export function arg(x: number): string {
  if (x === Infinity) return "inf";
  if (x === -Infinity) return "-inf";
  return String(x);
}

/** A number the scripts returned: an integer reply, or %.17g text ("inf" for Infinity). */
export function num(s: unknown): number {
  if (s === "inf") return Infinity;
  if (s === "-inf") return -Infinity;
  const x = Number(s);
  return x === 0 ? 0 : x; // no -0: the core never produces one where it compares
}

const policyArgsCache = new WeakMap<Policy, readonly string[]>();

/** The policy block of a limiter; cached per Policy object (policies live as long as the config). */
export function policyArgs(policy: Policy): readonly string[] {
  let a = policyArgsCache.get(policy);
  if (a === undefined) {
    const out: string[] = [String(policy.windows.length)];
    if (policy.pacing) out.push(arg(policy.pacing.intervalMs), arg(policy.pacing.capacity));
    else out.push("-1", "1");
    for (const w of policy.windows) out.push(DIM_CODE[w.dim], arg(w.limit), arg(w.windowMs), arg(w.segments));
    a = out;
    policyArgsCache.set(policy, a);
  }
  return a;
}

export function costArgs(c: Cost): [string, string, string, string] {
  return [arg(c.requests), arg(c.input_tokens), arg(c.output_tokens), arg(c.usd ?? 0)];
}

/** The hash tag group of a limiter: its `tag`, else its id. */
export function tagOf(ref: LimiterRef): string {
  return ref.tag ?? ref.id;
}

/** `{<prefix>:<tag>}:<id>` */
export function limiterKey(prefix: string, ref: LimiterRef): string {
  return `{${prefix}:${tagOf(ref)}}:${ref.id}`;
}

/** `{<prefix>:<tag>}:lease:<id>`: the concurrency leases of a limiter (lua/lease.ts). */
export function leaseKey(prefix: string, ref: LimiterRef): string {
  return `{${prefix}:${tagOf(ref)}}:lease:${ref.id}`;
}
