// Package memory is the embedded backend: in-process shards holding keyspace
// stores, each persisted to its own append-only log with snapshots.
//
// A shard runs every batch under its mutex, so a batch is atomic. A
// cross-shard request holds every participant's mutex at once (Holder), or
// locks keys (Lock .. Commit/Apply/Unlock), which every other batch waits
// for. Replies are released only once the logs hold everything the shard
// had appended when the batch ran, and what its state depends on in other
// shards' logs (deps), so no client ever sees a write that a crash could
// take back (the appendfsync policy decides what "holds" means, as in
// Redis). Recovery (store.go) replays the logs up to a consistent cut.
package memory

import (
	"context"
	"math/rand/v2"
	"sync"
	"sync/atomic"

	"github.com/schemaproxy/schemaproxy/backends"
	"github.com/schemaproxy/schemaproxy/command"
	"github.com/schemaproxy/schemaproxy/keyspace"
	"github.com/schemaproxy/schemaproxy/proto/resp"
)

// journal is the part of the append-only log a shard uses.
type journal interface {
	Append(rec []byte) uint64
	Wait(ctx context.Context, pos uint64) error
	Done(pos uint64) bool
	Sync(ctx context.Context) error
}

type lockKey struct {
	db  int
	key string
}

// Shard is one embedded shard.
type Shard struct {
	index int
	exec  *keyspace.Executor
	log   journal // nil: no persistence
	now   func() int64

	mu sync.Mutex // guards everything below
	// store is the shard's data.
	store *keyspace.Store
	// locks maps a locked key to the transaction holding it; owned lists
	// each transaction's keys.
	locks map[lockKey]backends.TxID
	owned map[backends.TxID][]lockKey
	// exclusive is set while an Exclusive section runs; draining counts
	// Exclusive calls waiting for locks to drain, which keeps new
	// transactions from locking here meanwhile (no starvation).
	exclusive bool
	draining  int
	// changed is closed (and replaced) whenever locks are released or an
	// exclusive section ends, waking waiters.
	changed chan struct{}
	// logPos is the end of the last record appended; lsn counts the
	// records in the log since the beginning (snapshots carry it on), the
	// position cross-shard records name to order recovery.
	logPos uint64
	lsn    uint64
	// siblings are all the store's shards, by index.
	siblings []*Shard

	// deps holds, per other shard, the log position this shard's state
	// depends on since a cross-shard transaction ran here. Written under
	// mu, read without it by durable.
	deps   []atomic.Uint64
	closed bool
	rnd    *rand.Rand
	// Scratch reused by every batch, to keep the hot path allocation-free.
	cctx   keyspace.Ctx
	rec    []byte
	keyIdx []int
}

// newShard returns an empty shard.
func newShard(index, databases int, exec *keyspace.Executor, now func() int64) *Shard {
	return &Shard{
		index:   index,
		exec:    exec,
		now:     now,
		store:   keyspace.NewStore(databases, now),
		locks:   make(map[lockKey]backends.TxID),
		owned:   make(map[backends.TxID][]lockKey),
		changed: make(chan struct{}),
		rnd:     rand.New(rand.NewPCG(uint64(index), uint64(now()))),
	}
}

var _ backends.Shard = (*Shard)(nil)

// waitLocked releases mu until something changes or ctx ends; mu is held
// again when it returns nil.
func (s *Shard) waitLocked(ctx context.Context) error {
	ch := s.changed
	s.mu.Unlock()
	select {
	case <-ch:
		s.mu.Lock()
		return nil
	case <-ctx.Done():
		s.mu.Lock()
		return ctx.Err()
	}
}

func (s *Shard) broadcastLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// blockedLocked reports whether b touches a key another transaction holds.
func (s *Shard) blockedLocked(b *backends.Batch) bool {
	if len(s.locks) == 0 {
		return false
	}
	for _, op := range b.Ops {
		if op.Cmd == nil {
			continue
		}
		s.keyIdx, _ = op.Cmd.KeyIndexes(s.keyIdx[:0], op.Args)
		for _, i := range s.keyIdx {
			if _, ok := s.locks[lockKey{op.DB, string(op.Args[i])}]; ok {
				return true
			}
		}
	}
	for _, g := range b.Guards {
		if _, ok := s.locks[lockKey{g.DB, g.Key}]; ok {
			return true
		}
	}
	return false
}

// guardsHoldLocked reports whether every guard still matches.
func (s *Shard) guardsHoldLocked(guards []backends.Guard, now int64) bool {
	for _, g := range guards {
		v, live := s.store.DB(g.DB).Version([]byte(g.Key), now)
		if v != g.Version || live != g.Live {
			return false
		}
	}
	return true
}

