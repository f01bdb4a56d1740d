package txn

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/schemaproxy/schemaproxy/backends"
	"github.com/schemaproxy/schemaproxy/command"
	"github.com/schemaproxy/schemaproxy/proto/resp"
)

// Mode 2 of the design on shards that run commands themselves
// (backends.Native): a cross-shard request with no data flowing between
// shards (every command's keys on one shard, or a splittable command such
// as MSET) runs each shard's commands on that shard. The participants but
// the primary are prepared (locked) at once; the primary's commit runs
// its own commands and records the others' as their stages; the others
// apply theirs. No value is read into the proxy, and every reply is the
// shard's own.

// nativePlan is a request's commands by shard.
type nativePlan struct {
	ops map[int][]backends.Op
	// opShard is each op's shard, -1 for an op the proxy answers.
	opShard []int
	// split is set when the request is one command split per shard
	// (split.go), whose reply merges the parts'.
	split bool
	order []int
	kind  command.MergeKind
}

// planNative returns r's native plan, or false when r needs the copies of
// the general protocol: a participant that cannot run commands, a
// command whose keys span shards or that has none, a whole-database or
// scripting command.
func (c *Coordinator) planNative(r *Request, parts []*participant) (nativePlan, bool) {
	var plan nativePlan
	for _, p := range parts {
		if _, ok := c.cfg.Shards[p.shard].(backends.Native); !ok {
			return plan, false
		}
	}
	if ops, order, kind, ok := c.split(r); ok {
		return nativePlan{ops: ops, split: true, order: order, kind: kind}, true
	}
	plan.ops = map[int][]backends.Op{}
	plan.opShard = make([]int, len(r.Ops))
	var idx [8]int
	for i := range r.Ops {
		op := &r.Ops[i]
		if op.Reply != nil {
			plan.opShard[i] = -1
			continue
		}
		if op.Cmd.Is(command.Global) || op.Cmd.Is(command.Scripting) {
			return plan, false
		}
		keys, _ := op.Cmd.KeyIndexes(idx[:0], op.Args)
		if len(keys) == 0 {
			return plan, false
		}
		s := c.slots.ShardOf(op.Args[keys[0]])
		for _, k := range keys[1:] {
			if c.slots.ShardOf(op.Args[k]) != s {
				return plan, false
			}
		}
		plan.opShard[i] = s
		plan.ops[s] = append(plan.ops[s], *op)
	}
	return plan, true
}

// errNeedCopies says a native attempt found a key that may expire before
// the transaction applies: the request runs with copies instead.
var errNeedCopies = errors.New("txn: a prepared key may expire before the transaction applies")

// expiryMargin is how long after its deadline a transaction's stage may
// still be applied (by a resolver, when its coordinator stalled) without
// a prepared key expiring in between.
const expiryMargin = 60_000 // ms

