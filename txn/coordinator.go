// Package txn is the transaction coordinator: it plans each request (one
// command, or a MULTI/EXEC block with its WATCHed keys) onto shards and runs
// it as a strictly serializable transaction.
//
// Modes, cheapest first:
//   - One shard: every key of the request lives on one shard, which runs the
//     whole batch atomically (one call, native semantics).
//   - Several shards that live in this process (backends.Holder): hold every
//     participant in shard order, backing off completely rather than waiting
//     while holding one, and run the request as one critical section.
//     Commands independent per key (MSET, MGET, DEL, ...) split into native
//     per-shard commands (split.go); anything else is evaluated on copies of
//     its keys and the results installed (held.go). Every participant logs
//     the whole record with each participant's log position, so recovery can
//     finish it from any copy or cut it consistently.
//   - Several shards otherwise: Lock on every participant in shard order,
//     evaluate on copies of the locked keys, then Commit on the primary and
//     Apply on the others. The commit point is the primary's Commit; the
//     record holds every participant's writes so recovery rolls a committed
//     transaction forward. Nothing is written to a user key before the
//     commit point, so nothing ever needs undo.
//   - Whole databases (FLUSHALL, SWAPDB, KEYS, DBSIZE, and transactions
//     containing them): every shard enters an Exclusive section, lowest
//     index first, and the request runs alone (global.go).
package txn

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/schemaproxy/schemaproxy/backends"
	"github.com/schemaproxy/schemaproxy/cluster"
	"github.com/schemaproxy/schemaproxy/command"
	"github.com/schemaproxy/schemaproxy/keyspace"
)

// Config wires a coordinator.
type Config struct {
	Shards []backends.Shard
	// Slots maps keys onto Shards; the zero SlotMap means the slots split
	// evenly over Shards in order (cluster.NewSlotMap). A map for another
	// number of shards is a wiring error: New panics.
	Slots cluster.SlotMap
	// Exec evaluates cross-shard transactions on copies of their keys.
	Exec *keyspace.Executor
	// Databases is the number of numbered databases.
	Databases int
	// Now returns unix milliseconds.
	Now func() int64
	// Knobs are failure points for tests; nil in production.
	Knobs *TestingKnobs
	// ForceProtocol runs cross-shard requests with the Lock/Commit/Apply
	// protocol even on shards that could be held (tests of the protocol).
	ForceProtocol bool
	// ForceCopies runs cross-shard requests with copies of their keys
	// even on shards that could run their commands natively
	// (backends.Native): tests of the copies path.
	ForceCopies bool
	// Scripts runs EVAL, EVALSHA and SCRIPT (script.go); nil answers
	// them with an error.
	Scripts ScriptRunner
	// TxTimeout is how long a cross-shard transaction of the protocol may
	// take from its first lock to its commit: its deadline, past which it
	// cannot commit and others may resolve its locks. 0 means 5 s, far
	// above any transaction's normal time and below client timeouts.
	TxTimeout time.Duration
	// Notifier takes the keyspace events of the commands the coordinator
	// runs on copies (data flowing between shards); nil: none.
	Notifier Notifier
}

// Notifier publishes keyspace events (notify-keyspace-events).
type Notifier interface {
	// Classes are the classes of events to gather now.
	Classes() keyspace.NotifyFlags
	// Publish gets a committed request's events, in order, before its
	// shards are let go.
	Publish(events []keyspace.Event)
}

// publish hands events to the notifier.
func (c *Coordinator) publish(events []keyspace.Event) {
	if len(events) > 0 && c.cfg.Notifier != nil {
		c.cfg.Notifier.Publish(events)
	}
}

// Coordinator runs requests against the shards.
type Coordinator struct {
	cfg    Config
	slots  cluster.SlotMap
	nextTx atomic.Uint64

	rndMu sync.Mutex // guards rnd
	rnd   *rand.Rand

	// wrote is told the ops of every request that ran (notify.go).
	wrote func(ops []backends.Op)
}

