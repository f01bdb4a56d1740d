package redis

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"strconv"

	"github.com/schemaproxy/schemaproxy/backends"
	"github.com/schemaproxy/schemaproxy/command"
)

// The fast path: a batch of one database, without guards, whose every
// command has a reply that Lua carries back unchanged, runs as one call of
// scriptRun: the lock check, the commands and the versioning in one
// script, where the general path needs WATCH, a check script, MULTI, a
// bump script and EXEC (five times the backend's CPU for a SET).
//
// Lua carries status, integer, bulk, null and plain arrays of them in both
// protocols; it loses RESP3's maps, sets and doubles, the null array of
// RESP2 (it comes back as a null bulk) and the digits of integers past
// 2^53 (scriptRun reads those again as strings).

// runMode says how a command's reply survives the trip through Lua.
type runMode byte

const (
	runNo      runMode = iota
	runPlain           // the reply is carried unchanged
	runInt             // an integer that is the key's new value (INCR...)
	runHashInt         // an integer that is a hash field's new value
	runOneArg          // unchanged only without a count (LPOP key)
	runNoIncr          // unchanged unless the INCR option is given (ZADD)
)

// runModes are the commands the fast path takes.
var runModes = map[string]runMode{
	// strings
	"get": runPlain, "set": runPlain, "setnx": runPlain, "setex": runPlain, "psetex": runPlain,
	"getset": runPlain, "getdel": runPlain, "getex": runPlain, "append": runPlain, "setrange": runPlain,
	"getrange": runPlain, "substr": runPlain, "strlen": runPlain, "mget": runPlain, "mset": runPlain,
	"msetnx": runPlain, "incrbyfloat": runPlain, "setbit": runPlain, "getbit": runPlain, "bitcount": runPlain,
	"incr": runInt, "incrby": runInt, "decr": runInt, "decrby": runInt,
	// keys
	"del": runPlain, "unlink": runPlain, "exists": runPlain, "touch": runPlain, "type": runPlain,
	"expire": runPlain, "pexpire": runPlain, "expireat": runPlain, "pexpireat": runPlain, "persist": runPlain,
	// (Not TTL, PTTL, EXPIRETIME, PEXPIRETIME: a far expiry is past 2^53.)
	// hashes
	"hset": runPlain, "hsetnx": runPlain, "hmset": runPlain, "hdel": runPlain, "hget": runPlain,
	"hmget": runPlain, "hexists": runPlain, "hlen": runPlain, "hstrlen": runPlain, "hincrbyfloat": runPlain,
	"hincrby": runHashInt,
	// lists
	"lpush": runPlain, "rpush": runPlain, "lpushx": runPlain, "rpushx": runPlain, "linsert": runPlain,
	"lset": runPlain, "lrem": runPlain, "ltrim": runPlain, "llen": runPlain, "lindex": runPlain,
	"lrange": runPlain, "lpop": runOneArg, "rpop": runOneArg,
	// sets
	"sadd": runPlain, "srem": runPlain, "scard": runPlain, "sismember": runPlain, "smismember": runPlain,
	"spop": runOneArg,
	// sorted sets
	"zadd": runNoIncr, "zrem": runPlain, "zcard": runPlain, "zcount": runPlain, "zlexcount": runPlain,
	"zrank": runPlain, "zrevrank": runPlain,
	// hyperloglogs
	"pfadd": runPlain,
}

// versionRef is where key's version lives, as the scripts' vref says:
// the suffix of its hash (the first 3 hex digits of its SHA1) and its
// field (the 6 bytes of the next 12 digits).
func versionRef(key []byte) (suffix, field []byte) {
	sum := sha1.Sum(key)
	var digits [40]byte
	hex.Encode(digits[:], sum[:])
	field = make([]byte, 6)
	_, _ = hex.Decode(field, digits[3:15])
	return bytes.Clone(digits[:3]), field
}

// leavesKeyLive are the commands after which every key they write exists
// (or existed already: a failed one changed nothing), so the fast path
// versions it without looking.
var leavesKeyLive = map[string]bool{
	"set": true, "setex": true, "psetex": true, "getset": true, "append": true, "incr": true, "incrby": true,
	"decr": true, "decrby": true, "incrbyfloat": true, "mset": true, "setbit": true, "hset": true, "hmset": true,
	"hsetnx": true, "hincrby": true, "hincrbyfloat": true, "lpush": true, "rpush": true, "sadd": true,
	"zadd": true, "pfadd": true,
}

