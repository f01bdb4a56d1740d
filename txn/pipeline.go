package txn

import (
	"context"
	"sync"

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
// that kept its group from running. pending is Request.Pending. The
// groups of shards in other processes (Redis servers) run at once, so a
// pipeline over n of them waits one round trip, not n; shards in this
// process run one after another, which costs them less.
func (c *Coordinator) RunEach(ctx context.Context, ops []backends.Op, shards []int, proto int, pending []uint64) ([][]byte, []error) {
	replies := make([][]byte, len(ops))
	errs := make([]error, len(ops))
	type group struct {
		shard int
		idx   []int
		batch backends.Batch
		err   error
	}
	var groups []*group
	done := make([]bool, len(ops))
	for i := range ops {
		if done[i] {
			continue
		}
		g := &group{shard: shards[i]}
		for j := i; j < len(ops); j++ {
			if !done[j] && shards[j] == g.shard {
				g.idx, g.batch.Ops = append(g.idx, j), append(g.batch.Ops, ops[j])
				done[j] = true
			}
		}
		g.batch.W, g.batch.Defer = &resp.Writer{Proto: proto}, pending != nil
		groups = append(groups, g)
	}
	run := func(g *group) { g.err = c.cfg.Shards[g.shard].Exec(ctx, &g.batch) }
	if _, local := c.cfg.Shards[0].(backends.Holder); local || len(groups) == 1 {
		for _, g := range groups {
			run(g)
		}
	} else {
		var wg sync.WaitGroup
		for _, g := range groups {
			wg.Go(func() { run(g) })
		}
		wg.Wait()
	}
	c.notify(ops)
	for _, g := range groups {
		if pending != nil && g.batch.Pos > pending[g.shard] {
			pending[g.shard] = g.batch.Pos
		}
		rest := g.batch.W.B
		for _, j := range g.idx {
			if g.err != nil {
				errs[j] = g.err
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
