package proxy

import (
	"bytes"
	"context"
	"strconv"

	"github.com/schemaproxy/schemaproxy/backends"
	"github.com/schemaproxy/schemaproxy/command"
	"github.com/schemaproxy/schemaproxy/keyspace"
	"github.com/schemaproxy/schemaproxy/proto/resp"
	"github.com/schemaproxy/schemaproxy/pubsub"
	"github.com/schemaproxy/schemaproxy/txn"
)

// Pub/Sub: the proxy answers these commands itself, from its hub.
//
// A session gets a pubsub.Subscriber at its first subscription. From then
// on every reply leaves through it rather than through redcon, so that
// replies and messages reach the client in the order they were made: a
// subscription's confirmation before its first message, the confirmation
// of its end after its last. A command that changes what the session
// receives, or publishes to the session itself, holds the session's
// replies so far in the subscriber's queue inside the hub's critical
// section; the pipeline's end releases them once its writes are durable.

// allowedSubscribed reports whether a RESP2 client with subscriptions may
// run cmd: Redis 7.0's processCommand list.
func allowedSubscribed(cmd *command.Command) bool {
	switch cmd.Name {
	case "ping", "subscribe", "ssubscribe", "unsubscribe", "sunsubscribe",
		"psubscribe", "punsubscribe", "quit", "reset":
		return true
	}
	return false
}

// subscribedRESP2 reports whether the session is in the RESP2 subscribed
// state, where only allowedSubscribed commands run and PING answers an
// array.
func (s *session) subscribedRESP2() bool {
	return s.proto == 2 && s.sub != nil && s.sub.Subscribed()
}

// pubsubKind maps a command to the kind of subscription it works on.
func pubsubKind(name string) pubsub.Kind {
	switch name {
	case "psubscribe", "punsubscribe":
		return pubsub.Pattern
	case "ssubscribe", "sunsubscribe", "spublish":
		return pubsub.Shard
	}
	return pubsub.Channel
}

// pubsubCommand runs a Pub/Sub command in the hub's critical section.
func (s *session) pubsubCommand(cmd *command.Command, args [][]byte) {
	s.atomic(func(tx *pubsub.Tx) { s.pubsubLocked(tx, cmd, args) })
}

// ensureSub gives the session its subscriber: from now on its output goes
// through it.
func (s *session) ensureSub() {
	if s.sub != nil {
		return
	}
	nc := s.conn.NetConn()
	s.sub = s.srv.hub.NewSubscriber(nc, s.proto, "id="+strconv.FormatInt(s.id, 10)+" addr="+s.addr)
	s.shared.sub.Store(s.sub)
}

// holdOutput moves the session's replies so far into its subscriber's
// queue, ahead of whatever the hub delivers to it from now on.
func (s *session) holdOutput(tx *pubsub.Tx) {
	if s.sub != nil {
		tx.Hold(s.sub, s.w.B)
		s.w.Reset()
	}
}

// pubsubLocked runs a Pub/Sub command inside tx (directly, or in EXEC).
func (s *session) pubsubLocked(tx *pubsub.Tx, cmd *command.Command, args [][]byte) {
	w := &s.w
	kind := pubsubKind(cmd.Name)
	switch cmd.Name {
	case "subscribe", "psubscribe", "ssubscribe":
		if s.inExec && kind == pubsub.Shard {
			w.Error(errSSubscribeInExec)
			return
		}
		s.ensureSub()
		for _, name := range args[1:] {
			s.notice(cmd.Name, name, tx.Subscribe(s.sub, kind, name))
		}
		s.holdOutput(tx)
	case "unsubscribe", "punsubscribe", "sunsubscribe":
		names := args[1:]
		if s.sub == nil {
			// Never subscribed: confirm each name (or none) with count 0.
			if len(names) == 0 {
				s.notice(cmd.Name, nil, 0)
			}
			for _, name := range names {
				s.notice(cmd.Name, name, 0)
			}
			return
		}
		if len(names) == 0 {
			names = tx.Subscriptions(s.sub, kind)
			if len(names) == 0 {
				s.notice(cmd.Name, nil, s.confirmCount(kind))
			}
		}
		for _, name := range names {
			s.notice(cmd.Name, name, tx.Unsubscribe(s.sub, kind, name))
		}
		s.holdOutput(tx)
	case "publish", "spublish":
		// A message to the session itself goes after its replies so far
		// and before this one, as Redis writes it.
		s.holdOutput(tx)
		w.Int(int64(tx.Publish(kind, args[1], args[2])))
	case "pubsub":
		s.pubsubIntrospect(tx, args)
	}
}

