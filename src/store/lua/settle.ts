/**
 * settle / give back one charge (policy.ts `settle`, `giveBack`): adds
 * `delta` to the segment the ticket charged, per window, while that segment
 * is still counted, never below zero; a give-back also returns the pacing slot.
 *
 * KEYS[1]   limiter hash (layout.ts)
 * ARGV[1]   now_ms: epoch ms; negative = read Redis TIME
 * ARGV[2]   give_back: 1 = the ticket was paced and is given back (tat -= interval), else 0
 * ARGV[3]   delta requests      } actual − reserved; a give-back passes −reserved
 * ARGV[4]   delta input_tokens  }
 * ARGV[5]   delta output_tokens }
 * ARGV[6]   delta usd           }
 * ARGV[7]   n = number of segments in the ticket
 * ARGV[8..7+n]  the ticket's absolute segment per window
 * ARGV[8+n..]   policy block (layout.ts)
 *
 * Returns 1.
 */
import { LIBRARY } from "./library.ts";

export const SETTLE = String.raw`${LIBRARY}
local now = clock(ARGV[1])
local give_back = ARGV[2] == '1'
local delta = read_cost(3)
local nseg = tonumber(ARGV[7])
local pol = read_policy(8 + nseg)
local st = load(KEYS[1], pol, now)
for i = 1, pol.n do
  local w, ws = pol[i], st.w[i]
  local d = cost_of(delta, w)
  if d ~= 0 and i <= nseg then
    advance(st, w, ws, now)
    adjust(st, w, ws, tonumber(ARGV[7 + i]), d)
  end
end
if give_back and pol.paced then st.tat = st.tat - pol.interval end -- gcra.ts giveBack
save(st, now)
return 1
`;
