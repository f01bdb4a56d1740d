package redis

// The Lua scripts every shard operation runs as (DESIGN.md, "Data on a
// Redis shard"). User data stays in native types under the user's own key
// names; metadata lives under the reserved prefix __sp: in each database:
//
//	__sp:v          hash: key -> version of its last change (kept after a
//	                delete, as its tombstone)
//	__sp:clock      the last version handed out
//	__sp:l:<key>    lock of key: "<tx>|<primary>|<deadline>"
//	__sp:tx:<tx>    on the primary: "s" -> C (committed) or A (aborted),
//	                and per other participant "p<shard>" -> its staged part
//	__sp:abort      written by a failed check, to abort the EXEC it watches
//
// Versions are max(clock+1, TIME_ms*1024): they never repeat, even if the
// clock is lost, and stay below 2^53 (Lua numbers are doubles).

const luaNow = `
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function bump(keys, from, to)
  local v = math.max(tonumber(redis.call('GET', '__sp:clock') or '0') + 1, now_ms() * 1024)
  local s = string.format('%.0f', v)
  redis.call('SET', '__sp:clock', s)
  for i = from, to do redis.call('HSET', '__sp:v', keys[i], s) end
end
local function guards_hold(keys, from, argv, g)
  for i = from, #keys do
    local k = keys[i]
    local ver = tonumber(redis.call('HGET', '__sp:v', k) or '0')
    local want, wlive = tonumber(argv[g]), argv[g + 1] == '1'
    g = g + 2
    local ok
    if redis.call('EXISTS', k) == 1 then ok = wlive and ver == want else ok = (not wlive) and ver <= want end
    if not ok then return false end
  end
  return true
end
local function apply(keys, from, argv, a, m)
  for i = from, from + m - 1 do
    local payload, at = argv[a], tonumber(argv[a + 1])
    a = a + 2
    if payload == '' then
      redis.call('DEL', keys[i])
    elseif at > 0 then
      redis.call('RESTORE', keys[i], at, payload, 'REPLACE', 'ABSTTL')
    else
      redis.call('RESTORE', keys[i], 0, payload, 'REPLACE')
    end
  end
  if m > 0 then bump(keys, from, from + m - 1) end
end
`

// scriptCheck runs before a write batch's MULTI, watched: KEYS = the abort
// key, n lock keys, then guarded keys; ARGV = n, then version and
// liveness per guard. A lock or a changed guard writes the abort key, so
// the EXEC that follows runs nothing.
const scriptCheck = luaNow + `
local n = tonumber(ARGV[1])
for i = 2, n + 1 do
  local v = redis.call('GET', KEYS[i])
  if v then redis.call('INCR', KEYS[1]); return {'L', v} end
end
if not guards_hold(KEYS, n + 2, ARGV, 2) then redis.call('INCR', KEYS[1]); return {'G'} end
return {'OK'}
`

// scriptBump runs first inside a write batch's MULTI: KEYS = the keys the
// batch writes, whose versions change before any command runs.
const scriptBump = luaNow + `
bump(KEYS, 1, #KEYS)
return 1
`

// scriptVersion answers WATCH: KEYS = the key. A live key reports its
// version, a missing one the clock (every later change exceeds it).
const scriptVersion = `
if redis.call('EXISTS', KEYS[1]) == 1 then return {1, redis.call('HGET', '__sp:v', KEYS[1]) or '0'} end
return {0, redis.call('GET', '__sp:clock') or '0'}
`

// scriptLock is PREPARE: KEYS = n lock keys, the n keys, then guarded
// keys; ARGV = owner, deadline, n, then guards. It locks every key (read
// or written) and returns each key's DUMP payload and absolute expiry.
const scriptLock = luaNow + `
if now_ms() >= tonumber(ARGV[2]) then return {'D'} end
local n = tonumber(ARGV[3])
for i = 1, n do
  local v = redis.call('GET', KEYS[i])
  if v and v ~= ARGV[1] then return {'L', v} end
end
if not guards_hold(KEYS, 2 * n + 1, ARGV, 4) then return {'G'} end
local out = {'OK'}
for i = 1, n do
  redis.call('SET', KEYS[i], ARGV[1])
  local d = redis.call('DUMP', KEYS[n + i])
  if d then
    out[#out + 1] = d
    out[#out + 1] = tostring(redis.call('PEXPIRETIME', KEYS[n + i]))
  else
    out[#out + 1] = ''
    out[#out + 1] = '-2'
  end
end
return out
`

// scriptCommit is the commit point, on the primary: KEYS = the record key,
// n lock keys, m written keys; ARGV = owner, deadline, n, m, a payload and
// expiry per write, then field and value pairs of the record (the other
// participants' staged parts). Refused (nothing done) past the deadline,
// after an abort, or when a lock is no longer the owner's.
const scriptCommit = luaNow + `
if now_ms() >= tonumber(ARGV[2]) then return 'D' end
if redis.call('EXISTS', KEYS[1]) == 1 then return 'A' end
local n, m = tonumber(ARGV[3]), tonumber(ARGV[4])
for i = 2, n + 1 do
  if redis.call('GET', KEYS[i]) ~= ARGV[1] then return 'L' end
end
local f = 5 + 2 * m
if f <= #ARGV then
  redis.call('HSET', KEYS[1], 's', 'C')
  for i = f, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
end
apply(KEYS, n + 2, ARGV, 5, m)
for i = 2, n + 1 do redis.call('DEL', KEYS[i]) end
return 'C'
`

// scriptApply installs a participant's part: KEYS = n lock keys, m
// written keys; ARGV = owner, n, m, a payload and expiry per write. If
// the locks are no longer the owner's, someone applied it already.
const scriptApply = luaNow + `
local n, m = tonumber(ARGV[2]), tonumber(ARGV[3])
if n > 0 and redis.call('GET', KEYS[1]) ~= ARGV[1] then return 'X' end
apply(KEYS, n + 1, ARGV, 4, m)
for i = 1, n do
  if redis.call('GET', KEYS[i]) == ARGV[1] then redis.call('DEL', KEYS[i]) end
end
return 'OK'
`

// scriptUnlock releases the owner's locks: KEYS = lock keys, ARGV = owner.
const scriptUnlock = `
for i = 1, #KEYS do
  if redis.call('GET', KEYS[i]) == ARGV[1] then redis.call('DEL', KEYS[i]) end
end
return 'OK'
`

// scriptOutcome asks a primary how a transaction ended: KEYS = the record
// key; ARGV = deadline, the asking participant's field. Past the deadline
// with no commit, it writes the abort, so the commit can never happen.
const scriptOutcome = luaNow + `
local s = redis.call('HGET', KEYS[1], 's')
if s == 'C' then return {'C', redis.call('HGET', KEYS[1], ARGV[2]) or ''} end
if s == 'A' then return {'A'} end
if now_ms() >= tonumber(ARGV[1]) then
  redis.call('HSET', KEYS[1], 's', 'A')
  redis.call('PEXPIRE', KEYS[1], 86400000)
  return {'A'}
end
return {'P'}
`

// scriptForget drops a participant's staged part once it is applied, and
// the record with the last one: KEYS = record key, ARGV = field.
const scriptForget = `
redis.call('HDEL', KEYS[1], ARGV[1])
if redis.call('HLEN', KEYS[1]) <= 1 then redis.call('DEL', KEYS[1]) end
return 1
`
