package proxy

import (
	"bytes"
	"context"
	"net"
	"strconv"
	"time"

	"github.com/schemaproxy/schemaproxy/backends"
	"github.com/schemaproxy/schemaproxy/blocking"
	"github.com/schemaproxy/schemaproxy/command"
	"github.com/schemaproxy/schemaproxy/keyspace"
	"github.com/schemaproxy/schemaproxy/proto/resp"
	"github.com/schemaproxy/schemaproxy/txn"
)

// Blocking commands (BLPOP, BRPOP, BRPOPLPUSH, BLMOVE, BLMPOP, BZPOPMIN,
// BZPOPMAX, BZMPOP, XREAD/XREADGROUP with BLOCK) outside MULTI and
// scripts. The shards never block: they run these commands as Redis does
// where a client may not block, answering a null when nothing is there
// (keyspace/blocking.go). The session runs the command as one
// transaction; on a null it registers as a waiter on its keys
// (blocking.Registry), runs it once more (a write between the first run
// and the registration is not missed), and then waits, holding nothing,
// for a signal, its timeout, CLIENT UNBLOCK or the end of the connection.
// Every request the coordinator runs signals the keys its commands write
// (Server.wrote), after it ran; a signalled waiter runs its command again
// on the keys signalled, as one transaction, so a push is delivered once
// and to the waiters of a key in the order they blocked.
//
// Where the shards are Redis servers other proxies may write to, their
// writes send no signal here: a waiter then also looks again at
// pollMin, doubling up to pollMax, in its turn on each key.

const (
	pollMin = 10 * time.Millisecond
	pollMax = 100 * time.Millisecond
	// maxBlockMs is the longest timeout kept as one: past it (about 34
	// years) a wait is as good as forever.
	maxBlockMs = 1 << 40
)

// blockSpec says where a blocking command keeps its keys and timeout.
type blockSpec struct {
	// keys are the argument indexes of the keys it waits on.
	keys    []int
	timeout int // argument index of the timeout
	seconds bool
	// stream: a stream reader, which consumes nothing; ids of its keys
	// follow them (XREAD ... STREAMS k1 k2 id1 id2).
	stream bool
	// move: BLMOVE, BRPOPLPUSH, whose WRONGTYPE when served is the
	// destination's, and their reply.
	move bool
}

// blockSpecOf finds cmd's keys and timeout; false when it does not block
// (XREAD without BLOCK) or its arguments are wrong, when its one run says
// why.
func blockSpecOf(cmd *command.Command, args [][]byte) (blockSpec, bool) {
	n := len(args)
	switch cmd.Name {
	case "blpop", "brpop", "bzpopmin", "bzpopmax":
		sp := blockSpec{timeout: n - 1, seconds: true}
		for i := 1; i < n-1; i++ {
			sp.keys = append(sp.keys, i)
		}
		return sp, true
	case "brpoplpush":
		return blockSpec{keys: []int{1}, timeout: 3, seconds: true, move: true}, true
	case "blmove":
		return blockSpec{keys: []int{1}, timeout: 5, seconds: true, move: true}, true
	case "blmpop", "bzmpop":
		keys, ok := cmd.KeyIndexes(nil, args)
		return blockSpec{keys: keys, timeout: 1, seconds: true}, ok && len(keys) > 0
	case "xread", "xreadgroup":
		sp := blockSpec{stream: true}
		for i := 1; i < n; i++ {
			a := args[i]
			switch {
			case keyspace.EqualFold(a, "block") && i+1 < n:
				sp.timeout = i + 1
				i++
			case keyspace.EqualFold(a, "count") && i+1 < n:
				i++
			case keyspace.EqualFold(a, "group") && i+2 < n:
				i += 2
			case keyspace.EqualFold(a, "streams"):
				keys, ok := cmd.KeyIndexes(nil, args)
				sp.keys = keys
				return sp, ok && sp.timeout != 0 && len(keys) > 0
			}
		}
	}
	return blockSpec{}, false
}