// Exec implements backends.Shard.
func (s *Shard) Exec(ctx context.Context, b *backends.Batch) error {
	s.mu.Lock()
	for {
		if s.closed {
			s.mu.Unlock()
			return backends.ErrClosed
		}
		if !s.exclusive && !s.blockedLocked(b) {
			break
		}
		if err := s.waitLocked(ctx); err != nil {
			s.mu.Unlock()
			return err
		}
	}
	err := s.runLocked(b)
	pos := s.logPos
	s.mu.Unlock()
	if err != nil {
		return err
	}
	if b.Defer {
		b.Pos = pos
		return nil
	}
	return s.durable(ctx, pos)
}

// Durable implements backends.Shard.
func (s *Shard) Durable(ctx context.Context, pos uint64) error { return s.durable(ctx, pos) }

// durable waits until the log holds everything up to pos, and until the
// other shards' logs hold what this shard's state depends on (see deps):
// a reply may not outlive, in a crash, a cross-shard transaction it saw.
func (s *Shard) durable(ctx context.Context, pos uint64) error {
	if s.log == nil || pos == 0 {
		return nil
	}
	if err := s.log.Wait(ctx, pos); err != nil {
		return err
	}
	if s.siblings == nil || s.depsDone() {
		return nil
	}
	// Follow dependencies shard to shard; each shard is waited for at most
	// up to the highest position any dependency names.
	waited := make([]uint64, len(s.siblings))
	waited[s.index] = pos
	work := []*Shard{s}
	for len(work) > 0 {
		sh := work[len(work)-1]
		work = work[:len(work)-1]
		for j := range sh.deps {
			need := sh.deps[j].Load()
			if need <= waited[j] {
				continue
			}
			if err := s.siblings[j].log.Wait(ctx, need); err != nil {
				return err
			}
			waited[j] = need
			work = append(work, s.siblings[j])
		}
	}
	return nil
}

// depsDone reports, without allocating, whether every log this shard
// depends on already holds what it must: the common case.
func (s *Shard) depsDone() bool {
	for j := range s.deps {
		if need := s.deps[j].Load(); need > 0 && !s.siblings[j].log.Done(need) {
			return false
		}
	}
	return true
}

// addDepsLocked records that this shard's state now depends on the other
// shards' logs up to the given positions (a cross-shard transaction's
// records there): every later reply from here waits for them too.
func (s *Shard) addDepsLocked(deps map[int]uint64) {
	for j, pos := range deps {
		if j != s.index && pos > s.deps[j].Load() {
			s.deps[j].Store(pos)
		}
	}
}

// runLocked checks b's guards and runs its ops, logging those that changed
// data as one record.
func (s *Shard) runLocked(b *backends.Batch) error {
	now := b.Now
	if now == 0 {
		now = s.now()
	}
	if !s.guardsHoldLocked(b.Guards, now) {
		return backends.ErrGuard
	}
	c := &s.cctx
	c.Store, c.W, c.Now, c.Rand = s.store, b.W, now, s.rnd
	logged := 0
	if s.log != nil {
		s.rec = beginOps(s.rec[:0], now)
	}
	for i := range b.Ops {
		op := &b.Ops[i]
		if op.Reply != nil {
			b.W.Raw(op.Reply)
			continue
		}
		c.DBIndex, c.DB, c.Args, c.Dirty, c.Propagate = op.DB, s.store.DB(op.DB), op.Args, 0, nil
		s.exec.Run(c, op.Cmd)
		if c.Dirty > 0 && s.log != nil {
			args := op.Args
			if c.Propagate != nil {
				args = c.Propagate
			}
			s.rec = appendOp(s.rec, op.DB, args)
			logged++
		}
	}
	c.Args, c.Propagate, c.W = nil, nil, nil
	if logged > 0 {
		s.appendLocked(s.rec)
	}
	return nil
}

// appendLocked logs one record.
func (s *Shard) appendLocked(rec []byte) {
	s.logPos = s.log.Append(rec)
	s.lsn++
}

// Version implements backends.Shard.
func (s *Shard) Version(ctx context.Context, db int, key []byte) (uint64, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, false, backends.ErrClosed
	}
	v, live := s.store.DB(db).Version(key, s.now())
	return v, live, nil
}

