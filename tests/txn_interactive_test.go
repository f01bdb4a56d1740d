package tests

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// txnConn is one connection of a client, where a TXN lives.
type txnConn struct {
	t   testing.TB
	ctx context.Context
	c   *redis.Conn
}

func newTxnConn(t testing.TB, c *redis.Client) *txnConn {
	t.Helper()
	conn := c.Conn()
	t.Cleanup(func() { conn.Close() })
	return &txnConn{t: t, ctx: ctxT(t), c: conn}
}

// do runs a command and returns its reply or error.
func (tc *txnConn) do(args ...any) (any, error) {
	return tc.c.Do(tc.ctx, args...).Result()
}

// want runs a command and fails the test unless its reply prints as want.
func (tc *txnConn) want(want string, args ...any) {
	tc.t.Helper()
	got, err := tc.do(args...)
	if err != nil && !errors.Is(err, redis.Nil) {
		tc.t.Fatalf("%v: error %v, want %s", args, err, want)
	}
	if s := fmt.Sprint(got); s != want {
		tc.t.Fatalf("%v: %s, want %s", args, s, want)
	}
}

// wantErr runs a command and fails the test unless it answers an error
// containing text.
func (tc *txnConn) wantErr(text string, args ...any) {
	tc.t.Helper()
	got, err := tc.do(args...)
	if err == nil || errors.Is(err, redis.Nil) || !strings.Contains(err.Error(), text) {
		tc.t.Fatalf("%v: %v (err %v), want an error containing %q", args, got, err, text)
	}
}

// isConflict reports whether err is TXN COMMIT's CONFLICT.
func isConflict(err error) bool {
	return err != nil && strings.HasPrefix(err.Error(), "CONFLICT ")
}

// TestTXNReadsAndWrites: inside TXN, reads and writes answer at once,
// reads see the transaction's own writes, others see none of them until
// COMMIT, and then all of them.
func TestTXNReadsAndWrites(t *testing.T) {
	p := startProxy(t)
	c := client(t, p.Addr)
	ctx := ctxT(t)
	keys := accountsOnShards("rw", 4, 4) // one key per shard
	a, b, l, h := keys[0], keys[1], keys[2], keys[3]
	if err := c.Set(ctx, a, "10", 0).Err(); err != nil {
		t.Fatal(err)
	}
	tc := newTxnConn(t, c)
	tc.want("OK", "TXN", "BEGIN")
	tc.want("10", "GET", a)
	tc.want("11", "INCR", a)
	tc.want("11", "GET", a)
	tc.want("OK", "SET", b, "x")
	tc.want("2", "APPEND", b, "y")
	tc.want("xy", "GET", b)
	tc.want("2", "RPUSH", l, "p", "q")
	tc.want("[p q]", "LRANGE", l, 0, -1)
	tc.want("1", "HSET", h, "f", "v")
	tc.want("[f v]", "HGETALL", h)
	tc.want("0", "EXISTS", "rw:missing")
	tc.wantErr("WRONGTYPE", "INCR", l)
	tc.want("PONG", "PING")
	tc.want("[state active keys-read 5 commands 12 writes 5 timeout-left-ms -1]", "TXN", "STATUS")

	// Invisible to others meanwhile.
	if v, err := c.Get(ctx, a).Result(); err != nil || v != "10" {
		t.Fatalf("other client read %s = %q, %v during the TXN", a, v, err)
	}
	if n, err := c.Exists(ctx, b, l, h).Result(); err != nil || n != 0 {
		t.Fatalf("other client saw %d of the TXN's new keys, %v", n, err)
	}
	tc.want("OK", "TXN", "COMMIT")
	tc.want("[state none keys-read 0 commands 0 writes 0 timeout-left-ms -1]", "TXN", "STATUS")
	if got := fmt.Sprintf("%v %v %v %v", c.Get(ctx, a).Val(), c.Get(ctx, b).Val(), c.LRange(ctx, l, 0, -1).Val(), c.HGetAll(ctx, h).Val()); got != "11 xy [p q] map[f:v]" {
		t.Fatalf("after COMMIT: %s", got)
	}
	// Outside a TXN the session is back to plain commands.
	tc.want("12", "INCR", a)
}

