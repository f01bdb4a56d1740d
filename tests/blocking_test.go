package tests

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/schemaproxy/schemaproxy/internal/testutil"
)

// Blocking commands end to end, on the embedded store (four shards) and
// over three redis-servers: scenes of two clients replayed on a
// redis-server and on the proxy with the same bytes expected; many
// clients blocked on keys of several shards while producers push, alone
// and in MULTI blocks (aborted ones included); timeouts; disconnects;
// BLMOVE across shards.

// blockingTargets runs fn on a proxy over the embedded store and on one
// over three redis-servers.
func blockingTargets(t *testing.T, fn func(t *testing.T, addr string)) {
	t.Run("embedded", func(t *testing.T) { fn(t, startProxy(t, "--shards", "4").Addr) })
	t.Run("redis-backends", func(t *testing.T) {
		_, urls := startBackends(t, 3)
		fn(t, startProxy(t, backendArgs(urls)...).Addr)
	})
}

// blockedClients reads INFO's blocked_clients.
func blockedClients(t *testing.T, c *testutil.Conn) int {
	t.Helper()
	r, err := c.Do("INFO", "clients")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(r), "blocked_clients:")
	if !ok {
		t.Fatalf("INFO clients without blocked_clients: %q", r)
	}
	n, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(rest, "\r\n", 2)[0]))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// awaitBlocked waits (bounded) until the server reports n blocked clients.
func awaitBlocked(t *testing.T, c *testutil.Conn, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for blockedClients(t, c) != n {
		if time.Now().After(deadline) {
			t.Fatalf("blocked_clients never reached %d (is %d)", n, blockedClients(t, c))
		}
		time.Sleep(2 * time.Millisecond) // polling a process we do not control
	}
}

