package pubsub

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/schemaproxy/schemaproxy/proto/resp"
)

// fakeConn is a client socket: it records what is written, and with a
// gate it accepts a write only per token, as a client that stopped
// reading does once the kernel buffers are full.
type fakeConn struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	closed bool
	gate   chan struct{}
	done   chan struct{} // closed by Close
	wrote  chan struct{} // a token per write or close, for waiters
}

func newFakeConn(gated bool) *fakeConn {
	c := &fakeConn{done: make(chan struct{}), wrote: make(chan struct{}, 1)}
	if gated {
		c.gate = make(chan struct{})
	}
	return c
}

var errClosed = errors.New("fake conn closed")

func (c *fakeConn) Write(b []byte) (int, error) {
	if c.gate != nil {
		select {
		case <-c.gate:
		case <-c.done:
			return 0, errClosed
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return 0, errClosed
	}
	c.buf.Write(b)
	c.notify()
	return len(b), nil
}

func (c *fakeConn) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.closed {
		c.closed = true
		close(c.done)
		c.notify()
	}
	return nil
}

func (c *fakeConn) notify() {
	select {
	case c.wrote <- struct{}{}:
	default:
	}
}

func (c *fakeConn) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.String()
}

func (c *fakeConn) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.Len()
}

func (c *fakeConn) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// waitFor waits until cond holds of what was written (and whether the
// conn is closed), woken by each write rather than by polling.
func (c *fakeConn) waitFor(t *testing.T, what string, cond func(out string, closed bool) bool) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		c.mu.Lock()
		ok := cond(c.buf.String(), c.closed)
		c.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-c.wrote:
		case <-timeout:
			out := c.String()
			if len(out) > 300 {
				out = out[:150] + "..." + out[len(out)-150:]
			}
			t.Fatalf("timed out waiting for %s; have %d bytes: %q", what, c.Len(), out)
		}
	}
}

func quietConfig() Config {
	cfg := DefaultConfig()
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	return cfg
}

func msg(proto int, kind, channel, payload string) string {
	w := resp.Writer{Proto: proto}
	w.Push(3)
	w.BulkString(kind)
	w.BulkString(channel)
	w.BulkString(payload)
	return string(w.B)
}

func pmsg(proto int, pattern, channel, payload string) string {
	w := resp.Writer{Proto: proto}
	w.Push(4)
	w.BulkString("pmessage")
	w.BulkString(pattern)
	w.BulkString(channel)
	w.BulkString(payload)
	return string(w.B)
}

func TestPublishCountsAndEncodings(t *testing.T) {
	h := New(quietConfig())
	c2, c3 := newFakeConn(false), newFakeConn(false)
	s2 := h.NewSubscriber(c2, 2, "s2")
	s3 := h.NewSubscriber(c3, 3, "s3")
	defer s2.Close()
	defer s3.Close()
	var n int
	h.Atomic(func(tx *Tx) {
		if got := tx.Subscribe(s2, Channel, []byte("news")); got != 1 {
			t.Errorf("first subscription counts %d", got)
		}
		if got := tx.Subscribe(s2, Channel, []byte("news")); got != 1 {
			t.Errorf("a repeated subscription counts %d", got)
		}
		if got := tx.Subscribe(s2, Pattern, []byte("n*")); got != 2 {
			t.Errorf("channels and patterns count together: %d", got)
		}
		if got := tx.Subscribe(s2, Shard, []byte("news")); got != 1 {
			t.Errorf("shard channels count apart: %d", got)
		}
		tx.Subscribe(s3, Channel, []byte("news"))
		tx.Subscribe(s3, Pattern, []byte("x*"))
		n = tx.Publish(Channel, []byte("news"), []byte("hello"))
	})
	if n != 3 {
		t.Fatalf("PUBLISH counted %d receivers, want 3 (two channel subscribers and one pattern)", n)
	}
	c2.waitFor(t, "s2's messages", func(out string, _ bool) bool {
		return strings.Contains(out, msg(2, "message", "news", "hello")) && strings.Contains(out, pmsg(2, "n*", "news", "hello"))
	})
	c3.waitFor(t, "s3's push", func(out string, _ bool) bool { return out == msg(3, "message", "news", "hello") })
	h.Atomic(func(tx *Tx) { n = tx.Publish(Shard, []byte("news"), []byte("s")) })
	if n != 1 {
		t.Fatalf("SPUBLISH counted %d, want 1: shard channels ignore patterns", n)
	}
	c2.waitFor(t, "smessage", func(out string, _ bool) bool { return strings.HasSuffix(out, msg(2, "smessage", "news", "s")) })
}