// New returns a coordinator over cfg.Shards.
func New(cfg Config) *Coordinator {
	if cfg.TxTimeout == 0 {
		cfg.TxTimeout = 5 * time.Second
	}
	slots := cfg.Slots
	if slots.Shards() == 0 {
		slots = cluster.NewSlotMap(len(cfg.Shards))
	} else if slots.Shards() != len(cfg.Shards) {
		panic(fmt.Sprintf("txn: a slot map for %d shards over %d shards", slots.Shards(), len(cfg.Shards)))
	}
	c := &Coordinator{cfg: cfg, slots: slots,
		rnd: rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))}
	// Transaction ids start at random, so that coordinators sharing shards
	// (and restarts) do not hand out the same ones: a shard takes a lock
	// held under a transaction's id as that transaction's own.
	c.nextTx.Store(rand.Uint64() >> 1)
	return c
}

// NumShards is the number of shards.
func (c *Coordinator) NumShards() int { return len(c.cfg.Shards) }

// Request is one client request: a single command, or the commands of a
// MULTI/EXEC block with the keys the client WATCHed.
type Request struct {
	backends.Batch
	// Multi makes the reply an array of the ops' replies, or a null array
	// when a guard failed (EXEC's reply).
	Multi bool
	// Pending, when not nil (one entry per shard), lets Run return before
	// the request's effects are durable: it raises Pending[shard] to the
	// log position the reply depends on instead, and the caller passes
	// each to Durable before releasing replies (see Batch.Defer). A
	// pipeline then waits once per shard, not once per command.
	Pending []uint64
	// Publisher lets the request's scripts publish; nil refuses PUBLISH
	// and SPUBLISH inside scripts.
	Publisher Publisher
}

// Publisher takes the messages scripts publish (PUBLISH and SPUBLISH
// inside EVAL and FCALL). They are delivered only once the script has
// committed, in the order of the commits, and a script run again from
// scratch publishes anew.
type Publisher interface {
	// Receivers counts the subscriptions a message on channel (a shard
	// channel if shard) would reach now: PUBLISH's reply in the script.
	Receivers(shard bool, channel []byte) int
	// Commit runs commit and, if it succeeds, delivers msgs in order,
	// with no other delivery in between.
	Commit(commit func() error, msgs []Publication) error
}

// Publication is a message a script published.
type Publication struct {
	Shard            bool
	Channel, Message []byte
}

// ErrUnknownOutcome is returned when a cross-shard commit may or may not
// have happened; the client is told so rather than given a guess.
var ErrUnknownOutcome = errors.New("txn: commit outcome unknown")

// run executes r and appends its reply to r.W (Run, notify.go).
func (c *Coordinator) run(ctx context.Context, r *Request) error {
	if !r.Multi && len(r.Ops) == 1 && r.Ops[0].Cmd != nil && r.Ops[0].Cmd.Merge == command.MergeScan {
		// SCAN needs no exclusive section: it visits one shard per call.
		return c.Scan(ctx, &r.Ops[0], r.W)
	}
	if !r.Multi && len(r.Ops) == 1 && r.Ops[0].Cmd != nil && r.Ops[0].Cmd.Is(command.Scripting) && !touchesData(r.Ops[0].Cmd) {
		return c.runScriptAdmin(ctx, &r.Ops[0], r.W)
	}
	if !r.Multi && len(r.Ops) == 1 && r.Ops[0].Cmd != nil && r.Ops[0].Cmd.Is(command.Scripting) &&
		c.cfg.Scripts != nil && c.optimisticScripts() {
		return c.runScriptOptimistic(ctx, r)
	}
	shard, single, global := c.plan(r)
	switch {
	case global:
		return c.runExclusive(ctx, r)
	case single:
		return c.runOne(ctx, shard, r)
	}
	return c.runCross(ctx, r)
}