// maxRunArgs bounds the fast path's arguments: Lua unpacks them on its
// stack, which holds about 8000.
const maxRunArgs = 4000

// runBatch is a batch on the fast path: its database, the keys it touches
// (the nw it may write first, each once) and its commands' reply modes.
type runBatch struct {
	db    int
	keys  [][]byte
	nw    int // keys[:nw] are written,
	ns    int // keys[:ns] surely exist after the batch
	modes []runMode
	// guards are the batch's WATCHed keys, all in db: checked in the
	// script, with their locks.
	guards []backends.Guard
}

// planRun returns b's fast path, or false when b cannot take it: guards,
// several databases, or a command whose reply Lua does not carry. A batch
// that writes nothing (nw 0) needs no script: execFastRead. It allocates
// little: the common batch is one command.
func planRun(b *backends.Batch) (runBatch, bool) {
	rb := runBatch{db: -1}
	var idx []int
	var read [][]byte
	var sure []bool // by written key
	args := 0
	for _, op := range b.Ops {
		if op.Reply != nil {
			continue
		}
		if rb.db != -1 && op.DB != rb.db {
			return rb, false
		}
		rb.db = op.DB
		m, ok := opRunMode(op)
		if !ok {
			return rb, false
		}
		args += len(op.Args) + 3
		if args > maxRunArgs {
			return rb, false
		}
		rb.modes = append(rb.modes, m)
		idx, _ = op.Cmd.KeyIndexes(idx[:0], op.Args)
		if op.Cmd.Is(command.Write) {
			live := leavesKeyLive[op.Cmd.Name]
			for _, i := range idx {
				if j := indexKey(rb.keys, op.Args[i]); j >= 0 {
					sure[j] = sure[j] && live
				} else {
					rb.keys, sure = append(rb.keys, op.Args[i]), append(sure, live)
				}
			}
		} else {
			for _, i := range idx {
				read = append(read, op.Args[i])
			}
		}
	}
	if rb.db == -1 {
		if len(b.Guards) == 0 {
			return rb, false // nothing to run
		}
		rb.db = b.Guards[0].DB
	}
	for _, g := range b.Guards {
		if g.DB != rb.db {
			return rb, false
		}
	}
	rb.guards = b.Guards
	rb.nw = len(rb.keys)
	// The keys that surely exist go first.
	for i := range rb.keys {
		if sure[i] {
			rb.keys[rb.ns], rb.keys[i] = rb.keys[i], rb.keys[rb.ns]
			sure[rb.ns], sure[i] = sure[i], sure[rb.ns]
			rb.ns++
		}
	}
	for _, k := range read {
		if !containsKey(rb.keys, k) {
			rb.keys = append(rb.keys, k)
		}
	}
	return rb, true
}

// opRunMode is how op's reply survives the trip through Lua, or false
// when it does not.
func opRunMode(op backends.Op) (runMode, bool) {
	m := runModes[op.Cmd.Name]
	switch m {
	case runNo:
		return m, false
	case runOneArg:
		if len(op.Args) != 2 {
			return m, false
		}
	case runNoIncr:
		for _, a := range op.Args[2:] {
			// Redis compares options as C strings: up to a NUL.
			if a, _, _ := bytes.Cut(a, []byte{0}); bytes.EqualFold(a, []byte("incr")) {
				return m, false
			}
		}
	}
	if _, other := op.Cmd.OtherDB(op.Args); other {
		return m, false
	}
	return m, true
}

// indexKey is a linear search: batches hold few keys, and a map would
// cost more than it saves until they hold hundreds.
func indexKey(keys [][]byte, k []byte) int {
	for i, x := range keys {
		if bytes.Equal(x, k) {
			return i
		}
	}
	return -1
}

func containsKey(keys [][]byte, k []byte) bool { return indexKey(keys, k) >= 0 }

