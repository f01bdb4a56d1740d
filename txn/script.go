package txn

import (
	"context"

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
	// Busy reports whether a script has run past the time limit, when
	// clients are answered BUSY.
	Busy() bool
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

// scriptOp runs a scripting command inside a held request: its
// redis.calls run on the held shards.
func (c *Coordinator) scriptOp(ctx context.Context, held []backends.Section, op *backends.Op, w *resp.Writer) error {
	if c.cfg.Scripts == nil {
		w.Error(errNoScripts)
		return nil
	}
	ops := make([]backends.Op, 1)
	call := func(cmd *command.Command, args [][]byte, db int, cw *resp.Writer) error {
		ops[0] = backends.Op{Cmd: cmd, Args: args, DB: db}
		err := c.runHeld(ctx, &Request{Batch: backends.Batch{Ops: ops, W: cw}}, held)
		// The script holds every shard: whoever is woken looks after it.
		c.notify(ops)
		return err
	}
	return c.cfg.Scripts.RunScript(ctx, op.Cmd, op.Args, op.DB, w, call)
}

// ScriptBusy reports whether a script has run past the time limit.
func (c *Coordinator) ScriptBusy() bool {
	return c.cfg.Scripts != nil && c.cfg.Scripts.Busy()
}
