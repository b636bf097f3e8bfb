/**
 * Lua shared by every limiter script: the twin of src/core (sliding-window.ts,
 * gcra.ts, policy.ts's check/commit/status), over the hash layout documented
 * in layout.ts. Each function mirrors its TypeScript namesake expression by
 * expression, so that given the same `now` both compute the same doubles;
 * test/store/twin.test.ts holds them to it.
 *
 * State is read lazily and cached in a Lua table for the script's run, then
 * written back in one HDEL + one HSET + one PEXPIRE per limiter (`save`).
 * The current segment's ring slot of every window comes with the first HMGET,
 * so a decision in steady traffic costs: TIME, HMGET, HSET, PEXPIRE.
 */
export const LIBRARY = String.raw`
local INF = math.huge
local NEG_INF = -math.huge

-- A double as text that reads back exactly (tonumber), also in replies.
local function num(x)
  if x == INF then return 'inf' elseif x == NEG_INF then return '-inf' end
  return string.format('%.17g', x)
end

-- now_ms from the caller when >= 0 (deterministic tests), else Redis TIME:
-- one clock for every node, with sub-millisecond precision.
local function clock(arg)
  local t = tonumber(arg)
  if t ~= nil and t >= 0 then return t end
  local tm = redis.call('TIME')
  return tonumber(tm[1]) * 1000 + tonumber(tm[2]) / 1000
end

-- Reads a policy block (layout.ts) at ARGV[p]; returns it and the next position.
local function read_policy(p)
  local n = tonumber(ARGV[p])
  local pol = { n = n, interval = tonumber(ARGV[p + 1]), capacity = tonumber(ARGV[p + 2]), w = {}, max_ms = 0 }
  pol.paced = pol.interval >= 0
  p = p + 3
  for i = 1, n do
    local ms, S = tonumber(ARGV[p + 2]), tonumber(ARGV[p + 3])
    pol.w[i] = { dim = tonumber(ARGV[p]), limit = tonumber(ARGV[p + 1]), ms = ms, S = S, g = ms / S,
                 sig = ARGV[p] .. '/' .. ARGV[p + 2] .. '/' .. ARGV[p + 3] }
    if ms > pol.max_ms then pol.max_ms = ms end
    p = p + 4
  end
  return pol, p
end

-- Reads a cost {requests, input_tokens, output_tokens} at ARGV[p].
local function read_cost(p)
  return { tonumber(ARGV[p]), tonumber(ARGV[p + 1]), tonumber(ARGV[p + 2]) }, p + 3
end

-- policy.ts costOf
local function cost_of(c, dim)
  if dim == 4 then return c[2] + c[3] end
  return c[dim]
end

-- Loads one limiter: tat, and per window its signature, head, total and the
-- ring slot of now's segment, in one HMGET.
local function load(key, pol, now)
  local f = { 'tat' }
  for i = 1, pol.n do
    local w = pol.w[i]
    f[#f + 1] = 's' .. i
    f[#f + 1] = 'h' .. i
    f[#f + 1] = 't' .. i
    f[#f + 1] = i .. ':' .. (math.floor(now / w.g) % w.S)
  end
  local v = redis.call('HMGET', key, unpack(f))
  local tat = tonumber(v[1]) or NEG_INF
  local st = { key = key, pol = pol, tat = tat, tat0 = tat, w = {}, hdel = {} }
  for i = 1, pol.n do
    local w, b = pol.w[i], 2 + (i - 1) * 4
    local ws = { pre = i .. ':', ring = {}, dirty = {}, full = false, cleared = false, meta = false }
    if v[b] == w.sig then
      ws.head = tonumber(v[b + 1]) or NEG_INF
      ws.total = tonumber(v[b + 2]) or 0
      ws.ring[math.floor(now / w.g) % w.S] = tonumber(v[b + 3]) or 0
    else
      -- New limiter, or its layout changed: start afresh; an old ring goes.
      ws.head, ws.total, ws.meta = NEG_INF, 0, true
      if v[b] then
        local old = tonumber(string.match(v[b], '/(%d+)$')) or 0
        for k = 0, old - 1 do st.hdel[#st.hdel + 1] = ws.pre .. k end
      end
      ws.cleared = true -- nothing of the new layout is stored yet
    end
    st.w[i] = ws
  end
  return st
end

-- Ring slot k of window ws (0 when absent).
local function get(st, ws, k)
  local v = ws.ring[k]
  if v == nil then
    if ws.cleared or ws.full then v = 0
    else v = tonumber(redis.call('HGET', st.key, ws.pre .. k)) or 0 end
    ws.ring[k] = v
  end
  return v
end

local function set(ws, k, v)
  ws.ring[k] = v
  ws.dirty[k] = true
end

-- Every slot in one HMGET, before a scan over the ring.
local function load_ring(st, ws, S)
  if ws.cleared or ws.full then return end
  local f = {}
  for k = 0, S - 1 do f[k + 1] = ws.pre .. k end
  local v = redis.call('HMGET', st.key, unpack(f))
  for k = 0, S - 1 do
    if ws.ring[k] == nil then ws.ring[k] = tonumber(v[k + 1]) or 0 end
  end
  ws.full = true
end

-- sliding-window.ts advance
local function advance(st, ws, w, now)
  local seg = math.floor(now / w.g)
  if seg <= ws.head then return ws.head end -- same segment, or clock went back
  local S = w.S
  if seg - ws.head >= S or ws.total <= 0 then
    ws.ring, ws.dirty, ws.cleared = {}, {}, true -- ring.fill(0): every slot is deleted on save
    ws.total = 0
  else
    if seg - ws.head > 2 then load_ring(st, ws, S) end
    for s = ws.head + 1, seg do
      local k = s % S
      ws.total = ws.total - get(st, ws, k)
      set(ws, k, 0)
    end
    if ws.total < 1e-9 then ws.total = 0 end -- float dust from refunds
  end
  ws.head = seg
  ws.meta = true
  return seg
end

-- sliding-window.ts waitToFit
local function wait_to_fit(st, ws, w, now, cost)
  if cost > w.limit then return INF end
  local excess = ws.total + cost - w.limit
  if excess <= 0 then return 0 end
  local S, g = w.S, w.g
  load_ring(st, ws, S)
  for s = ws.head - S + 1, ws.head do
    excess = excess - get(st, ws, s % S)
    if excess <= 1e-9 then return math.max(0, (s + S) * g - now) end
  end
  return math.max(0, (ws.head + 1) * g - now)
end

-- sliding-window.ts resetIn
local function reset_in(st, ws, w, now)
  if ws.total <= 0 then return 0 end
  local S = w.S
  for s = ws.head, ws.head - S + 1, -1 do
    if s < ws.head then load_ring(st, ws, S) end -- past the head slot: read the ring at once
    if get(st, ws, s % S) > 0 then return math.max(0, (s + S) * w.g - now) end
  end
  return 0
end

-- sliding-window.ts charge
local function charge(st, ws, w, seg, cost)
  local k = seg % w.S
  set(ws, k, get(st, ws, k) + cost)
  ws.total = ws.total + cost
  ws.meta = true
end

-- sliding-window.ts adjust
local function adjust(st, ws, w, seg, delta)
  if seg > ws.head or seg <= ws.head - w.S then return end
  local k = seg % w.S
  local cur = get(st, ws, k)
  local nxt = math.max(0, cur + delta)
  ws.total = ws.total + (nxt - cur)
  set(ws, k, nxt)
  if ws.total < 1e-9 then ws.total = 0 end
  ws.meta = true
end

-- gcra.ts
local function tolerance(pol) return (pol.capacity - 1) * pol.interval end
local function next_slot(st, pol, now) return math.max(now, st.tat - tolerance(pol)) end
local function claim(st, pol, now)
  local slot = next_slot(st, pol, now)
  st.tat = math.max(st.tat, now) + pol.interval
  return slot
end
local function available(st, pol, now)
  if st.tat <= now then return pol.capacity end
  local free = math.floor((now - (st.tat - tolerance(pol))) / pol.interval) + 1
  return math.max(0, math.min(pol.capacity, free))
end
local function slot_of(st, pol, now, n)
  return math.max(now, math.max(st.tat, now) + n * pol.interval - tolerance(pol))
end

-- policy.ts check: returns blocked (window indexes, 0 = pacing), never, wait, slot.
local function check(st, c, now, horizon)
  local pol = st.pol
  local wait, blocked, never = 0, {}, {}
  for i = 1, pol.n do
    local w, ws = pol.w[i], st.w[i]
    advance(st, ws, w, now)
    local cc = cost_of(c, w.dim)
    if not (cc <= 0 or ws.total + cc <= w.limit) then
      local wt = wait_to_fit(st, ws, w, now, cc)
      blocked[#blocked + 1] = i
      if wt == INF then never[#never + 1] = i end
      wait = math.max(wait, wt)
    end
  end
  local slot = now
  if pol.paced and c[1] > 0 then
    slot = next_slot(st, pol, now)
    if slot - now > horizon then
      blocked[#blocked + 1] = 0
      wait = math.max(wait, slot - now - horizon)
    end
  end
  return blocked, never, wait, slot
end

-- policy.ts commit: returns the charged segments (as text) and the paced flag.
local function commit(st, c, now)
  local pol = st.pol
  local segs = {}
  for i = 1, pol.n do
    local w, ws = pol.w[i], st.w[i]
    local seg = advance(st, ws, w, now)
    charge(st, ws, w, seg, cost_of(c, w.dim))
    segs[i] = num(seg)
  end
  local paced = 0
  if pol.paced and c[1] > 0 then
    claim(st, pol, now)
    paced = 1
  end
  return segs, paced
end

-- policy.ts statusOf (windows already advanced): flat {used, reset_ms} per window.
local function status_of(st, now)
  local pol, out = st.pol, {}
  for i = 1, pol.n do
    local w, ws = pol.w[i], st.w[i]
    out[#out + 1] = num(ws.total)
    out[#out + 1] = num(reset_in(st, ws, w, now))
  end
  return out
end

-- Writes back what changed: one HDEL, one HSET, one PEXPIRE.
local function save(st, now)
  local pol, hdel, hset = st.pol, st.hdel, {}
  if st.tat ~= st.tat0 then
    if st.tat == NEG_INF then hdel[#hdel + 1] = 'tat'
    else hset[#hset + 1] = 'tat'; hset[#hset + 1] = num(st.tat) end
  end
  for i = 1, pol.n do
    local w, ws = pol.w[i], st.w[i]
    if ws.meta then
      hset[#hset + 1] = 's' .. i; hset[#hset + 1] = w.sig
      hset[#hset + 1] = 't' .. i; hset[#hset + 1] = num(ws.total)
      if ws.head == NEG_INF then hdel[#hdel + 1] = 'h' .. i
      else hset[#hset + 1] = 'h' .. i; hset[#hset + 1] = num(ws.head) end
    end
    if ws.cleared then
      for k = 0, w.S - 1 do hdel[#hdel + 1] = ws.pre .. k end
    end
    for k in pairs(ws.dirty) do
      local v = ws.ring[k]
      if v ~= 0 then hset[#hset + 1] = ws.pre .. k; hset[#hset + 1] = num(v)
      elseif not ws.cleared then hdel[#hdel + 1] = ws.pre .. k end
    end
  end
  if #hdel == 0 and #hset == 0 then return end
  if #hdel > 0 then redis.call('HDEL', st.key, unpack(hdel)) end -- before HSET: a cleared ring's slots may be set anew
  if #hset > 0 then
    redis.call('HSET', st.key, unpack(hset))
    local ttl = pol.max_ms
    if st.tat - now > ttl then ttl = st.tat - now end
    redis.call('PEXPIRE', st.key, math.ceil(ttl) + 1000)
  end
end
`;