// execRun runs b on the fast path (see planRun); its results are
// execRead's.
func (s *Shard) execRun(ctx context.Context, c *conn, b *backends.Batch, rb runBatch, fence string) (owner string, done bool, err error) {
	if s.staleGuard(rb.guards) {
		return "", false, backends.ErrGuard
	}
	// EVALSHA sha nkeys keys... guarded keys... fence nw ns ng hashes...
	// guards... then per command its mode, its count and its arguments.
	cmd := make([][]byte, 0, 6+len(rb.keys)+2*rb.nw+3*len(rb.guards)+len(b.Ops)*3)
	cmd = append(cmd, evalSHA, scriptRunSHA, strconv.AppendInt(nil, int64(len(rb.keys)+len(rb.guards)), 10))
	cmd = append(cmd, rb.keys...)
	for _, g := range rb.guards {
		cmd = append(cmd, []byte(g.Key))
	}
	cmd = append(cmd, []byte(fence), strconv.AppendInt(nil, int64(rb.nw), 10), strconv.AppendInt(nil, int64(rb.ns), 10),
		strconv.AppendInt(nil, int64(len(rb.guards)), 10))
	for _, k := range rb.keys[:rb.nw] {
		suffix, field := versionRef(k)
		cmd = append(cmd, suffix, field)
	}
	for _, g := range rb.guards {
		cmd = append(cmd, strconv.AppendUint(nil, g.Version, 10), []byte(b01(g.Live)))
	}
	i := 0
	for _, op := range b.Ops {
		if op.Reply != nil {
			continue
		}
		cmd = append(cmd, runModeArg[rb.modes[i]], strconv.AppendInt(nil, int64(len(op.Args)), 10))
		cmd = append(cmd, op.Args...)
		i++
	}
	replies, err := c.do(ctx, cmd)
	if err != nil {
		return "", false, err
	}
	r := replies[0]
	if r[0] == '-' {
		return "", false, fmt.Errorf("backend %s: run: %s", s.addr, bytes.TrimSpace(r))
	}
	parts, err := splitArray(r)
	if err != nil {
		return "", false, err
	}
	if len(parts) == 0 {
		return "", false, fmt.Errorf("backend %s: run: empty reply", s.addr)
	}
	switch string(parts[0]) {
	case "$1\r\nL\r\n":
		if len(parts) != 2 {
			return "", false, fmt.Errorf("backend %s: run: %q", s.addr, r)
		}
		v, err := parseValue(parts[1])
		return string(v.Str), false, err
	case "$1\r\nG\r\n":
		return "", false, backends.ErrGuard
	case "$1\r\nR\r\n":
	default:
		return "", false, fmt.Errorf("backend %s: run: %q", s.addr, r)
	}
	out := parts[1:]
	if len(out) != len(rb.modes) {
		return "", false, fmt.Errorf("backend %s: run answered %d replies for %d commands", s.addr, len(out), len(rb.modes))
	}
	for i, m := range rb.modes {
		if (m == runInt || m == runHashInt) && out[i][0] == '$' {
			// An integer read back as a string (past 2^53).
			v, err := parseValue(out[i])
			if err != nil {
				return "", false, err
			}
			out[i] = append(append([]byte{':'}, v.Str...), '\r', '\n')
		}
	}
	writeReplies(b, out)
	return "", true, nil
}

var (
	evalSHA      = []byte("EVALSHA")
	scriptRunSHA = []byte(scriptSHA(scriptRun))
	// runModeArg is each mode as scriptRun reads it.
	runModeArg = map[runMode][]byte{runPlain: []byte("-"), runOneArg: []byte("-"), runNoIncr: []byte("-"),
		runInt: []byte("i"), runHashInt: []byte("h")}
)

// execFastRead runs a batch of plain reads (planRun, nothing written) as
// one unit: EXISTS on the keys' locks and the fence, then the commands. A
// read that finds no lock is serialized before any transaction that locks
// later, whose commit point is still ahead. A lock met leaves the batch to
// run again once it is resolved.
func (s *Shard) execFastRead(ctx context.Context, c *conn, b *backends.Batch, rb runBatch, fence string) (owner string, done bool, err error) {
	locks := make([]string, 0, len(rb.keys)+1)
	exists := make([][]byte, 0, len(rb.keys)+2)
	exists = append(exists, existsCmd)
	for _, k := range rb.keys {
		l := lockPrefix + string(k)
		locks = append(locks, l)
		exists = append(exists, []byte(l))
	}
	if fence == "" {
		locks = append(locks, fenceKey)
		exists = append(exists, []byte(fenceKey))
	}
	cmds := make([][][]byte, 0, 1+len(rb.modes))
	cmds = append(cmds, exists)
	for _, op := range b.Ops {
		if op.Reply == nil {
			cmds = append(cmds, op.Args)
		}
	}
	replies, err := c.do(ctx, cmds...)
	if err != nil {
		return "", false, err
	}
	if string(replies[0]) != ":0\r\n" {
		owner, err := s.findOwner(ctx, c, locks)
		return owner, false, err
	}
	writeReplies(b, replies[1:])
	return "", true, nil
}

var existsCmd = []byte("EXISTS")
