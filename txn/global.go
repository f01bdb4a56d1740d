package txn

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/schemaproxy/schemaproxy/backends"
	"github.com/schemaproxy/schemaproxy/command"
	"github.com/schemaproxy/schemaproxy/keyspace"
	"github.com/schemaproxy/schemaproxy/proto/resp"
)

// errWholeStore is the answer to a request over whole databases when a
// shard cannot be had to itself (only embedded shards can, so far).
var errWholeStore = errors.New("txn: commands over whole databases need embedded shards")

// runExclusive runs r with every shard in its Exclusive section: nothing
// else runs, so whole-database commands and everything around them in a
// transaction see and leave one consistent state.
func (c *Coordinator) runExclusive(ctx context.Context, r *Request) error {
	held := make([]backends.Section, 0, len(c.cfg.Shards))
	var nest func(i int) error
	nest = func(i int) error {
		if i == len(c.cfg.Shards) {
			return c.runHeld(ctx, r, held)
		}
		x, ok := c.cfg.Shards[i].(backends.Exclusiver)
		if !ok {
			return errWholeStore
		}
		return x.Exclusive(ctx, func(x backends.Section) error {
			held = append(held, x)
			return nest(i + 1)
		})
	}
	return nest(0)
}

func (c *Coordinator) runHeld(ctx context.Context, r *Request, held []backends.Section) error {
	if len(r.Guards) > 0 {
		byShard := map[int][]backends.Guard{}
		for _, g := range r.Guards {
			s := c.slots.ShardOf([]byte(g.Key))
			byShard[s] = append(byShard[s], g)
		}
		for s, gs := range byShard {
			if err := held[s].Run(&backends.Batch{Guards: gs, W: r.W}); err != nil {
				r.W.NullArray()
				return nil
			}
		}
	}
	if r.Multi {
		r.W.Array(len(r.Ops))
	}
	for i := range r.Ops {
		op := r.Ops[i]
		if op.Reply != nil {
			r.W.Raw(op.Reply)
			continue
		}
		if op.Cmd.Is(command.Scripting) {
			if err := c.scriptOp(ctx, held, &op, r); err != nil {
				return err
			}
			continue
		}
		if op.Cmd.Is(command.Global) {
			if err := c.globalOp(held, &op, r.W); err != nil {
				return err
			}
			continue
		}
		one := &Request{Batch: backends.Batch{Ops: []backends.Op{op}, W: r.W}}
		shard, single, _ := c.plan(one)
		if single {
			if err := held[shard].Run(&one.Batch); err != nil {
				return err
			}
			continue
		}
		parts := c.footprint(one)
		var now int64
		for _, p := range parts {
			p.states = held[p.shard].Read(p.keys)
			now = max(now, held[p.shard].Now())
		}
		writes, events := c.evaluate(one, parts, now)
		if len(writes) == 0 {
			continue
		}
		record := &backends.TxRecord{ID: backends.TxID(c.nextTx.Add(1)), Writes: writes, Now: now}
		for _, p := range parts {
			held[p.shard].Install(writes[p.shard])
		}
		for _, p := range parts {
			held[p.shard].Log(record)
		}
		c.publish(events)
	}
	return nil
}

