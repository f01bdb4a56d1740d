package redis

import (
	"crypto/sha1"
	"encoding/hex"
)

// The Lua scripts every shard operation runs as (DESIGN.md, "Data on a
// Redis shard"). User data stays in native types under the user's own key
// names; metadata lives under the reserved prefix __sp: in each database:
//
//	__sp:v:<xyz>    hashes, one per 3 hex digits of the key's SHA1 (4096):
//	                the next 6 bytes of the SHA1 -> version of the key's
//	                last change (kept after a delete, as its tombstone)
//	__sp:clock      the last version handed out
//	__sp:l:<key>    lock of key: "<tx>|<primary>|<deadline>"
//	__sp:txs        on a primary, per committed transaction <tx>: "<tx>:s"
//	                -> C, "<tx>:n" -> participants still to apply it, and
//	                per such participant "<tx>:p<shard>" -> its staged part
//	__sp:aborted    sorted set of transactions declared aborted (by time),
//	                so that none of them commits late; trimmed after a day
//	__sp:replies    on a primary, the replies of native stages that a
//	                resolver applied, for their coordinators, by
//	                "<tx>:p<shard>" (and by time in __sp:replies:t);
//	                trimmed after 10 minutes
//	__sp:abort      written by a failed check, to abort the EXEC it watches
//	__sp:fence      set on every database while a request over whole
//	                databases runs: other batches and locks wait
//	__sp:nlocks     how many lock keys the database holds, so that a
//	                request over whole databases can wait for them to drain
//
// Versions come from the database's clock, INCRed by every change: they
// never repeat, and stay below 2^53 (Lua numbers are doubles). A clock
// that is missing (a new database, or a FLUSHDB) starts again at
// TIME_ms*1024, above every version handed out before, as long as fewer
// than 1024 changes a millisecond were made since the first.

// luaVref locates a key's version (vref: its hash and field).
const luaVref = `
-- vref is where key's version lives: one of 4096 small hashes (they stay
-- in Redis's compact encoding up to about half a million keys per
-- database), under 6 bytes of the key's SHA1 rather than the key itself,
-- which costs half as much for common keys: two keys that share a field
-- share their version, which only makes guards fail more often.
local function vref(key)
  local h = redis.sha1hex(key)
  return '__sp:v:' .. string.sub(h, 1, 3),
    (string.gsub(string.sub(h, 4, 15), '..', function(c) return string.char(tonumber(c, 16)) end))
end
`

// luaBump is the versioning every script that writes shares.
const luaBump = luaVref + `
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
-- next_version moves the clock on; a clock that is missing or was lost
-- starts again from the time.
local function next_version()
  local v = redis.call('INCR', '__sp:clock')
  if v >= 1099511627776 then return string.format('%.0f', v) end
  local s = string.format('%.0f', now_ms() * 1024)
  redis.call('SET', '__sp:clock', s)
  return s
end
-- set_version records version s in hash h, field f (vref's); a hash
-- that appears is counted in __sp:nv, for DBSIZE.
local function set_version(h, f, s)
  if redis.call('HSET', h, f, s) == 1 and redis.call('HLEN', h) == 1 then redis.call('INCR', '__sp:nv') end
end
-- bump gives keys[from..to] the next version.
local function bump(keys, from, to)
  local s = next_version()
  for i = from, to do
    local h, f = vref(keys[i])
    set_version(h, f, s)
  end
end
`

