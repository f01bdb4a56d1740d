package redis

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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
	muxes     [2]*mux // by protocol: 2, 3
	siblings  []*Shard

	mu     sync.Mutex // guards locked
	locked map[backends.TxID]lockSet
	// epoch hashes the run_id of the server the shard's newest connection
	// reached (backends.Epocher).
	epoch atomic.Uint64
}

// Epoch implements backends.Epocher.
func (s *Shard) Epoch() uint64 { return s.epoch.Load() }

// noteRunID records the run_id a new connection found.
func (s *Shard) noteRunID(id string) {
	h := fnv.New64a()
	h.Write([]byte(id))
	s.epoch.Store(h.Sum64() | 1) // never 0, which means "no epoch"
}

// staleGuard reports a guard taken in an earlier life of the server.
func (s *Shard) staleGuard(guards []backends.Guard) bool {
	for _, g := range guards {
		if g.Epoch != 0 && g.Epoch != s.epoch.Load() {
			return true
		}
	}
	return false
}

// lockSet is what a transaction locked here, and the lock's value.
type lockSet struct {
	keys  []backends.KeyRef
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
		s.muxes[0] = &mux{opts: o, proto: 2, runID: s.noteRunID}
		s.muxes[1] = &mux{opts: o, proto: 3, runID: s.noteRunID}
		shards = append(shards, s)
	}
	for _, s := range shards {
		s.siblings = shards
	}
	return shards, nil
}

// Close drops the connections; requests waiting on them fail.
func (s *Shard) Close() {
	for _, m := range s.muxes {
		m.close()
	}
}

// Client is a go-redis client of the shard's server, for checks.
func (s *Shard) Client() *goredis.Client { return goredis.NewClient(s.muxes[0].opts) }

var _ backends.Shard = (*Shard)(nil)

const (
	metaPrefix = "__sp:"
	lockPrefix = "__sp:l:"
	abortKey   = "__sp:abort"
	fenceKey   = "__sp:fence"
)

func lockKey(key string) string { return lockPrefix + key }

func txID(tx backends.TxID) string { return strconv.FormatUint(uint64(tx), 10) }

func (s *Shard) mux(proto int) *mux {
	if proto == 3 {
		return s.muxes[1]
	}
	return s.muxes[0]
}

// with runs fn on the shard's connection of proto, in database db.
func (s *Shard) with(ctx context.Context, proto, db int, fn func(c *conn) error) error {
	return fn(&conn{m: s.mux(proto), db: db})
}

// evalArgs calls a script by its SHA1: every connection loads the scripts
// when it is made (a backend that restarts drops its connections with its
// script cache), so only a SCRIPT FLUSH run by hand on a backend can make
// one missing, and do reports that loudly.
func evalArgs(script string, keys []string, args ...string) [][]byte {
	out := make([][]byte, 0, 3+len(keys)+len(args))
	out = append(out, []byte("EVALSHA"), []byte(scriptSHA(script)), []byte(strconv.Itoa(len(keys))))
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
	if rb, ok := planRun(b); ok {
		for {
			var owner string
			done := false
			err := s.with(ctx, b.W.Proto, rb.db, func(c *conn) (err error) {
				if rb.nw == 0 && len(rb.guards) == 0 {
					owner, done, err = s.execFastRead(ctx, c, b, rb, fence)
				} else {
					owner, done, err = s.execRun(ctx, c, b, rb, fence)
				}
				return err
			})
			if err != nil || done {
				return err
			}
			if owner != "" {
				if err := s.resolve(ctx, rb.db, owner); err != nil {
					return err
				}
			}
		}
	}
	plan := planBatch(b)
	for {
		var owner string
		done := false
		err := s.with(ctx, b.W.Proto, plan.first(), func(c *conn) error {
			var err error
			if plan.write {
				owner, done, err = s.execWrite(ctx, c, b, plan, fence)
			} else {
				owner, done, err = s.execRead(ctx, c, b, plan, fence)
			}
			return err
		})
		if err != nil || done {
			return err
		}
		if owner != "" {
			if err := s.resolve(ctx, plan.first(), owner); err != nil {
				return err
			}
		}
	}
}

