// Package memory is the embedded backend: in-process shards holding keyspace
// stores, persisted together to one append-only log with snapshots.
//
// A shard runs every batch under its mutex, so a batch is atomic. A
// cross-shard request holds every participant's mutex at once (Holder), or
// locks keys (Lock .. Commit/Apply/Unlock), which every other batch waits
// for; a request over whole databases holds every shard in an Exclusive
// section. Every shard appends to the store's one log while it holds what
// the record describes, so the log's order is a serial order of all
// transactions, and whatever prefix of it a crash leaves is a state some
// serial execution reached: recovery is a replay, with nothing to cut or
// roll forward. What one request logs is one record (a request over the
// whole store: one group record), so it survives whole or not at all.
// Replies are released only once the log holds the last record the shard's
// state came from (the appendfsync policy decides what "holds" means, as in
// Redis), so no client sees a write a crash could take back.
package memory

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/schemaproxy/schemaproxy/backends"
	"github.com/schemaproxy/schemaproxy/command"
	"github.com/schemaproxy/schemaproxy/keyspace"
	"github.com/schemaproxy/schemaproxy/proto/resp"
)

type lockKey struct {
	db  int
	key string
}

// expiredKey is a key the store removed because it expired, waiting to be
// logged as a deletion.
type expiredKey struct {
	db  int
	key string
}

var delCmd = []byte("DEL")

// Shard is one embedded shard.
type Shard struct {
	index int
	exec  *keyspace.Executor
	log   *storeLog // the store's log, shared by every shard; nil: no persistence
	clock *clock

	mu sync.Mutex // guards everything below
	// store is the shard's data.
	store *keyspace.Store
	// locks maps a locked key to the transaction holding it; owned lists
	// each transaction's keys, owners what the transaction said of itself.
	locks  map[lockKey]backends.TxID
	owned  map[backends.TxID][]lockKey
	owners map[backends.TxID]backends.TxMeta
	// decided holds, on a transaction's primary, the record of each
	// committed transaction until every other participant applied it, so
	// that whoever meets one of its locks after its deadline can finish it.
	decided map[backends.TxID]*decision
	// lockWaiters queue the Lock calls that wait, oldest first: a Lock
	// lets an older waiter that wants one of its keys go first, so no
	// transaction starves while others take its keys again and again.
	lockWaiters []*lockWaiter
	nextTicket  uint64
	// exclusive is set while an Exclusive section runs; draining counts
	// Exclusive calls waiting for locks to drain, which keeps new
	// transactions from locking here meanwhile (no starvation).
	exclusive bool
	draining  int
	// changed is closed (and replaced) whenever locks are released or an
	// exclusive section ends, waking waiters.
	changed chan struct{}
	// logPos is the log position just past the last record that changed
	// this shard: a reply that read the shard waits until the log holds it.
	logPos uint64
	closed bool
	rnd    *rand.Rand
	// expired collects the keys the store expired (keyspace.Store.OnExpire)
	// until they are logged, before anything else is.
	expired []expiredKey
	// snap is set while a snapshot walks this shard (snapshot.go).
	snap *cowSnap
	// mem is the shard's part of maxmemory (evict.go).
	mem shardMem
	// siblings are all the store's shards, by index, for lock resolution.
	siblings []*Shard
	// events hands the shard's keyspace events out (notify.go); shared by
	// the store's shards.
	events *notifier
	// Scratch reused by every batch, to keep the hot path allocation-free.
	cctx   keyspace.Ctx
	rec    []byte
	delRec []byte
	keyIdx []int
}

// newShard returns an empty shard.
func newShard(index, databases int, exec *keyspace.Executor, clk *clock) *Shard {
	s := &Shard{
		index:   index,
		exec:    exec,
		clock:   clk,
		store:   keyspace.NewStore(databases, clk.now),
		locks:   make(map[lockKey]backends.TxID),
		owned:   make(map[backends.TxID][]lockKey),
		owners:  make(map[backends.TxID]backends.TxMeta),
		decided: make(map[backends.TxID]*decision),
		changed: make(chan struct{}),
		rnd:     rand.New(rand.NewPCG(uint64(index), uint64(clk.now()))),
	}
	return s
}