func dialT(t *testing.T, addr string) *testutil.Conn {
	t.Helper()
	c, err := testutil.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// scene is a two-client exchange: A's setup, A's blocking commands (sent
// at once), B's commands once A blocks, then A's replies, then B's
// checks. "$A" in B's commands is A's client id.
type scene struct {
	name    string
	setup   [][]string // on B, before A blocks
	aPre    [][]string // on A, before its blocking send (HELLO 3)
	block   [][]string // A sends these together; the first blocks
	replies int        // replies A then reads (default len(block))
	b       [][]string
	check   [][]string
}

var blockingScenes = []scene{
	{name: "blpop served by a push", block: [][]string{{"BLPOP", "q", "0"}},
		b: [][]string{{"RPUSH", "q", "x", "y"}}, check: [][]string{{"LRANGE", "q", "0", "-1"}}},
	{name: "brpop on several keys", block: [][]string{{"BRPOP", "k1", "k2", "k3", "0"}},
		b: [][]string{{"RPUSH", "k3", "c"}}},
	{name: "blmove", block: [][]string{{"BLMOVE", "src", "dst", "LEFT", "RIGHT", "0"}},
		b: [][]string{{"LPUSH", "src", "a", "b"}}, check: [][]string{{"LRANGE", "src", "0", "-1"}, {"LRANGE", "dst", "0", "-1"}}},
	{name: "brpoplpush", block: [][]string{{"BRPOPLPUSH", "src", "dst", "0"}},
		b: [][]string{{"RPUSH", "src", "a"}}, check: [][]string{{"LRANGE", "dst", "0", "-1"}, {"EXISTS", "src"}}},
	{name: "blmpop count", block: [][]string{{"BLMPOP", "0", "2", "a", "b", "LEFT", "COUNT", "2"}},
		b: [][]string{{"RPUSH", "b", "1", "2", "3"}}, check: [][]string{{"LRANGE", "b", "0", "-1"}}},
	{name: "bzpopmax", block: [][]string{{"BZPOPMAX", "z", "0"}},
		b: [][]string{{"ZADD", "z", "1", "a", "2.5", "b"}}, check: [][]string{{"ZRANGE", "z", "0", "-1", "WITHSCORES"}}},
	{name: "bzpopmin resp3", aPre: [][]string{{"HELLO", "3"}}, block: [][]string{{"BZPOPMIN", "z", "0"}},
		b: [][]string{{"ZADD", "z", "1", "a", "2.5", "b"}}},
	{name: "bzmpop", block: [][]string{{"BZMPOP", "0", "1", "z", "MAX", "COUNT", "5"}},
		b: [][]string{{"ZADD", "z", "1", "a", "2", "b"}}},
	{name: "xread $", setup: [][]string{{"XADD", "s", "1-1", "f", "old"}},
		block: [][]string{{"XREAD", "BLOCK", "0", "STREAMS", "s", "$"}}, b: [][]string{{"XADD", "s", "5-1", "f", "v"}}},
	{name: "xread missing stream", block: [][]string{{"XREAD", "COUNT", "1", "BLOCK", "0", "STREAMS", "s", "t", "$", "$"}},
		b: [][]string{{"XADD", "t", "5-1", "f", "v"}}},
	{name: "xreadgroup", setup: [][]string{{"XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"}},
		block: [][]string{{"XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">"}},
		b:     [][]string{{"XADD", "s", "6-1", "f", "v"}}, check: [][]string{{"XPENDING", "s", "g"}}},
	{name: "served by MULTI after EXEC", block: [][]string{{"BLPOP", "q", "0"}},
		b: [][]string{{"MULTI"}, {"RPUSH", "q", "m"}, {"SET", "x", "1"}, {"EXEC"}}},
	{name: "a discarded MULTI serves nothing", block: [][]string{{"BLPOP", "q", "0"}},
		b: [][]string{{"MULTI"}, {"RPUSH", "q", "bad"}, {"DISCARD"}, {"RPUSH", "q", "good"}}},
	{name: "a WATCH-aborted EXEC serves nothing", setup: [][]string{{"SET", "w", "1"}}, block: [][]string{{"BLPOP", "q", "0"}},
		b: [][]string{{"WATCH", "w"}, {"SET", "w", "2"}, {"MULTI"}, {"RPUSH", "q", "bad"}, {"EXEC"}, {"RPUSH", "q", "good"}}},
	{name: "served by a script", block: [][]string{{"BLPOP", "q", "0"}},
		b: [][]string{{"EVAL", "return redis.call('rpush', KEYS[1], 'e')", "1", "q"}}},
	{name: "wrong type keeps it blocked", block: [][]string{{"BLPOP", "q", "0"}},
		b: [][]string{{"SET", "q", "str"}, {"DEL", "q"}, {"RPUSH", "q", "z"}}},
	{name: "pipeline after a blocked command", block: [][]string{{"BLPOP", "q", "0"}, {"PING"}, {"GET", "nokey"}},
		b: [][]string{{"RPUSH", "q", "p"}}},
	{name: "replies before the blocked command go out", block: [][]string{{"SET", "a", "1"}, {"BLPOP", "q", "0"}},
		replies: 1, b: [][]string{{"GET", "a"}, {"RPUSH", "q", "p"}}},
	{name: "client unblock timeout", block: [][]string{{"BLMOVE", "q", "d", "LEFT", "LEFT", "0"}},
		b: [][]string{{"CLIENT", "UNBLOCK", "$A"}, {"CLIENT", "UNBLOCK", "$A"}}},
	{name: "client unblock error", block: [][]string{{"BLPOP", "q", "0"}},
		b: [][]string{{"CLIENT", "UNBLOCK", "$A", "ERROR"}, {"RPUSH", "q", "kept"}}, check: [][]string{{"LRANGE", "q", "0", "-1"}}},
	{name: "client unblock resp3", aPre: [][]string{{"HELLO", "3"}}, block: [][]string{{"XREAD", "BLOCK", "0", "STREAMS", "s", "$"}},
		b: [][]string{{"CLIENT", "UNBLOCK", "$A", "TIMEOUT"}}},
	{name: "swapdb", block: [][]string{{"BLPOP", "q", "0"}},
		b: [][]string{{"SELECT", "1"}, {"RPUSH", "q", "from1"}, {"SWAPDB", "0", "1"}}},
}

// runScene plays sc on addr and returns the transcript.
func runScene(t *testing.T, addr string, sc scene) string {
	t.Helper()
	a, b := dialT(t, addr), dialT(t, addr)
	if r, err := b.Do("FLUSHALL"); err != nil || string(r) != "+OK\r\n" {
		t.Fatalf("FLUSHALL: %q %v", r, err)
	}
	var out bytes.Buffer
	do := func(c *testutil.Conn, who string, args []string) {
		r, err := c.Do(args...)
		if err != nil {
			t.Fatalf("%s %q: %v", who, args, err)
		}
		fmt.Fprintf(&out, "%s %q -> %q\n", who, args, r)
	}
	for _, args := range sc.setup {
		do(b, "B", args)
	}
	for _, args := range sc.aPre {
		do(a, "A", args)
	}
	idr, err := a.Do("CLIENT", "ID")
	if err != nil {
		t.Fatal(err)
	}
	id := strings.TrimSpace(strings.TrimPrefix(string(idr), ":"))
	var batch []byte
	for _, args := range sc.block {
		bs := make([][]byte, len(args))
		for i, x := range args {
			bs[i] = []byte(x)
		}
		batch = append(batch, encodeCommand(bs)...)
	}
	if err := a.WriteRaw(batch); err != nil {
		t.Fatal(err)
	}
	awaitBlocked(t, b, 1)
	for _, args := range sc.b {
		real := append([]string(nil), args...)
		for i := range real {
			if real[i] == "$A" {
				real[i] = id
			}
		}
		r, err := b.Do(real...)
		if err != nil {
			t.Fatalf("B %q: %v", real, err)
		}
		fmt.Fprintf(&out, "B %q -> %q\n", args, r)
	}
	n := sc.replies
	if n == 0 {
		n = len(sc.block)
	}
	for range n {
		r, err := a.ReadReply()
		if err != nil {
			t.Fatalf("A's reply: %v", err)
		}
		fmt.Fprintf(&out, "A <- %q\n", r)
	}
	for _, args := range sc.check {
		do(b, "B", args)
	}
	if sc.replies != 0 {
		// The rest of A's replies, after B's checks.
		for range len(sc.block) - sc.replies {
			r, err := a.ReadReply()
			if err != nil {
				t.Fatalf("A's reply: %v", err)
			}
			fmt.Fprintf(&out, "A <- %q\n", r)
		}
	}
	awaitBlocked(t, b, 0)
	// Client ids differ between servers.
	return helloID.ReplaceAllString(out.String(), `id\r\n:N`)
}

var helloID = regexp.MustCompile(`id\\r\\n:[0-9]+`)

func encodeCommand(args [][]byte) []byte {
	b := []byte("*" + strconv.Itoa(len(args)) + "\r\n")
	for _, a := range args {
		b = append(b, "$"+strconv.Itoa(len(a))+"\r\n"...)
		b = append(append(b, a...), "\r\n"...)
	}
	return b
}

// TestBlockingScenes: each scene gives the same bytes on redis-server and
// on the proxy.
func TestBlockingScenes(t *testing.T) {
	ref := testutil.StartRedis(t)
	want := map[string]string{}
	for _, sc := range blockingScenes {
		want[sc.name] = runScene(t, ref.Addr, sc)
	}
	blockingTargets(t, func(t *testing.T, addr string) {
		for _, sc := range blockingScenes {
			t.Run(sc.name, func(t *testing.T) {
				if got := runScene(t, addr, sc); got != want[sc.name] {
					t.Errorf("redis-server:\n%s\nschemaproxy:\n%s", want[sc.name], got)
				}
			})
		}
	})
}

// TestBlockingFIFO: clients blocked one after another on a key are served
// in that order, one element each, pushes coming one at a time.
func TestBlockingFIFO(t *testing.T) {
	blockingTargets(t, func(t *testing.T, addr string) {
		ctl := dialT(t, addr)
		const n = 8
		waiters := make([]*testutil.Conn, n)
		for i := range waiters {
			waiters[i] = dialT(t, addr)
			if err := waiters[i].WriteRaw(encodeCommand([][]byte{[]byte("BLPOP"), []byte("fifo"), []byte("0")})); err != nil {
				t.Fatal(err)
			}
			awaitBlocked(t, ctl, i+1)
		}
		for i := range n {
			if _, err := ctl.Do("RPUSH", "fifo", "e"+strconv.Itoa(i)); err != nil {
				t.Fatal(err)
			}
		}
		for i, w := range waiters {
			r, err := w.ReadReply()
			if err != nil {
				t.Fatal(err)
			}
			want := fmt.Sprintf("*2\r\n$4\r\nfifo\r\n$2\r\ne%d\r\n", i)
			if string(r) != want {
				t.Errorf("waiter %d got %q, want %q", i, r, want)
			}
		}
		awaitBlocked(t, ctl, 0)
	})
}

// TestBlockingManyClients: consumers blocked on keys of every shard while
// producers push to them, one command at a time and in MULTI blocks, some
// of which are discarded or fail their WATCH: every element pushed by a
// committed write is delivered exactly once, none of an aborted one ever.
func TestBlockingManyClients(t *testing.T) {
	blockingTargets(t, func(t *testing.T, addr string) {
		ctx := ctxT(t)
		keys := oneKeyPerShard("bq", 4)
		c := client(t, addr)
		const consumers, perProducer = 24, 150
		var delivered sync.Map
		var got, dup atomic.Int64
		total := int64(0)
		var consumersWG sync.WaitGroup
		stop := make(chan struct{})
		errs := make(chan error, 1)
		report := func(err error) {
			select {
			case errs <- err:
			default:
			}
		}
		for i := range consumers {
			consumersWG.Go(func() {
				cc := client(t, addr, func(o *redis.Options) { o.PoolSize = 1 })
				for {
					select {
					case <-stop:
						return
					default:
					}
					var vals []string
					var err error
					if i%3 == 0 {
						// Sorted sets too, one beside each list.
						var r []string
						r, err = cc.Do(ctx, "BZPOPMIN", "z"+keys[i%4], "0.1").StringSlice()
						if err == nil {
							vals = r[1:2]
						}
					} else {
						args := []any{"BLPOP"}
						for _, k := range keys {
							args = append(args, k)
						}
						vals, err = cc.Do(ctx, append(args, "0.1")...).StringSlice()
						if err == nil {
							vals = vals[1:]
						}
					}
					if err == redis.Nil {
						continue
					}
					if err != nil {
						report(err)
						return
					}
					for _, v := range vals {
						if strings.HasPrefix(v, "bad") {
							report(fmt.Errorf("an aborted push was delivered: %s", v))
						}
						if _, loaded := delivered.LoadOrStore(v, true); loaded {
							dup.Add(1)
						}
						got.Add(1)
					}
				}
			})
		}
		var producers sync.WaitGroup
		// One producer per shard, one RPUSH at a time.
		for p, k := range keys {
			total += perProducer
			producers.Go(func() {
				for j := range perProducer {
					if err := c.RPush(ctx, k, fmt.Sprintf("p%d-%d", p, j)).Err(); err != nil {
						report(err)
						return
					}
				}
			})
		}
		// MULTI blocks over every shard: committed, discarded, aborted.
		const multis = 60
		total += multis * int64(len(keys)+1)
		raw := dialT(t, addr)
		producers.Go(func() {
			for j := range multis {
				_, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
					for _, k := range keys {
						p.RPush(ctx, k, fmt.Sprintf("m%d-%s", j, k))
					}
					p.ZAdd(ctx, "z"+keys[j%4], redis.Z{Score: float64(j), Member: fmt.Sprintf("zm%d", j)})
					return nil
				})
				if err != nil {
					report(err)
					return
				}
				// Discarded: queued, then DISCARD.
				for _, args := range [][]string{{"MULTI"}, {"RPUSH", keys[j%4], fmt.Sprintf("bad-d%d", j)}, {"DISCARD"}} {
					if r, err := raw.Do(args...); err != nil || r[0] != '+' {
						report(fmt.Errorf("%q: %q %v", args, r, err))
						return
					}
				}
				// Aborted: the WATCHed key changes before EXEC.
				err = c.Watch(ctx, func(tx *redis.Tx) error {
					if err := c.Incr(ctx, "watched").Err(); err != nil {
						return err
					}
					_, err := tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
						p.RPush(ctx, keys[(j+1)%4], fmt.Sprintf("bad-w%d", j))
						return nil
					})
					return err
				}, "watched")
				if err != redis.TxFailedErr {
					report(fmt.Errorf("the WATCHed EXEC: %v", err))
				}
			}
		})
		producers.Wait()
		deadline := time.Now().Add(60 * time.Second)
		for got.Load() < total && time.Now().Before(deadline) {
			select {
			case err := <-errs:
				t.Fatal(err)
			case <-time.After(10 * time.Millisecond):
			}
		}
		close(stop)
		consumersWG.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		if got.Load() != total || dup.Load() != 0 {
			t.Fatalf("delivered %d of %d, %d twice", got.Load(), total, dup.Load())
		}
		for _, k := range keys {
			if n := c.LLen(ctx, k).Val(); n != 0 {
				t.Errorf("%s still holds %d", k, n)
			}
		}
		ctl := dialT(t, addr)
		awaitBlocked(t, ctl, 0)
	})
}