const luaNow = luaBump + `
local function guards_hold(keys, from, argv, g)
  for i = from, #keys do
    local k = keys[i]
    local ver = tonumber(redis.call('HGET', vref(k)) or '0')
    local want, wlive = tonumber(argv[g]), argv[g + 1] == '1'
    g = g + 2
    local ok
    if redis.call('EXISTS', k) == 1 then ok = wlive and ver == want else ok = (not wlive) and ver <= want end
    if not ok then return false end
  end
  return true
end
local function unlock(key, owner)
  if redis.call('GET', key) == owner then
    redis.call('DEL', key)
    if redis.call('DECR', '__sp:nlocks') <= 0 then redis.call('DEL', '__sp:nlocks') end
  end
end
-- sel SELECTs db unless the script is in it already.
local cur_db
local function sel(db)
  db = tostring(db)
  if db ~= cur_db then redis.call('SELECT', db); cur_db = db end
end
-- put writes one key in db: a DUMP payload (or '' to delete) and an
-- absolute expiry in ms (0: none); a key that exists after it gets a new
-- version.
local function put(db, key, payload, at)
  sel(db)
  if payload == '' then
    redis.call('DEL', key)
  elseif at > 0 then
    redis.call('RESTORE', key, at, payload, 'REPLACE', 'ABSTTL')
  else
    redis.call('RESTORE', key, 0, payload, 'REPLACE')
  end
  if redis.call('EXISTS', key) == 1 then bump({key}, 1, 1) end
end
-- finish runs the writes listed at ARGV[w] (a count, then db, key,
-- payload, expiry each) and releases the nl locks listed from ARGV[l]
-- (db, key each): the end of a commit or an apply.
local function finish(l, nl, w)
  for i = 0, tonumber(ARGV[w]) - 1 do
    local b = w + 1 + 4 * i
    put(ARGV[b], ARGV[b + 1], ARGV[b + 2], tonumber(ARGV[b + 3]))
  end
  for i = 0, nl - 1 do
    sel(ARGV[l + 2 * i])
    unlock('__sp:l:' .. ARGV[l + 1 + 2 * i], ARGV[1])
  end
end
`

// scriptCheck runs before a write batch's MULTI, watched: KEYS = the abort
// key, n lock keys, then guarded keys; ARGV = n, then version and
// liveness per guard, then the fence token the batch may pass (or ""). A
// lock, a fence or a changed guard writes the abort key, so the EXEC that
// follows runs nothing.
const scriptCheck = luaNow + `
local n = tonumber(ARGV[1])
local fence = redis.call('GET', '__sp:fence')
if fence and fence ~= ARGV[#ARGV] then redis.call('INCR', KEYS[1]); return {'L', 'F|' .. fence} end
for i = 2, n + 1 do
  local v = redis.call('GET', KEYS[i])
  if v then redis.call('INCR', KEYS[1]); return {'L', v} end
end
if not guards_hold(KEYS, n + 2, ARGV, 2) then redis.call('INCR', KEYS[1]); return {'G'} end
return {'OK'}
`

// scriptBump runs last inside a write batch's MULTI: KEYS = the keys the
// batch may have written. Those that exist now get a new version; one the
// batch deleted needs none (WATCH sees it gone), and one it did not
// create stays as WATCH left it, as Redis leaves a DEL of a missing key.
const scriptBump = luaNow + `
local live = {}
for i = 1, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 1 then live[#live + 1] = KEYS[i] end
end
if #live > 0 then bump(live, 1, #live) end
return #live
`

// scriptRun runs a whole batch of one database in one call, the fast path
// of batches whose replies survive the trip through Lua (run.go): KEYS =
// the keys the batch touches, the nw it may write first, then the ng it
// guards (WATCHed keys; some may be among the others too); ARGV = the
// fence token the batch may pass (or ""), nw, ns, ng, where each written
// key's version goes (vref's hash suffix and field, computed by the
// caller), each guard's
// version and liveness, then each command as its reply mode, its
// argument count and its arguments. A lock or a fence met runs nothing
// and answers {'L', owner}, a guard that changed {'G'}; otherwise {'R',
// replies...}, and the written keys that exist get a new version: the
// first ns are known to (only commands that leave their key in place
// wrote them), the others are looked at. A version given to a key that
// is gone after all is harmless: it only makes guards on it fail.
const scriptRun = luaBump + `
local m = {'__sp:fence'}
for i = 1, #KEYS do m[i + 1] = '__sp:l:' .. KEYS[i] end
local held = redis.call('MGET', unpack(m))
if held[1] and held[1] ~= ARGV[1] then return {'L', 'F|' .. held[1]} end
for i = 2, #held do
  if held[i] then return {'L', held[i]} end
end
local nw, ns, ng = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local a = 5 + 2 * nw
for i = #KEYS - ng + 1, #KEYS do
  local k = KEYS[i]
  local ver = tonumber(redis.call('HGET', vref(k)) or '0')
  local want, wlive = tonumber(ARGV[a]), ARGV[a + 1] == '1'
  local ok
  if redis.call('EXISTS', k) == 1 then ok = wlive and ver == want else ok = (not wlive) and ver <= want end
  if not ok then return {'G'} end
  a = a + 2
end
local out = {'R'}
while a <= #ARGV do
  local n = tonumber(ARGV[a + 1])
  local r = redis.pcall(unpack(ARGV, a + 2, a + 1 + n))
  -- An integer past 2^53 would lose digits as a Lua number: read it again
  -- as a string (the caller turns it back into an integer reply).
  if type(r) == 'number' and (r >= 9007199254740992 or r <= -9007199254740992) then
    if ARGV[a] == 'i' then r = redis.call('GET', ARGV[a + 3])
    elseif ARGV[a] == 'h' then r = redis.call('HGET', ARGV[a + 3], ARGV[a + 4]) end
  end
  out[#out + 1] = r
  a = a + 2 + n
end
local s
for i = 1, nw do
  if i <= ns or redis.call('EXISTS', KEYS[i]) == 1 then
    s = s or next_version()
    set_version('__sp:v:' .. ARGV[3 + 2 * i], ARGV[4 + 2 * i], s)
  end
end
return out
`