// TestTXNAbort: ABORT writes nothing; COMMIT and ABORT outside a TXN and
// a nested BEGIN are errors; RESET ends a TXN.
func TestTXNAbort(t *testing.T) {
	p := startProxy(t)
	c := client(t, p.Addr)
	ctx := ctxT(t)
	keys := accountsOnShards("ab", 2, 2)
	tc := newTxnConn(t, c)
	tc.wantErr("ERR TXN COMMIT without TXN BEGIN", "TXN", "COMMIT")
	tc.wantErr("ERR TXN ABORT without TXN BEGIN", "TXN", "ABORT")
	tc.want("OK", "TXN", "BEGIN")
	tc.wantErr("TXN calls can not be nested", "TXN", "BEGIN")
	tc.want("OK", "SET", keys[0], "1")
	tc.want("OK", "SET", keys[1], "2")
	tc.want("OK", "TXN", "ABORT")
	if n, err := c.Exists(ctx, keys...).Result(); err != nil || n != 0 {
		t.Fatalf("ABORT left %d keys, %v", n, err)
	}
	tc.want("OK", "TXN", "BEGIN")
	tc.want("OK", "SET", keys[0], "1")
	tc.want("RESET", "RESET")
	tc.wantErr("without TXN BEGIN", "TXN", "COMMIT")
	if n, err := c.Exists(ctx, keys...).Result(); err != nil || n != 0 {
		t.Fatalf("RESET left %d keys, %v", n, err)
	}
	tc.wantErr("syntax error", "TXN", "BEGIN", "TIMEOUT")
	tc.wantErr("TIMEOUT must be a positive", "TXN", "BEGIN", "TIMEOUT", "-5")
	tc.wantErr("syntax error", "TXN", "BEGIN", "SOON")
	tc.wantErr("without TXN BEGIN", "TXN", "ABORT")
}

// TestTXNConflict: COMMIT answers CONFLICT and writes nothing when a key
// the transaction read (or wrote) changed meanwhile, also for a
// transaction that only read (its reads would not be one snapshot).
func TestTXNConflict(t *testing.T) {
	p := startProxy(t)
	c := client(t, p.Addr)
	ctx := ctxT(t)
	keys := accountsOnShards("cf", 3, 3)
	a, b, d := keys[0], keys[1], keys[2]
	c.Set(ctx, a, "1", 0)
	c.Set(ctx, b, "1", 0)

	tc := newTxnConn(t, c)
	tc.want("OK", "TXN", "BEGIN")
	tc.want("1", "GET", a)
	tc.want("OK", "SET", d, "written")
	c.Set(ctx, a, "2", 0)
	if _, err := tc.do("TXN", "COMMIT"); !isConflict(err) {
		t.Fatalf("COMMIT after a read key changed: %v, want CONFLICT", err)
	}
	if n := c.Exists(ctx, d).Val(); n != 0 {
		t.Fatal("a CONFLICT wrote the transaction's write")
	}
	tc.wantErr("without TXN BEGIN", "TXN", "COMMIT")

	// Read-only: a then b, with both changed in between by one MULTI.
	tc.want("OK", "TXN", "BEGIN")
	tc.want("2", "GET", a)
	if _, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.IncrBy(ctx, a, -1)
		p.IncrBy(ctx, b, 1)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	tc.want("2", "GET", b) // the sum 4 was never there
	if _, err := tc.do("TXN", "COMMIT"); !isConflict(err) {
		t.Fatalf("read-only COMMIT over a torn read: %v, want CONFLICT", err)
	}

	// A key that was missing and is created meanwhile, and a blind write
	// to a key another client deletes: both are changes.
	tc.want("OK", "TXN", "BEGIN")
	tc.want("0", "EXISTS", d)
	c.Set(ctx, d, "now", 0)
	if _, err := tc.do("TXN", "COMMIT"); !isConflict(err) {
		t.Fatalf("COMMIT after a missing key was created: %v, want CONFLICT", err)
	}
	tc.want("OK", "TXN", "BEGIN")
	tc.want("OK", "SET", b, "mine")
	c.Del(ctx, b)
	if _, err := tc.do("TXN", "COMMIT"); !isConflict(err) {
		t.Fatalf("COMMIT after a written key was deleted: %v, want CONFLICT", err)
	}
	if n := c.Exists(ctx, b).Val(); n != 0 {
		t.Fatal("a CONFLICT wrote the transaction's write")
	}

	// Unchanged keys: it commits.
	tc.want("OK", "TXN", "BEGIN")
	tc.want("now", "GET", d)
	tc.want("OK", "SET", b, "mine")
	tc.want("OK", "TXN", "COMMIT")
	if v := c.Get(ctx, b).Val(); v != "mine" {
		t.Fatalf("after COMMIT %s = %q", b, v)
	}
}

