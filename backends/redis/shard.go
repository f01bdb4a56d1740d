package redis

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/schemaproxy/schemaproxy/backends"
	"github.com/schemaproxy/schemaproxy/command"
	"github.com/schemaproxy/schemaproxy/keyspace"
	"github.com/schemaproxy/schemaproxy/proto/resp"
)

// Shard is one Redis server holding a shard. Every operation is one
// pipeline on one connection:
//   - a batch that writes (or has WATCH guards) sends WATCH on its lock keys
//     and guarded keys, a check script, then MULTI, a script that bumps the
//     written keys' versions, the commands themselves, EXEC: the replies
//     are Redis's own, and a lock or a changed guard found by the check (or
//     a lock taken between the check and EXEC, which the WATCH sees)
//     aborts the EXEC;
//   - a batch that only reads sends EXISTS on its lock keys before the
//     commands: a read that finds no lock is serialized before any
//     transaction that locks later, whose commit point is still ahead;
//   - Lock, Commit, Apply are the scripts of DESIGN.md, primary last.
//
// A lock met is resolved from its owner's primary: applied if the owner
// committed, dropped if it aborted or is past its deadline.
type Shard struct {
	index     int
	addr      string
	databases int
	pools     [2]*pool // by protocol: 2, 3
	siblings  []*Shard

	mu     sync.Mutex // guards locked
	locked map[backends.TxID]lockSet
}

// lockSet is what a transaction locked here, and the lock's value.
type lockSet struct {
	db    int
	keys  []string
	owner string
}

// Open connects to backend urls as shards, in order, serving databases
// numbered databases. It checks nothing: see Gather and Check.
func Open(urls []string, databases int) ([]*Shard, error) {
	var shards []*Shard
	for i, u := range urls {
		o, err := Options(u)
		if err != nil {
			return nil, err
		}
		s := &Shard{index: i, addr: o.Addr, databases: databases, locked: map[backends.TxID]lockSet{}}
		s.pools[0] = &pool{opts: o, proto: 2}
		s.pools[1] = &pool{opts: o, proto: 3}
		shards = append(shards, s)
	}
	for _, s := range shards {
		s.siblings = shards
	}
	return shards, nil
}

// Close drops the idle connections.
func (s *Shard) Close() {
	for _, p := range s.pools {
		p.close()
	}
}

// Client is a go-redis client of the shard's server, for checks.
func (s *Shard) Client() *goredis.Client { return goredis.NewClient(s.pools[0].opts) }

var _ backends.Shard = (*Shard)(nil)

const (
	metaPrefix = "__sp:"
	lockPrefix = "__sp:l:"
	abortKey   = "__sp:abort"
	fenceKey   = "__sp:fence"
)

func lockKey(key string) string { return lockPrefix + key }

func txID(tx backends.TxID) string { return strconv.FormatUint(uint64(tx), 10) }

// ErrMultiDB is the answer to a request that spans databases on one shard.
var ErrMultiDB = errors.New("requests over several databases are not supported on Redis backends yet")

func (s *Shard) pool(proto int) *pool {
	if proto == 3 {
		return s.pools[1]
	}
	return s.pools[0]
}

// with runs fn on a connection of proto, SELECTing db first when needed;
// a connection that failed is closed rather than reused.
func (s *Shard) with(ctx context.Context, proto, db int, fn func(c *conn) error) error {
	p := s.pool(proto)
	c, err := p.get(ctx)
	if err != nil {
		return err
	}
	if c.db != db {
		r, err := c.do(ctx, [][]byte{[]byte("SELECT"), []byte(strconv.Itoa(db))})
		if err != nil || r[0][0] == '-' {
			p.put(c, true)
			if err == nil {
				err = errors.New(string(r[0]))
			}
			return fmt.Errorf("backend %s: SELECT %d: %w", s.addr, db, err)
		}
		c.db = db
	}
	err = fn(c)
	p.put(c, err != nil)
	return err
}

