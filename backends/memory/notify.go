package memory

import (
	"sync/atomic"

	"github.com/schemaproxy/schemaproxy/keyspace"
)

// notifier is the store's keyspace notifications: the classes on and the
// function that publishes a batch's events. The shards gather events while
// a class is on (keyspace.Ctx.Notify) and hand them out under their lock
// at the end of each batch or expiry sweep.
type notifier struct {
	flags   atomic.Uint32 // keyspace.NotifyFlags; 0 when nothing is published
	publish atomic.Pointer[func(events []keyspace.Event)]
}

// classes are the event classes the shards gather now.
func (n *notifier) classes() keyspace.NotifyFlags {
	return keyspace.NotifyFlags(n.flags.Load())
}

// SetNotify sets notify-keyspace-events and who publishes the events
// (called under the shard's lock; it must not block). Classes without a
// channel kind (K or E) publish nothing, as in Redis, and gather nothing.
func (st *Store) SetNotify(flags keyspace.NotifyFlags, publish func(events []keyspace.Event)) {
	ev := st.shards[0].events
	if publish != nil {
		ev.publish.Store(&publish)
	}
	if !flags.Publishes() || ev.publish.Load() == nil {
		flags = 0
	}
	ev.flags.Store(uint32(flags))
}

// eventLocked records an event the store made itself (expired, evicted).
func (s *Shard) eventLocked(class keyspace.NotifyFlags, name string, db int, key string) {
	if s.events.classes()&class != 0 {
		s.cctx.Events = append(s.cctx.Events, keyspace.Event{Class: class, Name: name, DB: db, Key: key})
	}
}

// flushEventsLocked publishes the events gathered so far.
func (s *Shard) flushEventsLocked() {
	if len(s.cctx.Events) == 0 {
		return
	}
	if p := s.events.publish.Load(); p != nil {
		(*p)(s.cctx.Events)
	}
	clear(s.cctx.Events)
	s.cctx.Events = s.cctx.Events[:0]
}

// Notifier gives the coordinator the store's event classes and publisher,
// for the commands it runs on copies (txn.Notifier).
func (st *Store) Notifier() StoreNotifier { return StoreNotifier{st.shards[0].events} }

// StoreNotifier is the store's notifier as the coordinator uses it.
type StoreNotifier struct{ n *notifier }

// Classes are the classes gathered now.
func (s StoreNotifier) Classes() keyspace.NotifyFlags { return s.n.classes() }

// Publish publishes events.
func (s StoreNotifier) Publish(events []keyspace.Event) {
	if p := s.n.publish.Load(); p != nil {
		(*p)(events)
	}
}