// TestTXNRefused: commands that cannot be part of an interactive
// transaction answer a clear error inside it and leave it going; TXN is
// refused inside MULTI.
func TestTXNRefused(t *testing.T) {
	p := startProxy(t)
	c := client(t, p.Addr)
	ctx := ctxT(t)
	tc := newTxnConn(t, c)
	tc.want("OK", "TXN", "BEGIN")
	tc.want("OK", "SET", "k", "v")
	for _, cmd := range [][]any{
		{"MULTI"}, {"EXEC"}, {"DISCARD"}, {"WATCH", "k"}, {"UNWATCH"},
		{"KEYS", "*"}, {"SCAN", "0"}, {"DBSIZE"}, {"RANDOMKEY"}, {"FLUSHDB"}, {"FLUSHALL"}, {"SWAPDB", "0", "1"},
		{"EVAL", "return 1", "0"}, {"SUBSCRIBE", "ch"}, {"PUBLISH", "ch", "m"},
		{"BLPOP", "k", "0"}, {"BRPOPLPUSH", "a", "b", "1"}, {"XREAD", "BLOCK", "0", "STREAMS", "s", "$"},
		{"XAUTOCLAIM", "s", "g", "c", "0", "0"},
	} {
		tc.wantErr("not allowed inside TXN", cmd...)
	}
	tc.want("v", "GET", "k")
	tc.want("<nil>", "XREAD", "STREAMS", "s", "0") // not blocking: runs
	tc.want("OK", "TXN", "COMMIT")
	if v := c.Get(ctx, "k").Val(); v != "v" {
		t.Fatalf("k = %q after COMMIT", v)
	}

	tc.want("OK", "MULTI")
	tc.wantErr("Command not allowed inside a transaction", "TXN", "BEGIN")
	tc.wantErr("EXECABORT", "EXEC")
}