func TestIntrospection(t *testing.T) {
	h := New(quietConfig())
	a := h.NewSubscriber(newFakeConn(false), 2, "a")
	b := h.NewSubscriber(newFakeConn(false), 2, "b")
	defer a.Close()
	defer b.Close()
	h.Atomic(func(tx *Tx) {
		tx.Subscribe(a, Channel, []byte("foo"))
		tx.Subscribe(a, Channel, []byte("bar"))
		tx.Subscribe(b, Channel, []byte("foo"))
		tx.Subscribe(a, Channel, []byte(""))
		tx.Subscribe(a, Pattern, []byte("f*"))
		tx.Subscribe(b, Pattern, []byte("f*"))
		tx.Subscribe(b, Pattern, []byte("b?r"))
		tx.Subscribe(b, Shard, []byte("sh"))
	})
	h.Atomic(func(tx *Tx) {
		if got := names(tx.Channels(Channel, nil)); got != "[ bar foo]" {
			t.Errorf("CHANNELS: %s", got)
		}
		// "*" is stringmatchlen's: it does not match the empty name.
		if got := names(tx.Channels(Channel, []byte("*"))); got != "[bar foo]" {
			t.Errorf("CHANNELS *: %s", got)
		}
		if got := names(tx.Channels(Channel, []byte("f[o]o"))); got != "[foo]" {
			t.Errorf("CHANNELS f[o]o: %s", got)
		}
		if got := names(tx.Channels(Shard, nil)); got != "[sh]" {
			t.Errorf("SHARDCHANNELS: %s", got)
		}
		if tx.NumSub(Channel, []byte("foo")) != 2 || tx.NumSub(Channel, []byte("bar")) != 1 || tx.NumSub(Channel, []byte("f*")) != 0 {
			t.Error("NUMSUB counts")
		}
		if tx.NumPat() != 2 {
			t.Errorf("NUMPAT counts distinct patterns: %d", tx.NumPat())
		}
		if got := fmt.Sprintf("%q", tx.Subscriptions(a, Channel)); got != `["foo" "bar" ""]` {
			t.Errorf("subscription order lost: %s", got)
		}
	})
	if c, p, s := a.Counts(); c != 3 || p != 1 || s != 0 {
		t.Errorf("a counts %d %d %d", c, p, s)
	}
	a.Close()
	h.Atomic(func(tx *Tx) {
		if tx.NumSub(Channel, []byte("foo")) != 1 || tx.NumSub(Channel, []byte("bar")) != 0 || tx.NumPat() != 2 {
			t.Error("a closed subscriber is still counted")
		}
	})
	b.Close()
	for k := range numKinds {
		if len(h.subs[k]) != 0 {
			t.Errorf("kind %d: %d names left after every subscriber closed", k, len(h.subs[k]))
		}
	}
}

func names(bs [][]byte) string {
	s := make([]string, len(bs))
	for i, b := range bs {
		s[i] = string(b)
	}
	sort.Strings(s)
	return fmt.Sprint(s)
}

// TestHoldOrders: a confirmation held inside the critical section goes out
// before any message delivered after it, and nothing held goes out before
// Release.
func TestHoldOrders(t *testing.T) {
	h := New(quietConfig())
	c := newFakeConn(false)
	s := h.NewSubscriber(c, 2, "s")
	defer s.Close()
	h.Atomic(func(tx *Tx) {
		tx.Subscribe(s, Channel, []byte("ch"))
		tx.Hold(s, []byte("+earlier\r\n*confirm\r\n"))
	})
	h.Atomic(func(tx *Tx) { tx.Publish(Channel, []byte("ch"), []byte("m1")) })
	h.Atomic(func(tx *Tx) {
		tx.Unsubscribe(s, Channel, []byte("ch"))
		tx.Hold(s, []byte("*unconfirm\r\n"))
	})
	h.Atomic(func(tx *Tx) { tx.Publish(Channel, []byte("ch"), []byte("m2")) })
	if got := c.String(); got != "" {
		t.Fatalf("held output went out before Release: %q", got)
	}
	s.Release([]byte("+last\r\n"))
	want := "+earlier\r\n*confirm\r\n" + msg(2, "message", "ch", "m1") + "*unconfirm\r\n+last\r\n"
	c.waitFor(t, "released output", func(out string, _ bool) bool { return len(out) >= len(want) })
	if got := c.String(); got != want {
		t.Fatalf("got %q\nwant %q", got, want)
	}
}

