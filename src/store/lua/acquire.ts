/**
 * acquire: all-or-nothing over several limiters (policy.ts `decide`). Checks
 * every dimension of every item first (advancing windows), charges all of
 * them only if all fit, claims the GCRA slots, writes back, returns.
 *
 * KEYS[k]   limiter hash of item k (layout.ts), k = 1..n; on Cluster all in one slot
 * ARGV[1]   now_ms: epoch ms; negative = read Redis TIME
 * ARGV[2]   horizon_ms: how far ahead a pacing slot may be claimed
 * ARGV[3..] per item k: cost requests, cost input_tokens, cost output_tokens,
 *           then the item's policy block (layout.ts)
 *
 * Returns {allowed, delay_or_wait, items}:
 *   allowed = 1: delay_or_wait = delay ms until the pacing slot;
 *                items[k] = {paced 0|1, {segment charged per window}, {used, reset_ms per window}}
 *   allowed = 0: delay_or_wait = wait ms ("inf" when some cost never fits);
 *                items[k] = {{blocked window indexes, 0 = pacing}, {never-fitting indexes}, {used, reset_ms per window}}
 * Numbers are %.17g text (exact doubles).
 */
import { LIBRARY } from "./library.ts";

export const ACQUIRE = String.raw`${LIBRARY}
local now = clock(ARGV[1])
local horizon = tonumber(ARGV[2])
local p = 3
local items, states, order = {}, {}, {}
for k = 1, #KEYS do
  local c, pol
  c, p = read_cost(p)
  pol, p = read_policy(p)
  local st = states[KEYS[k]]
  if st == nil then -- an id listed twice shares its state, as in the memory store
    st = load(KEYS[k], pol, now)
    states[KEYS[k]] = st
    order[#order + 1] = st
  end
  items[k] = { st = st, c = c }
end

local wait, slot, refused, never_any = 0, now, false, false
local checks = {}
for k = 1, #items do
  local it = items[k]
  local blocked, never, w, s = check(it.st, it.c, now, horizon)
  checks[k] = { blocked, never }
  if #blocked > 0 then
    refused = true
    if #never > 0 then never_any = true end
    wait = math.max(wait, w)
  end
  slot = math.max(slot, s)
end

local out = {}
if refused then
  for k = 1, #items do out[k] = { checks[k][1], checks[k][2], status_of(items[k].st, now) } end
  for _, st in ipairs(order) do save(st, now) end
  if never_any then wait = INF end
  return { 0, num(wait), out }
end
local tickets = {}
for k = 1, #items do
  local segs, paced = commit(items[k].st, items[k].c, now)
  tickets[k] = { paced, segs }
end
for k = 1, #items do out[k] = { tickets[k][1], tickets[k][2], status_of(items[k].st, now) } end
for _, st in ipairs(order) do save(st, now) end
return { 1, num(slot - now), out }
`;