// plan finds the shards r touches: single is set when one shard (or none)
// serves it all, global when an op works on whole databases.
func (c *Coordinator) plan(r *Request) (shard int, single, global bool) {
	shard = -1
	single = true
	var idx [8]int
	for i := range r.Ops {
		op := &r.Ops[i]
		if op.Reply != nil {
			continue
		}
		// Scripts hold every shard: they may touch any key.
		if op.Cmd.Is(command.Global) || op.Cmd.Is(command.Scripting) {
			return 0, false, true
		}
		keys, _ := op.Cmd.KeyIndexes(idx[:0], op.Args)
		for _, k := range keys {
			s := c.slots.ShardOf(op.Args[k])
			if shard == -1 {
				shard = s
			} else if s != shard {
				single = false
			}
		}
	}
	for _, g := range r.Guards {
		s := c.slots.ShardOf([]byte(g.Key))
		if shard == -1 {
			shard = s
		} else if s != shard {
			single = false
		}
	}
	if shard == -1 {
		shard = 0
	}
	return shard, single, false
}

func (c *Coordinator) runOne(ctx context.Context, shard int, r *Request) error {
	start := len(r.W.B)
	if r.Multi {
		r.W.Array(len(r.Ops))
	}
	r.Batch.Defer, r.Batch.Pos = r.Pending != nil, 0
	err := c.cfg.Shards[shard].Exec(ctx, &r.Batch)
	if r.Pending != nil && r.Batch.Pos > r.Pending[shard] {
		r.Pending[shard] = r.Batch.Pos
	}
	if errors.Is(err, backends.ErrGuard) {
		r.W.B = r.W.B[:start]
		r.W.NullArray()
		return nil
	}
	if err != nil {
		r.W.B = r.W.B[:start]
	}
	return err
}

// participant is one shard of a cross-shard transaction.
type participant struct {
	shard  int
	keys   []backends.KeyRef
	guards []backends.Guard
	states []backends.KeyState
	// tried: Lock was called (it may have locked part, or locked after
	// its caller gave up); locked: it returned the states.
	tried, locked bool
}

// footprint collects, per shard, the keys r reads or writes and its guards.
func (c *Coordinator) footprint(r *Request) []*participant {
	byShard := map[int]*participant{}
	get := func(s int) *participant {
		p := byShard[s]
		if p == nil {
			p = &participant{shard: s}
			byShard[s] = p
		}
		return p
	}
	seen := map[backends.KeyRef]bool{}
	add := func(ref backends.KeyRef) {
		if seen[ref] {
			return
		}
		seen[ref] = true
		p := get(c.slots.ShardOf([]byte(ref.Key)))
		p.keys = append(p.keys, ref)
	}
	for i := range r.Ops {
		op := &r.Ops[i]
		if op.Reply != nil {
			continue
		}
		keys, _ := op.Cmd.KeyIndexes(nil, op.Args)
		for _, k := range keys {
			add(backends.KeyRef{DB: op.DB, Key: string(op.Args[k])})
		}
		// Commands that write into another database (MOVE, COPY ... DB n)
		// touch the same key name there.
		if db, ok := op.Cmd.OtherDB(op.Args); ok && db < c.cfg.Databases {
			for _, k := range keys {
				add(backends.KeyRef{DB: db, Key: string(op.Args[k])})
			}
		}
	}
	for _, g := range r.Guards {
		// Watched keys are locked too: locking reads rules out write skew.
		add(backends.KeyRef{DB: g.DB, Key: g.Key})
		p := get(c.slots.ShardOf([]byte(g.Key)))
		p.guards = append(p.guards, g)
	}
	out := make([]*participant, 0, len(byShard))
	for _, p := range byShard {
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b *participant) int { return a.shard - b.shard })
	return out
}

