/**
 * Lua shared by every limiter script: the twin of src/core (sliding-window.ts,
 * gcra.ts, policy.ts's check/commit/statusOf), over the hash layout documented
 * in layout.ts. Each function mirrors its TypeScript namesake expression by
 * expression, so that given the same `now` both compute the same doubles;
 * test/store/twin.test.ts holds them to it.
 *
 * A limiter's state is read once per script run (one HMGET: tat, pi, hold
 * and, per window, signature, head, total and the ring slot of now's segment;
 * other slots only when needed), kept in Lua tables while the script decides,
 * and written back once (`save`: at most one HDEL, one HSET, one PEXPIRE).
 *
 * Written for Redis's Lua 5.1, where every table (~50 ns to make), closure,
 * upvalue, function call and number <-> text conversion costs: globals are
 * cached in locals, tables are made at their final size (constructors list
 * every field, nil ones too) or reused within a run, texts and numbers
 * parsed or formatted once per run are remembered, the per-decision paths
 * avoid calls, and whole numbers go back as integer replies. Every script
 * run defines this library anew, so what it makes up front costs every call.
 *
 * Names: `pol` a policy (read_policy), `w` = pol[i] a window's spec,
 * `st` a limiter's state (load), `ws` = st.w[i] a window's state.
 */