// globalOp runs a whole-database command on every held shard and merges
// the replies.
func (c *Coordinator) globalOp(held []backends.Section, op *backends.Op, w *resp.Writer) error {
	replies := make([]resp.Value, 0, len(held))
	bufs := make([]*resp.Writer, 0, len(held))
	// A write over whole databases (FLUSHALL, FLUSHDB, SWAPDB) is one
	// cross-shard record, so a crash keeps it on every shard or on none.
	var record *backends.TxRecord
	if op.Cmd.Is(command.Write) {
		record = &backends.TxRecord{ID: backends.TxID(c.nextTx.Add(1)), Ops: map[int][]backends.Op{}}
		for i, x := range held {
			record.Ops[i] = []backends.Op{*op}
			record.Now = max(record.Now, x.Now())
		}
	}
	for i, x := range held {
		sw := &resp.Writer{Proto: w.Proto}
		if record != nil {
			x.RunOps(record.Ops[i], record.Now, sw)
		} else if err := x.Run(&backends.Batch{Ops: []backends.Op{*op}, W: sw}); err != nil {
			return err
		}
		v, _, err := resp.Parse(sw.B)
		if err != nil {
			return err
		}
		if i == 0 && v.Kind == resp.KindError && record == nil {
			// Argument errors are the same on every shard: report the
			// first and touch nothing else.
			w.Raw(sw.B)
			return nil
		}
		replies = append(replies, v)
		bufs = append(bufs, sw)
	}
	if record != nil {
		for _, x := range held {
			x.Log(record)
		}
	}
	switch op.Cmd.Merge {
	case command.MergeSum:
		var n int64
		for _, v := range replies {
			n += v.Int
		}
		w.Int(n)
	case command.MergeConcat:
		total := 0
		for _, v := range replies {
			total += len(v.Elems)
		}
		w.Array(total)
		for _, v := range replies {
			for _, e := range v.Elems {
				w.Bulk(e.Str)
			}
		}
	case command.MergeRandom:
		var keys [][]byte
		for _, v := range replies {
			if !v.Null {
				keys = append(keys, v.Str)
			}
		}
		if len(keys) == 0 {
			w.Null()
			return nil
		}
		c.rndMu.Lock()
		k := keys[c.rnd.IntN(len(keys))]
		c.rndMu.Unlock()
		w.Bulk(k)
	case command.MergeScan:
		return c.scanHeld(held, op, w)
	default:
		// MergeSame (FLUSHDB, FLUSHALL, SWAPDB): every shard answered alike.
		w.Raw(bufs[0].B)
	}
	return nil
}

// Scan runs SCAN over every shard: the cursor a client sees is
// shardCursor*shards + shard, so it resumes on the right shard.
func (c *Coordinator) Scan(ctx context.Context, op *backends.Op, w *resp.Writer) error {
	return c.scan(op, w, func(shard int, b *backends.Batch) error {
		return c.cfg.Shards[shard].Exec(ctx, b)
	})
}

func (c *Coordinator) scanHeld(held []backends.Section, op *backends.Op, w *resp.Writer) error {
	return c.scan(op, w, func(shard int, b *backends.Batch) error { return held[shard].Run(b) })
}

func (c *Coordinator) scan(op *backends.Op, w *resp.Writer, run func(int, *backends.Batch) error) error {
	cursor, ok := keyspace.ParseScanCursor(op.Args[1])
	if !ok {
		w.Error(keyspace.ErrInvalidCursor)
		return nil
	}
	count := 10
	for i := 2; i+1 < len(op.Args); i++ {
		if n, err := strconv.Atoi(string(op.Args[i+1])); err == nil && strings.EqualFold(string(op.Args[i]), "count") && n > 0 {
			count = n
		}
	}
	n := uint64(len(c.cfg.Shards))
	shard, inner := int(cursor%n), cursor/n
	var keys [][]byte
	args := append([][]byte{op.Args[0], nil}, op.Args[2:]...)
	for {
		args[1] = strconv.AppendUint(nil, inner, 10)
		sw := &resp.Writer{Proto: w.Proto}
		if err := run(shard, &backends.Batch{Ops: []backends.Op{{Cmd: op.Cmd, Args: args, DB: op.DB}}, W: sw}); err != nil {
			return err
		}
		v, _, err := resp.Parse(sw.B)
		if err != nil {
			return err
		}
		if v.Kind == resp.KindError || len(v.Elems) != 2 {
			w.Raw(sw.B)
			return nil
		}
		next, err := strconv.ParseUint(string(v.Elems[0].Str), 10, 64)
		if err != nil {
			w.Raw(sw.B)
			return nil
		}
		for _, e := range v.Elems[1].Elems {
			keys = append(keys, e.Str)
		}
		var out uint64
		switch {
		case next != 0:
			out = next*n + uint64(shard)
		case shard+1 < int(n):
			// This shard is done: go on to the next one while the reply
			// has room, so a small database is scanned in one call.
			shard, inner = shard+1, 0
			if len(keys) < count {
				continue
			}
			out = uint64(shard)
		}
		w.Array(2)
		w.BulkString(strconv.FormatUint(out, 10))
		w.Array(len(keys))
		for _, k := range keys {
			w.Bulk(k)
		}
		return nil
	}
}