func evalArgs(script string, keys []string, args ...string) [][]byte {
	out := make([][]byte, 0, 3+len(keys)+len(args))
	out = append(out, []byte("EVAL"), []byte(script), []byte(strconv.Itoa(len(keys))))
	for _, k := range keys {
		out = append(out, []byte(k))
	}
	for _, a := range args {
		out = append(out, []byte(a))
	}
	return out
}

// errReserved answers a command naming a metadata key.
const errReserved = "-ERR keys starting with " + metaPrefix + " are reserved by schemaproxy\r\n"

// refuseReserved answers, in place, the ops that name metadata keys: the
// proxy never lets a client read or change them.
func refuseReserved(b *backends.Batch) {
	var idx []int
	for i := range b.Ops {
		op := &b.Ops[i]
		if op.Reply != nil || op.Cmd == nil {
			continue
		}
		idx, _ = op.Cmd.KeyIndexes(idx[:0], op.Args)
		for _, k := range idx {
			if strings.HasPrefix(string(op.Args[k]), metaPrefix) {
				op.Reply = []byte(errReserved)
				break
			}
		}
	}
}

// Exec implements backends.Shard.
func (s *Shard) Exec(ctx context.Context, b *backends.Batch) error { return s.exec(ctx, b, "") }

// exec runs b; fence is the token of the request over whole databases it
// belongs to, if any, which lets it through that request's fence.
func (s *Shard) exec(ctx context.Context, b *backends.Batch, fence string) error {
	refuseReserved(b)
	db, err := batchDB(b)
	if err != nil {
		return err
	}
	var locks, written []string
	write := len(b.Guards) > 0
	var idx []int
	for _, op := range b.Ops {
		if op.Reply != nil {
			continue
		}
		idx, _ = op.Cmd.KeyIndexes(idx[:0], op.Args)
		for _, i := range idx {
			k := string(op.Args[i])
			locks = append(locks, lockKey(k))
			if op.Cmd.Is(command.Write) {
				written = append(written, k)
			}
		}
		write = write || op.Cmd.Is(command.Write)
	}
	for _, g := range b.Guards {
		locks = append(locks, lockKey(g.Key))
	}
	for {
		var owner string
		done := false
		err := s.with(ctx, b.W.Proto, db, func(c *conn) error {
			var err error
			if write {
				owner, done, err = s.execWrite(ctx, c, b, locks, written, fence)
			} else {
				owner, done, err = s.execRead(ctx, c, b, locks, fence)
			}
			return err
		})
		if err != nil || done {
			return err
		}
		if owner != "" {
			if err := s.resolve(ctx, db, owner); err != nil {
				return err
			}
		}
	}
}

// batchDB is the one database a batch works in.
func batchDB(b *backends.Batch) (int, error) {
	db := -1
	for _, op := range b.Ops {
		if op.Reply == nil {
			if db != -1 && op.DB != db {
				return 0, ErrMultiDB
			}
			db = op.DB
		}
	}
	for _, g := range b.Guards {
		if db != -1 && g.DB != db {
			return 0, ErrMultiDB
		}
		db = g.DB
	}
	return max(db, 0), nil
}

