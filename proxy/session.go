package proxy

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"time"

	"github.com/tidwall/redcon"

	"github.com/schemaproxy/schemaproxy/backends"
	"github.com/schemaproxy/schemaproxy/command"
	"github.com/schemaproxy/schemaproxy/keyspace"
	"github.com/schemaproxy/schemaproxy/proto/resp"
	"github.com/schemaproxy/schemaproxy/pubsub"
	"github.com/schemaproxy/schemaproxy/txn"
)

// session is one client connection's state. Only the connection's own
// goroutine touches it, except the fields CLIENT LIST reads, which are
// written before the session is shared or are plain snapshots.
type session struct {
	srv  *Server
	conn redcon.Conn
	id   int64
	addr string
	// laddr is the local address the client connected to.
	laddr   string
	created time.Time

	db     int
	proto  int
	authed bool
	name   string
	// lastCmd and lastActive feed CLIENT LIST's cmd= and idle=.
	lastCmd    string
	lastActive time.Time
	// cmdStart is when the current command started (the previous one
	// ended): one clock read per command.
	cmdStart time.Time

	// pipe holds the pipeline handle runs (reused between reads); each
	// the coordinator's buffers for its batches.
	pipe []redcon.Command
	each txn.Each

	// MULTI state: queued ops, and whether a queueing error means EXEC
	// must abort.
	multi    bool
	multiErr bool
	queue    []backends.Op
	// watches are the WATCHed keys' versions.
	watches []backends.Guard
	// txn is the interactive transaction (TXN BEGIN) under way, if any.
	txn *interactive

	// closing is set by QUIT and CLIENT KILL of oneself.
	closing bool

	// sub is the session's Pub/Sub subscriber, from its first
	// subscription on; then every reply leaves through it (pubsub.go).
	sub *pubsub.Subscriber
	// batchOps and batchShards are runBatch's scratch, kept to spare
	// allocations per pipeline.
	batchOps    []backends.Op
	batchShards []int
	// inExec is set while EXEC runs the Pub/Sub commands it queued, in
	// the hub's critical section tx.
	inExec bool
	tx     *pubsub.Tx

	// shared mirrors what other sessions' CLIENT LIST shows of this one.
	shared struct {
		db   atomic.Int32
		name atomic.Value // string
		sub  atomic.Pointer[pubsub.Subscriber]
	}

	w   resp.Writer
	req txn.Request
	one [1]backends.Op
	// pending is, per shard, the log position this pipeline's replies
	// depend on; they are released only once it is durable.
	pending []uint64
}

func newSession(s *Server, conn redcon.Conn) *session {
	sess := &session{
		srv: s, conn: conn, id: s.nextClientID.Add(1), addr: conn.RemoteAddr(),
		created: time.Now(), proto: 2, authed: s.cfg.RequirePass == "",
	}
	if nc := conn.NetConn(); nc != nil {
		sess.laddr = nc.LocalAddr().String()
	}
	sess.pending = make([]uint64, s.coord.NumShards())
	sess.lastActive = sess.created
	sess.w.Proto = 2
	return sess
}

func (s *session) setDB(db int) {
	s.db = db
	s.shared.db.Store(int32(db))
}

func (s *session) setName(name string) {
	s.name = name
	s.shared.name.Store(name)
}