// TestTXNTimeout: past TIMEOUT the next command answers TIMEOUT, the
// transaction's writes are gone, and the session stays in it (refusing
// commands, so none meant for it runs outside it) until COMMIT or ABORT.
func TestTXNTimeout(t *testing.T) {
	p := startProxy(t)
	c := client(t, p.Addr)
	ctx := ctxT(t)
	tc := newTxnConn(t, c)
	const timeout = 200 * time.Millisecond
	tc.want("OK", "TXN", "BEGIN", "TIMEOUT", timeout.Milliseconds())
	began := time.Now() // the server's deadline counts from before
	if _, err := tc.do("SET", "tk", "v"); err != nil && !strings.HasPrefix(err.Error(), "TIMEOUT") {
		t.Fatal(err)
	}
	// What is under test is the timeout itself: wait it out.
	time.Sleep(time.Until(began.Add(timeout)))
	tc.wantErr("TIMEOUT the transaction ran past its TIMEOUT", "GET", "tk")
	tc.wantErr("TIMEOUT", "SET", "tk", "late")
	tc.want("[state timed-out keys-read 0 commands 0 writes 0 timeout-left-ms 0]", "TXN", "STATUS")
	tc.wantErr("TIMEOUT", "TXN", "COMMIT")
	tc.want("[state none keys-read 0 commands 0 writes 0 timeout-left-ms -1]", "TXN", "STATUS")
	if n := c.Exists(ctx, "tk").Val(); n != 0 {
		t.Fatal("a timed-out TXN wrote")
	}
	// After ABORT of a timed-out transaction the session runs commands.
	tc.want("OK", "TXN", "BEGIN", "TIMEOUT", 1)
	time.Sleep(2 * time.Millisecond) // the timeout under test
	tc.wantErr("TIMEOUT", "PING")
	tc.want("OK", "TXN", "ABORT")
	tc.want("PONG", "PING")
	// A long timeout does not get in the way.
	tc.want("OK", "TXN", "BEGIN", "TIMEOUT", 60000)
	tc.want("OK", "SET", "tk", "v")
	tc.want("OK", "TXN", "COMMIT")
	if v := c.Get(ctx, "tk").Val(); v != "v" {
		t.Fatalf("tk = %q", v)
	}
}