// runNative runs r by plan (see nativePlan), once: the caller retries
// what was not executed.
func (c *Coordinator) runNative(ctx context.Context, r *Request, parts []*participant, plan nativePlan) error {
	tx := backends.TxMeta{ID: backends.TxID(c.nextTx.Add(1)), Primary: parts[0].shard,
		Deadline: c.cfg.Now() + c.cfg.TxTimeout.Milliseconds()}
	for _, p := range parts {
		tx.Participants = append(tx.Participants, p.shard)
	}
	native := func(shard int) backends.Native { return c.cfg.Shards[shard].(backends.Native) }
	prim, others := parts[0], parts[1:]
	stages := make(map[int][]backends.Op, len(others))
	for _, p := range others {
		stages[p.shard] = plan.ops[p.shard]
	}
	replies := make(map[int]*resp.Writer, len(parts))
	for _, p := range parts {
		replies[p.shard] = &resp.Writer{Proto: r.W.Proto}
	}
	unlockAll := func() { c.unlock(ctx, tx.ID, parts) }
	lockCtx, cancel := context.WithTimeout(ctx, c.cfg.TxTimeout)
	defer cancel()

	prepare := func(tx backends.TxMeta, p *participant) error {
		if err := c.cfg.Knobs.beforeLock(tx.ID, p.shard); err != nil {
			return fmt.Errorf("%w: prepare shard %d: %w", ErrUnknownOutcome, p.shard, err)
		}
		p.tried = true
		at, err := native(p.shard).Prepare(lockCtx, tx, p.keys, p.guards)
		if err != nil {
			return fmt.Errorf("prepare shard %d: %w", p.shard, err)
		}
		if p.shard != tx.Primary && at != 0 && at < tx.Deadline+expiryMargin {
			return errNeedCopies
		}
		p.locked = true
		return nil
	}
	commit := func(tx backends.TxMeta) error {
		if err := c.cfg.Knobs.afterLock(tx.ID); err != nil {
			return fmt.Errorf("%w: %w", ErrUnknownOutcome, err)
		}
		err := native(tx.Primary).CommitNative(context.WithoutCancel(ctx), tx, prim.keys, prim.guards,
			plan.ops[tx.Primary], stages, replies[tx.Primary])
		if err != nil {
			return fmt.Errorf("commit on shard %d: %w", tx.Primary, err)
		}
		return nil
	}

	// attempt prepares the participants, then commits on the primary.
	// First every participant but the primary at once, none waiting for
	// another transaction's lock; the primary's commit then needs no lock
	// of its own. ordered locks every participant in shard order, the
	// primary first, waiting: that keeps two transactions from each
	// holding what the other waits for. committing tells an error of the
	// commit from one before it.
	attempt := func(ordered bool) (committing bool, err error) {
		t := tx
		if ordered {
			for _, p := range parts {
				if err := prepare(t, p); err != nil {
					return false, err
				}
			}
		} else {
			t.NoWait = true
			errs := make([]error, len(others))
			var wg sync.WaitGroup
			for i, p := range others {
				wg.Go(func() { errs[i] = prepare(t, p) })
			}
			wg.Wait()
			for _, err := range errs {
				if errors.Is(err, ErrUnknownOutcome) {
					return false, err
				}
			}
			if err := errors.Join(errs...); err != nil {
				return false, err
			}
		}
		return true, commit(t)
	}
	committing, err := attempt(false)
	if errors.Is(err, backends.ErrLockBusy) && !errors.Is(err, ErrUnknownOutcome) {
		unlockAll()
		committing, err = attempt(true)
	}
	switch {
	case err == nil:
	case errors.Is(err, ErrUnknownOutcome):
		return err // a knob stopped the coordinator: it releases nothing
	case errors.Is(err, backends.ErrGuard):
		unlockAll()
		r.W.NullArray()
		return nil
	case !committing || errors.Is(err, backends.ErrNotExecuted):
		// Before the commit point nothing is written: whatever failed,
		// the transaction was not executed and may run again.
		unlockAll()
		if errors.Is(err, errNeedCopies) || errors.Is(err, backends.ErrNotExecuted) {
			return err
		}
		return fmt.Errorf("%w: %w", backends.ErrNotExecuted, err)
	default:
		// The commit's outcome is unknown: the participants keep their
		// locks for a resolver.
		return fmt.Errorf("%w: %w", ErrUnknownOutcome, err)
	}
	if err := c.cfg.Knobs.afterCommit(tx.ID); err != nil {
		return fmt.Errorf("%w: %w", ErrUnknownOutcome, err)
	}
	applyErrs := make([]error, len(others))
	var applying sync.WaitGroup
	for i, p := range others {
		applying.Go(func() {
			if err := c.cfg.Knobs.beforeApply(tx.ID, p.shard); err != nil {
				applyErrs[i] = fmt.Errorf("apply on shard %d: %w", p.shard, err)
				return
			}
			err := native(p.shard).ApplyNative(context.WithoutCancel(ctx), tx, plan.ops[p.shard], replies[p.shard])
			if err != nil {
				applyErrs[i] = fmt.Errorf("apply on shard %d: %w", p.shard, err)
			}
		})
	}
	applying.Wait()
	if err := errors.Join(applyErrs...); err != nil {
		if (errors.Is(err, backends.ErrRepliesLost) || errors.Is(err, backends.ErrNotExecuted)) && !writes(r) {
			// A resolver applied or dropped a stage that only read:
			// its replies are gone, but reading again changes nothing.
			return fmt.Errorf("%w: %w", backends.ErrNotExecuted, err)
		}
		// Committed, but a participant may not show it yet, or its
		// replies are lost: the reply cannot promise what it would say.
		return fmt.Errorf("%w: %w", ErrUnknownOutcome, err)
	}
	// Every stage is applied: the primary's record is garbage now.
	done := make([]int, 0, len(others))
	for _, p := range others {
		done = append(done, p.shard)
	}
	native(tx.Primary).Forget(tx, done)
	return writeNativeReplies(r, plan, replies)
}

// writeNativeReplies writes r's reply from each shard's replies: merged
// for a split command, else each op's in its place (EXEC's array when
// r is a MULTI).
func writeNativeReplies(r *Request, plan nativePlan, replies map[int]*resp.Writer) error {
	if plan.split {
		return merge(r.W, plan.kind, replies, plan.order)
	}
	if r.Multi {
		r.W.Array(len(r.Ops))
	}
	next := make(map[int][]byte, len(replies))
	for s, w := range replies {
		next[s] = w.B
	}
	for i := range r.Ops {
		s := plan.opShard[i]
		if s < 0 {
			r.W.Raw(r.Ops[i].Reply)
			continue
		}
		n, err := resp.Skip(next[s])
		if err != nil {
			return fmt.Errorf("txn: reply of shard %d: %w", s, err)
		}
		r.W.Raw(next[s][:n])
		next[s] = next[s][n:]
	}
	return nil
}

// writes reports whether any of r's commands may write.
func writes(r *Request) bool {
	for _, op := range r.Ops {
		if op.Cmd != nil && op.Cmd.Is(command.Write) {
			return true
		}
	}
	return false
}
