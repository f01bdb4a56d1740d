// Package blocking keeps the clients blocked on keys (BLPOP and its kin,
// XREAD BLOCK) and wakes them when a key they wait on is written.
//
// Each key has a queue of its waiters in the order they blocked. A signal
// on a key (a committed write touched it) marks the first waiter of the
// queue that pops (lists, sorted sets) and every stream reader (which
// consume nothing) ready, and wakes them. A woken waiter takes its ready
// keys and runs its command again, as one transaction, on those keys
// only; served, it leaves every queue and passes the signal on to the
// next waiter of each key it had been signalled on (data may remain);
// not served (someone else took the data), it waits again in its place.
// So a push is never lost (the signal comes after the commit, and the
// waiter's run reads after it), never delivered twice (the run pops
// atomically), and waiters on a key are served in the order they
// blocked.
//
// The package holds no data and runs nothing: the proxy registers
// waiters, runs the commands and sends the signals.
package blocking

import (
	"sync"
	"sync/atomic"
)

// Key is a key in a database.
type Key struct {
	DB  int
	Key string
}

// Reason is why a waiter was unblocked by another client (CLIENT UNBLOCK).
type Reason uint8

const (
	// None: not unblocked.
	None Reason = iota
	// Timeout: answer as if the timeout had passed.
	Timeout
	// Error: answer the UNBLOCKED error.
	Error
)

// Registry is the set of blocked clients of a server.
type Registry struct {
	// count is the number of waiters, read without mu by Signal's fast
	// path: a waiter counts before its first run after registering, so a
	// write that reads 0 after its commit is seen by that run.
	count atomic.Int64

	mu     sync.Mutex // guards queues, byID and every waiter's slots and reason
	queues map[Key]*queue
	byID   map[int64]*Waiter
}

// New returns an empty registry.
func New() *Registry {
	return &Registry{queues: map[Key]*queue{}, byID: map[int64]*Waiter{}}
}

type queue struct{ head, tail *slot }

// slot is a waiter's place in one key's queue.
type slot struct {
	w          *Waiter
	key        Key
	ready      bool
	prev, next *slot
}

// Waiter is one blocked client.
type Waiter struct {
	r      *Registry
	id     int64
	stream bool
	wake   chan struct{}
	slots  []slot
	reason Reason // guarded by r.mu
	done   bool   // guarded by r.mu
}

// Block registers client id as waiting on keys (each once, in order);
// stream says it reads streams (it is woken by every signal on them). The
// caller must end it with Done.
func (r *Registry) Block(id int64, keys []Key, stream bool) *Waiter {
	w := &Waiter{r: r, id: id, stream: stream, wake: make(chan struct{}, 1), slots: make([]slot, len(keys))}
	r.mu.Lock()
	for i, k := range keys {
		s := &w.slots[i]
		s.w, s.key = w, k
		q := r.queues[k]
		if q == nil {
			q = &queue{}
			r.queues[k] = q
		}
		if q.tail == nil {
			q.head, q.tail = s, s
		} else {
			s.prev, q.tail.next, q.tail = q.tail, s, s
		}
	}
	r.byID[id] = w
	r.mu.Unlock()
	r.count.Add(1)
	return w
}

// Blocked is the number of blocked clients.
func (r *Registry) Blocked() int { return int(r.count.Load()) }

// IsBlocked reports whether client id is blocked.
func (r *Registry) IsBlocked(id int64) bool {
	if r.count.Load() == 0 {
		return false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.byID[id]
	return ok
}

// Signal tells the waiters of key in db that it was written.
func (r *Registry) Signal(db int, key []byte) {
	if r.count.Load() == 0 {
		return
	}
	r.mu.Lock()
	if q := r.queues[Key{db, string(key)}]; q != nil {
		q.signalLocked()
	}
	r.mu.Unlock()
}

// SignalAll signals every key with waiters (SWAPDB and the like).
func (r *Registry) SignalAll() {
	if r.count.Load() == 0 {
		return
	}
	r.mu.Lock()
	for _, q := range r.queues {
		q.signalLocked()
	}
	r.mu.Unlock()
}

// signalLocked readies the first popping waiter and every stream reader.
func (q *queue) signalLocked() {
	popper := false
	for s := q.head; s != nil; s = s.next {
		if s.w.stream {
			s.readyLocked()
		} else if !popper {
			popper = true
			s.readyLocked()
		}
	}
}

func (s *slot) readyLocked() {
	s.ready = true
	select {
	case s.w.wake <- struct{}{}:
	default:
	}
}

// Unblock ends client id's wait for reason, as CLIENT UNBLOCK does; it
// reports whether the client was blocked.
func (r *Registry) Unblock(id int64, reason Reason) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	w := r.byID[id]
	if w == nil || w.reason != None {
		return false
	}
	w.reason = reason
	select {
	case w.wake <- struct{}{}:
	default:
	}
	return true
}

// Wake is the waiter's channel: it receives when there is something to
// Take.
func (w *Waiter) Wake() <-chan struct{} { return w.wake }

// Take returns the indexes (in the keys given to Block) of the keys
// signalled since the last Take, clearing them, and the reason if another
// client unblocked the waiter.
func (w *Waiter) Take(ready []int) ([]int, Reason) {
	w.r.mu.Lock()
	defer w.r.mu.Unlock()
	for i := range w.slots {
		if w.slots[i].ready {
			w.slots[i].ready = false
			ready = append(ready, i)
		}
	}
	return ready, w.reason
}

// Poll readies the keys on which w is the one a signal would wake, as if
// each had been signalled, and reports whether there was any: where
// writes may come from elsewhere (other proxies on the same Redis
// servers), a waiter looks again from time to time, still in its turn.
func (w *Waiter) Poll() bool {
	w.r.mu.Lock()
	defer w.r.mu.Unlock()
	any := false
	for i := range w.slots {
		s := &w.slots[i]
		if w.stream || s.firstPopperLocked() {
			s.ready, any = true, true
		}
	}
	return any
}

// firstPopperLocked reports whether s is its queue's first popping waiter.
func (s *slot) firstPopperLocked() bool {
	for p := s.prev; p != nil; p = p.prev {
		if !p.w.stream {
			return false
		}
	}
	return true
}

// Done removes w from every queue. served says its last run was served,
// after taking the keys at indexes taken: their signals pass on to the
// next waiters, as do signals that came since and were not taken.
func (w *Waiter) Done(served bool, taken []int) {
	r := w.r
	r.mu.Lock()
	if w.done {
		r.mu.Unlock()
		return
	}
	w.done = true
	pass := make([]bool, len(w.slots))
	if served {
		for _, i := range taken {
			pass[i] = true
		}
	}
	for i := range w.slots {
		s := &w.slots[i]
		if s.ready {
			pass[i] = true
		}
		q := r.queues[s.key]
		if s.prev == nil {
			q.head = s.next
		} else {
			s.prev.next = s.next
		}
		if s.next == nil {
			q.tail = s.prev
		} else {
			s.next.prev = s.prev
		}
		s.prev, s.next = nil, nil
		if q.head == nil {
			delete(r.queues, s.key)
		}
	}
	for i := range w.slots {
		if q := r.queues[w.slots[i].key]; pass[i] && q != nil {
			q.signalLocked()
		}
	}
	delete(r.byID, w.id)
	r.mu.Unlock()
	r.count.Add(-1)
}
