package proxy

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/schemaproxy/schemaproxy/backends/memory"
	"github.com/schemaproxy/schemaproxy/command"
	"github.com/schemaproxy/schemaproxy/internal/testutil"
	"github.com/schemaproxy/schemaproxy/keyspace"
	"github.com/schemaproxy/schemaproxy/proto/resp"
	"github.com/schemaproxy/schemaproxy/pubsub"
	"github.com/schemaproxy/schemaproxy/txn"
)

// testServer serves the embedded store (no persistence) in this process,
// with Pub/Sub configured by ps (nil: defaults), until the test ends.
func testServer(t *testing.T, ps *pubsub.Config) (*Server, string) {
	t.Helper()
	exec := keyspace.NewExecutor(command.Default)
	st, err := memory.Open(memory.Options{Shards: 4, Databases: 16}, exec)
	if err != nil {
		t.Fatal(err)
	}
	coord := txn.New(txn.Config{Shards: st.Shards(), Exec: exec, Databases: 16,
		Now: func() int64 { return time.Now().UnixMilli() }})
	srv := New(Config{Databases: 16, PubSub: ps,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, coord)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	t.Cleanup(func() {
		srv.Close()
		<-served
		st.Close()
	})
	return srv, ln.Addr().String()
}

func dial(t *testing.T, addr string) *testutil.Conn {
	t.Helper()
	c, err := testutil.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func do(t *testing.T, c *testutil.Conn, args ...string) resp.Value {
	t.Helper()
	raw, err := c.Do(args...)
	if err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	return parse(t, raw)
}

func read(t *testing.T, c *testutil.Conn) resp.Value {
	t.Helper()
	raw, err := c.ReadReply()
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return parse(t, raw)
}

func parse(t *testing.T, raw []byte) resp.Value {
	t.Helper()
	v, _, err := resp.Parse(raw)
	if err != nil {
		t.Fatalf("parse %q: %v", raw, err)
	}
	return v
}

// waitFor polls cond: the server notices a closed socket on its own time.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond) // a socket close we do not control
	}
}

// hubEmpty reports whether no subscription and no client is left.
func hubEmpty(srv *Server) bool {
	n := 0
	srv.hub.Atomic(func(tx *pubsub.Tx) {
		n = tx.Names(pubsub.Channel) + tx.Names(pubsub.Pattern) + tx.Names(pubsub.Shard)
	})
	srv.mu.Lock()
	defer srv.mu.Unlock()
	return n == 0 && len(srv.clients) == 0
}

// TestPubSubConcurrentOrder: publishers and subscribers (channels,
// patterns, shard channels, RESP2 and RESP3) at once. Every subscriber
// gets every message once, each publisher's in the order it published
// them; PUBLISH counts every subscriber.
func TestPubSubConcurrentOrder(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	rnd := rand.New(rand.NewPCG(seed, seed))
	_, addr := testServer(t, nil)
	const subs, pubs, per = 12, 6, 200
	type subscriber struct {
		c    *testutil.Conn
		kind string // subscribe, psubscribe, ssubscribe
	}
	ss := make([]subscriber, subs)
	for i := range ss {
		c := dial(t, addr)
		if rnd.IntN(2) == 0 {
			do(t, c, "HELLO", "3")
		}
		kind := []string{"subscribe", "psubscribe", "ssubscribe"}[i%3]
		target := map[string]string{"subscribe": "chan", "psubscribe": "ch*", "ssubscribe": "chan"}[kind]
		do(t, c, kind, target)
		ss[i] = subscriber{c, kind}
	}
	var wg sync.WaitGroup
	for p := 0; p < pubs; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := testutil.Dial(addr)
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close()
			// Pipelines of PUBLISH and SPUBLISH, replies checked in order.
			for i := 0; i < per; i += 10 {
				var req []byte
				for j := i; j < i+10; j++ {
					msg := []byte(fmt.Sprintf("%d:%d", p, j))
					req = resp.AppendCommand(req, []byte("PUBLISH"), []byte("chan"), msg)
					req = resp.AppendCommand(req, []byte("SPUBLISH"), []byte("chan"), msg)
				}
				if err := c.WriteRaw(req); err != nil {
					t.Error(err)
					return
				}
				for j := 0; j < 20; j++ {
					raw, err := c.ReadReply()
					want := fmt.Sprintf(":%d\r\n", 2*subs/3)
					if j%2 == 1 {
						want = fmt.Sprintf(":%d\r\n", subs/3)
					}
					if err != nil || string(raw) != want {
						t.Errorf("publisher %d: reply %q %v, want %q", p, raw, err, want)
						return
					}
				}
			}
		}()
	}
	for i, s := range ss {
		next := make([]int, pubs)
		for n := 0; n < pubs*per; n++ {
			v := read(t, s.c)
			payload := string(v.Elems[len(v.Elems)-1].Str)
			var p, k int
			if _, err := fmt.Sscanf(payload, "%d:%d", &p, &k); err != nil || p >= pubs {
				t.Fatalf("subscriber %d (%s): message %v", i, s.kind, v)
			}
			if k != next[p] {
				t.Fatalf("subscriber %d (%s): publisher %d's message %d arrived when %d was due", i, s.kind, p, k, next[p])
			}
			next[p]++
		}
	}
	wg.Wait()
	// Nothing more: PING's reply is the next thing each reads.
	for i, s := range ss {
		if v := do(t, s.c, "PING"); v.Kind == resp.KindPush || (v.Kind == resp.KindArray && string(v.Elems[0].Str) != "pong") {
			t.Fatalf("subscriber %d got a message too many: %v", i, v)
		}
	}
}

