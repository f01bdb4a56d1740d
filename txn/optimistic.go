package txn

import (
	"bytes"
	"context"
	"math/rand/v2"

	"github.com/schemaproxy/schemaproxy/backends"
	"github.com/schemaproxy/schemaproxy/command"
	"github.com/schemaproxy/schemaproxy/keyspace"
	"github.com/schemaproxy/schemaproxy/proto/resp"
)

// Optimistic is a transaction that holds nothing while it runs: the
// first time a command touches a key, the key's guard is taken (as WATCH
// does) and its value read into a scratch store (ReadGuarded says why in
// that order); every command runs on the scratch store at once, so reads
// see the transaction's own writes and writes stay invisible to others.
// The commands that changed the scratch store are kept, in order, as the
// store would log them. Commit runs them as one MULTI/EXEC guarded by
// every key read: with the guards holding, the values are those the
// transaction read, so they do at commit what they did in it; a failed
// guard is a conflict, and nothing is written.
//
// Interactive transactions (TXN) and scripts over shards that cannot be
// held (Redis servers) are Optimistic. It is not safe for concurrent use.
type Optimistic struct {
	c       *Coordinator
	pending []uint64
	store   *keyspace.Store
	now     int64
	rnd     *rand.Rand
	read    map[backends.KeyRef]struct{}

	// Guards are the guards of every key read, in the order read.
	Guards []backends.Guard
	// Ops are the commands that changed the store, as Commit runs them;
	// Failed says which of them answered an error when they ran.
	Ops    []backends.Op
	Failed []bool
	// Commands counts the commands run.
	Commands int
}

// NewOptimistic starts an optimistic transaction; pending is
// Request.Pending for its reads and commit.
func (c *Coordinator) NewOptimistic(pending []uint64) *Optimistic {
	o := &Optimistic{c: c, pending: pending, read: map[backends.KeyRef]struct{}{},
		rnd: rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))}
	o.store = keyspace.NewStore(c.cfg.Databases, func() int64 { return o.now })
	return o
}

// Read reads key into the transaction, guard first, unless it has it.
func (o *Optimistic) Read(ctx context.Context, db int, key []byte) error {
	ref := backends.KeyRef{DB: db, Key: string(key)}
	if _, ok := o.read[ref]; ok {
		return nil
	}
	g, e, err := o.c.ReadGuarded(ctx, db, key, o.pending)
	if err != nil {
		return err
	}
	o.read[ref] = struct{}{}
	o.Guards = append(o.Guards, g)
	if e != nil {
		o.now = max(o.now, o.c.Now())
		o.store.DB(db).Put(ref.Key, e)
	}
	return nil
}

// Run runs a data command in database db on the transaction's copies,
// reading its keys first, with its reply appended to w.
func (o *Optimistic) Run(ctx context.Context, cmd *command.Command, args [][]byte, db int, w *resp.Writer) error {
	var idx [8]int
	keys, _ := cmd.KeyIndexes(idx[:0], args)
	other, hasOther := cmd.OtherDB(args)
	for _, k := range keys {
		if err := o.Read(ctx, db, args[k]); err != nil {
			return err
		}
		if hasOther && other != db && other < o.c.cfg.Databases {
			if err := o.Read(ctx, other, args[k]); err != nil {
				return err
			}
		}
	}
	// The transaction's clock never goes back.
	o.now = max(o.now, o.c.Now())
	start := len(w.B)
	cx := &keyspace.Ctx{Store: o.store, DBIndex: db, DB: o.store.DB(db), Args: args, W: w, Now: o.now, Rand: o.rnd}
	o.c.cfg.Exec.Run(cx, cmd)
	o.Commands++
	if cx.Dirty == 0 {
		// Nothing changed: with the guards holding, it changes nothing at
		// commit either.
		return nil
	}
	op := backends.Op{Cmd: cmd, Args: args, DB: db}
	if cx.Propagate != nil {
		// SPOP's choice, INCRBYFLOAT's result: what the store would log.
		prop := make([][]byte, len(cx.Propagate))
		for i, a := range cx.Propagate {
			prop[i] = bytes.Clone(a)
		}
		op.Cmd, op.Args = o.c.cfg.Exec.Table().Lookup(prop[0]), prop
	}
	if cmd.Name == "xadd" {
		if reply, _, err := resp.Parse(w.B[start:]); err == nil && reply.Kind == resp.KindBulk && !reply.Null {
			op.Args = pinXAddID(op.Args, reply.Str)
		}
	}
	o.Ops = append(o.Ops, op)
	o.Failed = append(o.Failed, len(w.B) > start && w.B[start] == '-')
	return nil
}

// Commit runs the kept commands as one MULTI/EXEC guarded by every key
// read, and returns EXEC's reply: a null array is a conflict. Nothing
// read and nothing written commits at once (an empty array).
func (o *Optimistic) Commit(ctx context.Context) (resp.Value, error) {
	if len(o.Guards) == 0 && len(o.Ops) == 0 {
		return resp.Value{Kind: resp.KindArray}, nil
	}
	cw := resp.Writer{Proto: 2}
	r := Request{Batch: backends.Batch{Ops: o.Ops, Guards: o.Guards, W: &cw}, Multi: true, Pending: o.pending}
	if err := o.c.Run(ctx, &r); err != nil {
		return resp.Value{}, err
	}
	v, _, err := resp.Parse(cw.B)
	return v, err
}

// pinXAddID returns XADD's arguments with a generated ID (* or ms-*)
// replaced by id, the one it answered, so that a later run adds the entry
// the first one saw.
func pinXAddID(args [][]byte, id []byte) [][]byte {
	i := 2
	for i < len(args) {
		switch {
		case keyspace.EqualFold(args[i], "nomkstream"):
			i++
			continue
		case keyspace.EqualFold(args[i], "maxlen") || keyspace.EqualFold(args[i], "minid"):
			i++
			if i < len(args) && (string(args[i]) == "=" || string(args[i]) == "~") {
				i++
			}
			i++ // the threshold
			if i+1 < len(args) && keyspace.EqualFold(args[i], "limit") {
				i += 2
			}
			continue
		}
		break
	}
	if i >= len(args) || !bytes.Contains(args[i], []byte("*")) {
		return args
	}
	out := make([][]byte, len(args))
	copy(out, args)
	out[i] = bytes.Clone(id)
	return out
}