// TestHardLimitCutsOnlyTheSlow: a subscriber that does not read is cut off
// once its queue reaches the hard limit, while a reading one keeps getting
// every message; the publisher never waits.
func TestHardLimitCutsOnlyTheSlow(t *testing.T) {
	cfg := quietConfig()
	cfg.HardLimit, cfg.SoftLimit = 64<<10, 0
	h := New(cfg)
	slowConn, fastConn := newFakeConn(true), newFakeConn(false)
	slow := h.NewSubscriber(slowConn, 2, "slow")
	fast := h.NewSubscriber(fastConn, 2, "fast")
	defer slow.Close()
	defer fast.Close()
	h.Atomic(func(tx *Tx) {
		tx.Subscribe(slow, Channel, []byte("ch"))
		tx.Subscribe(fast, Channel, []byte("ch"))
	})
	payload := strings.Repeat("x", 1000)
	one := len(msg(2, "message", "ch", payload))
	const n = 200 // ~200 KB, three times the limit
	for i := 1; i <= n; i++ {
		h.Atomic(func(tx *Tx) { tx.Publish(Channel, []byte("ch"), []byte(payload)) })
		// The fast client reads each message before the next is sent.
		fastConn.waitFor(t, "the message", func(out string, _ bool) bool { return len(out) == i*one })
	}
	if !slowConn.isClosed() {
		t.Fatal("the slow subscriber was not cut off at the hard limit")
	}
	if slow.Pending() != 0 {
		t.Fatalf("a cut subscriber keeps %d bytes queued", slow.Pending())
	}
	if fastConn.isClosed() {
		t.Fatal("the reading subscriber was cut off")
	}
}

// TestSoftLimit: above the soft limit for longer than SoftFor (on the
// injected clock) cuts; going back below it starts the count again.
func TestSoftLimit(t *testing.T) {
	cfg := quietConfig()
	now := time.Unix(1000, 0)
	cfg.Now = func() time.Time { return now }
	cfg.HardLimit, cfg.SoftLimit, cfg.SoftFor = 0, 100, 60*time.Second
	drained := make(chan struct{}, 10)
	cfg.AfterWrite = func(queued int64) {
		if queued == 0 {
			drained <- struct{}{}
		}
	}
	h := New(cfg)
	conn := newFakeConn(true)
	s := h.NewSubscriber(conn, 2, "s")
	defer s.Close()
	h.Atomic(func(tx *Tx) { tx.Subscribe(s, Channel, []byte("ch")) })
	pub := func() { h.Atomic(func(tx *Tx) { tx.Publish(Channel, []byte("ch"), bytes.Repeat([]byte("y"), 200)) }) }
	pub() // above the soft limit: the clock starts
	now = now.Add(60 * time.Second)
	pub()
	if conn.isClosed() {
		t.Fatal("cut at exactly SoftFor; Redis waits until it is exceeded")
	}
	// The client reads everything: below the limit, the count restarts.
	for done := false; !done; {
		select {
		case conn.gate <- struct{}{}:
		case <-drained:
			done = true
		}
	}
	now = now.Add(time.Hour)
	pub()
	if conn.isClosed() {
		t.Fatal("cut although the queue had gone back below the soft limit")
	}
	now = now.Add(61 * time.Second)
	pub()
	if !conn.isClosed() {
		t.Fatal("not cut after more than SoftFor above the soft limit")
	}
}

func TestCloseWhenDrained(t *testing.T) {
	h := New(quietConfig())
	c := newFakeConn(false)
	s := h.NewSubscriber(c, 2, "s")
	h.Atomic(func(tx *Tx) {
		tx.Subscribe(s, Channel, []byte("ch"))
		tx.Hold(s, []byte("*sub\r\n"))
	})
	s.Release([]byte("+OK\r\n"))
	s.CloseWhenDrained()
	h.Atomic(func(tx *Tx) { tx.Publish(Channel, []byte("ch"), []byte("late")) })
	c.waitFor(t, "close", func(_ string, closed bool) bool { return closed })
	if got := c.String(); got != "*sub\r\n+OK\r\n" {
		t.Fatalf("wrote %q", got)
	}
	s.Close()
}

