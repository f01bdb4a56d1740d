package txn

import (
	"context"

	"github.com/schemaproxy/schemaproxy/backends"
	"github.com/schemaproxy/schemaproxy/proto/resp"
)

// A client's pipeline of plain commands (not in MULTI) is a sequence of
// transactions that overlap in time: the client sent each before it had
// the previous reply. Any serial order of them that keeps the order of
// commands on the same key is therefore a correct one, so consecutive
// commands that each live on one shard run as one batch per shard, in one
// call (on a Redis shard: one round trip) instead of one each.

// SingleShard reports the one shard op runs on, when it needs no other.
func (c *Coordinator) SingleShard(op *backends.Op) (int, bool) {
	r := Request{Batch: backends.Batch{Ops: []backends.Op{*op}}}
	shard, single, global := c.plan(&r)
	return shard, single && !global
}

// RunEach runs ops, each on the shard SingleShard named, grouped into one
// batch per shard (in the order of their first op, each group in the
// order given), and returns each op's raw reply in proto, or the error
// that kept its group from running. pending is Request.Pending.
func (c *Coordinator) RunEach(ctx context.Context, ops []backends.Op, shards []int, proto int, pending []uint64) ([][]byte, []error) {
	replies := make([][]byte, len(ops))
	errs := make([]error, len(ops))
	done := make([]bool, len(ops))
	for i := range ops {
		if done[i] {
			continue
		}
		shard := shards[i]
		var idx []int
		var group []backends.Op
		for j := i; j < len(ops); j++ {
			if !done[j] && shards[j] == shard {
				idx, group = append(idx, j), append(group, ops[j])
				done[j] = true
			}
		}
		w := &resp.Writer{Proto: proto}
		b := &backends.Batch{Ops: group, W: w, Defer: pending != nil}
		err := c.cfg.Shards[shard].Exec(ctx, b)
		if pending != nil && b.Pos > pending[shard] {
			pending[shard] = b.Pos
		}
		rest := w.B
		for _, j := range idx {
			if err != nil {
				errs[j] = err
				continue
			}
			n, perr := resp.Skip(rest)
			if perr != nil {
				errs[j] = perr
				continue
			}
			replies[j], rest = rest[:n], rest[n:]
		}
	}
	return replies, errs
}