// Lock implements backends.Shard.
func (s *Shard) Lock(ctx context.Context, tx backends.TxID, keys []backends.KeyRef, guards []backends.Guard) ([]backends.KeyState, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		if s.closed {
			return nil, backends.ErrClosed
		}
		if !s.exclusive && s.draining == 0 && !s.keysLockedLocked(tx, keys) {
			break
		}
		if err := s.waitLocked(ctx); err != nil {
			return nil, err
		}
	}
	now := s.now()
	if !s.guardsHoldLocked(guards, now) {
		return nil, backends.ErrGuard
	}
	states := make([]backends.KeyState, len(keys))
	for i, k := range keys {
		lk := lockKey{k.DB, k.Key}
		if _, mine := s.locks[lk]; !mine {
			s.locks[lk] = tx
			s.owned[tx] = append(s.owned[tx], lk)
		}
		states[i].KeyRef = k
		if e := s.store.DB(k.DB).Get([]byte(k.Key), now); e != nil {
			states[i].Entry = e.Clone()
		}
	}
	return states, nil
}

func (s *Shard) keysLockedLocked(tx backends.TxID, keys []backends.KeyRef) bool {
	if len(s.locks) == 0 {
		return false
	}
	for _, k := range keys {
		if owner, ok := s.locks[lockKey{k.DB, k.Key}]; ok && owner != tx {
			return true
		}
	}
	return false
}

// installLocked writes the states of a cross-shard transaction.
func (s *Shard) installLocked(writes []backends.KeyState, now int64) {
	for _, w := range writes {
		db := s.store.DB(w.DB)
		if w.Entry == nil {
			db.Delete([]byte(w.Key), now)
			continue
		}
		// A copy: the record holding w is still being logged by other
		// participants while this shard's clients change the live value.
		e := w.Entry.Clone()
		e.Version = 0 // a fresh version from this shard's clock
		db.Put(w.Key, e)
	}
}

func (s *Shard) releaseLocked(tx backends.TxID) {
	keys, ok := s.owned[tx]
	if !ok {
		return
	}
	for _, k := range keys {
		delete(s.locks, k)
	}
	delete(s.owned, tx)
	s.broadcastLocked()
}

// Commit implements backends.Shard. On embedded shards the primary's
// commit and a participant's apply are the same step: every participant
// logs the whole record, so the first copy to reach a log commits it.
func (s *Shard) Commit(ctx context.Context, tx backends.TxID, writes []backends.KeyState, record *backends.TxRecord) error {
	return s.finish(ctx, tx, writes, record)
}

// Apply implements backends.Shard.
func (s *Shard) Apply(ctx context.Context, tx backends.TxID, writes []backends.KeyState, record *backends.TxRecord) error {
	return s.finish(ctx, tx, writes, record)
}

// finish installs tx's writes here, logs its record and releases its locks.
func (s *Shard) finish(ctx context.Context, tx backends.TxID, writes []backends.KeyState, record *backends.TxRecord) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return backends.ErrClosed
	}
	s.installAndLogLocked(writes, record)
	s.releaseLocked(tx)
	pos := s.logPos
	s.mu.Unlock()
	return s.durable(ctx, pos)
}

// Unlock implements backends.Shard.
func (s *Shard) Unlock(ctx context.Context, tx backends.TxID) error {
	s.mu.Lock()
	s.releaseLocked(tx)
	pos := s.logPos
	s.mu.Unlock()
	// What the transaction read may have been written by a batch whose
	// record is not durable yet.
	return s.durable(ctx, pos)
}

// Exclusive implements backends.Shard.
func (s *Shard) Exclusive(ctx context.Context, fn func(x backends.Locked) error) error {
	s.mu.Lock()
	for {
		if s.closed {
			s.mu.Unlock()
			return backends.ErrClosed
		}
		if !s.exclusive && len(s.locks) == 0 {
			break
		}
		s.draining++
		err := s.waitLocked(ctx)
		s.draining--
		if err != nil {
			s.mu.Unlock()
			return err
		}
	}
	s.exclusive = true
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.exclusive = false
		s.broadcastLocked()
		s.mu.Unlock()
	}()
	if err := fn(lockedShard{s}); err != nil {
		return err
	}
	s.mu.Lock()
	pos := s.logPos
	s.mu.Unlock()
	if s.log != nil && pos != 0 {
		// Whole-database commands may span shards: sync so that a crash
		// keeps all of them or, at worst, loses the newest.
		return s.log.Sync(ctx)
	}
	return nil
}

// lockedShard is a shard inside its Exclusive section. It still takes mu
// (the background expiry may run) but never waits for transaction locks.
type lockedShard struct{ s *Shard }

func (l lockedShard) Run(b *backends.Batch) error {
	l.s.mu.Lock()
	defer l.s.mu.Unlock()
	return l.s.runLocked(b)
}

func (l lockedShard) Read(keys []backends.KeyRef) []backends.KeyState {
	l.s.mu.Lock()
	defer l.s.mu.Unlock()
	return l.s.readLocked(keys)
}

func (l lockedShard) LogPos() uint64 {
	l.s.mu.Lock()
	defer l.s.mu.Unlock()
	return l.s.logPos
}

