package tests

// Edge cases of the proxy over three real redis-servers: keys expiring in
// the middle of cross-shard transactions, integers past 2^53 through the
// shard scripts, FLUSHALL among transactions, one hot WATCHed key, a proxy
// restarted on its address and a backend restarted on its AOF, under load.

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/schemaproxy/schemaproxy/cluster"
	"github.com/schemaproxy/schemaproxy/internal/testutil"
)

// backendsAndProxy starts three backends and a proxy over them.
func backendsAndProxy(t *testing.T) ([]*testutil.Process, *proxy) {
	t.Helper()
	backends, urls := startBackends(t, 3)
	return backends, startProxy(t, backendArgs(urls)...)
}

// backendKeys lists the keys matching pattern on a backend's database db,
// read there directly.
func backendKeys(ctx context.Context, addr string, db int, pattern string) ([]string, error) {
	c := redis.NewClient(&redis.Options{Addr: addr, DB: db})
	defer c.Close()
	return c.Keys(ctx, pattern).Result()
}

// userKeys drops the proxy's metadata from keys.
func userKeys(keys []string) []string {
	return slices.DeleteFunc(keys, func(k string) bool { return strings.HasPrefix(k, "__sp:") })
}

// waitCount polls n until it reaches want, failing the test past 30 s.
func waitCount(t *testing.T, n *atomic.Int64, want int64, what string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for n.Load() < want {
		if time.Now().After(deadline) {
			t.Fatalf("only %d %s, waited for %d", n.Load(), what, want)
		}
		time.Sleep(2 * time.Millisecond) // polling the load's progress
	}
}

// firstErr keeps the first error of many goroutines.
type firstErr struct {
	mu  sync.Mutex // guards err
	err error
}

func (f *firstErr) set(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err == nil {
		f.err = err
	}
}

func (f *firstErr) get() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

// percentile returns the p-th percentile (0 < p <= 100) of ds, sorting it.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	i := int(float64(len(ds))*p/100+0.999999) - 1
	return ds[max(0, min(i, len(ds)-1))]
}

// errGone says a transfer found an account expired and sent nothing.
var errGone = errors.New("account expired")

