package proxy

import (
	"bytes"
	"context"
	"math/rand/v2"
	"time"

	"github.com/schemaproxy/schemaproxy/backends"
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
	// store holds the keys read and the transaction's writes; now is its
	// clock, the shards' time of the command running.
	store *keyspace.Store
	now   int64
	rnd   *rand.Rand
	// read holds every key read, guards their guards in the order read.
	read   map[backends.KeyRef]struct{}
	guards []backends.Guard
	// ops are the commands that changed the store, as COMMIT runs them;
	// failed says which of them answered an error in the transaction.
	ops      []backends.Op
	failed   []bool
	commands int
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
	t := &interactive{read: map[backends.KeyRef]struct{}{},
		rnd: rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))}
	if timeout > 0 {
		t.deadline = s.cmdStart.Add(timeout)
	}
	t.store = keyspace.NewStore(s.srv.cfg.Databases, func() int64 { return t.now })
	s.txn = t
	w.OK()
}

func (s *session) txnStatus() {
	w := &s.w
	t := s.txn
	state, read, writes, commands, left := "none", 0, 0, 0, int64(-1)
	if t != nil {
		state, read, writes, commands = t.state.String(), len(t.guards), len(t.ops), t.commands
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
	if len(t.guards) == 0 && len(t.ops) == 0 {
		w.OK()
		return
	}
	cw := resp.Writer{Proto: 2}
	s.req = txn.Request{Batch: backends.Batch{Ops: t.ops, Guards: t.guards, W: &cw}, Multi: true, Pending: s.pending}
	if err := s.srv.coord.Run(ctx, &s.req); err != nil {
		s.backendError(err)
		return
	}
	v, _, err := resp.Parse(cw.B)
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
		if i < len(t.ops) && r.Kind == resp.KindError && !t.failed[i] {
			w.Error(errTxnPartial(t.ops[i].Cmd.Name, string(r.Str)))
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
	t := s.txn
	var idx [8]int
	keys, ok := cmd.KeyIndexes(idx[:0], args)
	if ok && len(keys) == 0 && !cmd.Is(command.Write) {
		// MEMORY STATS and the like: about the server, not keys.
		s.dispatch(ctx, cmd, args)
		return
	}
	other, hasOther := cmd.OtherDB(args)
	for _, k := range keys {
		if !s.txnRead(ctx, s.db, args[k]) {
			return
		}
		if hasOther && other != s.db && other < s.srv.cfg.Databases && !s.txnRead(ctx, other, args[k]) {
			return
		}
	}
	// The transaction's clock never goes back.
	t.now = max(t.now, s.srv.coord.Now())
	start := len(s.w.B)
	cx := &keyspace.Ctx{Store: t.store, DBIndex: s.db, DB: t.store.DB(s.db), Args: args, W: &s.w,
		Now: t.now, Rand: t.rnd}
	s.srv.exec.Run(cx, cmd)
	t.commands++
	if cx.Dirty == 0 {
		// Nothing changed: with the guards holding, it changes nothing at
		// commit either.
		return
	}
	op := backends.Op{Cmd: cmd, Args: args, DB: s.db}
	if cx.Propagate != nil {
		// SPOP's choice, INCRBYFLOAT's result: what the store would log.
		prop := make([][]byte, len(cx.Propagate))
		for i, a := range cx.Propagate {
			prop[i] = bytes.Clone(a)
		}
		op.Cmd, op.Args = s.srv.table.Lookup(prop[0]), prop
	}
	if cmd.Name == "xadd" {
		if reply, _, err := resp.Parse(s.w.B[start:]); err == nil && reply.Kind == resp.KindBulk && !reply.Null {
			op.Args = pinXAddID(op.Args, reply.Str)
		}
	}
	t.ops = append(t.ops, op)
	t.failed = append(t.failed, len(s.w.B) > start && s.w.B[start] == '-')
}

// txnRead reads key into the transaction, guard first, unless it has it;
// on a failure it answers the error and reports false.
func (s *session) txnRead(ctx context.Context, db int, key []byte) bool {
	t := s.txn
	ref := backends.KeyRef{DB: db, Key: string(key)}
	if _, ok := t.read[ref]; ok {
		return true
	}
	g, e, err := s.srv.coord.ReadGuarded(ctx, db, key, s.pending)
	if err != nil {
		s.backendError(err)
		return false
	}
	t.read[ref] = struct{}{}
	t.guards = append(t.guards, g)
	if e != nil {
		t.now = max(t.now, s.srv.coord.Now())
		t.store.DB(db).Put(ref.Key, e)
	}
	return true
}

// pinXAddID returns XADD's arguments with a generated ID (* or ms-*)
// replaced by id, the one it answered, so that COMMIT adds the entry the
// transaction saw.
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