func (l lockedShard) AddDeps(deps map[int]uint64) {
	l.s.mu.Lock()
	defer l.s.mu.Unlock()
	l.s.addDepsLocked(deps)
}

func (l lockedShard) LSN() uint64 {
	l.s.mu.Lock()
	defer l.s.mu.Unlock()
	return l.s.lsn
}

func (l lockedShard) RunTx(record *backends.TxRecord, shard int, w *resp.Writer) {
	l.s.mu.Lock()
	defer l.s.mu.Unlock()
	l.s.runTxLocked(record, shard, w)
}

func (l lockedShard) Install(tx backends.TxID, writes []backends.KeyState, record *backends.TxRecord) {
	l.s.mu.Lock()
	defer l.s.mu.Unlock()
	l.s.installAndLogLocked(writes, record)
}

// readLocked returns copies of keys' states.
func (s *Shard) readLocked(keys []backends.KeyRef) []backends.KeyState {
	now := s.now()
	states := make([]backends.KeyState, len(keys))
	for i, k := range keys {
		states[i].KeyRef = k
		if e := s.store.DB(k.DB).Get([]byte(k.Key), now); e != nil {
			states[i].Entry = e.Clone()
		}
	}
	return states
}

// installAndLogLocked installs a cross-shard transaction's writes here and
// logs its whole record.
func (s *Shard) installAndLogLocked(writes []backends.KeyState, record *backends.TxRecord) {
	s.installLocked(writes, s.now())
	if s.log != nil && len(writes) > 0 {
		s.appendLocked(encodedRecord(record))
	}
}

// TryHold implements backends.Holder.
func (s *Shard) TryHold(keys []backends.KeyRef) (bool, <-chan struct{}) {
	s.mu.Lock()
	if s.closed || s.exclusive || s.draining > 0 || s.keysLockedLocked(0, keys) {
		ch := s.changed
		s.mu.Unlock()
		return false, ch
	}
	return true, nil
}

// Held implements backends.Holder.
func (s *Shard) Held() backends.Locked { return heldShard{s} }

// Unhold implements backends.Holder.
func (s *Shard) Unhold() uint64 {
	pos := s.logPos
	s.mu.Unlock()
	return pos
}

// heldShard is a shard whose mutex the caller holds (TryHold).
type heldShard struct{ s *Shard }

func (h heldShard) Run(b *backends.Batch) error { return h.s.runLocked(b) }

func (h heldShard) Read(keys []backends.KeyRef) []backends.KeyState {
	return h.s.readLocked(keys)
}

func (h heldShard) Install(tx backends.TxID, writes []backends.KeyState, record *backends.TxRecord) {
	h.s.installAndLogLocked(writes, record)
}

func (h heldShard) LSN() uint64 { return h.s.lsn }

func (h heldShard) LogPos() uint64 { return h.s.logPos }

func (h heldShard) AddDeps(deps map[int]uint64) { h.s.addDepsLocked(deps) }

func (h heldShard) RunTx(record *backends.TxRecord, shard int, w *resp.Writer) {
	h.s.runTxLocked(record, shard, w)
}

// runTxLocked runs this shard's ops of a cross-shard record natively and,
// when they are writes, logs the whole record. Every participant logs it,
// changed or not: recovery re-runs the ops on a shard whose log lacks the
// record, which is right only if lacking it means the log lost its tail.
func (s *Shard) runTxLocked(record *backends.TxRecord, shard int, w *resp.Writer) {
	c := &s.cctx
	c.Store, c.W, c.Now, c.Rand = s.store, w, record.Now, s.rnd
	writes := false
	for _, op := range record.Ops[shard] {
		c.DBIndex, c.DB, c.Args, c.Dirty, c.Propagate = op.DB, s.store.DB(op.DB), op.Args, 0, nil
		s.exec.Run(c, op.Cmd)
		writes = writes || op.Cmd.Is(command.Write)
	}
	c.Args, c.Propagate, c.W = nil, nil, nil
	if writes && s.log != nil {
		s.appendLocked(encodedRecord(record))
	}
}

// activeExpire removes expired keys from every database, a bounded amount
// per call, as Redis's active expiry cycle does.
func (s *Shard) activeExpire() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.exclusive {
		return
	}
	now := s.now()
	for i := 0; i < s.store.NumDBs(); i++ {
		db := s.store.DB(i)
		for round := 0; round < 16; round++ {
			// Keep going while a good share of the sample was expired.
			if db.ActiveExpire(now, 20) < 5 {
				break
			}
		}
	}
}

// sweepTombstones drops version tombstones older than before.
func (s *Shard) sweepTombstones(before uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := 0; i < s.store.NumDBs(); i++ {
		s.store.DB(i).SweepTombstones(before)
	}
}
