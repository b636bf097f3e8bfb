/**
 * status (memory-store.ts `statusSync`): the limiter's windows advanced to
 * now, and its pacing. Charges nothing.
 *
 * KEYS[1]   limiter hash (layout.ts)
 * ARGV[1]   now_ms: epoch ms; negative = read Redis TIME
 * ARGV[2..] policy block (layout.ts)
 *
 * Returns {{used, reset_ms per window}, available, next_slot_in_ms};
 * available and next_slot_in_ms are "" without pacing.
 */
import { LIBRARY } from "./library.ts";

export const STATUS = String.raw`${LIBRARY}
local now = clock(ARGV[1])
local pol = read_policy(2)
local st = load(KEYS[1], pol, now)
for i = 1, pol.n do advance(st, st.w[i], pol.w[i], now) end
local windows = status_of(st, now)
save(st, now)
if not pol.paced then return { windows, '', '' } end
return { windows, num(available(st, pol, now)), num(next_slot(st, pol, now) - now) }
`;
