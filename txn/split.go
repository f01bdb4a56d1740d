package txn

import (
	"github.com/schemaproxy/schemaproxy/backends"
	"github.com/schemaproxy/schemaproxy/command"
	"github.com/schemaproxy/schemaproxy/proto/resp"
)

// Multi-key commands that are, per key, independent (the command table's
// Split: MSET, MGET, DEL, UNLINK, EXISTS, TOUCH) split into one command per
// shard that run natively, with the replies merged; no copies, no
// evaluation. This is mode 2 of the design: several shards, no data flow
// between them.

// split breaks r into per-shard commands when it is a single splittable
// command; order lists, for each key in turn, the shard it went to.
func (c *Coordinator) split(r *Request) (ops map[int][]backends.Op, order []int, kind command.MergeKind, ok bool) {
	if r.Multi || len(r.Ops) != 1 || len(r.Guards) > 0 {
		return nil, nil, 0, false
	}
	op := &r.Ops[0]
	if op.Reply != nil {
		return nil, nil, 0, false
	}
	sp := op.Cmd.Split
	if sp == nil || (len(op.Args)-1)%sp.Step != 0 {
		return nil, nil, 0, false
	}
	ops = map[int][]backends.Op{}
	for i := 1; i < len(op.Args); i += sp.Step {
		s := c.slots.ShardOf(op.Args[i])
		order = append(order, s)
		part := ops[s]
		if part == nil {
			part = []backends.Op{{Cmd: op.Cmd, DB: op.DB, Args: [][]byte{op.Args[0]}}}
		}
		part[0].Args = append(part[0].Args, op.Args[i:i+sp.Step]...)
		ops[s] = part
	}
	return ops, order, sp.Merge, true
}

// merge writes the reply of a split command from its parts' replies.
func merge(w *resp.Writer, kind command.MergeKind, parts map[int]*resp.Writer, order []int) error {
	vals := make(map[int]resp.Value, len(parts))
	for s, pw := range parts {
		v, _, err := resp.Parse(pw.B)
		if err != nil {
			return err
		}
		if v.Kind == resp.KindError {
			// Errors are the same for every part (they come from the
			// arguments): report one.
			w.Raw(pw.B)
			return nil
		}
		vals[s] = v
	}
	switch kind {
	case command.MergeOK:
		w.OK()
	case command.MergeSum:
		var n int64
		for _, v := range vals {
			n += v.Int
		}
		w.Int(n)
	case command.MergeOrder:
		next := make(map[int]int, len(vals))
		w.Array(len(order))
		for _, s := range order {
			e := vals[s].Elems[next[s]]
			next[s]++
			if e.Null {
				w.Null()
			} else {
				w.Bulk(e.Str)
			}
		}
	}
	return nil
}