// batchPlan is what a batch touches, by database.
type batchPlan struct {
	dbs     []int            // in order
	locks   map[int][]string // lock keys of every key read or written
	written map[int][]string // keys written
	guards  map[int][]backends.Guard
	write   bool
}

func (p *batchPlan) first() int {
	if len(p.dbs) == 0 {
		return 0
	}
	return p.dbs[0]
}

func planBatch(b *backends.Batch) *batchPlan {
	p := &batchPlan{locks: map[int][]string{}, written: map[int][]string{}, guards: map[int][]backends.Guard{},
		write: len(b.Guards) > 0}
	add := func(db int, key string, write bool) {
		if !slices.Contains(p.dbs, db) {
			p.dbs = append(p.dbs, db)
		}
		p.locks[db] = append(p.locks[db], lockKey(key))
		if write {
			p.written[db] = append(p.written[db], key)
		}
	}
	var idx []int
	for _, op := range b.Ops {
		if op.Reply != nil {
			continue
		}
		if !slices.Contains(p.dbs, op.DB) {
			p.dbs = append(p.dbs, op.DB)
		}
		w := op.Cmd.Is(command.Write)
		// A blocking read (XREAD BLOCK) runs inside MULTI too, where
		// Redis never blocks: the proxy does the blocking.
		p.write = p.write || w || op.Cmd.Is(command.Blocking)
		idx, _ = op.Cmd.KeyIndexes(idx[:0], op.Args)
		for _, i := range idx {
			add(op.DB, string(op.Args[i]), w)
		}
		// MOVE and COPY ... DB n write the key in another database.
		if other, ok := op.Cmd.OtherDB(op.Args); ok {
			for _, i := range idx {
				add(other, string(op.Args[i]), w)
			}
		}
	}
	for _, g := range b.Guards {
		add(g.DB, g.Key, false)
		p.guards[g.DB] = append(p.guards[g.DB], g)
	}
	return p
}

func selectCmd(db int) [][]byte { return [][]byte{[]byte("SELECT"), []byte(strconv.Itoa(db))} }

// execRead sends the lock checks and the commands in one pipeline. done
// says the replies are written; otherwise owner is the lock it met (or
// empty, when the lock went meanwhile), and it must run again.
func (s *Shard) execRead(ctx context.Context, c *conn, b *backends.Batch, plan *batchPlan, fence string) (owner string, done bool, err error) {
	var cmds [][][]byte
	var checks []int // command index of each database's EXISTS
	cur := c.db
	for _, db := range plan.dbs {
		if db != cur {
			cmds, cur = append(cmds, selectCmd(db)), db
		}
		locks := plan.locks[db]
		if fence == "" {
			// A read waits for a request over whole databases, as it
			// waits for a lock.
			locks = append(locks, fenceKey)
		}
		if len(locks) > 0 {
			ex := [][]byte{[]byte("EXISTS")}
			for _, l := range locks {
				ex = append(ex, []byte(l))
			}
			checks = append(checks, len(cmds))
			cmds = append(cmds, ex)
		}
	}
	meta := needsMetaCount(b)
	metaAt := -1
	if meta {
		if db := plan.first(); db != cur {
			cmds, cur = append(cmds, selectCmd(db)), db
		}
		metaAt = len(cmds)
		cmds = append(cmds, evalArgs(scriptMetaCount, metaKeys))
	}
	var opAt []int
	for _, op := range b.Ops {
		if op.Reply != nil {
			continue
		}
		if op.DB != cur {
			cmds, cur = append(cmds, selectCmd(op.DB)), op.DB
		}
		opAt = append(opAt, len(cmds))
		cmds = append(cmds, op.Args)
	}
	replies, err := c.do(ctx, cmds...)
	c.db = cur
	if err != nil {
		return "", false, err
	}
	for i, at := range checks {
		if string(replies[at]) != ":0\r\n" {
			db := plan.dbs[i]
			if cur != db {
				if _, err := c.do(ctx, selectCmd(db)); err != nil {
					return "", false, err
				}
				c.db = db
			}
			locks := append(append([]string{}, plan.locks[db]...), fenceKey)
			owner, err := s.findOwner(ctx, c, locks)
			return owner, false, err
		}
	}
	var metaCount int64
	if meta {
		v, err := parseValue(replies[metaAt])
		if err != nil {
			return "", false, err
		}
		metaCount = v.Int
	}
	out := make([][]byte, len(opAt))
	for i, at := range opAt {
		out[i] = replies[at]
	}
	if !hideMeta(b, out, metaCount) {
		// RANDOMKEY drew a metadata key: draw again, unless there is
		// nothing else to draw.
		if users, err := s.userKeys(ctx, c); err != nil || users > 0 {
			return "", false, err
		}
		nullRandomKey(b, out)
	}
	writeReplies(b, out)
	return "", true, nil
}

