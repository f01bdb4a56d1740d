package txn

import (
	"context"
	"errors"

	"github.com/schemaproxy/schemaproxy/backends"
	"github.com/schemaproxy/schemaproxy/command"
	"github.com/schemaproxy/schemaproxy/proto/resp"
)

// holders returns the participants as Holders when every one of them lives
// in this process, or nil.
func (c *Coordinator) holders(parts []*participant) []backends.Holder {
	hs := make([]backends.Holder, len(parts))
	for i, p := range parts {
		h, ok := c.cfg.Shards[p.shard].(backends.Holder)
		if !ok {
			return nil
		}
		hs[i] = h
	}
	return hs
}

// runHolding runs a cross-shard request while holding every participant, in
// shard order: one critical section, no key locks, no commit rounds. A
// holder that cannot take a shard (a key locked by a protocol transaction,
// an exclusive section) releases all it holds before waiting, so holders
// never wait on each other and cannot deadlock. Every participant logs the
// whole transaction record, so recovery installs all of it or none.
func (c *Coordinator) runHolding(ctx context.Context, r *Request, parts []*participant, hs []backends.Holder) error {
	for {
		var changed <-chan struct{}
		n := 0
		for i, p := range parts {
			ok, ch := hs[i].TryHold(p.keys)
			if !ok {
				changed = ch
				break
			}
			n++
		}
		if changed == nil && n == len(parts) {
			break
		}
		for i := n - 1; i >= 0; i-- {
			hs[i].Unhold()
		}
		if changed == nil {
			return backends.ErrClosed
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	pos := make([]uint64, len(parts))
	release := func() {
		for i := len(parts) - 1; i >= 0; i-- {
			pos[i] = hs[i].Unhold()
		}
	}
	for i, p := range parts {
		if len(p.guards) == 0 {
			continue
		}
		err := hs[i].Held().Run(&backends.Batch{Guards: p.guards, W: r.W})
		if errors.Is(err, backends.ErrGuard) {
			release()
			r.W.NullArray()
			return c.awaitAll(ctx, r, parts, pos)
		}
		if err != nil {
			release()
			return err
		}
	}
	if ops, order, kind, ok := c.split(r); ok {
		record := &backends.TxRecord{ID: backends.TxID(c.nextTx.Add(1)), Seq: c.nextSeq.Add(1), Ops: ops, Now: c.cfg.Now()}
		if r.Ops[0].Cmd.Is(command.Write) {
			// Every participant logs a write's record (see RunTx).
			record.Prev = make(map[int]uint64, len(parts))
			for i, p := range parts {
				record.Prev[p.shard] = hs[i].Held().LSN()
			}
		}
		replies := make(map[int]*resp.Writer, len(parts))
		for i, p := range parts {
			replies[p.shard] = &resp.Writer{Proto: r.W.Proto}
			hs[i].Held().RunTx(record, p.shard, replies[p.shard])
		}
		if record.Prev != nil {
			linkDeps(parts, hs)
		}
		release()
		if err := merge(r.W, kind, replies, order); err != nil {
			return err
		}
		return c.awaitAll(ctx, r, parts, pos)
	}
	for i, p := range parts {
		p.states = hs[i].Held().Read(p.keys)
	}
	writes := c.evaluate(r, parts)
	if len(writes) > 0 {
		record := &backends.TxRecord{ID: backends.TxID(c.nextTx.Add(1)), Seq: c.nextSeq.Add(1), Writes: writes,
			Prev: map[int]uint64{}}
		for i, p := range parts {
			if len(writes[p.shard]) > 0 {
				record.Prev[p.shard] = hs[i].Held().LSN()
			}
		}
		for i, p := range parts {
			if len(writes[p.shard]) > 0 {
				hs[i].Held().Install(record.ID, writes[p.shard], record)
			}
		}
		linkDeps(parts, hs)
	}
	release()
	// The reply depends on every participant's log, read or written.
	return c.awaitAll(ctx, r, parts, pos)
}

// linkDeps makes each held participant depend on the others' logs as they
// are now, after a transaction wrote them: whatever later reads one of
// them waits until the whole transaction is in the logs.
func linkDeps(parts []*participant, hs []backends.Holder) {
	pos := make(map[int]uint64, len(hs))
	for i, h := range hs {
		pos[parts[i].shard] = h.Held().LogPos()
	}
	for i, h := range hs {
		deps := make(map[int]uint64, len(hs)-1)
		for shard, p := range pos {
			if shard != parts[i].shard {
				deps[shard] = p
			}
		}
		h.Held().AddDeps(deps)
	}
}

func (c *Coordinator) awaitAll(ctx context.Context, r *Request, parts []*participant, pos []uint64) error {
	if r.Pending != nil {
		for i, p := range parts {
			r.Pending[p.shard] = max(r.Pending[p.shard], pos[i])
		}
		return nil
	}
	for i, p := range parts {
		if err := c.cfg.Shards[p.shard].Durable(ctx, pos[i]); err != nil {
			return err
		}
	}
	return nil
}