// TestRedisBackendsExpiryDuringTransfers: WATCH transfers (GET both
// accounts, then MULTI DECRBY/INCRBY across backends) run while accounts,
// one after another, get a PEXPIRE of about a transfer's latency, so that
// they expire between a transaction's reads, locks, commit and applies.
// Redis's rules make that checkable: a WATCHed key that expires fails the
// EXEC, so a committed transfer saw both accounts alive at its commit and
// its replies are exactly the balances it read moved by the amount (an
// account recreated from nothing mid-transaction would answer -amount); no
// transfer that started once an account's deadline had passed commits; an
// expired account never comes back (on the backend either); and each
// account that never expired holds 100 plus what committed transfers moved.
func TestRedisBackendsExpiryDuringTransfers(t *testing.T) {
	if testing.Short() {
		t.Skip("a load over three redis-servers")
	}
	backends, p := backendsAndProxy(t)
	ctx := ctxT(t)
	c := client(t, p.Addr)
	accounts := accountsOnShards("ex", 24, 3)
	doomed, kept := accounts[:16], accounts[16:]
	for _, a := range accounts {
		if err := c.Set(ctx, a, 100, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	type done struct {
		from, to string
		amount   int64
		start    time.Time
	}
	transfer := func(rnd *rand.Rand, from, to string) (done, error) {
		d := done{from: from, to: to, amount: int64(rnd.IntN(5) + 1), start: time.Now()}
		err := c.Watch(ctx, func(tx *redis.Tx) error {
			vals, err := tx.MGet(ctx, from, to).Result()
			if err != nil {
				return err
			}
			if vals[0] == nil || vals[1] == nil {
				return errGone
			}
			var fb, tb int64
			fmt.Sscan(vals[0].(string), &fb)
			fmt.Sscan(vals[1].(string), &tb)
			cmds, err := tx.TxPipelined(ctx, func(pl redis.Pipeliner) error {
				pl.DecrBy(ctx, from, d.amount)
				pl.IncrBy(ctx, to, d.amount)
				return nil
			})
			if err != nil {
				return err
			}
			gotF, gotT := cmds[0].(*redis.IntCmd).Val(), cmds[1].(*redis.IntCmd).Val()
			if gotF != fb-d.amount || gotT != tb+d.amount {
				return fmt.Errorf("transfer of %d from %s (read %d) to %s (read %d) answered %d and %d: not the balances it read",
					d.amount, from, fb, to, tb, gotF, gotT)
			}
			return nil
		}, from, to)
		return d, err
	}
	// The TTL: the median latency of a transfer, measured.
	var lat []time.Duration
	rnd := rand.New(rand.NewPCG(1, 1))
	var (
		mu       sync.Mutex               // guards log and deadline
		log      []done                   // the committed transfers
		deadline = map[string]time.Time{} // the latest each doomed account may live to
	)
	for i := range 40 {
		d, err := transfer(rnd, kept[i%2], kept[1-i%2])
		if err != nil {
			t.Fatal(err)
		}
		lat = append(lat, time.Since(d.start))
		log = append(log, d)
	}
	ttl := max(percentile(lat, 50), time.Millisecond)
	var commits, aborts, gone atomic.Int64
	var failure firstErr
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			rnd := rand.New(rand.NewPCG(uint64(w), 2))
			for {
				select {
				case <-stop:
					return
				default:
				}
				from, to := accounts[rnd.IntN(len(accounts))], accounts[rnd.IntN(len(accounts))]
				if from == to {
					continue
				}
				d, err := transfer(rnd, from, to)
				switch {
				case err == nil:
					mu.Lock()
					log = append(log, d)
					mu.Unlock()
					commits.Add(1)
				case errors.Is(err, redis.TxFailedErr):
					aborts.Add(1)
				case errors.Is(err, errGone):
					gone.Add(1)
				default:
					failure.set(err)
					return
				}
			}
		}(w)
	}
	// Doom the accounts one by one as transfers go through.
	for i, a := range doomed {
		waitCount(t, &commits, int64(30*(i+1)), "transfers")
		n, err := c.PExpire(ctx, a, ttl).Result()
		if err != nil || !n {
			t.Fatalf("PEXPIRE %s: %v %v", a, n, err)
		}
		mu.Lock()
		deadline[a] = time.Now().Add(ttl)
		mu.Unlock()
	}
	mu.Lock()
	last := deadline[doomed[len(doomed)-1]]
	mu.Unlock()
	for time.Now().Before(last.Add(20 * time.Millisecond)) {
		waitCount(t, &commits, commits.Load()+1, "transfers") // transfers meet the expired accounts
	}
	close(stop)
	wg.Wait()
	if err := failure.get(); err != nil {
		t.Fatal(err)
	}
	// Redis compares deadlines in whole milliseconds: 2 ms of slack.
	const slack = 2 * time.Millisecond
	net := map[string]int64{}
	for _, d := range log {
		for _, k := range []string{d.from, d.to} {
			if dl, ok := deadline[k]; ok && d.start.After(dl.Add(slack)) {
				t.Errorf("a transfer on %s started %v after its deadline and committed", k, d.start.Sub(dl))
			}
		}
		net[d.from] -= d.amount
		net[d.to] += d.amount
	}
	for _, a := range doomed {
		if n, err := c.Exists(ctx, a).Result(); err != nil || n != 0 {
			t.Errorf("%s is back after it expired: EXISTS %d %v", a, n, err)
		}
	}
	for _, b := range backends {
		keys, err := backendKeys(ctx, b.Addr, 0, "ex:*")
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			if slices.Contains(doomed, k) {
				t.Errorf("backend %s holds %s after it expired", b.Addr, k)
			}
		}
	}
	vals, err := c.MGet(ctx, kept...).Result()
	if err != nil {
		t.Fatal(err)
	}
	for i, a := range kept {
		if want := fmt.Sprint(100 + net[a]); vals[i] != want {
			t.Errorf("%s = %v, want %s from the committed transfers", a, vals[i], want)
		}
	}
	if commits.Load() < int64(30*len(doomed)) || gone.Load() == 0 {
		t.Fatalf("the load did not meet expired accounts: %d commits, %d found an account gone", commits.Load(), gone.Load())
	}
	t.Logf("TTL %v: %d transfers committed, %d aborted by WATCH, %d found an account expired", ttl, commits.Load(), aborts.Load(), gone.Load())
}