// confirmCount is the count a confirmation of kind carries.
func (s *session) confirmCount(kind pubsub.Kind) int {
	c, p, sh := s.sub.Counts()
	if kind == pubsub.Shard {
		return sh
	}
	return c + p
}

// notice writes a subscribe/unsubscribe confirmation: a push in RESP3, an
// array in RESP2; name nil is the null of an UNSUBSCRIBE with nothing to
// end.
func (s *session) notice(word string, name []byte, count int) {
	w := &s.w
	w.Push(3)
	w.BulkString(word)
	if name == nil {
		w.Null()
	} else {
		w.Bulk(name)
	}
	w.Int(int64(count))
}

func (s *session) pubsubIntrospect(tx *pubsub.Tx, args [][]byte) {
	w := &s.w
	switch {
	case keyspace.EqualFold(args[1], "help") && len(args) == 2:
		s.writeHelp(
			"PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
			"CHANNELS [<pattern>]",
			"    Return the currently active channels matching a <pattern> (default: '*').",
			"NUMPAT",
			"    Return number of subscriptions to patterns.",
			"NUMSUB [<channel> ...]",
			"    Return the number of subscribers for the specified channels, excluding",
			"    pattern subscriptions(default: no channels).",
			"SHARDCHANNELS [<pattern>]",
			"    Return the currently active shard level channels matching a <pattern> (default: '*').",
			"SHARDNUMSUB [<shardchannel> ...]",
			"    Return the number of subscribers for the specified shard level channel(s)",
			"HELP",
			"    Prints this help.",
		)
	case (keyspace.EqualFold(args[1], "channels") || keyspace.EqualFold(args[1], "shardchannels")) && len(args) <= 3:
		kind := pubsub.Channel
		if keyspace.EqualFold(args[1], "shardchannels") {
			kind = pubsub.Shard
		}
		var pattern []byte
		if len(args) == 3 {
			pattern = args[2]
		}
		names := tx.Channels(kind, pattern)
		w.Array(len(names))
		for _, n := range names {
			w.Bulk(n)
		}
	case keyspace.EqualFold(args[1], "numsub") || keyspace.EqualFold(args[1], "shardnumsub"):
		kind := pubsub.Channel
		if keyspace.EqualFold(args[1], "shardnumsub") {
			kind = pubsub.Shard
		}
		w.Array(2 * (len(args) - 2))
		for _, name := range args[2:] {
			w.Bulk(name)
			w.Int(int64(tx.NumSub(kind, name)))
		}
	case keyspace.EqualFold(args[1], "numpat") && len(args) == 2:
		w.Int(int64(tx.NumPat()))
	default:
		w.Error(errPubSubSubcommand(args[1]))
	}
}

// execPlaceholder stands in the EXEC reply for a command that runs after
// the commit; runAfterCommit puts the command's own reply in its place.
var execPlaceholder = []byte(":0\r\n")

// afterCommit reports whether EXEC runs op after the commit rather than
// before: Pub/Sub commands (their messages and subscriptions exist only if
// the transaction runs), and PING and HELLO once Pub/Sub comes before them
// or the session has a subscriber (what they write depends on it).
// earlierAfter says whether an earlier op of the queue runs after the
// commit.
func (s *session) afterCommit(op *backends.Op, earlierAfter bool) bool {
	c := op.Cmd
	if c.Subcommands != nil && len(op.Args) > 1 {
		if sc := c.Subcommand(op.Args[1]); sc != nil {
			c = sc
		}
	}
	switch {
	case c.Is(command.PubSub):
		return true
	case op.Cmd.Name == "ping":
		return earlierAfter
	case op.Cmd.Name == "hello":
		return earlierAfter || s.sub != nil
	}
	return false
}

