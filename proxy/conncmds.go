package proxy

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/schemaproxy/schemaproxy/backends"
	"github.com/schemaproxy/schemaproxy/command"
	"github.com/schemaproxy/schemaproxy/keyspace"
	"github.com/schemaproxy/schemaproxy/proto/resp"
	"github.com/schemaproxy/schemaproxy/pubsub"
	"github.com/schemaproxy/schemaproxy/txn"
)

// connCommand runs a command the proxy answers itself.
func (s *session) connCommand(ctx context.Context, cmd *command.Command, args [][]byte) {
	w := &s.w
	switch cmd.Name {
	case "ping":
		switch {
		case len(args) > 2:
			w.Error(keyspace.ErrArity("ping"))
		case s.subscribedRESP2():
			// A RESP2 subscriber reads only arrays: Redis answers in the
			// shape of a message.
			w.Array(2)
			w.BulkString("pong")
			if len(args) == 2 {
				w.Bulk(args[1])
			} else {
				w.BulkString("")
			}
		case len(args) == 1:
			w.Status("PONG")
		default:
			w.Bulk(args[1])
		}
	case "echo":
		w.Bulk(args[1])
	case "quit":
		w.OK()
		s.closing = true
	case "reset":
		s.resetState()
		w.Status("RESET")
	case "auth":
		s.auth(args)
	case "hello":
		s.hello(args)
	case "select":
		s.selectDB(args[1])
	case "client":
		s.client(args)
	case "multi":
		if s.multi {
			w.Error(errMultiNested)
			return
		}
		s.multi, s.multiErr, s.queue = true, false, s.queue[:0]
		w.OK()
	case "discard":
		if !s.multi {
			w.Error(errDiscardNoMult)
			return
		}
		s.endMulti()
		w.OK()
	case "exec":
		s.exec(ctx)
	case "watch":
		if s.multi {
			w.Error(errWatchInMulti)
			return
		}
		s.watch(ctx, args[1:])
	case "unwatch":
		s.watches = s.watches[:0]
		w.OK()
	case "txn":
		s.txnCommand(ctx, args)
	case "subscribe", "unsubscribe", "psubscribe", "punsubscribe", "ssubscribe", "sunsubscribe",
		"publish", "spublish", "pubsub":
		s.pubsubCommand(cmd, args)
	default:
		s.serverCommand(cmd, args)
	}
}

func (s *session) resetState() {
	s.endMulti()
	s.txn = nil
	s.setDB(0)
	s.proto, s.w.Proto = 2, 2
	s.setName("")
	s.authed = s.srv.cfg.RequirePass == ""
	if s.sub != nil {
		// Messages delivered before the reset keep their protocol and go
		// out before its reply; none come after it.
		s.atomic(func(tx *pubsub.Tx) {
			tx.UnsubscribeAll(s.sub)
			s.holdOutput(tx)
			tx.SetProto(s.sub, 2)
		})
	}
}

func (s *session) endMulti() {
	s.multi, s.multiErr = false, false
	s.queue = s.queue[:0]
	s.watches = s.watches[:0]
}

func (s *session) auth(args [][]byte) {
	var user, pass []byte
	if len(args) == 2 {
		pass = args[1]
	} else if len(args) == 3 {
		user, pass = args[1], args[2]
	} else {
		s.w.Error(keyspace.ErrSyntax)
		return
	}
	if !s.checkPass(user, pass) {
		return
	}
	s.w.OK()
}

// checkPass authenticates the session or writes the error Redis gives.
func (s *session) checkPass(user, pass []byte) bool {
	want := s.srv.cfg.RequirePass
	if want == "" && user == nil {
		s.w.Error(errNoPassword)
		return false
	}
	// Without requirepass the default user is "nopass": any password works.
	if (user != nil && string(user) != "default") || (want != "" && string(pass) != want) {
		s.w.Error(errWrongPass)
		return false
	}
	s.authed = true
	return true
}

