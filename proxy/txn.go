package proxy

import (
	"bytes"
	"context"
	"time"

	"github.com/schemaproxy/schemaproxy/command"
	"github.com/schemaproxy/schemaproxy/keyspace"
	"github.com/schemaproxy/schemaproxy/proto/resp"
	"github.com/schemaproxy/schemaproxy/txn"
)

// Interactive transactions, our extension: TXN BEGIN [TIMEOUT ms], then
// commands that run at once, TXN COMMIT or TXN ABORT.
//
// The transaction is optimistic and lives in the session; nothing of it
// is on the shards until COMMIT, and no lock is held meanwhile, so a
// client that goes away or runs past its TIMEOUT leaves nothing behind.
// The first time a command touches a key, the session takes the key's
// guard (as WATCH does) and then reads its value into a scratch store
// (txn.Coordinator.ReadGuarded says why in that order); every command
// runs on the scratch store, so reads see the transaction's own writes
// and writes stay invisible to others. Commands that changed the scratch
// store are kept, in order, as they ran.
//
// COMMIT runs the kept commands as one MULTI/EXEC, the same path EXEC
// takes, guarded by every key read (a transaction that only read commits
// the guards alone, so its reads were one snapshot too). The coordinator
// checks the guards with the keys held and runs the commands on the
// current values: the values the transaction read, exactly when the
// guards hold, so the commands do at commit what they did in the
// transaction. A failed guard is answered CONFLICT and writes nothing; the
// client runs the whole transaction again.
//
// What the commands would not do the same at commit is pinned or refused:
//   - SPOP's random choice is kept as what the store logs for it (SREM of
//     the members popped, Ctx.Propagate), and INCRBYFLOAT's and
//     HINCRBYFLOAT's results likewise;
//   - XADD's generated ID (*, or ms-*) is replaced by the ID it answered;
//   - XCLAIM and XAUTOCLAIM are refused: which entries are idle enough
//     depends on the time they run at;
//   - relative expiries (SET EX, EXPIRE, SETEX, GETEX PX...) count from
//     the commit, not from when the command ran in the transaction: a key
//     lives a little longer than TTL said inside the transaction.
//
// Commands over whole databases, scripts, Pub/Sub, MULTI/EXEC/WATCH and
// blocking commands are refused inside TXN.

// txnState is where an interactive transaction stands.
type txnState uint8

const (
	txnActive txnState = iota
	// txnTimedOut: past its TIMEOUT; its reads and writes are dropped and
	// every command but TXN ABORT and STATUS answers the timeout until
	// COMMIT or ABORT ends it, so that no write meant for the transaction
	// runs outside it.
	txnTimedOut
)

func (st txnState) String() string {
	if st == txnTimedOut {
		return "timed-out"
	}
	return "active"
}

// interactive is a session's TXN.
type interactive struct {
	state txnState
	// deadline is when TIMEOUT runs out; zero: never.
	deadline time.Time
	*txn.Optimistic
}

// timeOut drops what the transaction holds once it is past its deadline
// and reports whether it is.
func (t *interactive) timeOut(now time.Time) bool {
	if t.state == txnActive && !t.deadline.IsZero() && !now.Before(t.deadline) {
		*t = interactive{state: txnTimedOut}
	}
	return t.state == txnTimedOut
}

// txnCommand runs TXN and its subcommands.
func (s *session) txnCommand(ctx context.Context, args [][]byte) {
	w := &s.w
	t := s.txn
	sub := string(bytes.ToLower(args[1]))
	if t != nil && t.timeOut(s.cmdStart) && sub != "abort" && sub != "status" && sub != "help" {
		if sub == "commit" {
			s.txn = nil
		}
		w.Error(errTxnTimeout)
		return
	}
	switch sub {
	case "begin":
		s.txnBegin(args[2:])
	case "commit":
		if t == nil {
			w.Error(errTxnWithout("COMMIT"))
			return
		}
		s.txn = nil
		s.txnCommit(ctx, t)
	case "abort":
		if t == nil {
			w.Error(errTxnWithout("ABORT"))
			return
		}
		s.txn = nil
		w.OK()
	case "status":
		s.txnStatus()
	case "help":
		s.writeHelp(
			"TXN <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
			"BEGIN [TIMEOUT <milliseconds>]",
			"    Start an interactive transaction: the commands that follow run at once, see its own",
			"    writes and stay invisible to other clients until COMMIT.",
			"COMMIT",
			"    Commit the transaction. Answers CONFLICT, writing nothing, when a key it read changed",
			"    meanwhile: run the whole transaction again.",
			"ABORT",
			"    End the transaction without writing anything.",
			"STATUS",
			"    Return the transaction's state (none, active, timed-out), the keys it read, the",
			"    commands it ran and the writes COMMIT will run.",
			"HELP", "    Print this help.",
		)
	}
}