// TestRedisBackendsExpiryInMulti: a MULTI without WATCH moves 1 from a
// key whose PEXPIRE (1-4 ms) runs out about when the transaction locks,
// commits and applies, to a key on another backend. Redis allows two
// outcomes, and each is checked: DECRBY answers 99 and the key then
// expires at its deadline, or the key had expired, DECRBY answers -1 and
// the key lives on as -1 without a TTL; the other key always got its 1.
// Both outcomes must occur, or the case was not met.
func TestRedisBackendsExpiryInMulti(t *testing.T) {
	if testing.Short() {
		t.Skip("hundreds of transactions over three redis-servers")
	}
	_, p := backendsAndProxy(t)
	ctx := ctxT(t)
	c := client(t, p.Addr)
	k := oneKeyPerShard("em", 3)
	outcomes := map[int64]int{}
	for i := 0; i < 240; i++ {
		ttl := time.Duration(1+i%4) * time.Millisecond
		a, b := k[i%3], k[(i+1)%3]
		if err := c.Del(ctx, a, b).Err(); err != nil {
			t.Fatal(err)
		}
		if err := c.Set(ctx, a, 100, ttl).Err(); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(ttl)
		cmds, err := c.TxPipelined(ctx, func(pl redis.Pipeliner) error {
			pl.DecrBy(ctx, a, 1)
			pl.IncrBy(ctx, b, 1)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		r := cmds[0].(*redis.IntCmd).Val()
		outcomes[r]++
		time.Sleep(time.Until(deadline.Add(2 * time.Millisecond))) // the TTL running out is the event awaited
		vals, err := c.MGet(ctx, a, b).Result()
		if err != nil {
			t.Fatal(err)
		}
		pttl := c.PTTL(ctx, a).Val()
		switch {
		case vals[1] != "1":
			t.Fatalf("ttl %v: %s = %v after INCRBY 1 on a fresh key", ttl, b, vals[1])
		case r == 99 && vals[0] == nil:
		case r == -1 && vals[0] == "-1" && pttl == -1:
		default:
			t.Fatalf("ttl %v: DECRBY %s answered %d; past its deadline it holds %v with PTTL %v", ttl, a, r, vals[0], pttl)
		}
	}
	if outcomes[99] == 0 || outcomes[-1] == 0 {
		t.Fatalf("one outcome never happened: %v", outcomes)
	}
	t.Logf("DECRBY answers (99: before the expiry, -1: after): %v", outcomes)
}

// TestRedisBackendsBigIntegers: INCRBY, DECRBY, INCR, DECR and HINCRBY
// across 2^53 (where a Lua number would round) and up to int64's limits,
// alone, pipelined, in a MULTI over the three backends and under WATCH,
// answer byte for byte what one redis-server answers, overflow errors
// included.
func TestRedisBackendsBigIntegers(t *testing.T) {
	ref, got := referencePair(t, func() []string {
		_, urls := startBackends(t, 3)
		return backendArgs(urls)
	}()...)
	k := oneKeyPerShard("big", 3)
	h := k[1] + ":h"
	script := [][]string{
		{"SET", k[0], "9007199254740990"},
		{"INCRBY", k[0], "1"},
		{"INCR", k[0]},
		{"INCR", k[0]},
		{"INCRBY", k[0], "2"},
		{"DECRBY", k[0], "3"},
		{"DECR", k[0]},
		{"GET", k[0]},
		{"SET", k[1], "9007199254740991"},
		{"SET", k[2], "-9007199254740991"},
		{"MULTI"},
		{"INCRBY", k[0], "4"},
		{"INCRBY", k[1], "2"},
		{"DECRBY", k[2], "3"},
		{"GET", k[0]},
		{"INCR", k[1]},
		{"INCRBY", k[2], "18014398509481984"},
		{"EXEC"},
		{"MGET", k[0], k[1], k[2]},
		{"HSET", h, "f", "9007199254740990"},
		{"HINCRBY", h, "f", "5"},
		{"HINCRBY", h, "f", "9223372036854775000"},
		{"HGET", h, "f"},
		{"SET", k[0], "9223372036854775800"},
		{"SET", k[2], "-9223372036854775800"},
		{"MULTI"},
		{"INCRBY", k[0], "7"},
		{"INCR", k[0]},
		{"INCRBY", k[1], "9007199254740993"},
		{"DECRBY", k[2], "8"},
		{"DECR", k[2]},
		{"DECRBY", k[1], "-9223372036854775808"},
		{"INCRBY", k[1], "-9223372036854775808"},
		{"EXEC"},
		{"MGET", k[0], k[1], k[2]},
		{"INCR", k[0]},
		{"INCRBY", k[0], "-9223372036854775808"},
		{"DECR", k[2]},
		{"DECRBY", k[0], "-1"},
		{"GET", k[0]},
		{"WATCH", k[0], k[1]},
		{"GET", k[1]},
		{"MULTI"},
		{"INCRBY", k[0], "-9223372036854775807"},
		{"INCRBY", k[1], "9007199254740993"},
		{"EXEC"},
		{"MGET", k[0], k[1], k[2]},
		{"DEL", k[0], k[1], k[2], h},
	}
	run := func(c *testutil.Conn) []string {
		var out []string
		for _, cmd := range script {
			r, err := c.Do(cmd...)
			if err != nil {
				t.Fatalf("%s: %v: %v", c.Addr(), cmd, err)
			}
			out = append(out, string(r))
		}
		// A pipeline of increments across the boundary, in one write.
		var raw []byte
		for _, cmd := range [][]string{{"SET", k[2], "9007199254740989"}, {"INCRBY", k[2], "3"}, {"INCR", k[2]},
			{"INCRBY", k[2], "9007199254740993"}, {"INCRBY", k[2], "9223372036854775807"}, {"GET", k[2]}, {"DEL", k[2]}} {
			raw = append(raw, fmt.Sprintf("*%d\r\n", len(cmd))...)
			for _, a := range cmd {
				raw = append(raw, fmt.Sprintf("$%d\r\n%s\r\n", len(a), a)...)
			}
		}
		if err := c.WriteRaw(raw); err != nil {
			t.Fatal(err)
		}
		for range 7 {
			r, err := c.ReadReply()
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, string(r))
		}
		return out
	}
	want, have := run(ref), run(got)
	if !slices.Contains(want, "-ERR increment or decrement would overflow\r\n") || !slices.Contains(want, ":9007199254740992\r\n") {
		t.Fatalf("the script misses its cases on redis-server: %q", want)
	}
	steps := append(slices.Clone(script), make([][]string, 7)...)
	for i := range want {
		if want[i] != have[i] {
			t.Errorf("reply %d (%v): redis-server %q, schemaproxy %q", i, steps[i], want[i], have[i])
		}
	}
}

// TestRedisBackendsFlushDuringTransactions: FLUSHALL and FLUSHDB (SYNC
// and ASYNC) run among MULTIs that increment two counters on different
// backends, MSETs of pairs and cross-backend reads, in two databases. No
// request gets an error; an EXEC's two increments always answer the same
// number and a read of both counters always finds them equal (a flush
// never falls between a transaction's shards); FLUSHDB leaves database 1
// alone. Afterwards nothing shows: DBSIZE 0, KEYS * empty, no user key
// and no lock key on any backend.
func TestRedisBackendsFlushDuringTransactions(t *testing.T) {
	if testing.Short() {
		t.Skip("a load over three redis-servers")
	}
	backends, p := backendsAndProxy(t)
	ctx := ctxT(t)
	k := oneKeyPerShard("fl", 3)
	c0 := client(t, p.Addr)
	c1 := client(t, p.Addr, func(o *redis.Options) { o.DB = 1 })
	var ops, db1Incrs atomic.Int64
	var failure firstErr
	stop := make(chan struct{})
	var wg sync.WaitGroup
	loop := func(body func(i int) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if err := body(i); err != nil {
					failure.set(err)
					return
				}
				ops.Add(1)
			}
		}()
	}
	pair := func(c *redis.Client, a, b string) func(int) error {
		return func(int) error {
			cmds, err := c.TxPipelined(ctx, func(pl redis.Pipeliner) error {
				pl.Incr(ctx, a)
				pl.Incr(ctx, b)
				return nil
			})
			if err != nil {
				return fmt.Errorf("MULTI INCR %s INCR %s: %w", a, b, err)
			}
			if x, y := cmds[0].(*redis.IntCmd).Val(), cmds[1].(*redis.IntCmd).Val(); x != y {
				return fmt.Errorf("one EXEC incremented %s to %d and %s to %d", a, x, b, y)
			}
			return nil
		}
	}
	for range 3 {
		loop(pair(c0, k[0], k[1]))
	}
	loop(func(i int) error { // the same pair in database 1, never flushed by FLUSHDB
		if err := pair(c1, k[0], k[1])(i); err != nil {
			return err
		}
		db1Incrs.Add(1)
		return nil
	})
	loop(func(i int) error {
		v := fmt.Sprint(i)
		if err := c0.MSet(ctx, k[1]+":m", v, k[2]+":m", v).Err(); err != nil {
			return fmt.Errorf("MSET: %w", err)
		}
		got, err := c0.MGet(ctx, k[1]+":m", k[2]+":m").Result()
		if err != nil {
			return fmt.Errorf("MGET: %w", err)
		}
		if got[0] != got[1] || (got[0] != nil && got[0] != v) {
			return fmt.Errorf("MSET of %s to both, then MGET: %v", v, got)
		}
		return nil
	})
	loop(func(int) error {
		got, err := c0.MGet(ctx, k[0], k[1]).Result()
		if err != nil {
			return fmt.Errorf("MGET: %w", err)
		}
		if got[0] != got[1] {
			return fmt.Errorf("counters read together differ: %v", got)
		}
		return nil
	})
	flushes := [][]any{{"FLUSHDB"}, {"FLUSHDB", "ASYNC"}, {"FLUSHDB", "SYNC"}}
	for i := range 12 {
		waitCount(t, &ops, int64(40*(i+1)), "requests")
		if err := c0.Do(ctx, flushes[i%len(flushes)]...).Err(); err != nil {
			t.Fatalf("%v: %v", flushes[i%len(flushes)], err)
		}
	}
	// Database 1 kept every increment through the FLUSHDBs of database 0.
	if err := failure.get(); err != nil {
		t.Fatal(err)
	}
	// The loop goes on meanwhile: the counter is at least what was
	// acknowledged before the read, at most what was after it and one in
	// flight.
	before := db1Incrs.Load()
	n, err := c1.Get(ctx, k[0]).Int64()
	after := db1Incrs.Load()
	if err != nil || n < before || n > after+1 {
		t.Fatalf("database 1 after FLUSHDB of database 0: %s = %d (%v), %d to %d increments acknowledged", k[0], n, err, before, after)
	}
	for i, f := range [][]any{{"FLUSHALL"}, {"FLUSHALL", "ASYNC"}, {"FLUSHALL", "SYNC"}, {"FLUSHALL"}} {
		waitCount(t, &ops, ops.Load()+40, "requests")
		if err := c0.Do(ctx, f...).Err(); err != nil {
			t.Fatalf("flush %d %v: %v", i, f, err)
		}
	}
	close(stop)
	wg.Wait()
	if err := failure.get(); err != nil {
		t.Fatal(err)
	}
	if err := c0.FlushAll(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	for db, c := range []*redis.Client{c0, c1} {
		if n, err := c.DBSize(ctx).Result(); err != nil || n != 0 {
			t.Errorf("db %d: DBSIZE %d %v after FLUSHALL", db, n, err)
		}
		if keys, err := c.Keys(ctx, "*").Result(); err != nil || len(keys) != 0 {
			t.Errorf("db %d: KEYS * = %v %v after FLUSHALL", db, keys, err)
		}
		if keys, _, err := c.Scan(ctx, 0, "*", 1000).Result(); err != nil || len(keys) != 0 {
			t.Errorf("db %d: SCAN = %v %v after FLUSHALL", db, keys, err)
		}
		for _, b := range backends {
			keys, err := backendKeys(ctx, b.Addr, db, "*")
			if err != nil {
				t.Fatal(err)
			}
			if u := userKeys(slices.Clone(keys)); len(u) != 0 {
				t.Errorf("backend %s db %d holds user keys %v after FLUSHALL", b.Addr, db, u)
			}
			for _, key := range keys {
				if strings.HasPrefix(key, "__sp:l:") {
					t.Errorf("backend %s db %d holds the lock %s after FLUSHALL", b.Addr, db, key)
				}
			}
		}
	}
	t.Logf("%d requests among 16 flushes", ops.Load())
}

