package redis

import (
	"bytes"
	"context"
	"crypto/sha1"
	"fmt"
	"strconv"

	"github.com/schemaproxy/schemaproxy/backends"
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

// versionHash is the suffix of the hash holding key's version, as the
// scripts' vkey computes it: the first 3 hex digits of its SHA1.
func versionHash(key []byte) []byte {
	h := sha1.Sum(key)
	const digits = "0123456789abcdef"
	return []byte{digits[h[0]>>4], digits[h[0]&15], digits[h[1]>>4]}
}

// maxRunArgs bounds the fast path's arguments: Lua unpacks them on its
// stack, which holds about 8000.
const maxRunArgs = 4000

// runPlan is a batch's fast path: the modes of its commands (those not
// answered by the proxy), or nil when it cannot take it.
func runPlan(b *backends.Batch, plan *batchPlan) []runMode {
	if len(b.Guards) > 0 || len(plan.dbs) != 1 || !plan.write {
		return nil
	}
	db := plan.dbs[0]
	if len(plan.locks[db]) > maxRunArgs {
		return nil
	}
	modes := make([]runMode, 0, len(b.Ops))
	args := 0
	for _, op := range b.Ops {
		if op.Reply != nil {
			continue
		}
		m := runModes[op.Cmd.Name]
		switch m {
		case runNo:
			return nil
		case runOneArg:
			if len(op.Args) != 2 {
				return nil
			}
		case runNoIncr:
			for _, a := range op.Args[2:] {
				// Redis compares options as C strings: up to a NUL.
				if a, _, _ := bytes.Cut(a, []byte{0}); bytes.EqualFold(a, []byte("incr")) {
					return nil
				}
			}
		}
		args += len(op.Args) + 2
		if args > maxRunArgs {
			return nil
		}
		modes = append(modes, m)
	}
	return modes
}

// execRun runs b on the fast path (see runPlan); its results are
// execRead's.
func (s *Shard) execRun(ctx context.Context, c *conn, b *backends.Batch, plan *batchPlan, modes []runMode, fence string) (owner string, done bool, err error) {
	db := plan.dbs[0]
	written := plan.written[db]
	// KEYS: the written keys, then the others read; plan.locks holds the
	// lock key of every key touched, in the same order as the keys.
	cmd := make([][]byte, 0, 5+len(plan.locks[db])+2*len(b.Ops)+len(b.Ops)*3)
	cmd = append(cmd, []byte("EVALSHA"), []byte(scriptSHA(scriptRun)), nil)
	seen := make(map[string]bool, len(plan.locks[db]))
	for _, k := range written {
		if !seen[k] {
			seen[k] = true
			cmd = append(cmd, []byte(k))
		}
	}
	nw := len(cmd) - 3
	for _, l := range plan.locks[db] {
		if k := l[len(lockPrefix):]; !seen[k] {
			seen[k] = true
			cmd = append(cmd, []byte(k))
		}
	}
	cmd[2] = []byte(strconv.Itoa(len(cmd) - 3))
	cmd = append(cmd, []byte(fence), []byte(strconv.Itoa(nw)))
	for _, k := range cmd[3 : 3+nw] {
		cmd = append(cmd, versionHash(k))
	}
	i := 0
	for _, op := range b.Ops {
		if op.Reply != nil {
			continue
		}
		mode := "-"
		switch modes[i] {
		case runInt:
			mode = "i"
		case runHashInt:
			mode = "h"
		}
		i++
		cmd = append(cmd, []byte(mode), []byte(strconv.Itoa(len(op.Args))))
		cmd = append(cmd, op.Args...)
	}
	var cmds [][][]byte
	if c.db != db {
		cmds = append(cmds, selectCmd(db))
	}
	cmds = append(cmds, cmd)
	replies, err := c.do(ctx, cmds...)
	if err != nil {
		c.db = -1
		return "", false, err
	}
	c.db = db
	r := replies[len(replies)-1]
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
	case "$1\r\nR\r\n":
	default:
		return "", false, fmt.Errorf("backend %s: run: %q", s.addr, r)
	}
	out := parts[1:]
	if len(out) != len(modes) {
		return "", false, fmt.Errorf("backend %s: run answered %d replies for %d commands", s.addr, len(out), len(modes))
	}
	for i, m := range modes {
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