// TestBlockingTimeouts: a timeout that passes answers its null within
// bounds (slack for a loaded machine), sub-second ones included.
func TestBlockingTimeouts(t *testing.T) {
	blockingTargets(t, func(t *testing.T, addr string) {
		c := dialT(t, addr)
		for _, tc := range []struct {
			args []string
			want time.Duration
			null string
		}{
			{[]string{"BLPOP", "nokey", "0.15"}, 150 * time.Millisecond, "*-1\r\n"},
			{[]string{"BLMOVE", "nokey", "d", "LEFT", "LEFT", "0.3"}, 300 * time.Millisecond, "*-1\r\n"},
			{[]string{"BZPOPMIN", "nokey", "0.05"}, 50 * time.Millisecond, "*-1\r\n"},
			{[]string{"XREAD", "BLOCK", "120", "STREAMS", "nokey", "$"}, 120 * time.Millisecond, "*-1\r\n"},
		} {
			start := time.Now()
			r, err := c.Do(tc.args...)
			took := time.Since(start)
			if err != nil {
				t.Fatal(err)
			}
			if string(r) != tc.null {
				t.Errorf("%q: %q", tc.args, r)
			}
			if took < tc.want || took > tc.want+2*time.Second {
				t.Errorf("%q took %v, want %v (+ slack)", tc.args, took, tc.want)
			}
		}
	})
}