// TestRedisBackendsHotKeyWatch: 64 clients increment one key with
// WATCH/GET/MULTI/SET/EXEC, the MULTI also counting on a key of another
// backend, each retrying its nil EXECs until it has its increments: all
// finish within the bound (no livelock), and both keys end at the number
// of successful EXECs. The same load on one redis-server gives the
// latencies to compare with.
func TestRedisBackendsHotKeyWatch(t *testing.T) {
	if testing.Short() {
		t.Skip("a load over three redis-servers")
	}
	_, p := backendsAndProxy(t)
	k := oneKeyPerShard("hot", 3)
	got := hotKeyIncrements(t, p.Addr, k[0], k[1])
	want := hotKeyIncrements(t, testutil.StartRedis(t).Addr, k[0], k[1])
	t.Logf("schemaproxy over 3 redis-servers: %s", got)
	t.Logf("one redis-server: %s", want)
}

// hotKeyStats sums up a hot-key load.
type hotKeyStats struct {
	increments, attempts int64
	took                 time.Duration
	p50, p99, max        time.Duration // per increment, retries included
	attemptP99           time.Duration
}

func (s hotKeyStats) String() string {
	return fmt.Sprintf("%d increments by 64 clients in %v, %d attempts (p99 %v); per increment p50 %v, p99 %v, max %v",
		s.increments, s.took.Round(time.Millisecond), s.attempts, s.attemptP99.Round(time.Microsecond),
		s.p50.Round(time.Microsecond), s.p99.Round(time.Microsecond), s.max.Round(time.Microsecond))
}