// run executes one command and appends its reply to s.w.
func (s *session) run(ctx context.Context, args [][]byte) {
	if len(args) == 0 {
		return
	}
	w := &s.w
	s.lastActive = s.cmdStart
	cmd := s.srv.table.Lookup(args[0])
	if cmd == nil {
		s.reject(keyspace.ErrUnknownCommand(args))
		return
	}
	// full is the subcommand of a container (CLIENT LIST): its arity and
	// name count, as in Redis's lookupCommand.
	full := cmd
	if cmd.Subcommands != nil && len(args) > 1 {
		if full = cmd.Subcommand(args[1]); full == nil {
			s.reject(keyspace.ErrUnknownSubcommand(args[1], strings.ToUpper(cmd.Name)))
			return
		}
	}
	s.lastCmd = full.Name
	if !full.CheckArity(len(args)) {
		s.rejectCmd(cmd, keyspace.ErrArity(full.Name))
		return
	}
	if !s.authed && !cmd.Is(command.NoAuth) {
		s.rejectCmd(cmd, errNoAuth)
		return
	}
	if s.subscribedRESP2() && !allowedSubscribed(cmd) {
		s.rejectCmd(cmd, errSubscribedContext(full.Name))
		return
	}
	if s.scriptBusy(cmd, full) {
		return
	}
	if s.multi {
		switch cmd.Name {
		case "exec", "discard", "multi", "watch", "quit", "reset":
		default:
			if cmd.Is(command.Unsupported) {
				s.reject(errUnsupportedFor(cmd))
				return
			}
			if cmd.Is(command.NoMulti) {
				// SHUTDOWN, SAVE: Redis refuses to queue them.
				s.reject(errNotInMulti)
				return
			}
			if s.outOfMemory() {
				// Queuing takes memory too: Redis refuses every command.
				s.reject(keyspace.ErrOOM)
				return
			}
			s.queue = append(s.queue, backends.Op{Cmd: cmd, Args: args})
			w.Status("QUEUED")
			return
		}
	}
	start := len(w.B)
	switch {
	case s.txn != nil:
		s.txnRun(ctx, cmd, full, args)
	case full != cmd && full.Is(command.Server) && !cmd.Is(command.Server):
		// A server subcommand of a data command (MEMORY STATS).
		s.connCommand(ctx, full, args)
	default:
		s.dispatch(ctx, cmd, args)
	}
	// One clock read per command: its end is the next one's start.
	end := time.Now()
	st := &s.srv.stats.commands[cmd.ID]
	st.calls.Add(1)
	st.usec.Add(end.Sub(s.cmdStart).Microseconds())
	s.cmdStart = end
	if len(w.B) > start && w.B[start] == '-' {
		st.failed.Add(1)
	}
	s.srv.stats.processed.Add(1)
}

// outOfMemory is the store's OutOfMemory, false when it has none.
func (s *session) outOfMemory() bool {
	return s.srv.cfg.OutOfMemory != nil && s.srv.cfg.OutOfMemory()
}

// rejectCmd is reject for a known command: a rejected EXEC discards the
// transaction and says why, as Redis's rejectCommand does (its own
// messages there carry no ERR).
func (s *session) rejectCmd(cmd *command.Command, msg string) {
	if cmd.Name == "exec" {
		s.endMulti()
		msg = errExecAbortBecause(msg)
	}
	s.reject(msg)
}

// reject answers an error found before the command ran; inside MULTI it
// also dooms the transaction, as Redis does.
func (s *session) reject(msg string) {
	if s.multi {
		s.multiErr = true
	}
	s.w.Error(msg)
}

func (s *session) dispatch(ctx context.Context, cmd *command.Command, args [][]byte) {
	switch {
	case cmd.Is(command.Unsupported):
		s.w.Error(errUnsupportedFor(cmd))
	case cmd.Is(command.Conn) || cmd.Is(command.Server):
		s.connCommand(ctx, cmd, args)
	case cmd.Is(command.Blocking):
		s.blockingCommand(ctx, cmd, args)
	default:
		s.one[0] = backends.Op{Cmd: cmd, Args: args, DB: s.db}
		s.req = txn.Request{Batch: backends.Batch{Ops: s.one[:], W: &s.w}, Pending: s.pending}
		if cmd.Is(command.Scripting) {
			s.req.Publisher = scriptPublisher{s: s, hold: true}
		}
		if err := s.srv.coord.Run(ctx, &s.req); err != nil {
			s.backendError(err)
		}
	}
}

// awaitDurability waits until every write this pipeline's replies depend
// on is durable. On failure the replies must not go out: the outcome of
// the writes is unknown to the client.
func (s *session) awaitDurability(ctx context.Context) error {
	var first error
	for shard, pos := range s.pending {
		if pos == 0 {
			continue
		}
		s.pending[shard] = 0
		if err := s.srv.coord.Durable(ctx, shard, pos); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// backendError reports a failure of the coordinator or a shard.
func (s *session) backendError(err error) {
	switch {
	case errors.Is(err, txn.ErrUnknownOutcome):
		s.w.Error(errOutcomeUnknown(err))
	case errors.Is(err, context.DeadlineExceeded):
		s.w.Error(errDeadline)
	default:
		s.srv.log.Warn("backend error", "err", err)
		s.w.Error(errBackend(err))
	}
}