func (c *Coordinator) runCross(ctx context.Context, r *Request) error {
	parts := c.footprint(r)
	if hs := c.holders(parts); hs != nil && !c.cfg.ForceProtocol {
		return c.runHolding(ctx, r, parts, hs)
	}
	// A transaction that was not executed (a lock not had in time, a
	// commit refused past the deadline) changed nothing: it starts again,
	// as a new transaction, as Redis's EXEC would have just run. Only an
	// outcome known to be "not executed" is retried, never an unknown one.
	giveUp := time.Now().Add(retryFor * c.cfg.TxTimeout)
	plan, native := c.planNative(r, parts)
	native = native && !c.cfg.ForceCopies
	for {
		var err error
		if native {
			err = c.runNative(ctx, r, parts, plan)
			if errors.Is(err, errNeedCopies) {
				native, err = false, fmt.Errorf("%w: %w", backends.ErrNotExecuted, err)
			}
		} else {
			err = c.runProtocol(ctx, r, parts)
		}
		if err == nil || !notExecuted(err) || ctx.Err() != nil || time.Now().After(giveUp) {
			return err
		}
		for _, p := range parts {
			p.states, p.tried, p.locked = nil, false, false
		}
	}
}

// notExecuted reports whether err says for sure that nothing ran: a
// participant's refusal may come after the commit point (an apply refused
// with BUSY), and then the outcome is unknown whatever the shard says.
func notExecuted(err error) bool {
	return errors.Is(err, backends.ErrNotExecuted) && !errors.Is(err, ErrUnknownOutcome)
}

// retryFor is how many transaction timeouts a request keeps retrying for.
const retryFor = 4

// runProtocol runs a cross-shard request with the Lock / Commit / Apply
// protocol, which needs nothing of the shards but the Shard contract.
//
// The primary is the lowest participant. The commit point is its Commit,
// refused at or past the transaction's deadline: before it nothing is
// written anywhere, so a failure before it releases the locks and changes
// nothing. After it the transaction is committed and every other
// participant is applied. When the primary answers neither success nor
// "not executed", the outcome is unknown: the participants keep their
// locks (applying could install a transaction that did not commit,
// releasing could let others read around one that did), and the client is
// told so rather than given a guess. Locks left so (by a coordinator that
// died or froze) are resolved by whoever meets them past the deadline, as
// the primary's record says.
func (c *Coordinator) runProtocol(ctx context.Context, r *Request, parts []*participant) error {
	tx := backends.TxMeta{ID: backends.TxID(c.nextTx.Add(1)), Primary: parts[0].shard,
		Deadline: c.cfg.Now() + c.cfg.TxTimeout.Milliseconds()}
	for _, p := range parts {
		tx.Participants = append(tx.Participants, p.shard)
	}
	unlockAll := func() { c.unlock(ctx, tx.ID, parts) }
	lockCtx, cancel := context.WithTimeout(ctx, c.cfg.TxTimeout)
	defer cancel()
	if err := c.lock(lockCtx, tx, parts); err != nil {
		if errors.Is(err, ErrUnknownOutcome) {
			return err // a knob stopped the coordinator: it releases nothing
		}
		unlockAll()
		if errors.Is(err, backends.ErrGuard) {
			r.W.NullArray()
			return nil
		}
		if !errors.Is(err, backends.ErrNotExecuted) {
			// Before the commit point nothing is written: whatever
			// failed (a timeout, a connection), the transaction was
			// not executed and may run again.
			err = fmt.Errorf("%w: %w", backends.ErrNotExecuted, err)
		}
		return err
	}
	if err := c.cfg.Knobs.afterLock(tx.ID); err != nil {
		return fmt.Errorf("%w: %w", ErrUnknownOutcome, err)
	}
	start := len(r.W.B)
	now := c.cfg.Now()
	if watchedExpired(r.Guards, parts, now) {
		// Redis fails an EXEC whose WATCHed key expired since the WATCH:
		// Lock found it live, but the transaction runs at now.
		unlockAll()
		r.W.NullArray()
		return nil
	}
	writes, events := c.evaluate(r, parts, now)
	if len(writes) == 0 {
		unlockAll()
		return nil
	}
	record := &backends.TxRecord{ID: tx.ID, Writes: writes, Now: now}
	// Past the locks, the transaction finishes whatever the client does.
	ctx = context.WithoutCancel(ctx)
	if err := c.cfg.Shards[tx.Primary].Commit(ctx, tx, writes[tx.Primary], record); err != nil {
		r.W.B = r.W.B[:start]
		if errors.Is(err, backends.ErrNotExecuted) {
			unlockAll()
			return fmt.Errorf("commit on shard %d: %w", tx.Primary, err)
		}
		return fmt.Errorf("%w: commit on shard %d: %w", ErrUnknownOutcome, tx.Primary, err)
	}
	if err := c.cfg.Knobs.afterCommit(tx.ID); err != nil {
		r.W.B = r.W.B[:start]
		return fmt.Errorf("%w: %w", ErrUnknownOutcome, err)
	}
	// The participants apply at once: each only installs its own part.
	applyErrs := make([]error, len(parts))
	var applying sync.WaitGroup
	for i, p := range parts {
		if p.shard == tx.Primary {
			continue
		}
		applying.Go(func() {
			if err := c.cfg.Knobs.beforeApply(tx.ID, p.shard); err != nil {
				applyErrs[i] = fmt.Errorf("apply on shard %d: %w", p.shard, err)
				return
			}
			if err := c.cfg.Shards[p.shard].Apply(ctx, tx, writes[p.shard], record); err != nil {
				applyErrs[i] = fmt.Errorf("apply on shard %d: %w", p.shard, err)
			}
		})
	}
	applying.Wait()
	// Committed: its events happened, whatever the applies say.
	c.publish(events)
	if applyErr := errors.Join(applyErrs...); applyErr != nil {
		// Committed, but a participant may not show it yet (recovery
		// will): the reply cannot promise what a read would see.
		r.W.B = r.W.B[:start]
		return fmt.Errorf("%w: %w", ErrUnknownOutcome, applyErr)
	}
	return nil
}