func (s *session) hello(args [][]byte) {
	w := &s.w
	proto := s.proto
	i := 1
	if len(args) > 1 {
		v, ok := keyspace.ParseInt(args[1])
		if !ok {
			w.Error(errProtoNotInt)
			return
		}
		if v != 2 && v != 3 {
			w.Error(errNoProto)
			return
		}
		proto = int(v)
		i = 2
	}
	var name []byte
	for ; i < len(args); i++ {
		more := len(args) - i - 1
		switch {
		case keyspace.EqualFold(args[i], "auth") && more >= 2:
			if !s.checkPass(args[i+1], args[i+2]) {
				return
			}
			i += 2
		case keyspace.EqualFold(args[i], "setname") && more >= 1:
			if !validClientName(args[i+1]) {
				w.Error(errClientName)
				return
			}
			name = args[i+1]
			i++
		default:
			w.Error(errHelloOption(args[i]))
			return
		}
	}
	if !s.authed {
		w.Error(errHelloNoAuth)
		return
	}
	if name != nil {
		s.setName(string(name))
	}
	s.proto, w.Proto = proto, proto
	w.Map(7)
	w.BulkString("server")
	w.BulkString("redis")
	w.BulkString("version")
	w.BulkString(RedisVersion)
	w.BulkString("proto")
	w.Int(int64(proto))
	w.BulkString("id")
	w.Int(s.id)
	w.BulkString("mode")
	w.BulkString("standalone")
	w.BulkString("role")
	w.BulkString("master")
	w.BulkString("modules")
	w.Array(0)
	if s.sub != nil {
		// Messages delivered before HELLO keep the old protocol and go out
		// before its reply; the later ones follow it in the new protocol.
		s.atomic(func(tx *pubsub.Tx) {
			s.holdOutput(tx)
			tx.SetProto(s.sub, proto)
		})
	}
}

func (s *session) selectDB(arg []byte) {
	n, ok := keyspace.ParseInt(arg)
	if !ok {
		s.w.Error(keyspace.ErrNotInt)
		return
	}
	if n < 0 || n >= int64(s.srv.cfg.Databases) {
		s.w.Error(keyspace.ErrDBIndexRange)
		return
	}
	s.setDB(int(n))
	s.w.OK()
}

func (s *session) watch(ctx context.Context, keys [][]byte) {
	for _, k := range keys {
		g, err := s.srv.coord.Watch(ctx, s.db, k)
		if err != nil {
			s.backendError(err)
			return
		}
		s.watches = append(s.watches, g)
	}
	s.w.OK()
}

// exec runs the queued commands as one transaction.
func (s *session) exec(ctx context.Context) {
	w := &s.w
	if !s.multi {
		w.Error(errExecNoMulti)
		return
	}
	if s.multiErr {
		s.endMulti()
		w.Error(errExecAbort)
		return
	}
	if s.outOfMemory() && slices.ContainsFunc(s.queue, func(op backends.Op) bool { return op.Cmd.Is(command.DenyOOM) }) {
		s.endMulti()
		w.Error(errExecAbortBecause(keyspace.ErrOOM))
		return
	}
	// Commands the proxy answers (PING, SELECT, ...) run now, in order, so
	// their replies and effects (SELECT's database) land where they belong;
	// Pub/Sub commands run only once the transaction has committed.
	ops := s.queue
	var after []int
	publishes := false
	for i := range ops {
		op := &ops[i]
		if s.afterCommit(op, len(after) > 0) {
			op.Reply = execPlaceholder
			after = append(after, i)
			publishes = publishes || op.Cmd.Name == "publish" || op.Cmd.Name == "spublish"
			continue
		}
		if op.Cmd.Is(command.Conn) || op.Cmd.Is(command.Server) {
			saved := s.w
			s.w = resp.Writer{Proto: s.proto}
			s.connCommand(ctx, op.Cmd, op.Args)
			op.Reply = s.w.B
			s.w = saved
			if op.Reply == nil {
				op.Reply = []byte{}
			}
			continue
		}
		op.DB = s.db
	}
	if publishes {
		// From the commit to the last message, no other publishing EXEC
		// runs: messages then arrive in the transactions' commit order.
		select {
		case s.srv.pubOrder <- struct{}{}:
			defer func() { <-s.srv.pubOrder }()
		case <-ctx.Done():
			s.endMulti()
			s.backendError(ctx.Err())
			return
		}
	}
	start := len(w.B)
	s.req = txn.Request{Batch: backends.Batch{Ops: ops, Guards: s.watches, W: w}, Multi: true, Pending: s.pending,
		Publisher: scriptPublisher{s: s}}
	err := s.srv.coord.Run(ctx, &s.req)
	s.multi, s.multiErr = false, false
	s.watches = s.watches[:0]
	if err != nil {
		// An unknown outcome publishes nothing: the client is told the
		// transaction may not have run.
		s.queue = s.queue[:0]
		s.backendError(err)
		return
	}
	if len(after) > 0 {
		s.runAfterCommit(ctx, start, ops, after)
	}
	s.queue = s.queue[:0]
}

func validClientName(b []byte) bool {
	for _, c := range b {
		if c < '!' || c > '~' {
			return false
		}
	}
	return true
}