// blockingCommand runs a blocking command of the session's own (not in
// MULTI), waiting when it finds nothing.
func (s *session) blockingCommand(ctx context.Context, cmd *command.Command, args [][]byte) {
	sp, ok := blockSpecOf(cmd, args)
	if !ok {
		s.runData(ctx, cmd, args)
		return
	}
	if cmd.Name == "xread" {
		args = s.resolveLastIDs(ctx, args, &sp)
	}
	if s.tryBlocking(ctx, cmd, args, &sp, false) {
		return
	}
	// The run accepted the timeout.
	ms, _ := keyspace.ParseTimeout(args[sp.timeout], sp.seconds)
	var deadline <-chan time.Time
	if ms > 0 && ms < maxBlockMs {
		t := time.NewTimer(time.Duration(ms) * time.Millisecond)
		defer t.Stop()
		deadline = t.C
	}
	if !s.flushBeforeBlocking(ctx) {
		return
	}
	var keys []blocking.Key
	var names [][]byte
	for _, i := range sp.keys {
		if !containsArg(names, args[i]) {
			names = append(names, args[i])
			keys = append(keys, blocking.Key{DB: s.db, Key: string(args[i])})
		}
	}
	wt := s.srv.blocked.Block(s.id, keys, sp.stream)
	served := false
	var taken []int
	defer func() { wt.Done(served, taken) }()
	if served = s.tryBlocking(ctx, cmd, args, &sp, true); served {
		return
	}
	gone, stopWatch := s.watchInput()
	defer stopWatch()
	var poll <-chan time.Time
	every := pollMin
	if !s.srv.coord.InProcess() {
		poll = time.After(every)
	}
	for {
		select {
		case <-wt.Wake():
		case <-deadline:
			s.w.NullArray()
			return
		case <-gone:
			// The client is gone: nothing to answer, nothing left behind.
			s.closing = true
			return
		case <-poll:
			wt.Poll()
			every = min(2*every, pollMax)
			poll = time.After(every)
		}
		var reason blocking.Reason
		taken, reason = wt.Take(taken[:0])
		switch reason {
		case blocking.Timeout:
			s.w.NullArray()
			return
		case blocking.Error:
			s.w.Error(errUnblocked)
			return
		}
		if len(taken) == 0 {
			continue
		}
		if served = s.tryBlocking(ctx, cmd, sp.restrict(args, names, taken), &sp, true); served {
			return
		}
	}
}

// tryBlocking runs the command once and reports whether it was served; a
// null reply (nothing there) is taken back. On a run again (retry), a
// WRONGTYPE keeps the client blocked, as Redis 7.0 serves a key only of
// the type the command pops, except the destination's of BLMOVE, which
// is its answer.
func (s *session) tryBlocking(ctx context.Context, cmd *command.Command, args [][]byte, sp *blockSpec, retry bool) bool {
	start := len(s.w.B)
	s.runData(ctx, cmd, args)
	r := s.w.B[start:]
	if retry && cmd.Name == "xreadgroup" && (bytes.HasPrefix(r, []byte("-NOGROUP")) || bytes.HasPrefix(r, []byte("-WRONGTYPE"))) {
		// What Redis 7.0 tells a client blocked on a group whose stream
		// or group went away.
		s.w.B = s.w.B[:start]
		if bytes.HasPrefix(r, []byte("-NOGROUP")) && s.isStream(ctx, args[sp.keys[0]]) {
			s.w.Error(errBlockedGroupGone)
		} else {
			s.w.Error(errBlockedStreamGone)
		}
		return true
	}
	if isNullReply(r) || (retry && !sp.move && bytes.HasPrefix(r, []byte("-WRONGTYPE"))) {
		s.w.B = s.w.B[:start]
		return false
	}
	return true
}