// runAfterCommit runs the ops of a committed EXEC that wait for the
// commit (indexes after), in one critical section of the hub, so that the
// transaction's messages arrive together. The EXEC reply from start on is
// rebuilt with their replies in their places; when it is not an array of
// the ops' replies (WATCH failed), nothing runs.
func (s *session) runAfterCommit(ctx context.Context, start int, ops []backends.Op, after []int) {
	w := &s.w
	reply := w.B[start:]
	end := bytes.Index(reply, []byte("\r\n"))
	if end < 1 || reply[0] != '*' || string(reply[1:end]) != strconv.Itoa(len(ops)) {
		return
	}
	hdr := end + 2
	saved := append([]byte(nil), reply...)
	w.B = append(w.B[:start], saved[:hdr]...)
	rest := saved[hdr:]
	s.inExec = true
	s.srv.hub.Atomic(func(tx *pubsub.Tx) {
		s.tx = tx
		defer func() { s.tx = nil }()
		next := 0
		for i := range ops {
			n, err := resp.Skip(rest)
			if err != nil {
				// The coordinator wrote one reply per op; a malformed one
				// would be a bug there. Pass the rest on untouched.
				w.Raw(rest)
				return
			}
			if next < len(after) && after[next] == i {
				next++
				op := &ops[i]
				if op.Cmd.Is(command.PubSub) || op.Cmd.Name == "pubsub" {
					s.pubsubLocked(tx, op.Cmd, op.Args)
				} else {
					s.connCommand(ctx, op.Cmd, op.Args)
				}
			} else {
				w.Raw(rest[:n])
			}
			rest = rest[n:]
		}
	})
	s.inExec = false
}

// atomic runs fn in the hub's critical section, which EXEC may hold
// already.
func (s *session) atomic(fn func(tx *pubsub.Tx)) {
	if s.tx != nil {
		fn(s.tx)
		return
	}
	s.srv.hub.Atomic(fn)
}

// scriptPublisher delivers the messages of a session's scripts
// (txn.Publisher): inside the hub's critical section, right after the
// script's commit, so that they follow the commits' order.
type scriptPublisher struct {
	s *session
	// hold moves the session's replies so far ahead of a message to
	// itself; not inside EXEC, whose reply is still being put together.
	hold bool
}

func (p scriptPublisher) Receivers(shard bool, channel []byte) int {
	kind := pubsub.Channel
	if shard {
		kind = pubsub.Shard
	}
	n := 0
	p.s.atomic(func(tx *pubsub.Tx) { n = tx.Receivers(kind, channel) })
	return n
}

func (p scriptPublisher) Commit(commit func() error, msgs []txn.Publication) error {
	var err error
	p.s.atomic(func(tx *pubsub.Tx) {
		if err = commit(); err != nil {
			return
		}
		if p.hold {
			p.s.holdOutput(tx)
		}
		for _, m := range msgs {
			kind := pubsub.Channel
			if m.Shard {
				kind = pubsub.Shard
			}
			tx.Publish(kind, m.Channel, m.Message)
		}
	})
	return err
}

// PublishKeyspaceEvents publishes keyspace notifications (the store calls
// it with each batch's events, in order): each event on
// __keyspace@<db>__:<key> with its name when K is on, and on
// __keyevent@<db>__:<name> with the key when E is.
func (srv *Server) PublishKeyspaceEvents(flags keyspace.NotifyFlags, events []keyspace.Event) {
	srv.hub.Atomic(func(tx *pubsub.Tx) {
		for _, e := range events {
			db := strconv.Itoa(e.DB)
			if flags&keyspace.NotifyKeyspace != 0 {
				tx.Publish(pubsub.Channel, []byte("__keyspace@"+db+"__:"+e.Key), []byte(e.Name))
			}
			if flags&keyspace.NotifyKeyevent != 0 {
				tx.Publish(pubsub.Channel, []byte("__keyevent@"+db+"__:"+e.Name), []byte(e.Key))
			}
		}
	})
}

// DeliverKeyspaceEvent hands this proxy's subscribers a keyspace event a
// Redis backend published (every proxy hears the backends itself: it is
// not forwarded to the others).
func (srv *Server) DeliverKeyspaceEvent(channel, message []byte) {
	srv.hub.Deliver(pubsub.Channel, channel, message)
}
