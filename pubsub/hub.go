// Package pubsub is the proxy's Pub/Sub hub: which client listens to which
// channel, pattern and shard channel, and the delivery of published
// messages to them, encoded as Redis 7.0 sends them (RESP2 arrays or RESP3
// pushes), without a publisher ever waiting for a slow subscriber.
//
// Every change to the subscriptions and every delivery happens inside the
// hub's one critical section (Hub.Atomic), which is what orders messages:
// all subscribers see the messages of a channel in the same order, those of
// one publisher in the order it published them, a MULTI's messages
// together, and none before the confirmation of the subscription they
// arrive by or after the confirmation of its end.
//
// Each Subscriber owns a queue and a goroutine that writes it to the
// client's socket: a delivery only appends to the queue. The queue is
// bounded as Redis bounds a pubsub client's output buffer (Config): a
// subscriber that falls too far behind is disconnected.
//
// Subscriptions live in this process only; the hub keeps no other state.
// A cluster of proxies forwards what is published here (Config.Forward) and
// delivers what the others publish (Deliver); PUBLISH counts the receivers
// of this proxy, as Redis Cluster counts those of one node.
package pubsub

import (
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/schemaproxy/schemaproxy/keyspace"
	"github.com/schemaproxy/schemaproxy/proto/resp"
)

// Kind is what a subscription names.
type Kind uint8

// The kinds of subscription.
const (
	Channel Kind = iota // SUBSCRIBE: a channel name
	Pattern             // PSUBSCRIBE: a glob over channel names
	Shard               // SSUBSCRIBE: a shard channel (SPUBLISH)
	numKinds
)

// Hub holds the subscriptions of every client of one proxy.
type Hub struct {
	cfg Config
	log *slog.Logger

	mu sync.Mutex // guards the maps below, every Subscriber's sets and protocol, and orders deliveries
	// subs holds, per kind, the subscribers of each name.
	subs [numKinds]map[string]map[*Subscriber]struct{}
	tx   Tx
}

// New returns an empty hub. It panics on a negative limit, a programming
// error (configuration is checked where it is read).
func New(cfg Config) *Hub {
	if err := cfg.validate(); err != nil {
		panic(err)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	h := &Hub{cfg: cfg, log: cfg.Logger}
	for k := range h.subs {
		h.subs[k] = map[string]map[*Subscriber]struct{}{}
	}
	h.tx.h = h
	return h
}

// Atomic runs fn with the hub to itself: nothing is published, subscribed
// or delivered meanwhile. fn must not block.
func (h *Hub) Atomic(fn func(tx *Tx)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	fn(&h.tx)
}

// Deliver hands a message published on another proxy to this one's
// subscribers and returns how many received it. It is not forwarded again.
func (h *Hub) Deliver(kind Kind, channel, message []byte) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.deliverLocked(kind, channel, message)
}

// Tx is the hub inside Atomic. It is valid only during the call.
type Tx struct{ h *Hub }

// Subscribe adds name to s's subscriptions of kind (nothing changes if it
// is there already) and returns the count Redis confirms with: channels
// plus patterns for those kinds, shard channels for Shard.
func (tx *Tx) Subscribe(s *Subscriber, kind Kind, name []byte) int {
	h := tx.h
	if _, ok := s.sets[kind][string(name)]; !ok {
		key := string(name)
		s.seq++
		s.sets[kind][key] = s.seq
		s.counts[kind].Store(int32(len(s.sets[kind])))
		subs := h.subs[kind][key]
		if subs == nil {
			subs = map[*Subscriber]struct{}{}
			h.subs[kind][key] = subs
		}
		subs[s] = struct{}{}
	}
	return s.confirmCount(kind)
}

// Unsubscribe removes name from s's subscriptions of kind, if there, and
// returns the count Redis confirms with (see Subscribe).
func (tx *Tx) Unsubscribe(s *Subscriber, kind Kind, name []byte) int {
	h := tx.h
	if _, ok := s.sets[kind][string(name)]; ok {
		delete(s.sets[kind], string(name))
		s.counts[kind].Store(int32(len(s.sets[kind])))
		subs := h.subs[kind][string(name)]
		delete(subs, s)
		if len(subs) == 0 {
			// An unused name goes at once, so that clients cannot grow
			// the hub by subscribing to ever new names.
			delete(h.subs[kind], string(name))
		}
	}
	return s.confirmCount(kind)
}