// execRead sends the lock check and the commands in one pipeline. done
// says the replies are written; otherwise owner is the lock it met (or
// empty, when the lock went meanwhile), and it must run again.
func (s *Shard) execRead(ctx context.Context, c *conn, b *backends.Batch, locks []string, fence string) (owner string, done bool, err error) {
	cmds := make([][][]byte, 0, len(b.Ops)+2)
	if fence == "" {
		// A read waits for a request over whole databases, as it waits
		// for a lock.
		locks = append(locks, fenceKey)
	}
	if len(locks) > 0 {
		ex := [][]byte{[]byte("EXISTS")}
		for _, l := range locks {
			ex = append(ex, []byte(l))
		}
		cmds = append(cmds, ex)
	}
	meta := needsMetaCount(b)
	if meta {
		ex := [][]byte{[]byte("EXISTS")}
		for _, k := range metaKeys {
			ex = append(ex, []byte(k))
		}
		cmds = append(cmds, ex)
	}
	for _, op := range b.Ops {
		if op.Reply == nil {
			cmds = append(cmds, op.Args)
		}
	}
	replies, err := c.do(ctx, cmds...)
	if err != nil {
		return "", false, err
	}
	if len(locks) > 0 {
		if string(replies[0]) != ":0\r\n" {
			owner, err := s.findOwner(ctx, c, locks)
			return owner, false, err
		}
		replies = replies[1:]
	}
	var metaCount int64
	if meta {
		v, err := parseValue(replies[0])
		if err != nil {
			return "", false, err
		}
		metaCount, replies = v.Int, replies[1:]
	}
	if !hideMeta(b, replies, metaCount) {
		// RANDOMKEY drew a metadata key: draw again, unless there is
		// nothing else to draw.
		if users, err := s.userKeys(ctx, c); err != nil || users > 0 {
			return "", false, err
		}
		nullRandomKey(b, replies)
	}
	writeReplies(b, replies)
	return "", true, nil
}

// userKeys counts the keys of the connection's database that are not
// metadata.
func (s *Shard) userKeys(ctx context.Context, c *conn) (int64, error) {
	ex := [][]byte{[]byte("EXISTS")}
	for _, k := range metaKeys {
		ex = append(ex, []byte(k))
	}
	r, err := c.do(ctx, [][]byte{[]byte("DBSIZE")}, ex)
	if err != nil {
		return 0, err
	}
	all, err1 := parseValue(r[0])
	meta, err2 := parseValue(r[1])
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("backend %s: DBSIZE: %q %q", s.addr, r[0], r[1])
	}
	return all.Int - meta.Int, nil
}

func (s *Shard) findOwner(ctx context.Context, c *conn, locks []string) (string, error) {
	for _, l := range locks {
		r, err := c.do(ctx, [][]byte{[]byte("GET"), []byte(l)})
		if err != nil {
			return "", err
		}
		if v, err := parseValue(r[0]); err == nil && !v.Null && v.Kind != resp.KindError {
			if l == fenceKey {
				return "F|" + string(v.Str), nil
			}
			return string(v.Str), nil
		}
	}
	return "", nil // released meanwhile: try again
}

// execWrite runs a batch that writes (see Shard); its results are
// execRead's.
func (s *Shard) execWrite(ctx context.Context, c *conn, b *backends.Batch, locks, written []string, fence string) (owner string, done bool, err error) {
	watch := [][]byte{[]byte("WATCH"), []byte(abortKey), []byte(fenceKey)}
	checkKeys := append([]string{abortKey}, locks...)
	checkArgs := []string{strconv.Itoa(len(locks))}
	for _, l := range locks {
		watch = append(watch, []byte(l))
	}
	for _, g := range b.Guards {
		watch = append(watch, []byte(g.Key))
		checkKeys = append(checkKeys, g.Key)
		checkArgs = append(checkArgs, strconv.FormatUint(g.Version, 10), b01(g.Live))
	}
	checkArgs = append(checkArgs, fence)
	cmds := [][][]byte{watch, evalArgs(scriptCheck, checkKeys, checkArgs...), {[]byte("MULTI")}}
	if len(written) > 0 {
		cmds = append(cmds, evalArgs(scriptBump, written))
	}
	n := 0
	for _, op := range b.Ops {
		if op.Reply == nil {
			cmds = append(cmds, op.Args)
			n++
		}
	}
	cmds = append(cmds, [][]byte{[]byte("EXEC")})
	replies, err := c.do(ctx, cmds...)
	if err != nil {
		return "", false, err
	}
	exec := replies[len(replies)-1]
	if isNull(exec) {
		check, err := parseValue(replies[1])
		if err != nil || check.Kind == resp.KindError || len(check.Elems) == 0 {
			return "", false, fmt.Errorf("backend %s: check: %q", s.addr, replies[1])
		}
		switch string(check.Elems[0].Str) {
		case "L":
			return string(check.Elems[1].Str), false, nil
		case "G":
			return "", false, backends.ErrGuard
		}
		return "", false, nil // another batch's failed check aborted ours: again
	}
	if exec[0] == '-' {
		return "", false, fmt.Errorf("backend %s: EXEC: %s", s.addr, strings.TrimSpace(string(exec)))
	}
	parts, err := splitArray(exec)
	if err != nil {
		return "", false, err
	}
	if len(written) > 0 {
		parts = parts[1:]
	}
	if len(parts) != n {
		return "", false, fmt.Errorf("backend %s: EXEC answered %d replies for %d commands", s.addr, len(parts), n)
	}
	writeReplies(b, parts)
	return "", true, nil
}