func TestForward(t *testing.T) {
	cfg := quietConfig()
	var forwarded []string
	cfg.Forward = func(kind Kind, channel, message []byte) {
		forwarded = append(forwarded, fmt.Sprintf("%d %s %s", kind, channel, message))
	}
	h := New(cfg)
	c := newFakeConn(false)
	s := h.NewSubscriber(c, 3, "s")
	defer s.Close()
	h.Atomic(func(tx *Tx) {
		tx.Subscribe(s, Channel, []byte("a"))
		tx.Publish(Channel, []byte("a"), []byte("1"))
		tx.Publish(Shard, []byte("b"), []byte("2"))
	})
	if n := h.Deliver(Channel, []byte("a"), []byte("remote")); n != 1 {
		t.Fatalf("Deliver counted %d", n)
	}
	if got := fmt.Sprint(forwarded); got != "[0 a 1 2 b 2]" {
		t.Fatalf("forwarded %s", got)
	}
	c.waitFor(t, "both messages", func(out string, _ bool) bool {
		return out == msg(3, "message", "a", "1")+msg(3, "message", "a", "remote")
	})
}

// TestConcurrentOrder: publishers and subscribers at once; every
// subscriber gets every message once, each publisher's in order, and all
// subscribers of a channel in the same order.
func TestConcurrentOrder(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	rnd := rand.New(rand.NewPCG(seed, seed))
	h := New(quietConfig())
	const subs, pubs, per = 8, 6, 300
	conns := make([]*fakeConn, subs)
	ss := make([]*Subscriber, subs)
	for i := range ss {
		conns[i] = newFakeConn(false)
		ss[i] = h.NewSubscriber(conns[i], 2+rnd.IntN(2), fmt.Sprint("s", i))
		h.Atomic(func(tx *Tx) { tx.Subscribe(ss[i], Pattern, []byte("ch*")) })
	}
	var wg sync.WaitGroup
	for p := 0; p < pubs; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < per; i++ {
				h.Atomic(func(tx *Tx) {
					if n := tx.Publish(Channel, []byte("chan"), fmt.Appendf(nil, "%d:%d", p, i)); n != subs {
						t.Errorf("count %d, want %d", n, subs)
					}
				})
			}
		}()
	}
	wg.Wait()
	var first []string
	for i, c := range conns {
		var got []string
		c.waitFor(t, "all messages", func(out string, _ bool) bool {
			got = parseMessages(t, out)
			return len(got) == pubs*per
		})
		next := make([]int, pubs)
		for _, m := range got {
			var p, k int
			fmt.Sscanf(m, "%d:%d", &p, &k)
			if k != next[p] {
				t.Fatalf("subscriber %d: publisher %d's message %d arrived when %d was due", i, p, k, next[p])
			}
			next[p]++
		}
		if first == nil {
			first = got
		} else if fmt.Sprint(first) != fmt.Sprint(got) {
			t.Fatalf("subscribers %d and 0 saw different orders", i)
		}
		ss[i].Close()
	}
}

func parseMessages(t *testing.T, out string) []string {
	var msgs []string
	b := []byte(out)
	for len(b) > 0 {
		v, n, err := resp.Parse(b)
		if err != nil {
			break // a partial write; wait for more
		}
		b = b[n:]
		msgs = append(msgs, string(v.Elems[len(v.Elems)-1].Str))
	}
	return msgs
}

func TestParseLimit(t *testing.T) {
	var c Config
	if err := ParseLimit("32mb 8mb 60", &c); err != nil || c.HardLimit != 32<<20 || c.SoftLimit != 8<<20 || c.SoftFor != time.Minute {
		t.Fatalf("%+v %v", c, err)
	}
	if err := ParseLimit("1k 2KB 0", &c); err != nil || c.HardLimit != 1000 || c.SoftLimit != 2048 || c.SoftFor != 0 {
		t.Fatalf("%+v %v", c, err)
	}
	if got := FormatLimit(DefaultConfig()); got != "33554432 8388608 60" {
		t.Fatalf("FormatLimit %s", got)
	}
	for _, bad := range []string{"", "1 2", "x 1 1", "1 1 -1", "-1 0 0"} {
		if ParseLimit(bad, &c) == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