func (s *session) client(args [][]byte) {
	w := &s.w
	sub := strings.ToLower(string(args[1]))
	switch {
	case sub == "id" && len(args) == 2:
		w.Int(s.id)
	case sub == "setname" && len(args) == 3:
		if !validClientName(args[2]) {
			w.Error(errClientName)
			return
		}
		s.setName(string(args[2]))
		w.OK()
	case sub == "getname" && len(args) == 2:
		if s.name == "" {
			w.Null()
		} else {
			w.BulkString(s.name)
		}
	case sub == "info" && len(args) == 2:
		w.Verbatim("txt", s.describe()+"\n")
	case sub == "list":
		s.clientList(args[2:])
	case sub == "kill" && len(args) >= 3:
		s.clientKill(args[2:])
	case sub == "unblock" && (len(args) == 3 || len(args) == 4):
		s.clientUnblock(args)
	case sub == "unblock":
		w.Error(keyspace.ErrSubcommandSyntax(args[1], "CLIENT"))
	case sub == "help" && len(args) == 2:
		s.writeHelp(
			"CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
			"ID", "    Return the ID of the current connection.",
			"GETNAME", "    Return the name of the current connection.",
			"SETNAME <name>", "    Assign the name <name> to the current connection.",
			"INFO", "    Return information about the current client connection.",
			"LIST [TYPE normal] [ID <id> [<id> ...]]", "    Return information about client connections.",
			"KILL <ip:port> | ID <id> | ADDR <ip:port> | LADDR <ip:port> | SKIPME yes|no", "    Kill connections.",
			"HELP", "    Print this help.",
		)
	case sub == "id" || sub == "setname" || sub == "getname" || sub == "info" || sub == "kill" || sub == "help":
		w.Error(keyspace.ErrArity("client|" + sub))
	default:
		w.Error(keyspace.ErrUnknownSubcommand(args[1], "CLIENT"))
	}
}

// describe is the session's CLIENT LIST line.
func (s *session) describe() string {
	now := time.Now()
	ps := pubsubFieldsOf(s.sub)
	flags := ps.flag
	if s.multi {
		flags += "x"
	}
	if flags == "" {
		flags = "N"
	}
	multi := -1
	if s.multi {
		multi = len(s.queue)
	}
	cmd := s.lastCmd
	if cmd == "" {
		cmd = "NULL"
	}
	return "id=" + strconv.FormatInt(s.id, 10) +
		" addr=" + s.addr + " laddr=" + s.laddr + " fd=-1 name=" + s.name +
		" age=" + strconv.FormatInt(int64(now.Sub(s.created)/time.Second), 10) +
		" idle=" + strconv.FormatInt(int64(now.Sub(s.lastActive)/time.Second), 10) +
		" flags=" + flags + " db=" + strconv.Itoa(s.db) + ps.counts + " multi=" + strconv.Itoa(multi) +
		" qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=0 rbp=0 obl=0 oll=0 omem=" + ps.omem + " tot-mem=0 events=r" +
		" cmd=" + cmd + " user=default redir=-1 resp=" + strconv.Itoa(s.proto)
}

func (s *session) clientList(opts [][]byte) {
	var ids map[int64]bool
	ctype := ""
	for i := 0; i < len(opts); i++ {
		switch {
		case keyspace.EqualFold(opts[i], "type") && i+1 < len(opts):
			t := strings.ToLower(string(opts[i+1]))
			if t != "normal" && t != "master" && t != "replica" && t != "pubsub" {
				s.w.Error(errClientType(opts[i+1]))
				return
			}
			ctype = t
			i++
		case keyspace.EqualFold(opts[i], "id") && i+1 < len(opts):
			if ids == nil {
				ids = map[int64]bool{}
			}
			for i++; i < len(opts); i++ {
				n, ok := keyspace.ParseInt(opts[i])
				if !ok || n <= 0 {
					s.w.Error(errClientID)
					return
				}
				ids[n] = true
			}
		default:
			s.w.Error(keyspace.ErrSyntax)
			return
		}
	}
	var b strings.Builder
	for _, c := range s.srv.sessions() {
		if (ids != nil && !ids[c.id]) || (ctype != "" && ctype != c.clientType()) {
			continue
		}
		if c == s {
			b.WriteString(s.describe())
		} else {
			b.WriteString(c.snapshotLine())
		}
		b.WriteByte('\n')
	}
	s.w.Verbatim("txt", b.String())
}