// writeReplies appends the backend's replies to b's, in order, with the
// proxy's own replies (Op.Reply) in their places.
func writeReplies(b *backends.Batch, replies [][]byte) {
	for _, op := range b.Ops {
		if op.Reply != nil {
			b.W.Raw(op.Reply)
			continue
		}
		b.W.Raw(replies[0])
		replies = replies[1:]
	}
}

func parseValue(b []byte) (resp.Value, error) {
	v, _, err := resp.Parse(b)
	return v, err
}

func isNull(r []byte) bool {
	return string(r) == "*-1\r\n" || string(r) == "_\r\n" || string(r) == "$-1\r\n"
}

// splitArray returns the raw elements of a raw array reply.
func splitArray(raw []byte) ([][]byte, error) {
	i := 0
	for i < len(raw) && raw[i] != '\n' {
		i++
	}
	n, err := strconv.Atoi(string(raw[1 : i-1]))
	if err != nil {
		return nil, fmt.Errorf("backend: bad array header %q", raw[:i])
	}
	rest := raw[i+1:]
	out := make([][]byte, n)
	for j := range out {
		m, err := resp.Skip(rest)
		if err != nil {
			return nil, err
		}
		out[j], rest = rest[:m], rest[m:]
	}
	return out, nil
}

func b01(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// Durable implements backends.Shard: a backend acknowledges a write once
// its AOF holds it (appendfsync always, checked at start).
func (s *Shard) Durable(ctx context.Context, pos uint64) error { return nil }

// Version implements backends.Shard.
func (s *Shard) Version(ctx context.Context, db int, key []byte) (uint64, bool, error) {
	var v resp.Value
	err := s.with(ctx, 2, db, func(c *conn) error {
		r, err := c.do(ctx, evalArgs(scriptVersion, []string{string(key)}))
		if err == nil {
			v, err = parseValue(r[0])
		}
		return err
	})
	if err != nil {
		return 0, false, err
	}
	if len(v.Elems) != 2 {
		return 0, false, fmt.Errorf("backend %s: version: %v", s.addr, v)
	}
	n, _ := strconv.ParseUint(string(v.Elems[1].Str), 10, 64)
	return n, v.Elems[0].Int == 1, nil
}

func owner(tx backends.TxMeta) string {
	return fmt.Sprintf("%d|%d|%d", tx.ID, tx.Primary, tx.Deadline)
}

// Lock implements backends.Shard.
func (s *Shard) Lock(ctx context.Context, tx backends.TxMeta, keys []backends.KeyRef, guards []backends.Guard) ([]backends.KeyState, error) {
	db := -1
	for _, k := range keys {
		if db != -1 && k.DB != db {
			return nil, fmt.Errorf("%w: %w", backends.ErrNotExecuted, ErrMultiDB)
		}
		db = k.DB
	}
	var lk, uk []string
	for _, k := range keys {
		lk = append(lk, lockKey(k.Key))
		uk = append(uk, k.Key)
	}
	args := []string{owner(tx), strconv.FormatInt(tx.Deadline, 10), strconv.Itoa(len(keys))}
	all := append(append([]string{}, lk...), uk...)
	for _, g := range guards {
		all = append(all, g.Key)
		args = append(args, strconv.FormatUint(g.Version, 10), b01(g.Live))
	}
	for {
		var v resp.Value
		err := s.with(ctx, 2, max(db, 0), func(c *conn) error {
			r, err := c.do(ctx, evalArgs(scriptLock, all, args...))
			if err == nil {
				v, err = parseValue(r[0])
			}
			return err
		})
		if err != nil {
			return nil, err
		}
		if v.Kind == resp.KindError || len(v.Elems) == 0 {
			return nil, fmt.Errorf("backend %s: lock: %v", s.addr, v)
		}
		switch string(v.Elems[0].Str) {
		case "D":
			return nil, fmt.Errorf("%w: transaction %d is past its deadline", backends.ErrNotExecuted, tx.ID)
		case "G":
			return nil, backends.ErrGuard
		case "L":
			if err := s.resolve(ctx, max(db, 0), string(v.Elems[1].Str)); err != nil {
				return nil, fmt.Errorf("%w: %w", backends.ErrNotExecuted, err)
			}
			continue
		}
		s.mu.Lock()
		s.locked[tx.ID] = lockSet{db: max(db, 0), keys: uk, owner: owner(tx)}
		s.mu.Unlock()
		states := make([]backends.KeyState, len(keys))
		for i, k := range keys {
			states[i].KeyRef = k
			payload, at := v.Elems[1+2*i].Str, string(v.Elems[2+2*i].Str)
			if len(payload) == 0 {
				continue
			}
			e, err := keyspace.RestorePayload(payload)
			if err != nil {
				return nil, fmt.Errorf("backend %s: value of %q: %w", s.addr, k.Key, err)
			}
			if n, _ := strconv.ParseInt(at, 10, 64); n > 0 {
				e.ExpireAt = n
			}
			states[i].Entry = e
		}
		return states, nil
	}
}

// writeArgs lists written keys and their payload and expiry arguments.
func writeArgs(writes []backends.KeyState) (keys, args []string) {
	for _, w := range writes {
		keys = append(keys, w.Key)
		if w.Entry == nil {
			args = append(args, "", "0")
			continue
		}
		args = append(args, string(keyspace.DumpPayload(w.Entry)), strconv.FormatInt(w.Entry.ExpireAt, 10))
	}
	return keys, args
}

func (s *Shard) lockedKeys(tx backends.TxID) lockSet {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.locked[tx]
}

func (s *Shard) forget(tx backends.TxID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.locked, tx)
}