// Subscriptions returns s's subscriptions of kind in the order they were
// made: what a bare UNSUBSCRIBE walks.
func (tx *Tx) Subscriptions(s *Subscriber, kind Kind) [][]byte {
	type named struct {
		name string
		seq  uint64
	}
	all := make([]named, 0, len(s.sets[kind]))
	for n, seq := range s.sets[kind] {
		all = append(all, named{n, seq})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].seq < all[j].seq })
	out := make([][]byte, len(all))
	for i, n := range all {
		out[i] = []byte(n.name)
	}
	return out
}

// UnsubscribeAll ends every subscription of s without confirmations, as
// RESET and a disconnect do.
func (tx *Tx) UnsubscribeAll(s *Subscriber) {
	for k := range numKinds {
		for name := range s.sets[k] {
			tx.Unsubscribe(s, k, []byte(name))
		}
	}
}

// Publish delivers message on channel (kind Channel, also to matching
// patterns, or Shard) and returns the number of receivers, as PUBLISH
// and SPUBLISH reply: one per subscription that matched.
func (tx *Tx) Publish(kind Kind, channel, message []byte) int {
	h := tx.h
	n := h.deliverLocked(kind, channel, message)
	if h.cfg.Forward != nil {
		h.cfg.Forward(kind, channel, message)
	}
	return n
}

// Receivers counts the subscriptions a message on channel (kind Channel,
// with the patterns it matches, or Shard) would reach now: what PUBLISH
// answers, for a message delivered later (a script's, at its commit).
func (tx *Tx) Receivers(kind Kind, channel []byte) int {
	n := len(tx.h.subs[kind][string(channel)])
	if kind == Shard {
		return n
	}
	for pat, subs := range tx.h.subs[Pattern] {
		if keyspace.Match([]byte(pat), channel) {
			n += len(subs)
		}
	}
	return n
}

// Hold queues b, bytes s's client must receive before anything delivered
// to it from now on (its earlier replies and a subscription's
// confirmation), held back until s.Release: a pipeline's replies leave
// only once its writes are durable.
func (tx *Tx) Hold(s *Subscriber, b []byte) {
	if len(b) > 0 {
		s.hold(b)
	}
}

// SetProto changes the protocol s's messages are encoded in (HELLO, RESET).
func (tx *Tx) SetProto(s *Subscriber, proto int) { s.proto = proto }

// Channels returns the names of kind (Channel or Shard) that have
// subscribers and match pattern (all of them when pattern is nil), as
// PUBSUB CHANNELS and SHARDCHANNELS list them: in no particular order.
func (tx *Tx) Channels(kind Kind, pattern []byte) [][]byte {
	var out [][]byte
	for name := range tx.h.subs[kind] {
		if pattern == nil || keyspace.Match(pattern, []byte(name)) {
			out = append(out, []byte(name))
		}
	}
	return out
}

// NumSub is the number of subscribers of name (kind Channel or Shard),
// patterns aside, as PUBSUB NUMSUB counts.
func (tx *Tx) NumSub(kind Kind, name []byte) int { return len(tx.h.subs[kind][string(name)]) }

// NumPat is the number of distinct patterns subscribed to (PUBSUB NUMPAT).
func (tx *Tx) NumPat() int { return tx.Names(Pattern) }

// Names is the number of distinct names of kind subscribed to (INFO's
// pubsub_channels, pubsub_patterns, pubsubshard_channels).
func (tx *Tx) Names(kind Kind) int { return len(tx.h.subs[kind]) }

// deliverLocked queues the message for every subscription it matches and
// counts them. Each encoding is built once and shared by the subscribers
// that read that protocol.
func (h *Hub) deliverLocked(kind Kind, channel, message []byte) int {
	n := 0
	var enc [2][]byte // RESP2, RESP3
	word := "message"
	if kind == Shard {
		word = "smessage"
	}
	for s := range h.subs[kind][string(channel)] {
		p := s.proto3()
		if enc[p] == nil {
			w := resp.Writer{Proto: 2 + p}
			w.Push(3)
			w.BulkString(word)
			w.Bulk(channel)
			w.Bulk(message)
			enc[p] = w.B
		}
		s.deliver(enc[p])
		n++
	}
	if kind == Shard {
		// Shard channels ignore patterns, as in Redis.
		return n
	}
	for pat, subs := range h.subs[Pattern] {
		if !keyspace.Match([]byte(pat), channel) {
			continue
		}
		var penc [2][]byte
		for s := range subs {
			p := s.proto3()
			if penc[p] == nil {
				w := resp.Writer{Proto: 2 + p}
				w.Push(4)
				w.BulkString("pmessage")
				w.BulkString(pat)
				w.Bulk(channel)
				w.Bulk(message)
				penc[p] = w.B
			}
			s.deliver(penc[p])
			n++
		}
	}
	return n
}
