package pubsub

import (
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// Subscriber is one client connection of the hub. Once a connection has
// one, everything it is sent goes through it: its replies (Hold, Release)
// and the messages delivered to it, in the order they were made. A
// goroutine, started by NewSubscriber and ended by Close, writes them to
// the connection.
type Subscriber struct {
	hub  *Hub
	conn io.WriteCloser
	// name identifies the client in logs.
	name string

	// Guarded by hub.mu.
	sets  [numKinds]map[string]uint64 // name -> order of subscription
	seq   uint64
	proto int

	// counts mirror len(sets[k]) for readers outside the hub (CLIENT LIST).
	counts [numKinds]atomic.Int32

	out      outbox
	done     chan struct{} // closed when the writer has returned
	closeOne sync.Once
}

// outbox is what waits to be written to the client.
type outbox struct {
	mu     sync.Mutex // guards the fields below
	chunks [][]byte   // in order; each is immutable once queued
	// holding is set from a Hold until Release: then only chunks[:free]
	// may be written.
	holding bool
	free    int
	// queued counts the bytes queued or being written: the output buffer
	// the limits apply to.
	queued    int64
	softSince time.Time // when queued first stayed at or above the soft limit
	state     outState

	pending atomic.Int64  // mirrors queued for CLIENT LIST's omem
	wake    chan struct{} // capacity 1: the writer has work, or must stop
}

type outState uint8

const (
	outOpen     outState = iota
	outDraining          // write what is queued, then close the connection (QUIT)
	outClosed            // nothing more is written
)

// NewSubscriber returns a subscriber writing to conn in protocol proto (2
// or 3), with no subscriptions yet. name labels it in logs.
func (h *Hub) NewSubscriber(conn io.WriteCloser, proto int, name string) *Subscriber {
	s := &Subscriber{hub: h, conn: conn, name: name, proto: proto, done: make(chan struct{})}
	for k := range s.sets {
		s.sets[k] = map[string]uint64{}
	}
	s.out.wake = make(chan struct{}, 1)
	go s.writeLoop()
	return s
}

// Counts returns the number of channels, patterns and shard channels s
// is subscribed to. It may be called from any goroutine.
func (s *Subscriber) Counts() (channels, patterns, shards int) {
	return int(s.counts[Channel].Load()), int(s.counts[Pattern].Load()), int(s.counts[Shard].Load())
}

// Subscribed reports whether s has any subscription: the state in which a
// RESP2 client may only run the Pub/Sub commands, PING, QUIT and RESET.
func (s *Subscriber) Subscribed() bool {
	c, p, sh := s.Counts()
	return c+p+sh > 0
}

// Pending is the number of bytes waiting to be written to the client.
func (s *Subscriber) Pending() int64 { return s.out.pending.Load() }

func (s *Subscriber) confirmCount(kind Kind) int {
	if kind == Shard {
		return len(s.sets[Shard])
	}
	return len(s.sets[Channel]) + len(s.sets[Pattern])
}

// proto3 is 1 for a RESP3 subscriber, 0 for RESP2 (hub.mu held).
func (s *Subscriber) proto3() int {
	if s.proto == 3 {
		return 1
	}
	return 0
}

// Release queues b, the rest of a pipeline's replies, and lets everything
// queued go out.
func (s *Subscriber) Release(b []byte) {
	o := &s.out
	o.mu.Lock()
	if o.state != outOpen {
		o.mu.Unlock()
		return
	}
	if len(b) > 0 {
		o.append(append([]byte(nil), b...))
	}
	o.holding = false
	cut := s.overLimitLocked()
	o.mu.Unlock()
	if cut {
		s.cut()
		return
	}
	o.signal()
}

// CloseWhenDrained has the writer close the connection once everything
// released has been written (QUIT). Nothing queued after it is sent.
func (s *Subscriber) CloseWhenDrained() {
	o := &s.out
	o.mu.Lock()
	if o.state == outOpen {
		o.state = outDraining
	}
	o.mu.Unlock()
	o.signal()
}

// Close ends s: its subscriptions, its queue, its connection and its
// writer, which it waits for. It is safe to call more than once.
func (s *Subscriber) Close() {
	s.closeOne.Do(func() {
		s.hub.Atomic(func(tx *Tx) { tx.UnsubscribeAll(s) })
		o := &s.out
		o.mu.Lock()
		o.state = outClosed
		o.drop()
		o.mu.Unlock()
		o.signal()
		// Unblocks a write in progress; the connection's owner closes it
		// too, and a second close is harmless.
		_ = s.conn.Close()
		<-s.done
	})
}

// hold queues b to go out before anything queued after it, but not before
// Release (hub.mu held).
func (s *Subscriber) hold(b []byte) {
	o := &s.out
	o.mu.Lock()
	if o.state != outOpen {
		o.mu.Unlock()
		return
	}
	if !o.holding {
		o.holding, o.free = true, len(o.chunks)
	}
	o.append(append([]byte(nil), b...))
	cut := s.overLimitLocked()
	o.mu.Unlock()
	if cut {
		s.cut()
	}
}

// deliver queues a message, shared with other subscribers and never
// modified (hub.mu held). It never waits for the client.
func (s *Subscriber) deliver(b []byte) {
	o := &s.out
	o.mu.Lock()
	if o.state != outOpen {
		o.mu.Unlock()
		return
	}
	o.append(b)
	cut := s.overLimitLocked()
	o.mu.Unlock()
	if cut {
		s.cut()
		return
	}
	o.signal()
}

func (o *outbox) append(b []byte) {
	o.chunks = append(o.chunks, b)
	o.queued += int64(len(b))
	o.pending.Store(o.queued)
}

// drop forgets everything queued (o.mu held).
func (o *outbox) drop() {
	o.chunks, o.holding, o.free = nil, false, 0
	o.queued = 0
	o.pending.Store(0)
}

func (o *outbox) signal() {
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

// overLimitLocked applies the output limits as Redis's
// checkClientOutputBufferLimits does for the pubsub class, which is the
// class of a client with a subscription (out.mu held). Reaching a limit
// closes the outbox; the caller then cuts the connection.
func (s *Subscriber) overLimitLocked() bool {
	o := &s.out
	cfg := &s.hub.cfg
	if !s.Subscribed() {
		o.softSince = time.Time{}
		return false
	}
	over := cfg.HardLimit > 0 && o.queued >= cfg.HardLimit
	if !over && cfg.SoftLimit > 0 && o.queued >= cfg.SoftLimit {
		now := cfg.Now()
		if o.softSince.IsZero() {
			o.softSince = now
		} else {
			over = now.Sub(o.softSince) > cfg.SoftFor
		}
	} else if !over {
		o.softSince = time.Time{}
	}
	if over {
		s.hub.log.Warn("client closed for overcoming of output buffer limits",
			"client", s.name, "queued_bytes", o.queued)
		o.state = outClosed
		o.drop()
	}
	return over
}

// cut disconnects the client after a limit was reached: its connection's
// owner sees the socket close and ends the session (and calls Close).
func (s *Subscriber) cut() {
	s.out.signal()
	_ = s.conn.Close()
}

// writeLoop writes what is queued, in order, until s is closed. It is the
// only goroutine that writes to the connection once s exists.
func (s *Subscriber) writeLoop() {
	defer close(s.done)
	o := &s.out
	var batch [][]byte
	var buf []byte
	for {
		o.mu.Lock()
		n := len(o.chunks)
		if o.holding {
			n = o.free
		}
		switch {
		case o.state == outClosed:
			o.mu.Unlock()
			return
		case n == 0 && o.state == outDraining && len(o.chunks) == 0:
			o.state = outClosed
			o.mu.Unlock()
			_ = s.conn.Close()
			return
		case n == 0:
			o.mu.Unlock()
			<-o.wake
			continue
		}
		batch = append(batch[:0], o.chunks[:n]...)
		m := copy(o.chunks, o.chunks[n:])
		clear(o.chunks[m:])
		o.chunks = o.chunks[:m]
		if o.holding {
			o.free -= n
		}
		o.mu.Unlock()

		buf = buf[:0]
		for _, c := range batch {
			buf = append(buf, c...)
		}
		clear(batch)
		_, err := s.conn.Write(buf)

		o.mu.Lock()
		if err != nil {
			o.state = outClosed
			o.drop()
			o.mu.Unlock()
			_ = s.conn.Close()
			return
		}
		if o.state != outClosed {
			o.queued -= int64(len(buf))
			o.pending.Store(o.queued)
			if o.queued < s.hub.cfg.SoftLimit {
				// The client caught up: a later burst starts a new soft
				// period (Redis notices only at its next reply).
				o.softSince = time.Time{}
			}
		}
		queued := o.queued
		o.mu.Unlock()
		if f := s.hub.cfg.AfterWrite; f != nil {
			f(queued)
		}
		if cap(buf) > 1<<20 {
			// One burst must not pin its size for the connection's life.
			buf = nil
		}
	}
}
