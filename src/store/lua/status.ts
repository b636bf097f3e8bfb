/**
 * status (memory-store.ts `statusSync`): the limiter's windows advanced to
 * now, and its pacing. Charges nothing.
 *
 * KEYS[1]   limiter hash (layout.ts)
 * ARGV[1]   now_ms: epoch ms; negative = read Redis TIME
 * ARGV[2..] policy block (layout.ts)
 *
 * Returns {available, next_slot_in_ms, n, n × (used, reset_ms)};
 * available and next_slot_in_ms are "" without pacing.
 */
import { LIBRARY } from "./library.ts";

export const STATUS = String.raw`${LIBRARY}
local now = clock(ARGV[1])
local pol = read_policy(2)
local st = load(KEYS[1], pol, now)
for i = 1, pol.n do advance(st, pol[i], st.w[i], now) end
local out = { '', '' }
if pol.paced then
  -- gcra.ts available and nextSlot
  local tol = (pol.capacity - 1) * pol.interval
  local avail = pol.capacity
  if st.tat > now then
    avail = max(0, min(pol.capacity, floor((now - (st.tat - tol)) / pol.interval) + 1))
  end
  out[1], out[2] = num(avail), num(next_slot(st, pol, now) - now)
end
status_into(out, 3, st, now)
save(st, now)
return out
`;