// persist starts logging to l; recovery has replayed the log by then.
func (s *Shard) persist(l *storeLog) {
	s.log = l
	s.store.OnExpire = func(db *keyspace.DB, key string, e *keyspace.Entry) {
		if s.snap != nil {
			s.saveLocked(db, key, e)
		}
		s.expired = append(s.expired, expiredKey{db.Index(), key})
		s.eventLocked(keyspace.NotifyExpired, "expired", db.Index(), key)
	}
	s.store.OnThaw = func(db *keyspace.DB, key string, e *keyspace.Entry) {
		// A walk may have passed the string's place in its table, and may
		// miss it in the map it joins: save it now.
		if s.snap != nil {
			s.saveLocked(db, key, e)
		}
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

// blockerLocked returns a transaction holding a key b touches.
func (s *Shard) blockerLocked(b *backends.Batch) (backends.TxID, bool) {
	if len(s.locks) == 0 {
		return 0, false
	}
	for _, op := range b.Ops {
		if op.Cmd == nil {
			continue
		}
		s.keyIdx, _ = op.Cmd.KeyIndexes(s.keyIdx[:0], op.Args)
		for _, i := range s.keyIdx {
			if tx, ok := s.locks[lockKey{op.DB, string(op.Args[i])}]; ok {
				return tx, true
			}
		}
	}
	for _, g := range b.Guards {
		if tx, ok := s.locks[lockKey{g.DB, g.Key}]; ok {
			return tx, true
		}
	}
	return 0, false
}

// guardsHoldLocked reports whether every WATCHed key is unchanged.
func (s *Shard) guardsHoldLocked(guards []backends.Guard, now int64) bool {
	for _, g := range guards {
		if !s.store.DB(g.DB).Unchanged([]byte(g.Key), g.Version, g.Live, now) {
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
		var err error
		if s.exclusive {
			err = s.waitLocked(ctx)
		} else if owner, blocked := s.blockerLocked(b); blocked {
			err = s.waitForLocked(ctx, owner)
		} else {
			break
		}
		if err != nil {
			s.mu.Unlock()
			return err
		}
	}
	err := s.runLocked(b, true)
	pos := s.logPos
	s.mu.Unlock()
	// A failed guard waits too: the null reply reveals the write that
	// broke the WATCH, which must not be one a crash can take back.
	if b.Defer {
		b.Pos = pos
		return err
	}
	if derr := s.durable(ctx, pos); derr != nil {
		return derr
	}
	return err
}

// Durable implements backends.Shard.
func (s *Shard) Durable(ctx context.Context, pos uint64) error { return s.durable(ctx, pos) }

// durable waits until the log holds everything up to pos. The log is one
// sequence for every shard, so that includes every record the state at pos
// was computed from, on whatever shard.
func (s *Shard) durable(ctx context.Context, pos uint64) error {
	if s.log == nil || pos == 0 {
		return nil
	}
	return s.log.aof.Wait(ctx, pos)
}

// runLocked checks b's guards and runs its ops, logging those that changed
// data as one record. evict lets it evict keys to make room (evict.go).
func (s *Shard) runLocked(b *backends.Batch, evict bool) error {
	now := s.clock.now()
	if !s.guardsHoldLocked(b.Guards, now) {
		s.logExpiredLocked(now)
		return backends.ErrGuard
	}
	c := &s.cctx
	c.Store, c.W, c.Now, c.Rand = s.store, b.W, now, s.rnd
	c.Notify = s.events.classes()
	logged := 0
	if s.log != nil {
		s.rec = beginOps(s.rec[:0], s.index, now)
	}
	s.mem.built = false
	for i := range b.Ops {
		op := &b.Ops[i]
		if op.Reply != nil {
			b.W.Raw(op.Reply)
			continue
		}
		if s.mem.budget > 0 && !s.roomLocked(b, i, now, evict) && op.Cmd != nil && op.Cmd.Is(command.DenyOOM) {
			b.W.Error(keyspace.ErrOOM)
			continue
		}
		if s.snap != nil {
			s.saveKeysLocked(op)
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
	// Keys expired by the batch were expired when it began (it runs at
	// one time), so their deletions go first.
	s.logExpiredLocked(now)
	if logged > 0 {
		s.appendLocked(s.rec)
	}
	return nil
}

// logExpiredLocked logs the keys the store expired since the last record,
// as DEL commands: replay then deletes them whatever its clock says.
func (s *Shard) logExpiredLocked(now int64) {
	// Every batch and sweep ends here: its events go out now, under the
	// shard's lock, so that each key's events leave in the order of its
	// changes.
	s.flushEventsLocked()
	if len(s.expired) == 0 {
		return
	}
	s.delRec = beginOps(s.delRec[:0], s.index, now)
	for _, k := range s.expired {
		s.delRec = appendOp(s.delRec, k.db, [][]byte{delCmd, []byte(k.key)})
	}
	clear(s.expired)
	s.expired = s.expired[:0]
	s.appendLocked(s.delRec)
}

// appendLocked logs one record. Inside a group (see storeLog) the position
// is known only when the group is logged; Exclusive sets it then.
func (s *Shard) appendLocked(rec []byte) {
	if pos := s.log.append(rec); pos != 0 {
		s.logPos = pos
	}
}

// Version implements backends.Shard: what WATCH records.
func (s *Shard) Version(ctx context.Context, db int, key []byte) (uint64, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, false, backends.ErrClosed
	}
	now := s.clock.now()
	v, live := s.store.DB(db).WatchStamp(key, now)
	s.logExpiredLocked(now)
	return v, live, nil
}

// Lock implements backends.Shard.
func (s *Shard) Lock(ctx context.Context, tx backends.TxMeta, keys []backends.KeyRef, guards []backends.Guard) ([]backends.KeyState, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var me *lockWaiter
	defer func() {
		if me != nil {
			s.lockWaiters = slices.DeleteFunc(s.lockWaiters, func(w *lockWaiter) bool { return w == me })
			s.broadcastLocked()
		}
	}()
	for {
		if s.closed {
			return nil, fmt.Errorf("%w: %w", backends.ErrNotExecuted, backends.ErrClosed)
		}
		owner, blocked := s.keysLockedLocked(tx.ID, keys)
		if !blocked && !s.exclusive && s.draining == 0 && !s.olderWaiterLocked(me, keys) {
			break
		}
		if tx.NoWait {
			return nil, fmt.Errorf("%w: %w", backends.ErrNotExecuted, backends.ErrLockBusy)
		}
		if me == nil {
			s.nextTicket++
			me = &lockWaiter{ticket: s.nextTicket, keys: keys}
			s.lockWaiters = append(s.lockWaiters, me)
		}
		var err error
		if blocked && !s.exclusive && s.draining == 0 {
			err = s.waitForLocked(ctx, owner)
		} else {
			err = s.waitLocked(ctx)
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %w", backends.ErrNotExecuted, err)
		}
	}
	now := s.clock.now()
	if now >= tx.Deadline {
		return nil, fmt.Errorf("%w: transaction %d is past its deadline", backends.ErrNotExecuted, tx.ID)
	}
	if !s.guardsHoldLocked(guards, now) {
		s.logExpiredLocked(now)
		return nil, backends.ErrGuard
	}
	for _, k := range keys {
		lk := lockKey{k.DB, k.Key}
		if _, mine := s.locks[lk]; !mine {
			s.locks[lk] = tx.ID
			s.owned[tx.ID] = append(s.owned[tx.ID], lk)
		}
	}
	s.owners[tx.ID] = tx
	return s.readLocked(keys), nil
}

// lockWaiter is a Lock call waiting for keys.
type lockWaiter struct {
	ticket uint64
	keys   []backends.KeyRef
}

// olderWaiterLocked reports whether a Lock that has waited longer than me
// (nil: one that has not waited) wants one of keys.
func (s *Shard) olderWaiterLocked(me *lockWaiter, keys []backends.KeyRef) bool {
	for _, w := range s.lockWaiters {
		if w == me || me != nil && w.ticket > me.ticket {
			continue
		}
		for _, a := range w.keys {
			if slices.Contains(keys, a) {
				return true
			}
		}
	}
	return false
}

func (s *Shard) keysLockedLocked(tx backends.TxID, keys []backends.KeyRef) (backends.TxID, bool) {
	if len(s.locks) == 0 {
		return 0, false
	}
	for _, k := range keys {
		if owner, ok := s.locks[lockKey{k.DB, k.Key}]; ok && owner != tx {
			return owner, true
		}
	}
	return 0, false
}

// installLocked writes the states of a cross-shard transaction.
func (s *Shard) installLocked(writes []backends.KeyState, now int64) {
	for _, w := range writes {
		db := s.store.DB(w.DB)
		if s.snap != nil {
			s.saveLocked(db, w.Key, db.Peek(w.Key))
		}
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
	s.logExpiredLocked(now)
}

// runOpsLocked runs ops natively at now, replies to w, without logging
// them: the transaction record they belong to is logged once every
// participant ran.
func (s *Shard) runOpsLocked(ops []backends.Op, now int64, w *resp.Writer) {
	c := &s.cctx
	c.Store, c.W, c.Now, c.Rand = s.store, w, now, s.rnd
	c.Notify = s.events.classes()
	for i := range ops {
		op := &ops[i]
		if s.snap != nil {
			s.saveKeysLocked(op)
		}
		c.DBIndex, c.DB, c.Args, c.Dirty, c.Propagate = op.DB, s.store.DB(op.DB), op.Args, 0, nil
		s.exec.Run(c, op.Cmd)
	}
	c.Args, c.Propagate, c.W = nil, nil, nil
	s.logExpiredLocked(now)
}

// logTxLocked logs a cross-shard record once, whichever participant comes
// first, and makes this shard's replies wait for it.
func (s *Shard) logTxLocked(record *backends.TxRecord) {
	if s.log == nil {
		return
	}
	if !record.Logged {
		record.Logged = true
		record.Pos = s.log.append(appendTx(nil, record))
	}
	if record.Pos > s.logPos {
		s.logPos = record.Pos
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
	delete(s.owners, tx)
	s.broadcastLocked()
}

// Commit implements backends.Shard. The primary logs the whole record
// (every participant's writes) in the store's one log: that append is the
// commit point, and recovery replays the record on every participant. It
// refuses a transaction at or past its deadline: a participant may have
// resolved its locks as aborted by then.
func (s *Shard) Commit(ctx context.Context, tx backends.TxMeta, writes []backends.KeyState, record *backends.TxRecord) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return fmt.Errorf("%w: %w", backends.ErrNotExecuted, backends.ErrClosed)
	}
	now := s.clock.now()
	if now >= tx.Deadline {
		s.mu.Unlock()
		return fmt.Errorf("%w: transaction %d is past its deadline", backends.ErrNotExecuted, tx.ID)
	}
	s.installLocked(writes, now)
	s.logTxLocked(record)
	if pending := others(tx); len(pending) > 0 {
		s.decided[tx.ID] = &decision{record: record, pending: pending}
	}
	s.releaseLocked(tx.ID)
	pos := s.logPos
	s.mu.Unlock()
	return s.durable(ctx, pos)
}

// decision is a committed transaction's record on its primary, and the
// participants that have not applied it yet.
type decision struct {
	record  *backends.TxRecord
	pending map[int]bool
}

func others(tx backends.TxMeta) map[int]bool {
	out := map[int]bool{}
	for _, p := range tx.Participants {
		if p != tx.Primary {
			out[p] = true
		}
	}
	return out
}

// Apply implements backends.Shard: the record is in the log already, so
// this installs the writes in memory and waits for the record.
func (s *Shard) Apply(ctx context.Context, tx backends.TxMeta, writes []backends.KeyState, record *backends.TxRecord) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return fmt.Errorf("%w: %w", backends.ErrNotExecuted, backends.ErrClosed)
	}
	_, mine := s.owned[tx.ID]
	if mine {
		// Not yet applied by a resolver.
		s.installLocked(writes, s.clock.now())
		s.logTxLocked(record)
		s.releaseLocked(tx.ID)
	}
	pos := s.logPos
	s.mu.Unlock()
	if mine {
		s.siblings[tx.Primary].applied(tx.ID, s.index)
	}
	return s.durable(ctx, pos)
}

// applied notes, on tx's primary, that shard has applied it.
func (s *Shard) applied(tx backends.TxID, shard int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d := s.decided[tx]; d != nil {
		delete(d.pending, shard)
		if len(d.pending) == 0 {
			delete(s.decided, tx)
		}
	}
}

// outcome is, on tx's primary, tx's record if it committed. Asked once tx
// is past its deadline, no record means it never will: Commit refuses it.
func (s *Shard) outcome(tx backends.TxID) *backends.TxRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d := s.decided[tx]; d != nil {
		return d.record
	}
	return nil
}

// firstDeadlineLocked is the lock owner whose deadline comes first.
func (s *Shard) firstDeadlineLocked() backends.TxID {
	var first backends.TxMeta
	for _, m := range s.owners {
		if first.ID == 0 || m.Deadline < first.Deadline {
			first = m
		}
	}
	return first.ID
}

// waitForLocked waits for owner to release its locks here, and resolves
// them once owner is past its deadline: its coordinator may be gone. mu is
// held on return.
func (s *Shard) waitForLocked(ctx context.Context, owner backends.TxID) error {
	meta, ok := s.owners[owner]
	if !ok {
		return s.waitLocked(ctx)
	}
	now := s.clock.now()
	if now >= meta.Deadline {
		s.resolveLocked(meta)
		return nil
	}
	ch := s.changed
	s.mu.Unlock()
	t := time.NewTimer(time.Duration(meta.Deadline-now) * time.Millisecond)
	select {
	case <-ch:
	case <-t.C:
	case <-ctx.Done():
	}
	t.Stop()
	s.mu.Lock()
	return ctx.Err()
}

// resolveLocked finishes a transaction past its deadline as its primary's
// record says: applies this shard's writes if it committed, drops them if
// not, and releases its locks. mu is released while the primary is asked.
func (s *Shard) resolveLocked(tx backends.TxMeta) {
	var record *backends.TxRecord
	if tx.Primary == s.index {
		if d := s.decided[tx.ID]; d != nil {
			record = d.record
		}
	} else if tx.Primary >= 0 && tx.Primary < len(s.siblings) {
		s.mu.Unlock()
		record = s.siblings[tx.Primary].outcome(tx.ID)
		s.mu.Lock()
	}
	if _, still := s.owned[tx.ID]; !still {
		return // someone else finished it meanwhile
	}
	if record != nil {
		s.installLocked(record.Writes[s.index], s.clock.now())
		s.logTxLocked(record)
	}
	s.releaseLocked(tx.ID)
	if record != nil && tx.Primary != s.index {
		s.mu.Unlock()
		s.siblings[tx.Primary].applied(tx.ID, s.index)
		s.mu.Lock()
	}
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

// Exclusive implements backends.Exclusiver.
func (s *Shard) Exclusive(ctx context.Context, fn func(x backends.Section) error) error {
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
		var err error
		if s.exclusive {
			err = s.waitLocked(ctx)
		} else {
			err = s.waitForLocked(ctx, s.firstDeadlineLocked())
		}
		s.draining--
		if err != nil {
			s.mu.Unlock()
			return err
		}
	}
	s.exclusive = true
	if s.log != nil {
		s.log.enterExclusive()
	}
	s.mu.Unlock()
	err := fn(section{s: s, locks: true})
	s.mu.Lock()
	s.exclusive = false
	if s.log != nil {
		if end := s.log.leaveExclusive(); end > s.logPos {
			s.logPos = end
		}
	}
	pos := s.logPos
	s.broadcastLocked()
	s.mu.Unlock()
	if err != nil {
		return err
	}
	return s.durable(ctx, pos)
}

// section is the shard as a backends.Section: inside its Exclusive
// section (locks: it still takes mu, which WATCH may take meanwhile, but
// never waits for transaction locks) or held by a Holder, whose caller
// holds mu already.
type section struct {
	s     *Shard
	locks bool
}

func (x section) lock() func() {
	if !x.locks {
		return func() {}
	}
	x.s.mu.Lock()
	return x.s.mu.Unlock
}

func (x section) Run(b *backends.Batch) error {
	defer x.lock()()
	return x.s.runLocked(b, false)
}

func (x section) Read(keys []backends.KeyRef) []backends.KeyState {
	defer x.lock()()
	return x.s.readLocked(keys)
}

func (x section) Now() int64 { return x.s.clock.now() }

func (x section) Install(writes []backends.KeyState) {
	defer x.lock()()
	x.s.installLocked(writes, x.s.clock.now())
}

func (x section) RunOps(ops []backends.Op, now int64, w *resp.Writer) {
	defer x.lock()()
	x.s.runOpsLocked(ops, now, w)
}

func (x section) Log(record *backends.TxRecord) {
	defer x.lock()()
	x.s.logTxLocked(record)
}

// readLocked returns copies of keys' states.
func (s *Shard) readLocked(keys []backends.KeyRef) []backends.KeyState {
	now := s.clock.now()
	states := make([]backends.KeyState, len(keys))
	for i, k := range keys {
		states[i].KeyRef = k
		if e := s.store.DB(k.DB).Get([]byte(k.Key), now); e != nil {
			states[i].Entry = e.Clone()
		}
	}
	s.logExpiredLocked(now)
	return states
}

// TryHold implements backends.Holder.
func (s *Shard) TryHold(keys []backends.KeyRef) (bool, <-chan struct{}) {
	s.mu.Lock()
	if s.closed {
		// Nothing will change: the caller gives up with ErrClosed.
		s.mu.Unlock()
		return false, nil
	}
	if _, locked := s.keysLockedLocked(0, keys); s.exclusive || s.draining > 0 || locked {
		ch := s.changed
		s.mu.Unlock()
		return false, ch
	}
	s.evictHeldLocked(keys)
	return true, nil
}

// Held implements backends.Holder.
func (s *Shard) Held() backends.Section { return section{s: s} }

// Unhold implements backends.Holder.
func (s *Shard) Unhold() uint64 {
	pos := s.logPos
	s.mu.Unlock()
	return pos
}

// activeExpire removes expired keys from every database, a bounded amount
// per call, as Redis's active expiry cycle does, and logs their deletion.
func (s *Shard) activeExpire() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.exclusive {
		return
	}
	now := s.clock.now()
	for i := 0; i < s.store.NumDBs(); i++ {
		db := s.store.DB(i)
		for round := 0; round < 16; round++ {
			// Keep going while a good share of the sample was expired.
			if db.ActiveExpire(now, 20) < 5 {
				break
			}
		}
	}
	// Small sorted sets that commands expanded are packed again (see
	// keyspace/zset_packed.go): about 50,000 elements a tick, a few
	// milliseconds.
	s.store.PackZSets(50_000)
	// Strings unchanged for a second are packed (keyspace/strtable.go),
	// but not while a snapshot walks the tables.
	if s.snap == nil {
		s.store.PackStrings(now, 50_000)
	}
	s.logExpiredLocked(now)
}

// sweepTombstones drops version tombstones older than before.
func (s *Shard) sweepTombstones(before uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := 0; i < s.store.NumDBs(); i++ {
		s.store.DB(i).SweepTombstones(before)
	}
}

var (
	_ backends.Holder     = (*Shard)(nil)
	_ backends.Exclusiver = (*Shard)(nil)
)