export const LIBRARY = String.raw`
local floor, ceil, max, min = math.floor, math.ceil, math.max, math.min
local tonumber, format, unpack, pairs, ipairs = tonumber, string.format, unpack, pairs, ipairs
local call = redis.call
local KEYS, ARGV = KEYS, ARGV
local INF, NEG_INF = math.huge, -math.huge
local EXACT = 9007199254740992 -- 2^53: whole numbers below are exact as integer replies
-- Field names of window i at FIELDS[4i-3 .. 4i] (one table: cheaper than one per window).
local FIELDS = { 's1', 'h1', 't1', '1:', 's2', 'h2', 't2', '2:', 's3', 'h3', 't3', '3:', 's4', 'h4', 't4', '4:',
                 's5', 'h5', 't5', '5:', 's6', 'h6', 't6', '6:', 's7', 'h7', 't7', '7:', 's8', 'h8', 't8', '8:' }

-- %.17g texts made in this run, by number (with one now, the limiters of a
-- batch mostly share their reset times, heads and totals). Never 0: -0 and 0
-- share a key.
local texts = {}

-- A double for a reply: a whole number as an integer reply, else %.17g text
-- (exact); 'inf' for infinity. x % 1 tests wholeness without a C call.
local function num(x)
  if x % 1 == 0 and x < EXACT and x > -EXACT then return x end
  if x == INF then return 'inf' elseif x == NEG_INF then return '-inf' end
  local s = texts[x] -- (reading t[NaN] is fine: nil)
  if s == nil then
    s = format('%.17g', x)
    if x == x then texts[x] = s end -- (x is not whole: not 0)
  end
  return s
end

-- A double as text for a Redis command: the very text Redis would make of
-- the number (%.17g, exact), made faster (%d prints the same digits for whole
-- numbers below 2^53) and at most once per run.
local function str(x)
  local s = texts[x]
  if s == nil then
    if x % 1 == 0 and x < EXACT and x > -EXACT and x ~= 0 then s = format('%d', x) else s = format('%.17g', x) end
    if x == x and x ~= 0 then texts[x] = s end
  end
  return s
end

-- N[s] = tonumber(s), remembered for the script run: a batch repeats its
-- horizons, policy numbers and costs, its limiters' heads and totals, and
-- tonumber parses twice (strtod). An absent hash field comes back from HMGET
-- as false: N[false] is false, without a call.
local N = setmetatable({ [false] = false }, { __index = function(t, s)
  local x = tonumber(s)
  t[s] = x
  return x
end })

-- now_ms from the caller when >= 0 (deterministic tests), else Redis TIME:
-- one clock for every node, with sub-millisecond precision.
local function clock(arg)
  local t = tonumber(arg)
  if t ~= nil and t >= 0 then return t end
  local tm = call('TIME')
  return tonumber(tm[1]) * 1000 + tonumber(tm[2]) / 1000
end

-- Reads a policy block (layout.ts) at ARGV[p]: pol[i] is window i's spec.
-- Returns it and the next position.
local function read_policy(p)
  local n, interval = tonumber(ARGV[p]), tonumber(ARGV[p + 1])
  local pol = { n = n, interval = interval, capacity = tonumber(ARGV[p + 2]), paced = interval >= 0, max_ms = 0 }
  p = p + 3
  for i = 1, n do
    local ms, S = tonumber(ARGV[p + 2]), tonumber(ARGV[p + 3])
    local f, dim = 4 * i - 3, tonumber(ARGV[p])
    -- (seg, k, kf, names: set by load and slot_name, listed to size the table once)
    -- ci: the index of dim in a cost {requests, input_tokens, output_tokens, usd};
    -- nil for tokens (4), which is input + output (cost_of)
    pol[i] = { dim = dim, ci = dim == 5 and 4 or dim ~= 4 and dim or nil, limit = tonumber(ARGV[p + 1]), ms = ms, S = S, g = ms / S,
               sig = ARGV[p] .. '/' .. ARGV[p + 2] .. '/' .. ARGV[p + 3],
               sf = FIELDS[f] or 's' .. i, hf = FIELDS[f + 1] or 'h' .. i, tf = FIELDS[f + 2] or 't' .. i,
               pre = FIELDS[f + 3] or i .. ':', seg = nil, k = nil, kf = nil, names = nil }
    if ms > pol.max_ms then pol.max_ms = ms end
    p = p + 4
  end
  return pol, p
end

-- Reads a cost {requests, input_tokens, output_tokens, usd} at ARGV[p].
local function read_cost(p)
  return { tonumber(ARGV[p]), tonumber(ARGV[p + 1]), tonumber(ARGV[p + 2]), tonumber(ARGV[p + 3]) }, p + 4
end

-- policy.ts costOf, for window w. w.ci is the index in c of w's dimension,
-- nil for tokens (input + output); hot loops inline this expression.
local function cost_of(c, w)
  return c[w.ci] or c[2] + c[3]
end

-- The field name of ring slot k of window w, made once per script run.
local function slot_name(w, k)
  local names = w.names
  if names == nil then
    names = {}
    w.names = names
  end
  local s = names[k]
  if s == nil then
    s = w.pre .. k
    names[k] = s
  end
  return s
end

-- Loads one limiter: tat, pi, hold, and per window its signature, head,
-- total and the ring slot of now's segment, in one HMGET. A pacing interval
-- other than the last one seen rescales what is booked ahead of now
-- (memory-store.ts rescalePacing: adaptive mode, reloads). The spec w carries now's ring
-- segment seg, its ring slot k and field name kf (one now per script). A window's state ws:
--   head, total
--   kv, kd: the value of slot w.k, whether to write it
--   ring, dirty: other slots read (slot -> value) and to write (slot -> true), made on demand
--   full (whole ring read), cleared (ring all zero: no slot to read)
--   wipe (every slot is deleted on save)
--   fresh (signature to write), moved (head changed), changed (total changed)
local function load(key, pol, now)
  local n, f = pol.n, pol.f
  if f == nil then
    -- The same for every limiter of this policy in this script (one now).
    f = { 'tat', 'pi', 'hold' }
    for i = 1, n do
      local w = pol[i]
      w.seg = floor(now / w.g)
      w.k = w.seg % w.S
      w.kf = w.pre .. w.k -- (not slot_name: most runs need no other slot)
      local b = 3 + (i - 1) * 4
      f[b + 1], f[b + 2], f[b + 3], f[b + 4] = w.sf, w.hf, w.tf, w.kf
    end
    pol.f = f
  end
  local v = call('HMGET', key, unpack(f))
  local tat, pi, hold = N[v[1]] or NEG_INF, N[v[2]] or nil, N[v[3]] or 0
  local wss = {}
  local st = { key = key, pol = pol, tat = tat, tat0 = tat, hold = hold, hold0 = hold, w = wss, pi = nil }
  local interval = pol.paced and pol.interval or -1
  if pi ~= interval then
    if pi ~= nil and pi >= 0 and interval >= 0 and st.tat > now then
      st.tat = now + ((st.tat - now) * interval) / pi
    end
    st.pi = interval -- to write
  end
  for i = 1, n do
    local w, b = pol[i], 4 + (i - 1) * 4
    if v[b] == w.sig then
      -- (the fields a decision sets are listed, nil, to size the table once)
      wss[i] = { head = N[v[b + 1]] or NEG_INF, total = N[v[b + 2]] or 0, kv = N[v[b + 3]] or 0,
                 kd = nil, moved = nil, changed = nil }
    else
      -- New limiter, or its layout changed: start afresh; an old ring goes.
      -- Slots of window i exist only below the segment count of its stored
      -- signature: without one there are none, with one they are deleted here.
      wss[i] = { head = NEG_INF, total = 0, kv = 0, fresh = true, cleared = true, kd = nil, moved = nil, changed = nil }
      if v[b] then
        local old = tonumber(string.match(v[b], '/(%d+)$')) or 0
        st.hdel = st.hdel or {}
        for k = 0, old - 1 do st.hdel[#st.hdel + 1] = slot_name(w, k) end
      end
    end
  end
  return st
end

-- Ring slot k of a window (0 when absent).
local function get(st, w, ws, k)
  if k == w.k then return ws.kv end
  local ring = ws.ring
  local v = ring and ring[k]
  if v == nil then
    if ws.cleared or ws.full then v = 0
    else v = tonumber(call('HGET', st.key, slot_name(w, k))) or 0 end
    if ring == nil then ws.ring = { [k] = v } else ring[k] = v end
  end
  return v
end

local function set(w, ws, k, v)
  if k == w.k then
    ws.kv, ws.kd = v, true
    return
  end
  local ring, d = ws.ring, ws.dirty
  if ring == nil then ws.ring = { [k] = v } else ring[k] = v end
  if d == nil then ws.dirty = { [k] = true } else d[k] = true end
end

-- Every slot in one HMGET, before a scan over the ring.
local function load_ring(st, w, ws)
  if ws.cleared or ws.full then return end
  local S, f = w.S, {}
  for k = 0, S - 1 do f[k + 1] = slot_name(w, k) end
  local v = call('HMGET', st.key, unpack(f))
  local ring = ws.ring or {}
  for k = 0, S - 1 do
    if k ~= w.k and ring[k] == nil then ring[k] = tonumber(v[k + 1]) or 0 end
  end
  ws.ring, ws.full = ring, true
end

-- sliding-window.ts advance (w.seg = floor(now / g): load)
local function advance(st, w, ws, now)
  local seg = w.seg
  if seg <= ws.head then return ws.head end -- same segment, or clock went back
  local S = w.S
  if seg - ws.head >= S or ws.total <= 0 then
    -- ring.fill(0): every slot is deleted on save (a fresh window has none to delete)
    if not ws.fresh then ws.wipe = true end
    ws.ring, ws.dirty, ws.kv, ws.kd, ws.cleared = nil, nil, 0, nil, true
    ws.total = 0
  else
    if seg - ws.head > 2 then load_ring(st, w, ws) end
    for s = ws.head + 1, seg do
      local k = s % S
      ws.total = ws.total - get(st, w, ws, k)
      set(w, ws, k, 0)
    end
    if ws.total < 1e-9 then ws.total = 0 end -- float dust from refunds
  end
  ws.head = seg
  ws.moved, ws.changed = true, true
  return seg
end

-- sliding-window.ts waitToFit
local function wait_to_fit(st, w, ws, now, cost)
  if cost > w.limit then return INF end
  local excess = ws.total + cost - w.limit
  if excess <= 0 then return 0 end
  local S, g = w.S, w.g
  load_ring(st, w, ws)
  for s = ws.head - S + 1, ws.head do
    excess = excess - get(st, w, ws, s % S)
    if excess <= 1e-9 then return max(0, (s + S) * g - now) end
  end
  return max(0, (ws.head + 1) * g - now)
end

-- sliding-window.ts resetIn
local function reset_in(st, w, ws, now)
  if ws.total <= 0 then return 0 end
  local S, head = w.S, ws.head
  local k = head % S
  -- The head slot first (usually now's slot, already read), then the ring at once.
  local v = k == w.k and ws.kv or get(st, w, ws, k)
  if not (v > 0) then
    if S > 1 then load_ring(st, w, ws) end
    for s = head - 1, head - S + 1, -1 do
      if get(st, w, ws, s % S) > 0 then return max(0, (s + S) * w.g - now) end
    end
    return 0
  end
  local r = (head + S) * w.g - now
  return r > 0 and r or 0 -- max(0, r)
end

-- sliding-window.ts charge
local function charge(st, w, ws, seg, cost)
  local k = seg % w.S
  if k == w.k then ws.kv, ws.kd = ws.kv + cost, true -- get and set of now's slot
  else set(w, ws, k, get(st, w, ws, k) + cost) end
  ws.total = ws.total + cost
  ws.changed = true
end

-- sliding-window.ts adjust
local function adjust(st, w, ws, seg, delta)
  if seg > ws.head or seg <= ws.head - w.S then return end
  local k = seg % w.S
  local cur = get(st, w, ws, k)
  local nxt = max(0, cur + delta)
  ws.total = ws.total + (nxt - cur)
  set(w, ws, k, nxt)
  if ws.total < 1e-9 then ws.total = 0 end
  ws.changed = true
end

-- gcra.ts nextSlot (tolerance = (capacity - 1) × interval)
local function next_slot(st, pol, now)
  return max(now, st.tat - (pol.capacity - 1) * pol.interval)
end

-- policy.ts check: returns blocked (window indexes, -1 = hold, 0 = pacing)
-- and never (nil when none), wait, slot.
local function check(st, c, now, horizon)
  local pol = st.pol
  local wait, blocked, never = 0, nil, nil
  for i = 1, pol.n do
    local w, ws = pol[i], st.w[i]
    if w.seg > ws.head then advance(st, w, ws, now) end -- else a no-op
    local cc = c[w.ci] or c[2] + c[3] -- cost_of(c, w)
    if not (cc <= 0 or ws.total + cc <= w.limit) then
      local wt = wait_to_fit(st, w, ws, now, cc)
      blocked = blocked or {}
      blocked[#blocked + 1] = i
      if wt == INF then
        never = never or {}
        never[#never + 1] = i
      end
      wait = max(wait, wt)
    end
  end
  if st.hold > now then
    blocked = blocked or {}
    blocked[#blocked + 1] = -1
    wait = max(wait, st.hold - now)
  end
  local slot = now
  if pol.paced and c[1] > 0 then
    slot = next_slot(st, pol, now)
    if slot - now > horizon then
      blocked = blocked or {}
      blocked[#blocked + 1] = 0
      wait = max(wait, slot - now - horizon)
    end
  end
  return blocked, never, wait, slot
end

-- policy.ts commit: appends to out the paced flag (0|1), the window count n
-- and the n charged segments; returns the next index.
local function commit_into(out, o, st, c, now, send_at)
  local pol = st.pol
  local paced = pol.paced and c[1] > 0
  out[o], out[o + 1] = paced and 1 or 0, pol.n
  o = o + 2
  for i = 1, pol.n do
    local w, ws = pol[i], st.w[i]
    local seg = ws.head
    if w.seg > seg then seg = advance(st, w, ws, now) end -- else a no-op returning head
    charge(st, w, ws, seg, c[w.ci] or c[2] + c[3]) -- cost_of(c, w)
    out[o] = (seg % 1 == 0 and seg < EXACT and seg > -EXACT) and seg or num(seg) -- num(seg), whole case inlined
    o = o + 1
  end
  if paced then st.tat = max(st.tat, send_at or now) + pol.interval end -- gcra.ts claim (at the send time)
  return o
end

-- policy.ts statusOf (windows already advanced): appends n, then used and
-- reset_ms per window; returns the next index.
local function status_into(out, o, st, now)
  local pol = st.pol
  out[o] = pol.n
  o = o + 1
  for i = 1, pol.n do
    local w, ws = pol[i], st.w[i]
    local used = ws.total
    if not (used % 1 == 0 and used < EXACT and used > -EXACT) then used = num(used) end -- num, whole case inlined
    out[o], out[o + 1] = used, num(reset_in(st, w, ws, now))
    o = o + 2
  end
  return o
end

-- Appends a list (its length, then its items); returns the next index.
local function list_into(out, o, xs)
  if xs == nil then
    out[o] = 0
    return o + 1
  end
  out[o] = #xs
  for j = 1, #xs do out[o + j] = xs[j] end
  return o + 1 + #xs
end

-- Writes back what changed: at most one HDEL, one HSET, one PEXPIRE.
-- The TTL is refreshed only when a head moves (or tat, pi or hold change, or a
-- window is new): a charge lands in the head segment, which expires at most
-- the longest window after it became the head — when the TTL was last set.
local hdel, hset = {}, {} -- save's argument lists, reused: hdel[1..d], hset[1..h]
local function save(st, now)
  local pol, d, h = st.pol, 0, 0
  if st.hdel then
    for j = 1, #st.hdel do hdel[j] = st.hdel[j] end
    d = #st.hdel
  end
  local refresh = st.tat ~= st.tat0 or st.hold ~= st.hold0 or st.pi ~= nil
  if st.tat ~= st.tat0 then
    if st.tat == NEG_INF then hdel[d + 1], d = 'tat', d + 1
    else hset[h + 1], hset[h + 2], h = 'tat', str(st.tat), h + 2 end
  end
  if st.pi ~= nil then hset[h + 1], hset[h + 2], h = 'pi', str(st.pi), h + 2 end
  if st.hold ~= st.hold0 then hset[h + 1], hset[h + 2], h = 'hold', str(st.hold), h + 2 end
  for i = 1, pol.n do
    local w, ws = pol[i], st.w[i]
    if ws.fresh then hset[h + 1], hset[h + 2], h = w.sf, w.sig, h + 2 end
    if ws.fresh or ws.moved then
      refresh = true
      if ws.head == NEG_INF then hdel[d + 1], d = w.hf, d + 1
      else hset[h + 1], hset[h + 2], h = w.hf, str(ws.head), h + 2 end
    end
    if ws.fresh or ws.changed then hset[h + 1], hset[h + 2], h = w.tf, str(ws.total), h + 2 end
    if ws.wipe then
      for k = 0, w.S - 1 do hdel[d + 1 + k] = slot_name(w, k) end
      d = d + w.S
    end
    if ws.kd then
      if ws.kv ~= 0 then hset[h + 1], hset[h + 2], h = w.kf, str(ws.kv), h + 2
      elseif not ws.cleared then hdel[d + 1], d = w.kf, d + 1 end
    end
    if ws.dirty then
      for k in pairs(ws.dirty) do
        local v, name = ws.ring[k], slot_name(w, k)
        if v ~= 0 then hset[h + 1], hset[h + 2], h = name, str(v), h + 2
        elseif not ws.cleared then hdel[d + 1], d = name, d + 1 end
      end
    end
  end
  if d > 0 then call('HDEL', st.key, unpack(hdel, 1, d)) end -- before HSET: a wiped ring's slots may be set anew
  if h > 0 then
    call('HSET', st.key, unpack(hset, 1, h))
    if refresh then
      local ttl = pol.max_ms
      if st.tat - now > ttl then ttl = st.tat - now end
      if st.hold - now > ttl then ttl = st.hold - now end
      call('PEXPIRE', st.key, str(ceil(ttl) + 1000))
    end
  end
end
`;