// Commit implements backends.Shard: the commit point, on the primary.
func (s *Shard) Commit(ctx context.Context, tx backends.TxMeta, writes []backends.KeyState, record *backends.TxRecord) error {
	mine := s.lockedKeys(tx.ID)
	var lk []string
	for _, k := range mine.keys {
		lk = append(lk, lockKey(k))
	}
	wk, wargs := writeArgs(writes)
	keys := append(lk, wk...)
	args := append([]string{owner(tx), strconv.FormatInt(tx.Deadline, 10), strconv.Itoa(len(lk)), strconv.Itoa(len(wk)), txID(tx.ID)}, wargs...)
	for _, p := range tx.Participants {
		if p != s.index {
			args = append(args, "p"+strconv.Itoa(p), string(encodeStaged(s.siblings[p].lockedKeys(tx.ID), record.Writes[p])))
		}
	}
	var reply []byte
	err := s.with(ctx, 2, mine.db, func(c *conn) error {
		r, err := c.do(ctx, evalArgs(scriptCommit, keys, args...))
		if err == nil {
			reply = r[0]
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("backend %s: commit: %w", s.addr, err) // unknown outcome
	}
	v, err := parseValue(reply)
	if err != nil || v.Kind == resp.KindError {
		return fmt.Errorf("backend %s: commit: %q", s.addr, reply) // unknown outcome
	}
	if string(v.Str) != "C" {
		return fmt.Errorf("%w: commit refused (%s)", backends.ErrNotExecuted, v.Str)
	}
	s.forget(tx.ID)
	return nil
}

// Apply implements backends.Shard.
func (s *Shard) Apply(ctx context.Context, tx backends.TxMeta, writes []backends.KeyState, record *backends.TxRecord) error {
	mine := s.lockedKeys(tx.ID)
	if err := s.applyStaged(ctx, mine, owner(tx), writes); err != nil {
		return err
	}
	s.forget(tx.ID)
	return s.siblings[tx.Primary].forgetStaged(ctx, tx.ID, s.index, mine.db)
}

func (s *Shard) applyStaged(ctx context.Context, mine lockSet, own string, writes []backends.KeyState) error {
	var lk []string
	for _, k := range mine.keys {
		lk = append(lk, lockKey(k))
	}
	wk, wargs := writeArgs(writes)
	keys := append(lk, wk...)
	args := append([]string{own, strconv.Itoa(len(lk)), strconv.Itoa(len(wk))}, wargs...)
	return s.with(ctx, 2, mine.db, func(c *conn) error {
		r, err := c.do(ctx, evalArgs(scriptApply, keys, args...))
		if err == nil && r[0][0] == '-' {
			err = fmt.Errorf("backend %s: apply: %s", s.addr, strings.TrimSpace(string(r[0])))
		}
		return err
	})
}

func (s *Shard) forgetStaged(ctx context.Context, tx backends.TxID, participant, db int) error {
	return s.with(ctx, 2, db, func(c *conn) error {
		_, err := c.do(ctx, evalArgs(scriptForget, nil, txID(tx), "p"+strconv.Itoa(participant)))
		return err
	})
}

// Unlock implements backends.Shard.
func (s *Shard) Unlock(ctx context.Context, tx backends.TxID) error {
	mine := s.lockedKeys(tx)
	s.forget(tx)
	if len(mine.keys) == 0 {
		return nil
	}
	var lk []string
	for _, k := range mine.keys {
		lk = append(lk, lockKey(k))
	}
	return s.with(ctx, 2, mine.db, func(c *conn) error {
		_, err := c.do(ctx, evalArgs(scriptUnlock, lk, mine.owner))
		return err
	})
}

// resolve finishes the transaction that owns a lock met in db (value own:
// "tx|primary|deadline"), as its primary says; it waits while the owner
// may still commit.
func (s *Shard) resolve(ctx context.Context, db int, own string) error {
	f := strings.Split(own, "|")
	if len(f) == 2 && f[0] == "F" {
		// A request over whole databases is running: wait for it.
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(2 * time.Millisecond):
			return nil
		}
	}
	if len(f) != 3 {
		return fmt.Errorf("backend %s: malformed lock %q", s.addr, own)
	}
	id, _ := strconv.ParseUint(f[0], 10, 64)
	primary, _ := strconv.Atoi(f[1])
	deadline := f[2]
	if primary < 0 || primary >= len(s.siblings) {
		return fmt.Errorf("backend %s: lock %q names shard %d", s.addr, own, primary)
	}
	tx := backends.TxID(id)
	for {
		var v resp.Value
		err := s.siblings[primary].with(ctx, 2, db, func(c *conn) error {
			r, err := c.do(ctx, evalArgs(scriptOutcome, nil, txID(tx), deadline, "p"+strconv.Itoa(s.index)))
			if err == nil {
				v, err = parseValue(r[0])
			}
			return err
		})
		if err != nil {
			return err
		}
		if v.Kind == resp.KindError || len(v.Elems) == 0 {
			return fmt.Errorf("backend %s: outcome: %v", s.addr, v)
		}
		switch string(v.Elems[0].Str) {
		case "C":
			if len(v.Elems[1].Str) == 0 {
				return nil // this participant applied it meanwhile
			}
			set, writes, err := decodeStaged(v.Elems[1].Str)
			if err != nil {
				return err
			}
			if err := s.applyStaged(ctx, set, own, writes); err != nil {
				return err
			}
			return s.siblings[primary].forgetStaged(ctx, tx, s.index, db)
		case "A":
			return s.dropLocks(ctx, db, own)
		}
		// The owner may still commit, or release its locks: wait a little,
		// then the caller looks again.
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(2 * time.Millisecond):
			return nil
		}
	}
}

