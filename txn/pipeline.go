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

// Each holds what RunEach needs between calls, so that a session's
// pipelines reuse it; its zero value is ready. The replies RunEach
// returns point into it: they are valid until the next call.
type Each struct {
	replies [][]byte
	errs    []error
	groups  []eachGroup
	ops     []backends.Op
	idx     []int
	done    []bool
	writers []resp.Writer
}

type eachGroup struct {
	shard int
	idx   []int
	batch backends.Batch
	err   error
}

// grow returns s resized to n, reusing its array when it is large enough.
func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	s = s[:n]
	clear(s)
	return s
}

// RunEach runs ops, each on the shard SingleShard named, grouped into one
// batch per shard (in the order of their first op, each group in the
// order given), and returns each op's raw reply in proto, or the error
// that kept its group from running. pending is Request.Pending. The
// groups of shards in other processes (Redis servers) run at once, so a
// pipeline over n of them waits one round trip, not n; shards in this
// process run one after another, which costs them less. buf is reused
// between calls (nil: a fresh one).
func (c *Coordinator) RunEach(ctx context.Context, buf *Each, ops []backends.Op, shards []int, proto int, pending []uint64) ([][]byte, []error) {
	if buf == nil {
		buf = &Each{}
	}
	buf.replies = grow(buf.replies, len(ops))
	buf.errs = grow(buf.errs, len(ops))
	buf.ops = grow(buf.ops, len(ops))
	buf.idx = grow(buf.idx, len(ops))
	buf.done = grow(buf.done, len(ops))
	replies, errs, done := buf.replies, buf.errs, buf.done
	groups := buf.groups[:0]
	pos := 0
	for i := range ops {
		if done[i] {
			continue
		}
		start := pos
		for j := i; j < len(ops); j++ {
			if !done[j] && shards[j] == shards[i] {
				buf.ops[pos], buf.idx[pos] = ops[j], j
				pos++
				done[j] = true
			}
		}
		g := eachGroup{shard: shards[i], idx: buf.idx[start:pos:pos]}
		g.batch.Ops = buf.ops[start:pos:pos]
		g.batch.Defer = pending != nil
		groups = append(groups, g)
	}
	if len(buf.writers) < len(groups) {
		buf.writers = make([]resp.Writer, len(groups))
	}
	for i := range groups {
		w := &buf.writers[i]
		w.B, w.Proto = w.B[:0], proto
		groups[i].batch.W = w
	}
	buf.groups = groups
	defer func() {
		// Drop what the buffers hold of this call (arguments, records),
		// keeping only the arrays; a writer grown by a large reply goes.
		clear(buf.ops)
		for i := range buf.groups {
			buf.groups[i] = eachGroup{}
		}
		for i := range buf.writers {
			if cap(buf.writers[i].B) > 64<<10 {
				buf.writers[i].B = nil
			}
		}
	}()
	run := func(g *eachGroup) { g.err = c.cfg.Shards[g.shard].Exec(ctx, &g.batch) }
	if _, local := c.cfg.Shards[0].(backends.Holder); local || len(groups) == 1 {
		for i := range groups {
			run(&groups[i])
		}
	} else {
		var wg sync.WaitGroup
		for i := range groups {
			wg.Go(func() { run(&groups[i]) })
		}
		wg.Wait()
	}
	c.notify(ops)
	for i := range groups {
		g := &groups[i]
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