// watchedExpired says whether a key that was live when WATCHed is, in the
// copy Lock returned, expired at now: a change, as in Redis (a lock does
// not stop a backend expiring the key).
func watchedExpired(guards []backends.Guard, parts []*participant, now int64) bool {
	for _, g := range guards {
		if !g.Live {
			continue
		}
		for _, p := range parts {
			for _, st := range p.states {
				if st.DB == g.DB && st.Key == g.Key && st.Entry != nil && st.Entry.ExpireAt != 0 && st.Entry.ExpireAt <= now {
					return true
				}
			}
		}
	}
	return false
}

// lock locks every participant. Several are first tried at once, none
// waiting for a key another transaction holds (one round trip on Redis
// shards, where in turn costs one each); if that meets such a key, they
// are released and locked one after another in shard order, waiting,
// which keeps two transactions from each holding what the other waits
// for.
func (c *Coordinator) lock(ctx context.Context, tx backends.TxMeta, parts []*participant) error {
	lockOne := func(tx backends.TxMeta, p *participant) error {
		if err := c.cfg.Knobs.beforeLock(tx.ID, p.shard); err != nil {
			return fmt.Errorf("%w: lock shard %d: %w", ErrUnknownOutcome, p.shard, err)
		}
		p.tried = true
		states, err := c.cfg.Shards[p.shard].Lock(ctx, tx, p.keys, p.guards)
		if err != nil {
			return fmt.Errorf("lock shard %d: %w", p.shard, err)
		}
		p.states, p.locked = states, true
		return nil
	}
	if len(parts) > 1 {
		try := tx
		try.NoWait = true
		errs := make([]error, len(parts))
		var wg sync.WaitGroup
		for i, p := range parts {
			wg.Go(func() { errs[i] = lockOne(try, p) })
		}
		wg.Wait()
		for _, err := range errs {
			if errors.Is(err, ErrUnknownOutcome) {
				// A knob stopped the coordinator: it releases nothing,
				// whatever the other participants answered.
				return err
			}
		}
		busy := false
		for _, err := range errs {
			switch {
			case err == nil:
			case errors.Is(err, backends.ErrLockBusy):
				busy = true
			default:
				return err
			}
		}
		if !busy {
			return nil
		}
		c.unlock(ctx, tx.ID, parts)
	}
	for _, p := range parts {
		if err := lockOne(tx, p); err != nil {
			return err
		}
	}
	return nil
}