// dropLocks removes every lock of owner in db (an aborted transaction).
func (s *Shard) dropLocks(ctx context.Context, db int, own string) error {
	return s.with(ctx, 2, db, func(c *conn) error {
		var cursor uint64 = 0
		for {
			r, err := c.do(ctx, [][]byte{[]byte("SCAN"), []byte(strconv.FormatUint(cursor, 10)), []byte("MATCH"), []byte(lockPrefix + "*"), []byte("COUNT"), []byte("1000")})
			if err != nil {
				return err
			}
			v, err := parseValue(r[0])
			if err != nil || len(v.Elems) != 2 {
				return fmt.Errorf("backend %s: SCAN: %q", s.addr, r[0])
			}
			var keys []string
			for _, e := range v.Elems[1].Elems {
				keys = append(keys, string(e.Str))
			}
			if len(keys) > 0 {
				if _, err := c.do(ctx, evalArgs(scriptUnlock, keys, own)); err != nil {
					return err
				}
			}
			cursor, _ = strconv.ParseUint(string(v.Elems[0].Str), 10, 64)
			if cursor == 0 {
				return nil
			}
		}
	})
}

// encodeStaged is a participant's part of a committed transaction, kept in
// the primary's record for whoever finishes it: the database and keys it
// locked, and its writes as DUMP payloads.
func encodeStaged(set lockSet, writes []backends.KeyState) []byte {
	b := binary.AppendUvarint(nil, uint64(set.db))
	b = binary.AppendUvarint(b, uint64(len(set.keys)))
	for _, k := range set.keys {
		b = binary.AppendUvarint(b, uint64(len(k)))
		b = append(b, k...)
	}
	b = binary.AppendUvarint(b, uint64(len(writes)))
	for _, w := range writes {
		b = binary.AppendUvarint(b, uint64(len(w.Key)))
		b = append(b, w.Key...)
		var p []byte
		var at int64
		if w.Entry != nil {
			p, at = keyspace.DumpPayload(w.Entry), w.Entry.ExpireAt
		}
		b = binary.AppendUvarint(b, uint64(len(p)))
		b = append(b, p...)
		b = binary.AppendVarint(b, at)
	}
	return b
}

