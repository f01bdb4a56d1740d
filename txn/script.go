package txn

import (
	"context"
	"errors"

	"github.com/schemaproxy/schemaproxy/backends"
	"github.com/schemaproxy/schemaproxy/command"
	"github.com/schemaproxy/schemaproxy/proto/resp"
)

// Scripts (EVAL and its kin) run with every shard in its Exclusive section,
// as whole-database commands do: nothing else runs meanwhile, so a script
// is atomic and serializable whatever keys it touches, declared or not,
// as Redis runs it. Each redis.call runs like a command of a held request
// (runHeld): on its key's shard, or on copies installed on every shard it
// touches, or over whole databases. While every shard is exclusive, the
// store logs everything they append as one group record, so a script's
// effects (the commands it called, never the script itself) survive a
// crash whole or not at all, and recovery never runs Lua.

// ScriptRunner runs scripting commands (command.Scripting), given the way
// to run the commands a script calls; script.Engine is one.
type ScriptRunner interface {
	RunScript(ctx context.Context, cmd *command.Command, args [][]byte, db int, w *resp.Writer,
		call func(cmd *command.Command, args [][]byte, db int, w *resp.Writer) error) error
	// Busy returns the BUSY error clients are answered once a script has
	// run past the time limit, or "".
	Busy() string
}

var errNoScripts = "ERR scripts are not enabled on this server"

// touchesData reports whether a scripting command runs a script (it has
// key positions: EVAL's numkeys), rather than managing the cache (SCRIPT).
func touchesData(cmd *command.Command) bool {
	return cmd.Keys != nil || cmd.FirstKey > 0
}

// runScriptAdmin runs a scripting command that touches no data (SCRIPT
// LOAD, EXISTS, FLUSH, KILL) without holding any shard: SCRIPT KILL must
// get through while a script holds them all.
func (c *Coordinator) runScriptAdmin(ctx context.Context, op *backends.Op, w *resp.Writer) error {
	if c.cfg.Scripts == nil {
		w.Error(errNoScripts)
		return nil
	}
	return c.cfg.Scripts.RunScript(ctx, op.Cmd, op.Args, op.DB, w, nil)
}

// scriptOp runs a scripting command of r inside a held request: its
// redis.calls run on the held shards. Its messages are delivered before
// the shards are let go: in the order scripts commit.
func (c *Coordinator) scriptOp(ctx context.Context, held []backends.Section, op *backends.Op, r *Request) error {
	if c.cfg.Scripts == nil {
		r.W.Error(errNoScripts)
		return nil
	}
	ops := make([]backends.Op, 1)
	var pubs []Publication
	call := publishing(r.Publisher, &pubs, func(cmd *command.Command, args [][]byte, db int, cw *resp.Writer) error {
		ops[0] = backends.Op{Cmd: cmd, Args: args, DB: db}
		err := c.runHeld(ctx, &Request{Batch: backends.Batch{Ops: ops, W: cw}}, held)
		// The script holds every shard: whoever is woken looks after it.
		c.notify(ops)
		return err
	})
	if err := c.cfg.Scripts.RunScript(ctx, op.Cmd, op.Args, op.DB, r.W, call); err != nil {
		return err
	}
	if len(pubs) > 0 {
		return r.Publisher.Commit(func() error { return nil }, pubs)
	}
	return nil
}

// scriptCall is how a script's redis.call runs a command.
type scriptCall = func(cmd *command.Command, args [][]byte, db int, w *resp.Writer) error

// publishing wraps call so that PUBLISH and SPUBLISH are kept in pubs,
// answered with their receivers' count now, rather than run.
func publishing(p Publisher, pubs *[]Publication, call scriptCall) scriptCall {
	return func(cmd *command.Command, args [][]byte, db int, w *resp.Writer) error {
		if cmd.Name != "publish" && cmd.Name != "spublish" {
			return call(cmd, args, db, w)
		}
		if p == nil {
			w.Error(errNotFromScript)
			return nil
		}
		shard := cmd.Name == "spublish"
		*pubs = append(*pubs, Publication{Shard: shard, Channel: args[1], Message: args[2]})
		w.Int(int64(p.Receivers(shard, args[1])))
		return nil
	}
}