// unlock releases what tx may hold on parts: a Lock that failed may have
// locked part of its keys, or all of them after its caller gave up.
func (c *Coordinator) unlock(ctx context.Context, tx backends.TxID, parts []*participant) {
	for _, p := range parts {
		if p.tried {
			// Best effort: a failure here means the shard is closing, and
			// the locks die with it.
			_ = c.cfg.Shards[p.shard].Unlock(context.WithoutCancel(ctx), tx)
		}
		p.tried, p.locked, p.states = false, false, nil
	}
}

// evaluate runs r's ops at now on a scratch store holding copies of the
// locked keys and returns the new states of the keys they changed, by shard.
func (c *Coordinator) evaluate(r *Request, parts []*participant, now int64) (map[int][]backends.KeyState, []keyspace.Event) {
	scratch := keyspace.NewStore(c.cfg.Databases, func() int64 { return now })
	type before struct {
		version uint64
		shard   int
	}
	known := map[backends.KeyRef]before{}
	for _, p := range parts {
		for _, st := range p.states {
			if st.Entry != nil {
				scratch.AdvanceClock(st.Entry.Version)
				scratch.DB(st.DB).Put(st.Key, st.Entry)
			}
			v, _ := scratch.DB(st.DB).Version([]byte(st.Key), now)
			known[st.KeyRef] = before{v, p.shard}
		}
	}
	c.rndMu.Lock()
	seed := c.rnd.Uint64()
	c.rndMu.Unlock()
	cx := &keyspace.Ctx{Store: scratch, W: r.W, Now: now, Rand: rand.New(rand.NewPCG(seed, seed))}
	if c.cfg.Notifier != nil {
		cx.Notify = c.cfg.Notifier.Classes()
	}
	if r.Multi {
		r.W.Array(len(r.Ops))
	}
	for i := range r.Ops {
		op := &r.Ops[i]
		if op.Reply != nil {
			r.W.Raw(op.Reply)
			continue
		}
		cx.DBIndex, cx.DB, cx.Args, cx.Dirty = op.DB, scratch.DB(op.DB), op.Args, 0
		c.cfg.Exec.Run(cx, op.Cmd)
	}
	writes := map[int][]backends.KeyState{}
	for ref, b := range known {
		db := scratch.DB(ref.DB)
		v, live := db.Version([]byte(ref.Key), now)
		if v == b.version {
			continue
		}
		st := backends.KeyState{KeyRef: ref}
		if live {
			st.Entry = db.Peek(ref.Key)
		}
		writes[b.shard] = append(writes[b.shard], st)
	}
	return writes, cx.Events
}

// Durable waits until shard's log holds pos (see Request.Defer).
func (c *Coordinator) Durable(ctx context.Context, shard int, pos uint64) error {
	return c.cfg.Shards[shard].Durable(ctx, pos)
}

// Watch returns the guard that WATCH key records.
func (c *Coordinator) Watch(ctx context.Context, db int, key []byte) (backends.Guard, error) {
	shard := c.cfg.Shards[c.slots.ShardOf(key)]
	ep, _ := shard.(backends.Epocher)
	for {
		var before uint64
		if ep != nil {
			before = ep.Epoch()
		}
		v, live, err := shard.Version(ctx, db, key)
		if err != nil {
			return backends.Guard{}, err
		}
		g := backends.Guard{DB: db, Key: string(key), Version: v, Live: live}
		if ep == nil {
			return g, nil
		}
		// The version belongs to the life the epoch names only if the
		// epoch did not change around the read.
		if g.Epoch = ep.Epoch(); g.Epoch == before {
			return g, nil
		}
	}
}
