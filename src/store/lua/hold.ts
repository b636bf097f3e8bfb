/**
 * hold (policy.ts `hold`): admit nothing on this limiter before now + for_ms
 * (the upstream said it is exhausted); a later hold wins, an earlier one
 * changes nothing. Shared by every node using the store.
 *
 * KEYS[1]   limiter hash (layout.ts)
 * ARGV[1]   now_ms: epoch ms; negative = read Redis TIME
 * ARGV[2]   for_ms: how long from now
 * ARGV[3..] policy block (layout.ts)
 *
 * Returns 1.
 */
import { LIBRARY } from "./library.ts";

export const HOLD = String.raw`${LIBRARY}
local now = clock(ARGV[1])
local for_ms = tonumber(ARGV[2])
local pol = read_policy(3)
local st = load(KEYS[1], pol, now)
st.hold = max(st.hold, now + for_ms)
save(st, now)
return 1
`;