// TestBlockingDisconnect: a blocked client that goes away leaves no
// waiter: blocked_clients returns to 0, and a push after it stays.
func TestBlockingDisconnect(t *testing.T) {
	blockingTargets(t, func(t *testing.T, addr string) {
		ctl := dialT(t, addr)
		for range 5 {
			a, err := testutil.Dial(addr)
			if err != nil {
				t.Fatal(err)
			}
			if err := a.WriteRaw(encodeCommand([][]byte{[]byte("BLPOP"), []byte("gone"), []byte("0")})); err != nil {
				t.Fatal(err)
			}
			awaitBlocked(t, ctl, 1)
			a.Close()
			awaitBlocked(t, ctl, 0)
		}
		if r, _ := ctl.Do("RPUSH", "gone", "x"); string(r) != ":1\r\n" {
			t.Fatalf("RPUSH: %q", r)
		}
		if r, _ := ctl.Do("LLEN", "gone"); string(r) != ":1\r\n" {
			t.Fatalf("the push was taken by a client that left: LLEN %q", r)
		}
	})
}

// TestBlockingMoveAcrossShards: BLMOVE from a list on one shard to one on
// another, by many blocked clients while elements arrive: each element
// ends up in the destination exactly once, and a transaction reading both
// lists never sees one in both or in neither.
func TestBlockingMoveAcrossShards(t *testing.T) {
	blockingTargets(t, func(t *testing.T, addr string) {
		ctx := ctxT(t)
		keys := oneKeyPerShard("mv", 3)
		src, dst := keys[0], keys[2]
		c := client(t, addr)
		const movers, n = 8, 200
		var wg sync.WaitGroup
		var moved atomic.Int64
		errs := make(chan error, 1)
		report := func(err error) {
			select {
			case errs <- err:
			default:
			}
		}
		stop := make(chan struct{})
		for range movers {
			wg.Go(func() {
				cc := client(t, addr, func(o *redis.Options) { o.PoolSize = 1 })
				for {
					select {
					case <-stop:
						return
					default:
					}
					err := cc.Do(ctx, "BLMOVE", src, dst, "LEFT", "RIGHT", "0.1").Err()
					if err == redis.Nil {
						continue
					}
					if err != nil {
						report(err)
						return
					}
					moved.Add(1)
				}
			})
		}
		// The auditor: every pushed element is in exactly one list or
		// not yet pushed.
		var started, pushed atomic.Int64
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				before := pushed.Load()
				var sl, dl *redis.IntCmd
				_, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
					sl, dl = p.LLen(ctx, src), p.LLen(ctx, dst)
					return nil
				})
				after := started.Load()
				if err != nil {
					report(err)
					return
				}
				if sum := sl.Val() + dl.Val(); sum < before || sum > after {
					report(fmt.Errorf("src+dst = %d, pushed between %d and %d", sum, before, after))
					return
				}
			}
		})
		for j := range n {
			started.Add(1)
			if err := c.RPush(ctx, src, "e"+strconv.Itoa(j)).Err(); err != nil {
				t.Fatal(err)
			}
			pushed.Add(1)
		}
		deadline := time.Now().Add(60 * time.Second)
		for moved.Load() < n && time.Now().Before(deadline) {
			select {
			case err := <-errs:
				t.Fatal(err)
			case <-time.After(10 * time.Millisecond):
			}
		}
		close(stop)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		all := c.LRange(ctx, dst, 0, -1).Val()
		seen := map[string]bool{}
		for _, v := range all {
			if seen[v] {
				t.Errorf("%s moved twice", v)
			}
			seen[v] = true
		}
		if len(all) != n || moved.Load() != n || c.Exists(ctx, src).Val() != 0 {
			t.Fatalf("moved %d, dst holds %d of %d, src exists %d", moved.Load(), len(all), n, c.Exists(ctx, src).Val())
		}
	})
}

