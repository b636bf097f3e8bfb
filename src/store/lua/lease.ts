/**
 * Concurrency leases shared by every node: a cap of `max` requests in flight
 * on a limiter, held as members of a sorted set scored by their expiry. A
 * lease outlives nothing: a node renews the leases of its requests while they
 * run, and those of a node that died expire on their own, so a crash never
 * holds slots for longer than a lease's time to live.
 *
 * Key: {<prefix>:<tag>}:lease:<id> (layout.ts: same tag, same Cluster slot as
 * the limiter hashes it goes with). The set expires a second after its
 * longest lease.
 */

/** tm: ARGV[1] as now_ms, or Redis TIME when negative (the library's clock(), without the library). */
const NOW = String.raw`
local tm = tonumber(ARGV[1])
if tm < 0 then
  local t = redis.call('TIME')
  tm = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
end
`;

/**
 * TAKE: one lease on every listed cap at once, or none.
 * KEYS      the lease sets, one per cap
 * ARGV[1]   now_ms: epoch ms; negative = read Redis TIME
 * ARGV[2]   ttl_ms
 * ARGV[3]   lease id (unique per request)
 * ARGV[4..] the cap of each key, in KEYS order
 * Returns 0 when taken, else the ms until the earliest lease of a full set
 * expires (an upper bound on the wait: a release comes sooner).
 */
export const LEASE_TAKE = String.raw`${NOW}local ttl, id = tonumber(ARGV[2]), ARGV[3]
local wait = 0
for i = 1, #KEYS do
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', tm)
  if redis.call('ZCARD', KEYS[i]) >= tonumber(ARGV[3 + i]) then
    local first = redis.call('ZRANGE', KEYS[i], 0, 0, 'WITHSCORES')
    local w = math.max(1, math.ceil(tonumber(first[2]) - tm))
    if w > wait then wait = w end
  end
end
if wait > 0 then return wait end
for i = 1, #KEYS do
  redis.call('ZADD', KEYS[i], tm + ttl, id)
  redis.call('PEXPIRE', KEYS[i], ttl + 1000)
end
return 0
`;

/**
 * RENEW: the listed leases live ttl_ms more (those already expired or dropped stay gone).
 * KEYS      the lease sets
 * ARGV[1]   now_ms (negative = Redis TIME), ARGV[2] ttl_ms, ARGV[3..] lease ids
 * Returns the number of leases renewed (per key, summed).
 */
export const LEASE_RENEW = String.raw`${NOW}local ttl, n = tonumber(ARGV[2]), 0
for i = 1, #KEYS do
  for j = 3, #ARGV do n = n + redis.call('ZADD', KEYS[i], 'XX', 'CH', tm + ttl, ARGV[j]) end
  redis.call('PEXPIRE', KEYS[i], ttl + 1000)
end
return n
`;

/** DROP: KEYS the lease sets, ARGV[1] the lease id. Returns 1. */
export const LEASE_DROP = String.raw`
for i = 1, #KEYS do redis.call('ZREM', KEYS[i], ARGV[1]) end
return 1
`;