// hotKeyIncrements runs the hot-key load on addr and checks its outcome.
func hotKeyIncrements(t *testing.T, addr, hot, tally string) hotKeyStats {
	const clients, each = 64, 3
	ctx := ctxT(t)
	var (
		mu       sync.Mutex      // guards lat and tries
		lat      []time.Duration // per increment, retries included
		tries    []time.Duration // per attempt
		attempts atomic.Int64
		execs    atomic.Int64
		failure  firstErr
		wg       sync.WaitGroup
	)
	bound := time.Now().Add(30 * time.Second)
	began := time.Now()
	for w := 0; w < clients; w++ {
		c := client(t, addr, func(o *redis.Options) { o.PoolSize = 2 })
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				start := time.Now()
				for {
					if time.Now().After(bound) {
						failure.set(fmt.Errorf("%s: an increment still failing after %v: livelock", addr, time.Since(start)))
						return
					}
					attempts.Add(1)
					as := time.Now()
					err := c.Watch(ctx, func(tx *redis.Tx) error {
						n, err := tx.Get(ctx, hot).Int64()
						if err != nil && err != redis.Nil {
							return err
						}
						_, err = tx.TxPipelined(ctx, func(pl redis.Pipeliner) error {
							pl.Set(ctx, hot, n+1, 0)
							pl.Incr(ctx, tally)
							return nil
						})
						return err
					}, hot)
					mu.Lock()
					tries = append(tries, time.Since(as))
					mu.Unlock()
					if errors.Is(err, redis.TxFailedErr) {
						continue
					}
					if err != nil {
						failure.set(err)
						return
					}
					execs.Add(1)
					break
				}
				mu.Lock()
				lat = append(lat, time.Since(start))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	took := time.Since(began)
	if err := failure.get(); err != nil {
		t.Fatal(err)
	}
	vals, err := client(t, addr).MGet(ctx, hot, tally).Result()
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprint(execs.Load())
	if execs.Load() != clients*each || vals[0] != want || vals[1] != want {
		t.Fatalf("%s: %d successful EXECs, %s = %v, %s = %v", addr, execs.Load(), hot, vals[0], tally, vals[1])
	}
	return hotKeyStats{increments: execs.Load(), attempts: attempts.Load(), took: took,
		p50: percentile(lat, 50), p99: percentile(lat, 99), max: percentile(lat, 100), attemptP99: percentile(tries, 99)}
}

// moneyLoad runs transfers between accounts (MULTI DECRBY/INCRBY/INCR
// count, over several backends) on workers until stop is closed, counting
// what each worker had acknowledged and what failed.
type moneyLoad struct {
	accounts []string
	count    string
	ok, fail atomic.Int64
	perOK    []atomic.Int64 // acknowledged per worker
	stop     chan struct{}
	wg       sync.WaitGroup
}

func startMoneyLoad(t *testing.T, addr string, accounts []string, count string, workers int) *moneyLoad {
	ctx := ctxT(t)
	m := &moneyLoad{accounts: accounts, count: count, perOK: make([]atomic.Int64, workers), stop: make(chan struct{})}
	for w := 0; w < workers; w++ {
		c := client(t, addr, func(o *redis.Options) { o.PoolSize = 2; o.ReadTimeout = 30 * time.Second })
		m.wg.Add(1)
		go func(w int) {
			defer m.wg.Done()
			rnd := rand.New(rand.NewPCG(uint64(w), 3))
			for {
				select {
				case <-m.stop:
					return
				default:
				}
				from, to := accounts[rnd.IntN(len(accounts))], accounts[rnd.IntN(len(accounts))]
				if from == to {
					continue
				}
				_, err := c.TxPipelined(ctx, func(pl redis.Pipeliner) error {
					pl.DecrBy(ctx, from, 1)
					pl.IncrBy(ctx, to, 1)
					pl.Incr(ctx, count)
					return nil
				})
				if err != nil {
					m.fail.Add(1)
					continue
				}
				m.ok.Add(1)
				m.perOK[w].Add(1)
			}
		}(w)
	}
	return m
}

func (m *moneyLoad) halt() {
	close(m.stop)
	m.wg.Wait()
}

// check: the total is whole, read in one transaction; the count of
// transfers lies between those acknowledged and those sent.
func (m *moneyLoad) check(t *testing.T, c *redis.Client, total int64) {
	t.Helper()
	if sum, err := auditMulti(ctxT(t), c, m.accounts); err != nil || sum != total {
		t.Fatalf("total %d (%v), want %d", sum, err, total)
	}
	n, err := c.Get(ctxT(t), m.count).Int64()
	if err != nil || n < m.ok.Load() || n > m.ok.Load()+m.fail.Load() {
		t.Fatalf("%d transfers counted (%v): %d acknowledged, %d failed", n, err, m.ok.Load(), m.fail.Load())
	}
}

// noLocksLeft runs a request over whole databases, which resolves what
// is left, and checks that no backend holds a lock in database 0.
func noLocksLeft(t *testing.T, c *redis.Client, backends []*testutil.Process) {
	t.Helper()
	ctx := ctxT(t)
	if err := c.DBSize(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	for _, b := range backends {
		keys, err := backendKeys(ctx, b.Addr, 0, "__sp:l:*")
		if err != nil || len(keys) != 0 {
			t.Fatalf("backend %s holds locks %v (%v)", b.Addr, keys, err)
		}
	}
}

// TestRedisBackendsProxyRestartedUnderLoad: the only proxy is killed with
// SIGKILL in the middle of transfers and started again on the same
// address and options: the clients' pools reconnect by themselves (every
// worker has transfers acknowledged after the restart), what the dead
// proxy left locked is resolved, the total holds and the count of
// transfers lies between those acknowledged and those sent.
func TestRedisBackendsProxyRestartedUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the dead proxy's deadlines")
	}
	backends, p := backendsAndProxy(t)
	ctx := ctxT(t)
	accounts := accountsOnShards("pr", 6, 3)
	c := client(t, p.Addr)
	for _, a := range accounts {
		if err := c.Set(ctx, a, 100, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	const workers = 4
	m := startMoneyLoad(t, p.Addr, accounts, "pr:count", workers)
	waitCount(t, &m.ok, 200, "transfers")
	p.Kill()
	killedAt := time.Now()
	restarted := testutil.Start(t, p.Addr, proxyBinary(t), append([]string{"--listen", p.Addr, "--data-dir", p.dataDir}, p.args...)...)
	var before [workers]int64
	for w := range before {
		before[w] = m.perOK[w].Load()
	}
	for w := range before {
		waitCount(t, &m.perOK[w], before[w]+20, fmt.Sprintf("transfers by worker %d after the restart", w))
	}
	back := time.Since(killedAt)
	m.halt()
	m.check(t, c, 600)
	noLocksLeft(t, c, backends)
	if out := restarted.Output(); strings.Contains(out, "DATA RACE") || strings.Contains(out, "panic:") {
		t.Fatalf("the restarted proxy:\n%s", out)
	}
	t.Logf("%d transfers acknowledged, %d failed; every worker served again %v after the kill",
		m.ok.Load(), m.fail.Load(), back.Round(time.Millisecond))
}

// TestRedisBackendRestartedKeepsAcknowledged: a backend with appendonly yes
// is killed with SIGKILL under writes (SET, and MSET of a pair on two
// backends) and started again on its port and data directory: every
// acknowledged write is there afterwards, read through the proxy and on
// the backend itself; a pair whose MSET failed is wholly there or wholly
// absent; the proxy serves again without being told (TestRedisBackendRestarted
// checks transfers and the reconnection under the same kill).
func TestRedisBackendRestartedKeepsAcknowledged(t *testing.T) {
	if testing.Short() {
		t.Skip("a load over three redis-servers")
	}
	_, urls := startBackends(t, 2)
	port := testutil.FreePort(t)
	dir := t.TempDir()
	args := []string{"--port", fmt.Sprint(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes",
		"--appendfsync", "always", "--dir", dir, "--daemonize", "no"}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	victim := testutil.Start(t, addr, testutil.RedisServer(t), args...)
	p := startProxy(t, backendArgs(append(urls, "redis://"+addr))...)
	ctx := ctxT(t)
	m := cluster.NewSlotMap(3)
	const workers = 4
	type write struct {
		keys  []string
		value string
		ok    bool
	}
	var (
		mu     sync.Mutex // guards writes
		writes []write
	)
	var acked, onVictim atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		c := client(t, p.Addr, func(o *redis.Options) { o.PoolSize = 2 })
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				v := fmt.Sprintf("%d-%d", w, i)
				wr := write{keys: []string{"ra:" + v}, value: v}
				var err error
				if i%2 == 0 {
					err = c.Set(ctx, wr.keys[0], v, 0).Err()
				} else {
					wr.keys = append(wr.keys, "rb:"+v)
					err = c.MSet(ctx, wr.keys[0], v, wr.keys[1], v).Err()
				}
				wr.ok = err == nil
				if wr.ok {
					acked.Add(1)
					for _, k := range wr.keys {
						if m.ShardOf([]byte(k)) == 2 {
							onVictim.Add(1)
						}
					}
				}
				mu.Lock()
				writes = append(writes, wr)
				mu.Unlock()
			}
		}(w)
	}
	waitCount(t, &onVictim, 100, "acknowledged writes on the backend to kill")
	victim.Kill()
	restarted := testutil.Start(t, addr, testutil.RedisServer(t), args...) // stopped by its cleanup
	waitCount(t, &acked, acked.Load()+200, "writes after the restart")
	close(stop)
	wg.Wait()
	c := client(t, p.Addr)
	vc := redis.NewClient(&redis.Options{Addr: restarted.Addr})
	defer vc.Close()
	var failed, checkedOnVictim int
	for _, wr := range writes {
		vals, err := c.MGet(ctx, wr.keys...).Result()
		if err != nil {
			t.Fatal(err)
		}
		present := 0
		for _, v := range vals {
			if v == wr.value {
				present++
			}
		}
		switch {
		case wr.ok && present != len(wr.keys):
			t.Errorf("acknowledged write of %v = %s reads back %v", wr.keys, wr.value, vals)
		case !wr.ok && present != 0 && present != len(wr.keys):
			t.Errorf("failed MSET of %v = %s is half there: %v", wr.keys, wr.value, vals)
		}
		if !wr.ok {
			failed++
			continue
		}
		for _, k := range wr.keys {
			if m.ShardOf([]byte(k)) != 2 {
				continue
			}
			checkedOnVictim++
			if v, err := vc.Get(ctx, k).Result(); err != nil || v != wr.value {
				t.Errorf("the restarted backend holds %s = %q (%v), want %s", k, v, err, wr.value)
			}
		}
	}
	t.Logf("%d writes (%d failed while the backend was down); %d acknowledged keys checked on the restarted backend",
		len(writes), failed, checkedOnVictim)
}