// TestTXNDisconnect: a client that goes away inside a TXN leaves nothing:
// its writes never appear and the keys it touched serve others at once.
func TestTXNDisconnect(t *testing.T) {
	p := startProxy(t)
	c := client(t, p.Addr)
	ctx := ctxT(t)
	keys := accountsOnShards("dc", 2, 2)
	c.Set(ctx, keys[0], "1", 0)
	gone := redis.NewClient(&redis.Options{Addr: p.Addr, PoolSize: 1, MaxRetries: -1})
	conn := gone.Conn()
	for _, cmd := range [][]any{{"TXN", "BEGIN"}, {"INCR", keys[0]}, {"SET", keys[1], "x"}} {
		if err := conn.Do(ctx, cmd...).Err(); err != nil {
			t.Fatal(err)
		}
	}
	conn.Close()
	gone.Close()
	if err := c.Set(ctx, keys[0], "5", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if v, n := c.Get(ctx, keys[0]).Val(), c.Exists(ctx, keys[1]).Val(); v != "5" || n != 0 {
		t.Fatalf("after the client left: %s = %q, %s exists %d", keys[0], v, keys[1], n)
	}
}

// TestTXNSameChoicesAtCommit: SPOP's random choice and XADD's generated
// ID are what COMMIT writes, not new ones.
func TestTXNSameChoicesAtCommit(t *testing.T) {
	p := startProxy(t)
	c := client(t, p.Addr)
	ctx := ctxT(t)
	members := make([]any, 50)
	for i := range members {
		members[i] = i
	}
	c.SAdd(ctx, "set", members...)
	c.Set(ctx, "f", "1.5", 0)
	for round := 0; round < 5; round++ {
		tc := newTxnConn(t, c)
		tc.want("OK", "TXN", "BEGIN")
		popped, err := tc.do("SPOP", "set", 3)
		if err != nil {
			t.Fatal(err)
		}
		one, err := tc.do("SPOP", "set")
		if err != nil {
			t.Fatal(err)
		}
		id, err := tc.do("XADD", "stream", "MAXLEN", "~", "100", "*", "round", round)
		if err != nil {
			t.Fatal(err)
		}
		tc.want(fmt.Sprint(2.5+float64(round)), "INCRBYFLOAT", "f", "1")
		// Let the clock pass the ID's millisecond, so that an ID generated
		// again at COMMIT would differ (the time itself is under test).
		ms, _, _ := strings.Cut(id.(string), "-")
		for at, _ := strconv.ParseInt(ms, 10, 64); time.Now().UnixMilli() <= at+1; {
			time.Sleep(time.Millisecond)
		}
		tc.want("OK", "TXN", "COMMIT")
		for _, m := range append(popped.([]any), one) {
			if c.SIsMember(ctx, "set", m).Val() {
				t.Fatalf("round %d: SPOP answered %v inside TXN, still a member after COMMIT", round, m)
			}
		}
		if n := c.SCard(ctx, "set").Val(); n != int64(50-4*(round+1)) {
			t.Fatalf("round %d: %d members left", round, n)
		}
		last := c.XRevRangeN(ctx, "stream", "+", "-", 1).Val()
		if len(last) != 1 || last[0].ID != id {
			t.Fatalf("round %d: XADD answered %v inside TXN, the stream ends with %v", round, id, last)
		}
	}
}

// TestTXNDocs: COMMAND DOCS and TXN HELP describe TXN; unknown
// subcommands and arities answer as Redis's containers do.
func TestTXNDocs(t *testing.T) {
	p := startProxy(t)
	c := client(t, p.Addr)
	tc := newTxnConn(t, c)
	docs, err := tc.do("COMMAND", "DOCS", "txn")
	if err != nil {
		t.Fatal(err)
	}
	s := fmt.Sprint(docs)
	for _, want := range []string{"strictly serializable", "CONFLICT", "subcommands", "txn|begin", "txn|commit", "txn|abort", "txn|status"} {
		if !strings.Contains(s, want) {
			t.Errorf("COMMAND DOCS txn lacks %q: %s", want, s)
		}
	}
	help, err := tc.do("TXN", "HELP")
	if err != nil {
		t.Fatal(err)
	}
	h := fmt.Sprint(help)
	for _, want := range []string{"TXN <subcommand>", "BEGIN [TIMEOUT <milliseconds>]", "COMMIT", "ABORT", "STATUS", "HELP"} {
		if !strings.Contains(h, want) {
			t.Errorf("TXN HELP lacks %q: %s", want, h)
		}
	}
	tc.wantErr("ERR unknown subcommand 'NOPE'. Try TXN HELP.", "TXN", "NOPE")
	tc.wantErr("ERR wrong number of arguments for 'txn' command", "TXN")
	tc.wantErr("ERR wrong number of arguments for 'txn|commit' command", "TXN", "COMMIT", "now")
	info, err := tc.do("COMMAND", "INFO", "txn")
	if err != nil || !strings.Contains(fmt.Sprint(info), "txn") {
		t.Fatalf("COMMAND INFO txn: %v %v", info, err)
	}
}

// TestTXNExpiry: a key with a TTL keeps it inside the transaction, and a
// key read live that expires before COMMIT is a change: CONFLICT.
func TestTXNExpiry(t *testing.T) {
	p := startProxy(t)
	c := client(t, p.Addr)
	ctx := ctxT(t)
	const ttl = time.Second
	if err := c.Set(ctx, "ek", "v", ttl).Err(); err != nil {
		t.Fatal(err)
	}
	set := time.Now()
	tc := newTxnConn(t, c)
	tc.want("OK", "TXN", "BEGIN")
	tc.want("v", "GET", "ek")
	pttl, err := tc.do("PTTL", "ek")
	if err != nil || pttl.(int64) <= 0 || pttl.(int64) > ttl.Milliseconds() {
		t.Fatalf("PTTL inside TXN: %v, %v", pttl, err)
	}
	tc.want("OK", "SET", "other", "x")
	// The expiry is what is under test: wait it out.
	time.Sleep(time.Until(set.Add(ttl + 10*time.Millisecond)))
	tc.want("<nil>", "GET", "ek")
	if _, err := tc.do("TXN", "COMMIT"); !isConflict(err) {
		t.Fatalf("COMMIT after a read key expired: %v, want CONFLICT", err)
	}
	if n := c.Exists(ctx, "other").Val(); n != 0 {
		t.Fatal("a CONFLICT wrote")
	}
}

// TestTXNPipelined: a whole transaction sent as one pipeline runs its
// commands inside it, in order.
func TestTXNPipelined(t *testing.T) {
	p := startProxy(t)
	c := client(t, p.Addr)
	ctx := ctxT(t)
	keys := accountsOnShards("pl", 3, 3)
	conn := c.Conn()
	defer conn.Close()
	cmds, err := conn.Pipelined(ctx, func(pl redis.Pipeliner) error {
		pl.Do(ctx, "TXN", "BEGIN")
		pl.Set(ctx, keys[0], "a", 0)
		pl.Set(ctx, keys[1], "b", 0)
		pl.MGet(ctx, keys[0], keys[1], keys[2])
		pl.Do(ctx, "TXN", "STATUS")
		pl.Do(ctx, "TXN", "COMMIT")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if s := fmt.Sprint(cmds[3].(*redis.SliceCmd).Val()); s != "[a b <nil>]" {
		t.Fatalf("MGET inside a pipelined TXN: %s", s)
	}
	if s := fmt.Sprint(cmds[4].(*redis.Cmd).Val()); s != "[state active keys-read 3 commands 3 writes 2 timeout-left-ms -1]" {
		t.Fatalf("TXN STATUS inside a pipelined TXN: %s", s)
	}
	if n := c.Exists(ctx, keys[0], keys[1]).Val(); n != 2 {
		t.Fatalf("%d keys after a pipelined TXN", n)
	}
}

// TestTXNRedisBackends: TXN over three redis-servers: reads, own writes,
// CONFLICT, ABORT; an abandoned transaction leaves the backends exactly as
// they were (no lock, version or shadow key).
func TestTXNRedisBackends(t *testing.T) {
	backends, urls := startBackends(t, 3)
	p := startProxy(t, backendArgs(urls)...)
	c := client(t, p.Addr)
	ctx := ctxT(t)
	keys := oneKeyPerShard("tr", 3)
	c.Set(ctx, keys[0], "5", 0)
	tc := newTxnConn(t, c)
	tc.want("OK", "TXN", "BEGIN")
	tc.want("5", "GET", keys[0])
	tc.want("6", "INCR", keys[0])
	tc.want("2", "RPUSH", keys[1], "a", "b")
	tc.want("[a b]", "LRANGE", keys[1], 0, -1)
	tc.want("0", "EXISTS", keys[2])
	if n := c.Exists(ctx, keys[1]).Val(); n != 0 {
		t.Fatal("a TXN write is visible before COMMIT")
	}
	tc.want("OK", "TXN", "COMMIT")
	if got := fmt.Sprint(c.Get(ctx, keys[0]).Val(), " ", c.LRange(ctx, keys[1], 0, -1).Val()); got != "6 [a b]" {
		t.Fatalf("after COMMIT: %s", got)
	}

	tc.want("OK", "TXN", "BEGIN")
	tc.want("6", "GET", keys[0])
	tc.want("OK", "SET", keys[2], "x")
	c.Incr(ctx, keys[0])
	if _, err := tc.do("TXN", "COMMIT"); !isConflict(err) {
		t.Fatalf("COMMIT after a read key changed: %v, want CONFLICT", err)
	}
	tc.want("OK", "TXN", "BEGIN")
	tc.want("OK", "SET", keys[2], "x")
	tc.want("OK", "TXN", "ABORT")
	if n := c.Exists(ctx, keys[2]).Val(); n != 0 {
		t.Fatal("CONFLICT or ABORT wrote")
	}

	// What the backends hold, metadata included, before and after a
	// client that leaves inside a TXN.
	snapshot := func() string {
		var out []string
		for _, b := range backends {
			rc := client(t, b.Addr)
			ks := rc.Keys(ctx, "*").Val()
			slices.Sort(ks)
			for _, k := range ks {
				d, _ := rc.Dump(ctx, k).Result()
				out = append(out, k+"="+strconv.Quote(d))
			}
		}
		return strings.Join(out, "\n")
	}
	before := snapshot()
	gone := redis.NewClient(&redis.Options{Addr: p.Addr, PoolSize: 1, MaxRetries: -1})
	conn := gone.Conn()
	for _, cmd := range [][]any{{"TXN", "BEGIN"}, {"INCR", keys[0]}, {"RPUSH", keys[1], "c"}, {"SET", keys[2], "y"}} {
		if err := conn.Do(ctx, cmd...).Err(); err != nil {
			t.Fatal(err)
		}
	}
	conn.Close()
	gone.Close()
	if after := snapshot(); after != before {
		t.Fatalf("an abandoned TXN changed the backends:\nbefore\n%s\nafter\n%s", before, after)
	}
	if err := c.Set(ctx, keys[0], "9", 0).Err(); err != nil {
		t.Fatal(err)
	}
}

// TestTXNMoreCommands: commands over other databases (SELECT, MOVE, COPY
// DB), consumer groups and a client blocked on a key the COMMIT writes.
func TestTXNMoreCommands(t *testing.T) {
	p := startProxy(t)
	c := client(t, p.Addr)
	ctx := ctxT(t)
	c.Set(ctx, "mv", "1", 0)
	c.XAdd(ctx, &redis.XAddArgs{Stream: "st", ID: "1-1", Values: []any{"f", "a"}})
	c.XAdd(ctx, &redis.XAddArgs{Stream: "st", ID: "1-2", Values: []any{"f", "b"}})
	db3 := client(t, p.Addr, func(o *redis.Options) { o.DB = 3 })

	// A client blocked on a list the COMMIT pushes to is served.
	popped := make(chan string, 1)
	go func() {
		v, err := db3.BLPop(ctx, 0, "q").Result()
		if err != nil {
			popped <- err.Error()
			return
		}
		popped <- v[1]
	}()

	tc := newTxnConn(t, c)
	tc.want("OK", "TXN", "BEGIN")
	tc.want("1", "MOVE", "mv", 3)
	tc.want("0", "EXISTS", "mv")
	tc.want("1", "COPY", "st", "st", "DB", "3")
	tc.want("OK", "XGROUP", "CREATE", "st", "g", "0")
	tc.want("[[st [[1-1 [f a]]]]]", "XREADGROUP", "GROUP", "g", "alice", "COUNT", "1", "STREAMS", "st", ">")
	tc.want("OK", "SELECT", 3)
	tc.want("1", "GET", "mv")
	tc.want("1", "RPUSH", "q", "job")
	tc.want("OK", "SELECT", 0)
	if n := db3.Exists(ctx, "mv", "st").Val(); n != 0 {
		t.Fatal("TXN writes in db 3 visible before COMMIT")
	}
	// The push inside the TXN did not serve it; the COMMIT must.
	awaitBlocked(t, dialT(t, p.Addr), 1)
	tc.want("OK", "TXN", "COMMIT")
	if got := <-popped; got != "job" {
		t.Fatalf("the blocked client got %q", got)
	}
	if v := db3.Get(ctx, "mv").Val(); v != "1" || c.Exists(ctx, "mv").Val() != 0 {
		t.Fatalf("MOVE inside TXN: db 3 has %q", v)
	}
	if n := db3.XLen(ctx, "st").Val(); n != 2 {
		t.Fatalf("COPY DB inside TXN: %d entries in db 3", n)
	}
	pending := c.XPendingExt(ctx, &redis.XPendingExtArgs{Stream: "st", Group: "g", Start: "-", End: "+", Count: 10}).Val()
	if len(pending) != 1 || pending[0].ID != "1-1" || pending[0].Consumer != "alice" {
		t.Fatalf("XREADGROUP inside TXN left pending %v", pending)
	}
}