// userKeys counts the keys of the connection's database that are not
// metadata.
func (s *Shard) userKeys(ctx context.Context, c *conn) (int64, error) {
	r, err := c.do(ctx, [][]byte{[]byte("DBSIZE")}, evalArgs(scriptMetaCount, metaKeys))
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
// execRead's. Each database the batch touches is watched and checked
// before MULTI; inside it the commands run, with SELECT where their
// database changes, and then the versions of what they wrote move on.
func (s *Shard) execWrite(ctx context.Context, c *conn, b *backends.Batch, plan *batchPlan, fence string) (owner string, done bool, err error) {
	if s.staleGuard(b.Guards) {
		return "", false, backends.ErrGuard
	}
	var cmds [][][]byte
	var checks []int
	cur := c.db
	for _, db := range plan.dbs {
		if db != cur {
			cmds, cur = append(cmds, selectCmd(db)), db
		}
		watch := [][]byte{[]byte("WATCH"), []byte(abortKey), []byte(fenceKey)}
		checkKeys := append([]string{abortKey}, plan.locks[db]...)
		checkArgs := []string{strconv.Itoa(len(plan.locks[db]))}
		for _, l := range plan.locks[db] {
			watch = append(watch, []byte(l))
		}
		for _, g := range plan.guards[db] {
			watch = append(watch, []byte(g.Key))
			checkKeys = append(checkKeys, g.Key)
			checkArgs = append(checkArgs, strconv.FormatUint(g.Version, 10), b01(g.Live))
		}
		checkArgs = append(checkArgs, fence)
		checks = append(checks, len(cmds)+1)
		cmds = append(cmds, watch, evalArgs(scriptCheck, checkKeys, checkArgs...))
	}
	cmds = append(cmds, [][]byte{[]byte("MULTI")})
	queued := len(cmds) // replies inside EXEC are counted from here
	var opAt []int
	for _, op := range b.Ops {
		if op.Reply != nil {
			continue
		}
		if op.DB != cur {
			cmds, cur = append(cmds, selectCmd(op.DB)), op.DB
		}
		opAt = append(opAt, len(cmds)-queued)
		cmds = append(cmds, op.Args)
	}
	for _, db := range plan.dbs {
		if len(plan.written[db]) == 0 {
			continue
		}
		if db != cur {
			cmds, cur = append(cmds, selectCmd(db)), db
		}
		cmds = append(cmds, evalArgs(scriptBump, plan.written[db]))
	}
	inside := len(cmds) - queued
	cmds = append(cmds, [][]byte{[]byte("EXEC")})
	replies, err := c.do(ctx, cmds...)
	if err != nil {
		c.db = -1 // unknown after a failure
		return "", false, err
	}
	exec := replies[len(replies)-1]
	if isNull(exec) {
		// Nothing ran: the databases selected are those before MULTI.
		c.db = cmdsDB(cmds[:queued], c.db)
		for _, at := range checks {
			check, err := parseValue(replies[at])
			if err != nil || check.Kind == resp.KindError || len(check.Elems) == 0 {
				return "", false, fmt.Errorf("backend %s: check: %q", s.addr, replies[at])
			}
			switch string(check.Elems[0].Str) {
			case "L":
				return string(check.Elems[1].Str), false, nil
			case "G":
				return "", false, backends.ErrGuard
			}
		}
		return "", false, nil // another batch's failed check aborted ours: again
	}
	c.db = cur
	if exec[0] == '-' {
		return "", false, fmt.Errorf("backend %s: EXEC: %s", s.addr, strings.TrimSpace(string(exec)))
	}
	parts, err := splitArray(exec)
	if err != nil {
		return "", false, err
	}
	if len(parts) != inside {
		return "", false, fmt.Errorf("backend %s: EXEC answered %d replies for %d commands", s.addr, len(parts), inside)
	}
	out := make([][]byte, len(opAt))
	for i, at := range opAt {
		out[i] = parts[at]
	}
	writeReplies(b, out)
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

// cmdsDB is the database selected after cmds, starting from db.
func cmdsDB(cmds [][][]byte, db int) int {
	for _, c := range cmds {
		if len(c) == 2 && string(c[0]) == "SELECT" {
			db, _ = strconv.Atoi(string(c[1]))
		}
	}
	return db
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

// Lock implements backends.Shard: one lock script per database the keys
// are in (each locks all or nothing in its database; a failure after an
// earlier database locked leaves that to the coordinator's Unlock).
func (s *Shard) Lock(ctx context.Context, tx backends.TxMeta, keys []backends.KeyRef, guards []backends.Guard) ([]backends.KeyState, error) {
	states := make([]backends.KeyState, len(keys))
	err := s.lockEach(ctx, tx, keys, guards, scriptLock, func(i, j int, v resp.Value) error {
		states[i].KeyRef = keys[i]
		payload, at := v.Elems[1+2*j].Str, string(v.Elems[2+2*j].Str)
		if len(payload) == 0 {
			return nil
		}
		e, err := keyspace.RestorePayload(payload)
		if err != nil {
			return fmt.Errorf("backend %s: value of %q: %w", s.addr, keys[i].Key, err)
		}
		if n, _ := strconv.ParseInt(at, 10, 64); n > 0 {
			e.ExpireAt = n
		}
		states[i].Entry = e
		return nil
	})
	if err != nil {
		return nil, err
	}
	return states, nil
}

// lockEach runs script (scriptLock or scriptPrepare) in each database of
// keys, and calls each with every key's index i in keys, its index j in
// its database's script and that script's reply.
func (s *Shard) lockEach(ctx context.Context, tx backends.TxMeta, keys []backends.KeyRef, guards []backends.Guard,
	script string, each func(i, j int, v resp.Value) error) error {
	if s.staleGuard(guards) {
		return backends.ErrGuard
	}
	own := owner(tx)
	for _, db := range dbsOf(keys, guards) {
		var idx []int
		var lk, uk []string
		for i, k := range keys {
			if k.DB == db {
				idx = append(idx, i)
				lk = append(lk, lockKey(k.Key))
				uk = append(uk, k.Key)
			}
		}
		args := []string{own, strconv.FormatInt(tx.Deadline, 10), strconv.Itoa(len(lk))}
		all := append(append([]string{}, lk...), uk...)
		for _, g := range guards {
			if g.DB == db {
				all = append(all, g.Key)
				args = append(args, strconv.FormatUint(g.Version, 10), b01(g.Live))
			}
		}
		// Noted before the script is sent: if its reply is lost (a
		// timeout), Unlock still releases what it may have locked, after
		// it on the same connection.
		s.mu.Lock()
		set := s.locked[tx.ID]
		set.owner = own
		for _, i := range idx {
			set.keys = append(set.keys, keys[i])
		}
		s.locked[tx.ID] = set
		s.mu.Unlock()
		v, err := s.lockDB(ctx, tx, db, script, all, args)
		if err != nil {
			return err
		}
		for j, i := range idx {
			if err := each(i, j, v); err != nil {
				return err
			}
		}
	}
	return nil
}

// dbsOf lists the databases keys and guards are in, in order.
func dbsOf(keys []backends.KeyRef, guards []backends.Guard) []int {
	var dbs []int
	add := func(db int) {
		if !slices.Contains(dbs, db) {
			dbs = append(dbs, db)
		}
	}
	for _, k := range keys {
		add(k.DB)
	}
	for _, g := range guards {
		add(g.DB)
	}
	slices.Sort(dbs)
	return dbs
}

// lockDB runs the lock script in db until it locks, resolving the locks
// it meets.
func (s *Shard) lockDB(ctx context.Context, tx backends.TxMeta, db int, script string, keys, args []string) (resp.Value, error) {
	for {
		var v resp.Value
		err := s.with(ctx, 2, db, func(c *conn) error {
			r, err := c.do(ctx, evalArgs(script, keys, args...))
			if err == nil {
				v, err = parseValue(r[0])
			}
			return err
		})
		if err != nil {
			return v, err
		}
		if v.Kind == resp.KindError || len(v.Elems) == 0 {
			return v, fmt.Errorf("backend %s: lock: %v", s.addr, v)
		}
		switch string(v.Elems[0].Str) {
		case "D":
			return v, fmt.Errorf("%w: transaction %d is past its deadline", backends.ErrNotExecuted, tx.ID)
		case "G":
			return v, backends.ErrGuard
		case "L":
			if tx.NoWait {
				return v, fmt.Errorf("%w: %w", backends.ErrNotExecuted, backends.ErrLockBusy)
			}
			if err := s.resolve(ctx, db, string(v.Elems[1].Str)); err != nil {
				return v, fmt.Errorf("%w: %w", backends.ErrNotExecuted, err)
			}
			continue
		}
		return v, nil
	}
}

// lockArgs and writeArgs are the (db, key) and (db, key, payload,
// expiry) lists of the commit and apply scripts, with their counts.
func lockArgs(keys []backends.KeyRef) []string {
	args := []string{strconv.Itoa(len(keys))}
	for _, k := range keys {
		args = append(args, strconv.Itoa(k.DB), k.Key)
	}
	return args
}

func writeArgs(writes []backends.KeyState) []string {
	args := []string{strconv.Itoa(len(writes))}
	for _, w := range writes {
		args = append(args, strconv.Itoa(w.DB), w.Key)
		if w.Entry == nil {
			args = append(args, "", "0")
			continue
		}
		args = append(args, string(keyspace.DumpPayload(w.Entry)), strconv.FormatInt(w.Entry.ExpireAt, 10))
	}
	return args
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
	args := []string{owner(tx), strconv.FormatInt(tx.Deadline, 10), txID(tx.ID)}
	args = append(append(args, lockArgs(mine.keys)...), writeArgs(writes)...)
	for _, p := range tx.Participants {
		if p != s.index {
			args = append(args, "p"+strconv.Itoa(p), string(encodeStaged(s.siblings[p].lockedKeys(tx.ID), record.Writes[p])))
		}
	}
	var reply []byte
	err := s.with(ctx, 2, 0, func(c *conn) error {
		r, err := c.do(ctx, evalArgs(scriptCommit, nil, args...))
		if err == nil {
			reply = r[0]
		}
		return err
	})
	if err != nil {
		// Unknown outcome: the locks stay for a resolver; this proxy
		// will not release them, so it need not remember them.
		s.forget(tx.ID)
		return fmt.Errorf("backend %s: commit: %w", s.addr, err)
	}
	v, err := parseValue(reply)
	if err != nil || v.Kind == resp.KindError {
		s.forget(tx.ID) // unknown outcome, as above
		return fmt.Errorf("backend %s: commit: %q", s.addr, reply)
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
	// Applied or not, the locks are this proxy's to release no more: a
	// failed apply is an unknown outcome, left to a resolver.
	s.forget(tx.ID)
	if err := s.applyStaged(ctx, mine, owner(tx), writes); err != nil {
		return err
	}
	// The transaction is applied here whatever becomes of the staged copy:
	// one left behind is only garbage (no lock leads to it any more).
	_ = s.siblings[tx.Primary].forgetStaged(ctx, tx.ID, s.index)
	return nil
}

func (s *Shard) applyStaged(ctx context.Context, mine lockSet, own string, writes []backends.KeyState) error {
	args := append(append([]string{own}, lockArgs(mine.keys)...), writeArgs(writes)...)
	return s.with(ctx, 2, 0, func(c *conn) error {
		r, err := c.do(ctx, evalArgs(scriptApply, nil, args...))
		if err == nil && r[0][0] == '-' {
			err = fmt.Errorf("backend %s: apply: %s", s.addr, strings.TrimSpace(string(r[0])))
		}
		return err
	})
}

// forgetStaged drops, on this primary, participants' staged parts of tx.
func (s *Shard) forgetStaged(ctx context.Context, tx backends.TxID, participants ...int) error {
	args := []string{txID(tx)}
	for _, p := range participants {
		args = append(args, "p"+strconv.Itoa(p))
	}
	return s.with(ctx, 2, 0, func(c *conn) error {
		_, err := c.do(ctx, evalArgs(scriptForget, nil, args...))
		return err
	})
}

// sweep forgets, on this primary, the stages of tx whose participants no
// longer hold its locks: they applied it (after the commit every
// participant holds its locks until it applies), and nobody forgot them.
func (s *Shard) sweep(ctx context.Context, tx backends.TxID, own string) error {
	get := [][]byte{[]byte("HMGET"), []byte("__sp:txs")}
	for i := range s.siblings {
		get = append(get, []byte(txID(tx)+":p"+strconv.Itoa(i)))
	}
	var r []byte
	err := s.with(ctx, 2, 0, func(c *conn) error {
		rs, err := c.do(ctx, get)
		if err == nil {
			r = rs[0]
		}
		return err
	})
	if err != nil {
		return err
	}
	v, err := parseValue(r)
	if err != nil || len(v.Elems) != len(s.siblings) {
		return fmt.Errorf("backend %s: HMGET: %q", s.addr, r)
	}
	var applied []int
	for i, e := range v.Elems {
		if e.Null {
			continue
		}
		var locks []backends.KeyRef
		if isStageNative(e.Str) {
			_, locks, _, err = decodeNative(e.Str)
		} else {
			var set lockSet
			set, _, err = decodeStaged(e.Str)
			locks = set.keys
		}
		if err != nil || len(locks) == 0 {
			continue
		}
		var held []byte
		err := s.siblings[i].with(ctx, 2, locks[0].DB, func(c *conn) error {
			rs, err := c.do(ctx, [][]byte{[]byte("GET"), []byte(lockKey(locks[0].Key))})
			if err == nil {
				held = rs[0]
			}
			return err
		})
		if err != nil {
			return err
		}
		if lv, err := parseValue(held); err == nil && (lv.Null || string(lv.Str) != own) {
			applied = append(applied, i)
		}
	}
	if len(applied) == 0 {
		return nil
	}
	return s.forgetStaged(ctx, tx, applied...)
}

// Unlock implements backends.Shard.
func (s *Shard) Unlock(ctx context.Context, tx backends.TxID) error {
	mine := s.lockedKeys(tx)
	s.forget(tx)
	if len(mine.keys) == 0 {
		return nil
	}
	args := []string{mine.owner}
	for _, k := range mine.keys {
		args = append(args, strconv.Itoa(k.DB), k.Key)
	}
	return s.with(ctx, 2, 0, func(c *conn) error {
		_, err := c.do(ctx, evalArgs(scriptUnlock, nil, args...))
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
		err := s.siblings[primary].with(ctx, 2, 0, func(c *conn) error {
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
			if isStageNative(v.Elems[1].Str) {
				if err := s.resolveNative(ctx, tx, primary, own, v.Elems[1].Str); err != nil {
					return err
				}
				// Its coordinator forgets the stages once all are
				// applied: if it died first, the record is swept here.
				return s.siblings[primary].sweep(ctx, tx, own)
			}
			set, writes, err := decodeStaged(v.Elems[1].Str)
			if err != nil {
				return err
			}
			if err := s.applyStaged(ctx, set, own, writes); err != nil {
				return err
			}
			return s.siblings[primary].forgetStaged(ctx, tx, s.index)
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
			args := []string{own}
			for _, e := range v.Elems[1].Elems {
				args = append(args, strconv.Itoa(db), strings.TrimPrefix(string(e.Str), lockPrefix))
			}
			if len(args) > 1 {
				if _, err := c.do(ctx, evalArgs(scriptUnlock, nil, args...)); err != nil {
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
// the primary's record for whoever finishes it: the keys it locked and its
// writes as DUMP payloads, each with its database.
func encodeStaged(set lockSet, writes []backends.KeyState) []byte {
	b := binary.AppendUvarint([]byte{stageCopies}, uint64(len(set.keys)))
	for _, k := range set.keys {
		b = binary.AppendUvarint(b, uint64(k.DB))
		b = binary.AppendUvarint(b, uint64(len(k.Key)))
		b = append(b, k.Key...)
	}
	b = binary.AppendUvarint(b, uint64(len(writes)))
	for _, w := range writes {
		b = binary.AppendUvarint(b, uint64(w.DB))
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
	if len(b) == 0 || b[0] != stageCopies {
		return set, nil, errStaged
	}
	b = b[1:]
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
	for i := next(); i > 0 && b != nil; i-- {
		db := int(next())
		set.keys = append(set.keys, backends.KeyRef{DB: db, Key: string(str())})
	}
	var writes []backends.KeyState
	for i := next(); i > 0 && b != nil; i-- {
		db := int(next())
		w := backends.KeyState{KeyRef: backends.KeyRef{DB: db, Key: string(str())}}
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

// SaveLibraries makes payload (a FUNCTION DUMP) the backend's function
// libraries, replacing what it held: Redis keeps them in its AOF, across
// FLUSHALL, for every proxy.
func (s *Shard) SaveLibraries(ctx context.Context, payload []byte) error {
	return s.with(ctx, 2, 0, func(c *conn) error {
		rs, err := c.do(ctx, [][]byte{[]byte("FUNCTION"), []byte("RESTORE"), payload, []byte("FLUSH")})
		if err != nil {
			return fmt.Errorf("backend %s: FUNCTION RESTORE: %w", s.addr, err)
		}
		if v, err := parseValue(rs[0]); err != nil || v.Kind == resp.KindError {
			return fmt.Errorf("backend %s: FUNCTION RESTORE: %q", s.addr, bytes.TrimSpace(rs[0]))
		}
		return nil
	})
}

// LoadLibraries returns the backend's function libraries as a FUNCTION
// DUMP payload.
func (s *Shard) LoadLibraries(ctx context.Context) ([]byte, error) {
	var payload []byte
	err := s.with(ctx, 2, 0, func(c *conn) error {
		rs, err := c.do(ctx, [][]byte{[]byte("FUNCTION"), []byte("DUMP")})
		if err != nil {
			return fmt.Errorf("backend %s: FUNCTION DUMP: %w", s.addr, err)
		}
		v, err := parseValue(rs[0])
		if err != nil || v.Kind != resp.KindBulk {
			return fmt.Errorf("backend %s: FUNCTION DUMP: %q", s.addr, bytes.TrimSpace(rs[0]))
		}
		payload = v.Str
		return nil
	})
	return payload, err
}