func (s *session) txnBegin(opts [][]byte) {
	w := &s.w
	if s.txn != nil {
		w.Error(errTxnNested)
		return
	}
	var timeout time.Duration
	for i := 0; i < len(opts); i++ {
		if !keyspace.EqualFold(opts[i], "timeout") || i+1 >= len(opts) {
			w.Error(keyspace.ErrSyntax)
			return
		}
		ms, ok := keyspace.ParseInt(opts[i+1])
		if !ok || ms <= 0 || ms > int64(365*24*time.Hour/time.Millisecond) {
			w.Error(errTxnTimeArg)
			return
		}
		timeout = time.Duration(ms) * time.Millisecond
		i++
	}
	t := &interactive{Optimistic: s.srv.coord.NewOptimistic(s.pending)}
	if timeout > 0 {
		t.deadline = s.cmdStart.Add(timeout)
	}
	s.txn = t
	w.OK()
}

func (s *session) txnStatus() {
	w := &s.w
	t := s.txn
	state, read, writes, commands, left := "none", 0, 0, 0, int64(-1)
	if t != nil {
		state = t.state.String()
		if t.Optimistic != nil {
			read, writes, commands = len(t.Guards), len(t.Ops), t.Commands
		}
		if !t.deadline.IsZero() {
			left = max(0, t.deadline.Sub(s.cmdStart).Milliseconds())
		}
		if t.state == txnTimedOut {
			left = 0
		}
	}
	w.Map(5)
	w.BulkString("state")
	w.BulkString(state)
	w.BulkString("keys-read")
	w.Int(int64(read))
	w.BulkString("commands")
	w.Int(int64(commands))
	w.BulkString("writes")
	w.Int(int64(writes))
	w.BulkString("timeout-left-ms")
	w.Int(left)
}

// txnCommit runs t's writes as one MULTI/EXEC guarded by every key it
// read.
func (s *session) txnCommit(ctx context.Context, t *interactive) {
	w := &s.w
	v, err := t.Commit(ctx)
	switch {
	case err != nil:
		s.backendError(err)
		return
	case v.Null:
		w.Error(errTxnConflict)
		return
	case v.Kind == resp.KindError:
		// EXEC refused whole (nothing ran): its reason is the answer.
		w.Error(string(v.Str))
		return
	}
	for i, r := range v.Elems {
		if i < len(t.Ops) && r.Kind == resp.KindError && !t.Failed[i] {
			w.Error(errTxnPartial(t.Ops[i].Cmd.Name, string(r.Str)))
			return
		}
	}
	w.OK()
}

// txnRun runs a command inside the session's TXN.
func (s *session) txnRun(ctx context.Context, cmd, full *command.Command, args [][]byte) {
	w := &s.w
	if cmd.Name == "txn" {
		s.txnCommand(ctx, args)
		return
	}
	if s.txn.timeOut(s.cmdStart) {
		w.Error(errTxnTimeout)
		return
	}
	switch {
	case cmd.Is(command.Unsupported):
		w.Error(errUnsupportedFor(cmd))
	case cmd.Group == "transactions":
		w.Error(errTxnRefused(cmd.Name, "TXN is a transaction already"))
	case full.Is(command.PubSub):
		w.Error(errTxnRefused(cmd.Name, "Pub/Sub does not take part in transactions"))
	case cmd.Is(command.Conn) || cmd.Is(command.Server):
		s.connCommand(ctx, cmd, args)
	case cmd.Is(command.Global):
		w.Error(errTxnRefused(cmd.Name, "it works on whole databases"))
	case cmd.Is(command.Scripting):
		w.Error(errTxnRefused(cmd.Name, "a script is a transaction of its own"))
	case cmd.Is(command.Blocking) && blocks(cmd, args):
		w.Error(errTxnRefused(cmd.Name, "a transaction cannot block"))
	case cmd.Name == "xclaim" || cmd.Name == "xautoclaim":
		w.Error(errTxnRefused(cmd.Name, "what it claims depends on the time it runs at"))
	default:
		s.txnData(ctx, cmd, args)
	}
}

func blocks(cmd *command.Command, args [][]byte) bool {
	_, ok := blockSpecOf(cmd, args)
	return ok
}

// txnData runs a data command on the transaction's scratch store, reading
// its keys first.
func (s *session) txnData(ctx context.Context, cmd *command.Command, args [][]byte) {
	var idx [8]int
	keys, ok := cmd.KeyIndexes(idx[:0], args)
	if ok && len(keys) == 0 && !cmd.Is(command.Write) {
		// MEMORY STATS and the like: about the server, not keys.
		s.dispatch(ctx, cmd, args)
		return
	}
	if err := s.txn.Run(ctx, cmd, args, s.db, &s.w); err != nil {
		s.backendError(err)
	}
}
