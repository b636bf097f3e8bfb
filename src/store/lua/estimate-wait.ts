/**
 * estimate_wait (policy.ts `estimateWait`): ms until `ahead` (the summed cost
 * of the requests already waiting) and then `cost` could all be admitted if
 * nothing else were charged. Advances the windows (and stores that), charges nothing.
 *
 * KEYS[1]   limiter hash (layout.ts)
 * ARGV[1]   now_ms: epoch ms; negative = read Redis TIME
 * ARGV[2..5] ahead: requests, input_tokens, output_tokens, usd
 * ARGV[6]   ahead_count: number of requests waiting ahead
 * ARGV[7..10] cost: requests, input_tokens, output_tokens, usd
 * ARGV[11..] policy block (layout.ts)
 *
 * Returns the wait in ms: an integer, or %.17g text ("inf": never fits).
 */
import { LIBRARY } from "./library.ts";

export const ESTIMATE_WAIT = String.raw`${LIBRARY}
local now = clock(ARGV[1])
local ahead = read_cost(2)
local ahead_count = tonumber(ARGV[6])
local cost = read_cost(7)
local pol = read_policy(11)
local st = load(KEYS[1], pol, now)
local wait = 0
local total = { ahead[1] + cost[1], ahead[2] + cost[2], ahead[3] + cost[3], ahead[4] + cost[4] }
for i = 1, pol.n do
  local w, ws = pol[i], st.w[i]
  advance(st, w, ws, now)
  if cost_of(cost, w) > w.limit then -- never fits, however short the line
    save(st, now)
    return 'inf'
  end
  local c = cost_of(total, w)
  if c > 0 then
    -- Beyond one window's worth, each further limit's worth takes one more window.
    local rounds = floor((c - 1e-9) / w.limit)
    local rest = c - rounds * w.limit
    wait = max(wait, rounds * w.ms + wait_to_fit(st, w, ws, now, rest))
  end
end
if pol.paced and cost[1] > 0 then
  -- gcra.ts slotOf(n): max(now, max(tat, now) + n × interval − tolerance)
  local slot = max(now, max(st.tat, now) + ahead_count * pol.interval - (pol.capacity - 1) * pol.interval)
  wait = max(wait, slot - now)
end
save(st, now)
return num(wait)
`;