// isStream reports whether key holds a stream now.
func (s *session) isStream(ctx context.Context, key []byte) bool {
	w := resp.Writer{Proto: 2}
	req := txn.Request{Batch: backends.Batch{Ops: []backends.Op{{Cmd: s.srv.table.Lookup([]byte("type")),
		Args: [][]byte{[]byte("type"), key}, DB: s.db}}, W: &w}}
	return s.srv.coord.Run(ctx, &req) == nil && string(w.B) == "+stream\r\n"
}

// runData runs one data command through the coordinator.
func (s *session) runData(ctx context.Context, cmd *command.Command, args [][]byte) {
	s.one[0] = backends.Op{Cmd: cmd, Args: args, DB: s.db}
	s.req = txn.Request{Batch: backends.Batch{Ops: s.one[:], W: &s.w}, Pending: s.pending}
	if err := s.srv.coord.Run(ctx, &s.req); err != nil {
		s.backendError(err)
	}
}

func isNullReply(r []byte) bool {
	return string(r) == "*-1\r\n" || string(r) == "$-1\r\n" || string(r) == "_\r\n"
}

func containsArg(list [][]byte, a []byte) bool {
	for _, x := range list {
		if bytes.Equal(x, a) {
			return true
		}
	}
	return false
}

// restrict returns the command on the keys names[taken] only (in their
// order in args), as Redis serves a blocked client from the key that was
// signalled.
func (sp *blockSpec) restrict(args, names [][]byte, taken []int) [][]byte {
	if len(taken) == len(names) || sp.move {
		return args
	}
	keep := func(k []byte) bool {
		for _, t := range taken {
			if bytes.Equal(names[t], k) {
				return true
			}
		}
		return false
	}
	first, n := sp.keys[0], len(sp.keys)
	var kept [][]byte
	var ids [][]byte
	for _, i := range sp.keys {
		if keep(args[i]) {
			kept = append(kept, args[i])
			if sp.stream {
				ids = append(ids, args[i+n])
			}
		}
	}
	out := append([][]byte(nil), args[:first]...)
	switch {
	case sp.stream:
		out = append(append(out, kept...), ids...)
	case sp.timeout == 1: // BLMPOP, BZMPOP: timeout numkeys keys... rest
		out[2] = []byte(strconv.Itoa(len(kept)))
		out = append(append(out, kept...), args[first+n:]...)
	default: // keys... timeout
		out = append(append(out, kept...), args[sp.timeout])
	}
	return out
}

// resolveLastIDs replaces XREAD's $ ids with the last entry's id of each
// stream (0-0 when it has none), read in one transaction: what the
// command reads from, once blocked, is what came after that read. When
// the read fails the arguments stay as they are and the command's own
// run answers.
func (s *session) resolveLastIDs(ctx context.Context, args [][]byte, sp *blockSpec) [][]byte {
	n := len(sp.keys)
	xrevrange := s.srv.table.Lookup([]byte("xrevrange"))
	var ops []backends.Op
	var at []int
	for _, k := range sp.keys {
		if string(args[k+n]) == "$" {
			ops = append(ops, backends.Op{Cmd: xrevrange, DB: s.db,
				Args: [][]byte{[]byte("xrevrange"), args[k], []byte("+"), []byte("-"), []byte("COUNT"), []byte("1")}})
			at = append(at, k+n)
		}
	}
	if len(ops) == 0 || xrevrange == nil {
		return args
	}
	w := resp.Writer{Proto: 2}
	req := txn.Request{Batch: backends.Batch{Ops: ops, W: &w}, Multi: true}
	if err := s.srv.coord.Run(ctx, &req); err != nil {
		return args
	}
	v, _, err := resp.Parse(w.B)
	if err != nil || v.Kind != resp.KindArray || len(v.Elems) != len(ops) {
		return args
	}
	out := append([][]byte(nil), args...)
	for i, r := range v.Elems {
		switch {
		case r.Kind != resp.KindArray:
			return args
		case len(r.Elems) == 0:
			out[at[i]] = []byte("0-0")
		case len(r.Elems[0].Elems) == 0:
			return args
		default:
			out[at[i]] = r.Elems[0].Elems[0].Str
		}
	}
	return out
}

