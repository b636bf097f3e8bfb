/**
 * acquire, for a batch of decisions: each decision all-or-nothing over its
 * limiters (policy.ts `decide`): check every dimension of every item first
 * (advancing windows), charge all of them only if all fit, claim the GCRA
 * slots. The decisions of a batch run one after another at the same `now`,
 * inside one atomic script; each limiter is read once and written once per
 * batch. The Redis store batches the acquires in flight at the same moment
 * (see redis-store.ts); one acquire alone is a batch of one.
 *
 * KEYS      the limiter hash (layout.ts) of every item of every decision, in order;
 *           on Cluster all in one slot
 * ARGV[1]   now_ms: epoch ms; negative = read Redis TIME
 * ARGV[2]   P = number of distinct policies, then P policy blocks (layout.ts)
 * then      D = number of decisions, then per decision:
 *             horizon_ms (how far ahead a pacing slot may be claimed), m = number of items,
 *             per item: policy number (1..P), cost requests, input_tokens, output_tokens, usd
 *
 * Returns one flat array (nested replies cost more to build), per decision:
 *   allowed: 1, delay_ms, then per item: paced (0|1), n windows, n charged segments;
 *            then per item: n, n × (used, reset_ms) — after every charge
 *   refused: 0, wait_ms ("inf" when some cost never fits), then per item:
 *            #blocked, blocked window indexes (-1 = hold, 0 = pacing), #never, never-fitting indexes,
 *            n, n × (used, reset_ms)
 * Numbers are integer replies when whole, else %.17g text (exact doubles).
 */
import { LIBRARY } from "./library.ts";

export const ACQUIRE = String.raw`${LIBRARY}
-- policy.ts decide over the m limiters sts[1..m] (costs cs); appends its answer to out.
local function decide_into(out, o, m, sts, cs, now, horizon)
  local wait, slot = 0, now
  local blocked, never -- per item, made only when something is refused
  for j = 1, m do
    local b, n, w, s = check(sts[j], cs[j], now, horizon)
    if b then
      blocked = blocked or {}
      blocked[j] = b
      if n then
        never = never or {}
        never[j] = n
      end
      wait = max(wait, w)
    end
    if s > slot then slot = s end -- max(slot, s)
  end
  local refused, never_any = blocked ~= nil, never ~= nil
  if refused then
    if never_any then wait = INF end
    out[o], out[o + 1] = 0, num(wait)
    o = o + 2
    for j = 1, m do
      o = list_into(out, o, blocked[j])
      o = list_into(out, o, never and never[j])
      o = status_into(out, o, sts[j], now)
    end
    return o
  end
  out[o], out[o + 1] = 1, num(slot - now)
  o = o + 2
  for j = 1, m do o = commit_into(out, o, sts[j], cs[j], now, slot) end
  -- Status after every charge (an id listed twice shows both).
  for j = 1, m do o = status_into(out, o, sts[j], now) end
  return o
end

local now = clock(ARGV[1])
local pols, p = {}, 3
for i = 1, tonumber(ARGV[2]) do pols[i], p = read_policy(p) end
local nd = tonumber(ARGV[p])
p = p + 1
local states, order, out, o, kx = {}, {}, {}, 1, 0
-- The items of one decision; reused by the next (decide_into keeps none of them).
local sts, cs = {}, {}
for d = 1, nd do
  local horizon, m = N[ARGV[p]], N[ARGV[p + 1]]
  p = p + 2
  for j = 1, m do
    kx = kx + 1
    local key = KEYS[kx]
    local st = states[key]
    if st == nil then -- read once per batch; an id listed twice shares its state, as in the memory store
      st = load(key, pols[N[ARGV[p]]], now)
      states[key] = st
      order[#order + 1] = st
    end
    local c = cs[j]
    if c == nil then c = {}; cs[j] = c end
    sts[j], c[1], c[2], c[3], c[4] = st, N[ARGV[p + 1]], N[ARGV[p + 2]], N[ARGV[p + 3]], N[ARGV[p + 4]]
    p = p + 5
  end
  o = decide_into(out, o, m, sts, cs, now, horizon)
end
for _, st in ipairs(order) do save(st, now) end
return out
`;