// snapshotLine describes another client from what it publishes for other
// sessions (the rest belongs to its goroutine).
func (s *session) snapshotLine() string {
	name, _ := s.shared.name.Load().(string)
	ps := pubsubFieldsOf(s.shared.sub.Load())
	flags := ps.flag
	if flags == "" {
		flags = "N"
	}
	return "id=" + strconv.FormatInt(s.id, 10) + " addr=" + s.addr + " laddr=" + s.laddr +
		" fd=-1 name=" + name + " age=" + strconv.FormatInt(int64(time.Since(s.created)/time.Second), 10) +
		" idle=0 flags=" + flags + " db=" + strconv.Itoa(int(s.shared.db.Load())) +
		ps.counts + " multi=-1 qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0" +
		" rbs=0 rbp=0 obl=0 oll=0 omem=" + ps.omem + " tot-mem=0 events=r cmd=NULL user=default redir=-1 resp=2"
}

// pubsubFields are what CLIENT LIST shows of a client's Pub/Sub state.
type pubsubFields struct {
	flag   string // "P" while subscribed
	counts string // " sub=N psub=N ssub=N"
	omem   string // bytes queued for it
}

// pubsubFieldsOf reads them from sub (nil: never subscribed); it is safe
// from any goroutine.
func pubsubFieldsOf(sub *pubsub.Subscriber) pubsubFields {
	if sub == nil {
		return pubsubFields{counts: " sub=0 psub=0 ssub=0", omem: "0"}
	}
	c, p, sh := sub.Counts()
	f := pubsubFields{
		counts: " sub=" + strconv.Itoa(c) + " psub=" + strconv.Itoa(p) + " ssub=" + strconv.Itoa(sh),
		omem:   strconv.FormatInt(sub.Pending(), 10),
	}
	if c+p+sh > 0 {
		f.flag = "P"
	}
	return f
}

// clientType is the client's type for CLIENT LIST and KILL TYPE: pubsub
// while it has a subscription, else normal.
func (s *session) clientType() string {
	if sub := s.shared.sub.Load(); sub != nil && sub.Subscribed() {
		return "pubsub"
	}
	return "normal"
}

func (s *session) clientKill(opts [][]byte) {
	if len(opts) == 1 {
		// Old form: CLIENT KILL addr.
		for _, c := range s.srv.sessions() {
			if c.addr == string(opts[0]) {
				s.kill(c)
				s.w.OK()
				return
			}
		}
		s.w.Error(errNoSuchClient)
		return
	}
	skipme := true
	var match []*session
	filtered := false
	for i := 0; i+1 < len(opts); i += 2 {
		val := string(opts[i+1])
		var keep func(c *session) bool
		switch {
		case keyspace.EqualFold(opts[i], "id"):
			n, ok := keyspace.ParseInt(opts[i+1])
			if !ok || n <= 0 {
				s.w.Error(errKillClientID)
				return
			}
			keep = func(c *session) bool { return c.id == n }
		case keyspace.EqualFold(opts[i], "addr"):
			keep = func(c *session) bool { return c.addr == val }
		case keyspace.EqualFold(opts[i], "laddr"):
			keep = func(c *session) bool { return c.laddr == val }
		case keyspace.EqualFold(opts[i], "type"):
			keep = func(c *session) bool { return strings.EqualFold(val, c.clientType()) }
		case keyspace.EqualFold(opts[i], "user"):
			keep = func(c *session) bool { return val == "default" }
		case keyspace.EqualFold(opts[i], "skipme"):
			switch strings.ToLower(val) {
			case "yes":
				skipme = true
			case "no":
				skipme = false
			default:
				s.w.Error(keyspace.ErrSyntax)
				return
			}
			continue
		default:
			s.w.Error(keyspace.ErrSyntax)
			return
		}
		if !filtered {
			match = s.srv.sessions()
			filtered = true
		}
		var kept []*session
		for _, c := range match {
			if keep(c) {
				kept = append(kept, c)
			}
		}
		match = kept
	}
	if len(opts)%2 != 0 {
		s.w.Error(keyspace.ErrSyntax)
		return
	}
	n := 0
	for _, c := range match {
		if c == s && skipme {
			continue
		}
		s.kill(c)
		n++
	}
	s.w.Int(int64(n))
}

func (s *session) kill(c *session) {
	if c == s {
		s.closing = true
		return
	}
	// Closing the socket makes the client's own goroutine end it.
	if nc := c.conn.NetConn(); nc != nil {
		_ = nc.Close()
	}
}

// writeHelp answers a HELP subcommand: one status line per line of text.
func (s *session) writeHelp(lines ...string) {
	s.w.Array(len(lines))
	for _, l := range lines {
		s.w.Status(l)
	}
}