// TestPubSubSlowSubscriberCut: a subscriber that stops reading is cut off
// at the output limit, while a reading one gets every message and the
// publisher is never held up.
func TestPubSubSlowSubscriberCut(t *testing.T) {
	cfg := pubsub.DefaultConfig()
	cfg.HardLimit, cfg.SoftLimit = 1<<20, 0
	srv, addr := testServer(t, &cfg)
	slow := dial(t, addr)
	do(t, slow, "SUBSCRIBE", "feed")
	fast := dial(t, addr)
	do(t, fast, "SUBSCRIBE", "feed")
	pub := dial(t, addr)

	payload := bytes.Repeat([]byte("p"), 64<<10)
	received := make(chan int, 1)
	go func() {
		// Counts the messages up to the one saying "end".
		n := 0
		for {
			raw, err := fast.ReadReply()
			if err != nil || !bytes.HasSuffix(raw, append(payload, '\r', '\n')) {
				break
			}
			n++
		}
		received <- n
	}()
	sent := 0
	// The kernel buffers a few MB for the slow client before its queue
	// here grows; 256 MB published without the cut would be a bug.
	for sent < 4096 {
		raw, err := pub.DoBytes([]byte("PUBLISH"), []byte("feed"), payload)
		if err != nil {
			t.Fatal(err)
		}
		sent++
		if string(raw) == ":1\r\n" {
			break // the slow subscriber is gone
		}
		if string(raw) != ":2\r\n" {
			t.Fatalf("PUBLISH answered %q", raw)
		}
	}
	if sent == 4096 {
		t.Fatal("the slow subscriber was never cut off")
	}
	t.Logf("cut after %d messages of 64 KiB", sent)
	srv.hub.Atomic(func(tx *pubsub.Tx) {
		if n := tx.NumSub(pubsub.Channel, []byte("feed")); n != 1 {
			t.Errorf("NUMSUB feed %d after the cut, want 1", n)
		}
	})
	// The fast subscriber kept receiving, and still does.
	do(t, pub, "PUBLISH", "feed", string(payload))
	do(t, pub, "PUBLISH", "feed", "end")
	if n := <-received; n != sent+1 {
		t.Fatalf("the reading subscriber got %d of %d messages", n, sent+1)
	}
	// The slow client finds its connection closed once it reads.
	_ = slow.WriteRaw(resp.AppendCommand(nil, []byte("PING")))
	for {
		if _, err := slow.ReadReply(); err != nil {
			break
		}
	}
}