var errStaged = errors.New("backend: malformed staged transaction")

func decodeStaged(b []byte) (lockSet, []backends.KeyState, error) {
	var set lockSet
	next := func() uint64 {
		v, n := binary.Uvarint(b)
		if n <= 0 {
			b = nil
			return 0
		}
		b = b[n:]
		return v
	}
	str := func() []byte {
		n := next()
		if n > uint64(len(b)) {
			b = nil
			return nil
		}
		s := b[:n]
		b = b[n:]
		return s
	}
	set.db = int(next())
	for i := next(); i > 0 && b != nil; i-- {
		set.keys = append(set.keys, string(str()))
	}
	var writes []backends.KeyState
	for i := next(); i > 0 && b != nil; i-- {
		w := backends.KeyState{KeyRef: backends.KeyRef{DB: set.db, Key: string(str())}}
		p := str()
		at, n := binary.Varint(b)
		if n <= 0 {
			return set, nil, errStaged
		}
		b = b[n:]
		if len(p) > 0 {
			e, err := keyspace.RestorePayload(p)
			if err != nil {
				return set, nil, err
			}
			e.ExpireAt = at
			w.Entry = e
		}
		writes = append(writes, w)
	}
	if b == nil {
		return set, nil, errStaged
	}
	return set, writes, nil
}