// scriptVersion answers WATCH: KEYS = the key. A live key reports its
// version, a missing one the clock (every later change exceeds it).
const scriptVersion = luaVref + `
if redis.call('EXISTS', KEYS[1]) == 1 then
  return {1, redis.call('HGET', vref(KEYS[1])) or '0'}
end
return {0, redis.call('GET', '__sp:clock') or '0'}
`

// scriptReadGuarded reads a key's guard and value in one step, for
// optimistic transactions: KEYS = the key, its lock key. A lock or a
// fence answers {'L', owner}; otherwise a live key answers {1, version,
// DUMP payload, absolute expiry (-1: none)}, a missing one {0, the
// clock} (every later change exceeds it).
const scriptReadGuarded = luaVref + `
local f = redis.call('GET', '__sp:fence')
if f then return {'L', 'F|' .. f} end
local l = redis.call('GET', KEYS[2])
if l then return {'L', l} end
local d = redis.call('DUMP', KEYS[1])
if d then
  local v = redis.call('HGET', vref(KEYS[1])) or '0'
  return {1, v, d, tostring(redis.call('PEXPIRETIME', KEYS[1]))}
end
return {0, redis.call('GET', '__sp:clock') or '0'}
`

// scriptLock is PREPARE: KEYS = n lock keys, the n keys, then guarded
// keys; ARGV = owner, deadline, n, then guards. It locks every key (read
// or written) and returns each key's DUMP payload and absolute expiry.
const scriptLock = luaNow + `
if now_ms() >= tonumber(ARGV[2]) then return {'D'} end
local fence = redis.call('GET', '__sp:fence')
if fence then return {'L', 'F|' .. fence} end
local n = tonumber(ARGV[3])
for i = 1, n do
  local v = redis.call('GET', KEYS[i])
  if v and v ~= ARGV[1] then return {'L', v} end
end
if not guards_hold(KEYS, 2 * n + 1, ARGV, 4) then return {'G'} end
local out = {'OK'}
for i = 1, n do
  if redis.call('SET', KEYS[i], ARGV[1], 'GET') == false then redis.call('INCR', '__sp:nlocks') end
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

// scriptPrepare is a native PREPARE (native.go): scriptLock's arguments
// and checks, but it reads no value: it answers each key's absolute
// expiry (PEXPIRETIME), so that the coordinator can see a key that may
// expire before the transaction applies.
const scriptPrepare = luaNow + `
if now_ms() >= tonumber(ARGV[2]) then return {'D'} end
local fence = redis.call('GET', '__sp:fence')
if fence then return {'L', 'F|' .. fence} end
local n = tonumber(ARGV[3])
for i = 1, n do
  local v = redis.call('GET', KEYS[i])
  if v and v ~= ARGV[1] then return {'L', v} end
