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
	// The transaction runs at the latest of its participants' clocks, so
	// time goes back on none of them.
	var now int64
	for _, h := range hs {
		now = max(now, h.Held().Now())
	}
	if ops, order, kind, ok := c.split(r); ok {
		record := &backends.TxRecord{ID: backends.TxID(c.nextTx.Add(1)), Ops: ops, Now: now}
		replies := make(map[int]*resp.Writer, len(parts))
		for i, p := range parts {
			replies[p.shard] = &resp.Writer{Proto: r.W.Proto}
			hs[i].Held().RunOps(ops[p.shard], now, replies[p.shard])
		}
		if r.Ops[0].Cmd.Is(command.Write) {
			logAll(hs, record)
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
	if writes, events := c.evaluate(r, parts, now); len(writes) > 0 {
		record := &backends.TxRecord{ID: backends.TxID(c.nextTx.Add(1)), Writes: writes, Now: now}
		for i, p := range parts {
			if len(writes[p.shard]) > 0 {
				hs[i].Held().Install(writes[p.shard])
			}
		}
		logAll(hs, record)
		c.publish(events)
	}
	release()
	// The reply depends on every participant's log, read or written.
	return c.awaitAll(ctx, r, parts, pos)
}

// logAll logs a transaction's record once all its participants ran their
// part; each participant's replies then wait for it.
func logAll(hs []backends.Holder, record *backends.TxRecord) {
	for _, h := range hs {
		h.Held().Log(record)
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