// TestPubSubClientsVanish: clients that subscribe and then disappear in
// every way (closing mid-pipeline, QUIT, CLIENT KILL, RESET then close)
// leave no subscription, session or goroutine behind.
func TestPubSubClientsVanish(t *testing.T) {
	srv, addr := testServer(t, nil)
	pub := dial(t, addr)
	for i := 0; i < 40; i++ {
		c, err := testutil.Dial(addr)
		if err != nil {
			t.Fatal(err)
		}
		ch := strconv.Itoa(i % 5)
		req := resp.AppendCommand(nil, []byte("SUBSCRIBE"), []byte("c"+ch), []byte("shared"))
		req = resp.AppendCommand(req, []byte("PSUBSCRIBE"), []byte("p*"))
		req = resp.AppendCommand(req, []byte("SSUBSCRIBE"), []byte("s"+ch))
		switch i % 4 {
		case 0: // gone with a pipeline half read
			_ = c.WriteRaw(req)
			_, _ = c.ReadReply()
			c.Close()
		case 1: // QUIT
			req = resp.AppendCommand(req, []byte("QUIT"))
			_ = c.WriteRaw(req)
			for {
				if _, err := c.ReadReply(); err != nil {
					break
				}
			}
			c.Close()
		case 2: // killed by another client, below
			_ = c.WriteRaw(req)
			for j := 0; j < 4; j++ {
				if _, err := c.ReadReply(); err != nil {
					t.Fatal(err)
				}
			}
			defer c.Close()
		case 3: // RESET, then closed while a message is on its way
			_ = c.WriteRaw(resp.AppendCommand(req, []byte("RESET")))
			do(t, pub, "PUBLISH", "shared", "x")
			c.Close()
		}
	}
	if v := do(t, pub, "CLIENT", "KILL", "TYPE", "pubsub"); v.Kind != resp.KindInt || v.Int < 10 {
		t.Fatalf("CLIENT KILL TYPE pubsub: %v", v)
	}
	pub.Close()
	waitFor(t, "every subscription to end", func() bool { return hubEmpty(srv) })
}

// TestPubSubExecCommitOrder: transactions that INCR one counter and
// PUBLISH in the same EXEC deliver their messages in the order the
// counter says they committed.
func TestPubSubExecCommitOrder(t *testing.T) {
	_, addr := testServer(t, nil)
	sub := dial(t, addr)
	do(t, sub, "SUBSCRIBE", "log")
	const clients, per = 8, 50
	var mu sync.Mutex
	order := map[string]int64{} // message -> counter value its EXEC saw
	var wg sync.WaitGroup
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn, err := testutil.Dial(addr)
			if err != nil {
				t.Error(err)
				return
			}
			defer conn.Close()
			for i := 0; i < per; i++ {
				msg := fmt.Sprintf("%d:%d", c, i)
				var req []byte
				req = resp.AppendCommand(req, []byte("MULTI"))
				req = resp.AppendCommand(req, []byte("INCR"), []byte("counter"))
				req = resp.AppendCommand(req, []byte("PUBLISH"), []byte("log"), []byte(msg))
				req = resp.AppendCommand(req, []byte("EXEC"))
				if err := conn.WriteRaw(req); err != nil {
					t.Error(err)
					return
				}
				var last []byte
				for j := 0; j < 4; j++ {
					if last, err = conn.ReadReply(); err != nil {
						t.Error(err)
						return
					}
				}
				v, _, err := resp.Parse(last)
				if err != nil || len(v.Elems) != 2 || v.Elems[1].Int != 1 {
					t.Errorf("EXEC answered %q", last)
					return
				}
				mu.Lock()
				order[msg] = v.Elems[0].Int
				mu.Unlock()
			}
		}()
	}
	var got []string
	for len(got) < clients*per {
		v := read(t, sub)
		got = append(got, string(v.Elems[2].Str))
	}
	wg.Wait()
	for i, m := range got {
		if order[m] != int64(i+1) {
			t.Fatalf("message %d is %s, whose EXEC committed as number %d", i+1, m, order[m])
		}
	}
}

// TestPubSubPublisherNotBlocked: publishing to a client that reads
// nothing never waits for it, below the limits.
func TestPubSubPublisherNotBlocked(t *testing.T) {
	_, addr := testServer(t, nil)
	idle := dial(t, addr)
	do(t, idle, "SUBSCRIBE", "x")
	pub := dial(t, addr)
	payload := bytes.Repeat([]byte("z"), 16<<10)
	// 16 MB to a client that reads nothing: more than the kernel buffers,
	// less than the 32 MB hard limit.
	for i := 0; i < 1024; i++ {
		raw, err := pub.DoBytes([]byte("PUBLISH"), []byte("x"), payload)
		if err != nil || string(raw) != ":1\r\n" {
			t.Fatalf("PUBLISH %d: %q %v", i, raw, err)
		}
	}
}