end
if not guards_hold(KEYS, 2 * n + 1, ARGV, 4) then return {'G'} end
local out = {'OK'}
for i = 1, n do
  if redis.call('SET', KEYS[i], ARGV[1], 'GET') == false then redis.call('INCR', '__sp:nlocks') end
  out[#out + 1] = tostring(redis.call('PEXPIRETIME', KEYS[n + i]))
end
return out
`

// scriptCommitCheck runs before a native commit's MULTI, on the primary,
// with the keys it reads watched: ARGV = owner, deadline, tx id, held
// ("1" when the primary's keys are locked by the transaction itself),
// the count and (db, key) pairs of the primary's keys, then the count and
// (db, key, version, liveness) of its guards. Past the deadline, after an
// abort, at a foreign lock, at a fence (unless held: a fence then waits
// for the transaction's own locks) or at a changed guard it writes the
// abort key, so the EXEC that follows runs nothing.
const scriptCommitCheck = luaNow + `
local function fail(r)
  sel(0)
  redis.call('INCR', '__sp:abort')
  return r
end
if now_ms() >= tonumber(ARGV[2]) then return fail({'D'}) end
sel(0)
if redis.call('ZSCORE', '__sp:aborted', ARGV[3]) then return fail({'A'}) end
local held = ARGV[4] == '1'
local a = 6
for i = 1, tonumber(ARGV[5]) do
  sel(ARGV[a])
  if not held then
    local f = redis.call('GET', '__sp:fence')
    if f then return fail({'L', 'F|' .. f}) end
  end
  local v = redis.call('GET', '__sp:l:' .. ARGV[a + 1])
  if v and v ~= ARGV[1] then return fail({'L', v}) end
  a = a + 2
end
local ng = tonumber(ARGV[a])
a = a + 1
for i = 1, ng do
  sel(ARGV[a])
  local k = ARGV[a + 1]
  local ver = tonumber(redis.call('HGET', vref(k)) or '0')
  local want, wlive = tonumber(ARGV[a + 2]), ARGV[a + 3] == '1'
  local ok
  if redis.call('EXISTS', k) == 1 then ok = wlive and ver == want else ok = (not wlive) and ver <= want end
  if not ok then return fail({'G'}) end
  a = a + 4
end
return {'OK'}
`

// scriptCommitRecord ends a native commit's MULTI, on the primary: ARGV =
// owner, tx id, the count and (db, key) pairs of the transaction's own
// locks there (released), then the record's field and value pairs (the
// other participants' stages, "p<shard>"), kept in database 0: the same
// record scriptCommit writes.
const scriptCommitRecord = luaNow + `
local nl = tonumber(ARGV[3])
for i = 0, nl - 1 do
  sel(ARGV[4 + 2 * i])
  unlock('__sp:l:' .. ARGV[5 + 2 * i], ARGV[1])
end
local f = 4 + 2 * nl
if f <= #ARGV then
  local id = ARGV[2]
  sel(0)
  redis.call('HSET', '__sp:txs', id .. ':s', 'C', id .. ':n', (#ARGV - f + 1) / 2)
  for i = f, #ARGV, 2 do redis.call('HSET', '__sp:txs', id .. ':' .. ARGV[i], ARGV[i + 1]) end
end
return 1
`

// scriptOwned runs before a native apply's MULTI: ARGV = owner, then
// (db, key) pairs of the participant's locks. A lock that is no longer
// the owner's (a resolver applied the stage) writes the abort key, so the
// EXEC that follows runs nothing, and answers 'X'.
const scriptOwned = luaNow + `
for i = 2, #ARGV, 2 do
  sel(ARGV[i])
  if redis.call('GET', '__sp:l:' .. ARGV[i + 1]) ~= ARGV[1] then
    sel(0)
    redis.call('INCR', '__sp:abort')
    return 'X'
  end
end
return 'OK'
`

// Commit, apply and unlock name every key with its database, as a
// transaction may span databases: ARGV holds, after the fixed arguments,
// a count of locked keys and their (db, key) pairs, then a count of
// writes and their (db, key, payload, expiry) quadruples.

// scriptCommit is the commit point, on the primary: ARGV = owner,
// deadline, tx id, the locked keys, the writes, then field and value pairs
// of the record (the other participants' staged parts, "p<shard>"), kept
// in database 0. Refused (nothing done) past the deadline, after an abort,
// or when a lock is no longer the owner's.
const scriptCommit = luaNow + `
if now_ms() >= tonumber(ARGV[2]) then return 'D' end
local id = ARGV[3]
sel(0)
if redis.call('ZSCORE', '__sp:aborted', id) then return 'A' end
local nl = tonumber(ARGV[4])
for i = 0, nl - 1 do
  sel(ARGV[5 + 2 * i])
  if redis.call('GET', '__sp:l:' .. ARGV[6 + 2 * i]) ~= ARGV[1] then return 'L' end
end
local w = 5 + 2 * nl
local nw = tonumber(ARGV[w])
local f = w + 1 + 4 * nw
if f <= #ARGV then
  sel(0)
  redis.call('HSET', '__sp:txs', id .. ':s', 'C', id .. ':n', (#ARGV - f + 1) / 2)
  for i = f, #ARGV, 2 do redis.call('HSET', '__sp:txs', id .. ':' .. ARGV[i], ARGV[i + 1]) end
end
finish(5, nl, w)
return 'C'
`

// scriptApply installs a participant's part: ARGV = owner, the locked
// keys, the writes. If the locks are no longer the owner's, someone
// applied it already.
const scriptApply = luaNow + `
local nl = tonumber(ARGV[2])
if nl > 0 then
  sel(ARGV[3])
  if redis.call('GET', '__sp:l:' .. ARGV[4]) ~= ARGV[1] then return 'X' end
end
finish(3, nl, 3 + 2 * nl)
return 'OK'
`

// scriptUnlock releases the owner's locks: ARGV = owner, then (db, key)
// pairs.
const scriptUnlock = luaNow + `
for i = 2, #ARGV, 2 do
  sel(ARGV[i])
  unlock('__sp:l:' .. ARGV[i + 1], ARGV[1])
end
return 'OK'
`

// scriptOutcome asks a primary how a transaction ended: ARGV = tx id,
// deadline, the asking participant's field ("p<shard>"). Past the
// deadline with no commit, it records the abort, so the commit can never
// happen, even if the clock steps back.
const scriptOutcome = luaNow + `
local id = ARGV[1]
if redis.call('HGET', '__sp:txs', id .. ':s') == 'C' then
  return {'C', redis.call('HGET', '__sp:txs', id .. ':' .. ARGV[3]) or ''}
end
if redis.call('ZSCORE', '__sp:aborted', id) then return {'A'} end
local now = now_ms()
if now >= tonumber(ARGV[2]) then
  redis.call('ZADD', '__sp:aborted', now, id)
  redis.call('ZREMRANGEBYSCORE', '__sp:aborted', '-inf', now - 86400000)
  return {'A'}
end
return {'P'}
`

// scriptForget drops participants' staged parts once they are applied,
// and the record with the last one: ARGV = tx id, then fields
// ("p<shard>").
const scriptForget = `
local id = ARGV[1]
for i = 2, #ARGV do
  if redis.call('HDEL', '__sp:txs', id .. ':' .. ARGV[i]) == 1 then
    if redis.call('HINCRBY', '__sp:txs', id .. ':n', -1) <= 0 then
      redis.call('HDEL', '__sp:txs', id .. ':s', id .. ':n')
    end
  end
end
return 1
`

// luaRunOps is what the native scripts share: run_ops runs the commands
// in ARGV from a on, each as its database, reply mode (as scriptRun's),
// argument count and arguments, and returns their replies; bump_listed
// gives the listed (db, key) pairs from ARGV[w] (a count first) that
// exist a new version.
const luaRunOps = luaNow + `
local function run_ops(a, out)
  while a <= #ARGV do
    sel(ARGV[a])
    local n = tonumber(ARGV[a + 2])
    local r = redis.pcall(unpack(ARGV, a + 3, a + 2 + n))
    if type(r) == 'number' and (r >= 9007199254740992 or r <= -9007199254740992) then
      if ARGV[a + 1] == 'i' then r = redis.call('GET', ARGV[a + 4])
      elseif ARGV[a + 1] == 'h' then r = redis.call('HGET', ARGV[a + 4], ARGV[a + 5]) end
    end
    out[#out + 1] = r
    a = a + 3 + n
  end
  return out
end
local function bump_listed(w)
  local s
  for i = 0, tonumber(ARGV[w]) - 1 do
    sel(ARGV[w + 1 + 2 * i])
    local k = ARGV[w + 2 + 2 * i]
    if redis.call('EXISTS', k) == 1 then
      s = s or next_version()
      local h, f = vref(k)
      set_version(h, f, s)
    end
  end
end
`

// scriptCommitRun is a native commit in one script, for stages whose
// replies Lua carries (run.go): ARGV = owner, deadline, tx id, held, the
// count and (db, key) pairs of the primary's keys, the count and (db,
// key, version, liveness) of its guards, the count and (db, key) pairs it
// may write, the count and (db, key) pairs of its own locks (released),
// the count and field and value pairs of the record, then the commands
// (see luaRunOps). It checks as scriptCommitCheck, without writing the
// abort key: a failed check answers {'D'}, {'A'}, {'L', owner} or
// {'G'} and runs nothing; otherwise {'R', replies...}.
const scriptCommitRun = luaRunOps + `
if now_ms() >= tonumber(ARGV[2]) then return {'D'} end
local id = ARGV[3]
sel(0)
if redis.call('ZSCORE', '__sp:aborted', id) then return {'A'} end
local held = ARGV[4] == '1'
local a = 6
for i = 1, tonumber(ARGV[5]) do
  sel(ARGV[a])
  if not held then
    local f = redis.call('GET', '__sp:fence')
    if f then return {'L', 'F|' .. f} end
  end
  local v = redis.call('GET', '__sp:l:' .. ARGV[a + 1])
  if v and v ~= ARGV[1] then return {'L', v} end
  a = a + 2
end
local ng = tonumber(ARGV[a])
a = a + 1
for i = 1, ng do
  sel(ARGV[a])
  local k = ARGV[a + 1]
  local ver = tonumber(redis.call('HGET', vref(k)) or '0')
  local want, wlive = tonumber(ARGV[a + 2]), ARGV[a + 3] == '1'
  local ok
  if redis.call('EXISTS', k) == 1 then ok = wlive and ver == want else ok = (not wlive) and ver <= want end
  if not ok then return {'G'} end
  a = a + 4
end
local w = a
a = a + 1 + 2 * tonumber(ARGV[a])
local l = a
a = a + 1 + 2 * tonumber(ARGV[a])
local f = a
a = a + 1 + 2 * tonumber(ARGV[a])
local out = run_ops(a, {'R'})
bump_listed(w)
for i = 0, tonumber(ARGV[l]) - 1 do
  sel(ARGV[l + 1 + 2 * i])
  unlock('__sp:l:' .. ARGV[l + 2 + 2 * i], ARGV[1])
end
local nf = tonumber(ARGV[f])
if nf > 0 then
  sel(0)
  redis.call('HSET', '__sp:txs', id .. ':s', 'C', id .. ':n', nf)
  for i = 0, nf - 1 do redis.call('HSET', '__sp:txs', id .. ':' .. ARGV[f + 1 + 2 * i], ARGV[f + 2 + 2 * i]) end
end
return out
`

// scriptApplyRun is a native apply in one script, for stages whose
// replies Lua carries: ARGV = owner, the count and (db, key) pairs of the
// participant's locks, the count and (db, key) pairs it may write, then
// the commands. Locks no longer the owner's (a resolver applied the
// stage) answer {'X'}; otherwise it runs the commands, releases the locks
// and answers {'R', replies...}.
const scriptApplyRun = luaRunOps + `
local nl = tonumber(ARGV[2])
for i = 0, nl - 1 do
  sel(ARGV[3 + 2 * i])
  if redis.call('GET', '__sp:l:' .. ARGV[4 + 2 * i]) ~= ARGV[1] then return {'X'} end
end
local w = 3 + 2 * nl
local out = run_ops(w + 1 + 2 * tonumber(ARGV[w]), {'R'})
bump_listed(w)
for i = 0, nl - 1 do
  sel(ARGV[3 + 2 * i])
  unlock('__sp:l:' .. ARGV[4 + 2 * i], ARGV[1])
end
return out
`

// scriptStash keeps, on a primary, the replies of a participant's native
// stage that a resolver applied, for its coordinator to answer its client
// with when it comes back: ARGV = the field ("<tx>:p<shard>"), the replies.
// Replies nobody fetched within 10 minutes (their coordinator died) are
// dropped.
const scriptStash = luaNow + `
local now = now_ms()
redis.call('HSET', '__sp:replies', ARGV[1], ARGV[2])
redis.call('ZADD', '__sp:replies:t', now, ARGV[1])
local old = redis.call('ZRANGEBYSCORE', '__sp:replies:t', '-inf', now - 600000, 'LIMIT', 0, 100)
for _, f in ipairs(old) do
  redis.call('HDEL', '__sp:replies', f)
  redis.call('ZREM', '__sp:replies:t', f)
end
return 1
`

// scriptUnstash takes a stash back (ARGV = its field, the transaction's
// id): the replies; {'A'} when the transaction was declared aborted (its
// commit recorded nothing, as it wrote nothing, and a resolver dropped its
// stages past its deadline); or nil.
const scriptUnstash = `
local r = redis.call('HGET', '__sp:replies', ARGV[1])
if r then
  redis.call('HDEL', '__sp:replies', ARGV[1])
  redis.call('ZREM', '__sp:replies:t', ARGV[1])
  return r
end
if redis.call('ZSCORE', '__sp:aborted', ARGV[2]) then return {'A'} end
return nil
`

// scriptFence sets the fence of a request over whole databases on every
// database (ARGV = token, ttl ms, databases) unless another holds one; it
// answers how many locks are still held, which the request waits to see
// drain to zero (no new lock is taken under the fence).
const scriptFence = `
local held = 0
for db = 0, tonumber(ARGV[3]) - 1 do
  redis.call('SELECT', db)
  local f = redis.call('GET', '__sp:fence')
  if f and f ~= ARGV[1] then return -1 end
end
for db = 0, tonumber(ARGV[3]) - 1 do
  redis.call('SELECT', db)
  redis.call('SET', '__sp:fence', ARGV[1], 'PX', ARGV[2])
  held = held + tonumber(redis.call('GET', '__sp:nlocks') or '0')
end
return held
`

// scriptUnfence lifts the fence (ARGV = token, databases).
const scriptUnfence = `
for db = 0, tonumber(ARGV[2]) - 1 do
  redis.call('SELECT', db)
  if redis.call('GET', '__sp:fence') == ARGV[1] then redis.call('DEL', '__sp:fence') end
end
return 1
`

// scriptRead returns each key's DUMP payload and absolute expiry, as Lock
// does, without locking (inside a request over whole databases).
const scriptRead = `
local out = {}
for i = 1, #KEYS do
  local d = redis.call('DUMP', KEYS[i])
  if d then
    out[#out + 1] = d
    out[#out + 1] = tostring(redis.call('PEXPIRETIME', KEYS[i]))
  else
    out[#out + 1] = ''
    out[#out + 1] = '-2'
  end
end
return out
`

// metaKeys are the metadata keys a database holds outside transactions:
// what DBSIZE leaves out.
// scriptMetaCount counts a database's metadata keys: KEYS = metaKeys, plus
// the version hashes __sp:nv counts.
const scriptMetaCount = `
return redis.call('EXISTS', unpack(KEYS)) + tonumber(redis.call('GET', '__sp:nv') or '0')
`

// The version hashes are counted apart, in __sp:nv.
var metaKeys = []string{"__sp:nv", "__sp:clock", "__sp:abort", "__sp:fence", "__sp:nlocks", "__sp:txs", "__sp:aborted",
	"__sp:replies", "__sp:replies:t"}

// allScripts are loaded on every new connection.
var allScripts = []string{scriptCheck, scriptBump, scriptRun, scriptVersion, scriptLock, scriptCommit, scriptApply,
	scriptPrepare, scriptCommitCheck, scriptCommitRecord, scriptOwned, scriptCommitRun, scriptApplyRun, scriptReadGuarded, scriptUnlock, scriptOutcome, scriptForget, scriptStash, scriptUnstash, scriptFence, scriptUnfence, scriptRead, scriptMetaCount}

// shas maps each script to its SHA1, as EVALSHA names it.
var shas = func() map[string]string {
	m := make(map[string]string, len(allScripts))
	for _, s := range allScripts {
		h := sha1.Sum([]byte(s))
		m[s] = hex.EncodeToString(h[:])
	}
	return m
}()

func scriptSHA(script string) string { return shas[script] }
