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
-- policy.ts decide over the limiters sts (costs cs); appends its answer to out.
local function decide_into(out, o, sts, cs, now, horizon)
  local m = #sts
  local wait, slot, refused, never_any = 0, now, false, false
  local blocked, never = {}, {}
  for j = 1, m do
    local b, n, w, s = check(sts[j], cs[j], now, horizon)
    blocked[j], never[j] = b, n
    if b then
      refused = true
      if n then never_any = true end
      wait = max(wait, w)
    end
    slot = max(slot, s)
  end
  if refused then
    if never_any then wait = INF end
    out[o], out[o + 1] = 0, num(wait)
    o = o + 2
    for j = 1, m do
      o = list_into(out, o, blocked[j])
      o = list_into(out, o, never[j])
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
for d = 1, nd do
  local horizon, m = tonumber(ARGV[p]), tonumber(ARGV[p + 1])
  p = p + 2
  local sts, cs = {}, {}
  for j = 1, m do
    kx = kx + 1
    local key = KEYS[kx]
    local st = states[key]
    if st == nil then -- read once per batch; an id listed twice shares its state, as in the memory store
      st = load(key, pols[tonumber(ARGV[p])], now)
      states[key] = st
      order[#order + 1] = st
    end
    sts[j], cs[j] = st, { tonumber(ARGV[p + 1]), tonumber(ARGV[p + 2]), tonumber(ARGV[p + 3]), tonumber(ARGV[p + 4]) }
    p = p + 5
  end
  o = decide_into(out, o, sts, cs, now, horizon)
end
for _, st in ipairs(order) do save(st, now) end
return out
`;