// flushBeforeBlocking sends the replies of the pipeline so far, once
// durable, before the session waits, as Redis writes them while a client
// is blocked. False when they cannot be made durable: the connection is
// dropped, as handle does.
func (s *session) flushBeforeBlocking(ctx context.Context) bool {
	if err := s.awaitDurability(ctx); err != nil {
		s.srv.log.Error("writes not durable, dropping the connection", "id", s.id, "err", err)
		s.w.Reset()
		s.closing = true
		s.conn.Close()
		return false
	}
	if len(s.w.B) == 0 {
		return true
	}
	if s.sub != nil {
		s.sub.Release(s.w.B)
	} else if nc := s.conn.NetConn(); nc != nil {
		// redcon's buffer is empty inside a handler: what it had went out
		// after the previous pipeline.
		if _, err := nc.Write(s.w.B); err != nil {
			s.w.Reset()
			s.closing = true
			return false
		}
	}
	s.w.Reset()
	return true
}

// watchInput reads the client's input while the session waits: gone is
// closed when the connection ends; stop ends the reading, keeping what
// was read for redcon.
func (s *session) watchInput() (gone <-chan struct{}, stop func()) {
	f, ok := s.conn.NetConn().(*framedConn)
	if !ok {
		return nil, func() {}
	}
	return f.watch()
}

// clientUnblock is CLIENT UNBLOCK id [TIMEOUT|ERROR].
func (s *session) clientUnblock(args [][]byte) {
	reason := blocking.Timeout
	if len(args) == 4 {
		switch {
		case keyspace.EqualFold(args[3], "timeout"):
		case keyspace.EqualFold(args[3], "error"):
			reason = blocking.Error
		default:
			s.w.Error(errUnblockReason)
			return
		}
	}
	id, ok := keyspace.ParseInt(args[2])
	if !ok {
		s.w.Error(keyspace.ErrNotInt)
		return
	}
	if s.srv.blocked.Unblock(id, reason) {
		s.w.Int(1)
	} else {
		s.w.Int(0)
	}
}

// wrote signals the keys ops write to the clients blocked on them; the
// coordinator calls it after every request (txn.Coordinator.OnWrite).
func (srv *Server) wrote(ops []backends.Op) {
	b := srv.blocked
	if b.Blocked() == 0 {
		return
	}
	var idx [8]int
	for i := range ops {
		op := &ops[i]
		if op.Reply != nil || op.Cmd == nil || !op.Cmd.Is(command.Write) {
			continue
		}
		if op.Cmd.Is(command.Global) {
			// SWAPDB brings keys into view, FLUSHALL changes nothing
			// anyone waits for: every waiter looks again.
			b.SignalAll()
			continue
		}
		keys, _ := op.Cmd.KeyIndexes(idx[:0], op.Args)
		other, hasOther := op.Cmd.OtherDB(op.Args)
		for _, k := range keys {
			b.Signal(op.DB, op.Args[k])
			if hasOther {
				b.Signal(other, op.Args[k])
			}
		}
	}
}

// watch reads the connection on a goroutine of its own while the session
// waits, so that a client that goes away is noticed: gone is closed when
// the connection ends. stop interrupts the reading (a read deadline in
// the past), waits for it, and leaves what was read (the commands after
// the blocked one) to Read.
func (f *framedConn) watch() (gone <-chan struct{}, stop func()) {
	g := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 4<<10)
		for {
			n, err := f.Conn.Read(buf)
			if n > 0 {
				f.scanIn(buf[:n])
			}
			if err != nil {
				if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
					f.err = err
					close(g)
				}
				return
			}
		}
	}()
	return g, func() {
		_ = f.Conn.SetReadDeadline(time.Unix(1, 0))
		<-done
		_ = f.Conn.SetReadDeadline(time.Time{})
	}
}