// errNotFromScript refuses PUBLISH in a script when nobody delivers.
const errNotFromScript = "ERR This Redis command is not allowed from script"

// ScriptBusy returns the BUSY error clients get while a script has run
// past the time limit, or "".
func (c *Coordinator) ScriptBusy() string {
	if c.cfg.Scripts == nil {
		return ""
	}
	return c.cfg.Scripts.Busy()
}

// Over shards that cannot be held (Redis servers, whose Exclusive section
// fences every database of every backend), a script runs as an
// Optimistic transaction instead: its redis.calls run on copies of the
// keys they touch, declared or not, read with their guards; then the
// writes commit as one guarded MULTI/EXEC. When a key it read changed
// meanwhile, the script runs again from scratch, invisibly to the client,
// as a conflict inside MULTI/EXEC is retried. A script that calls a
// command over whole databases, or that keeps conflicting, runs with
// every shard exclusive after all.

// errNotCommitted stops the delivery of a script's messages when its
// commit ran nothing (a conflict, or the backends refused it).
var errNotCommitted = errors.New("txn: the script's writes were not committed")

// optimisticTries is how many conflicts a script meets before it runs
// with every shard exclusive, which always succeeds.
const optimisticTries = 8

// errNeedsExclusive stops an optimistic run of a script that called a
// command it cannot run on copies.
var errNeedsExclusive = errors.New("txn: the script needs every shard")

// optimisticScripts says whether scripts run optimistically: when a shard
// cannot be held.
func (c *Coordinator) optimisticScripts() bool {
	for _, s := range c.cfg.Shards {
		if _, ok := s.(backends.Holder); !ok {
			return true
		}
	}
	return false
}

// onCopies says whether a script's call can run on an Optimistic's copies:
// a command on keys, not over whole databases, whose result does not hang
// on when it runs (XCLAIM and XAUTOCLAIM pick entries by idle time).
func onCopies(cmd *command.Command, args [][]byte) bool {
	if cmd.Is(command.Global) || cmd.Is(command.Scripting) || cmd.Is(command.PubSub) ||
		cmd.Name == "xclaim" || cmd.Name == "xautoclaim" {
		return false
	}
	var idx [8]int
	keys, _ := cmd.KeyIndexes(idx[:0], args)
	return len(keys) > 0
}

// runScriptOptimistic runs r, one script, as an Optimistic transaction
// (see above).
func (c *Coordinator) runScriptOptimistic(ctx context.Context, r *Request) error {
	op := &r.Ops[0]
	for range optimisticTries {
		o := c.NewOptimistic(r.Pending)
		sw := resp.Writer{Proto: r.W.Proto}
		var pubs []Publication
		call := publishing(r.Publisher, &pubs, func(cmd *command.Command, args [][]byte, db int, cw *resp.Writer) error {
			if !onCopies(cmd, args) {
				return errNeedsExclusive
			}
			return o.Run(ctx, cmd, args, db, cw)
		})
		err := c.cfg.Scripts.RunScript(ctx, op.Cmd, op.Args, op.DB, &sw, call)
		if errors.Is(err, errNeedsExclusive) {
			break
		}
		if err != nil {
			return err
		}
		var v resp.Value
		commit := func() (err error) {
			v, err = o.Commit(ctx)
			if err == nil && (v.Null || v.Kind == resp.KindError) {
				return errNotCommitted
			}
			return err
		}
		if len(pubs) > 0 {
			err = r.Publisher.Commit(commit, pubs)
		} else {
			err = commit()
		}
		if errors.Is(err, errNotCommitted) {
			err = nil
		}
		switch {
		case err != nil:
			return err
		case v.Null:
			continue // a key it read changed: run it again
		case v.Kind == resp.KindError:
			// The backends refused the writes whole (OOM...): nothing
			// of the script happened.
			r.W.Error(string(v.Str))
			return nil
		}
		r.W.Raw(sw.B)
		return nil
	}
	return c.runExclusive(ctx, r)
}