// TestBlockedGroupGone: a client blocked in XREADGROUP is told, as by
// Redis 7.0, that its stream or its group went away.
func TestBlockedGroupGone(t *testing.T) {
	p := startProxy(t)
	ctx := ctxT(t)
	c := client(t, p.Addr)
	for _, tc := range []struct {
		name string
		gone func() error
		want string
	}{
		{"stream deleted", func() error { return c.Del(ctx, "gs").Err() }, "UNBLOCKED the stream key no longer exists"},
		{"group destroyed", func() error { return c.XGroupDestroy(ctx, "gs", "g").Err() },
			"NOGROUP the consumer group this client was blocked on no longer exists"},
	} {
		if err := c.XGroupCreateMkStream(ctx, "gs", "g", "$").Err(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() {
			done <- c.XReadGroup(ctx, &redis.XReadGroupArgs{Group: "g", Consumer: "a", Streams: []string{"gs", ">"}, Block: 0}).Err()
		}()
		for end := time.Now().Add(10 * time.Second); infoInt(t, c, "clients", "blocked_clients") != 1; {
			if time.Now().After(end) {
				t.Fatalf("%s: the client never blocked", tc.name)
			}
			time.Sleep(5 * time.Millisecond) // polling the server's state
		}
		if err := tc.gone(); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-done:
			if err == nil || err.Error() != tc.want {
				t.Errorf("%s: XREADGROUP answered %v, want %q", tc.name, err, tc.want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: the blocked client was not answered", tc.name)
		}
		c.Del(ctx, "gs")
	}
}
