package tests

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/schemaproxy/schemaproxy/cluster"
	"github.com/schemaproxy/schemaproxy/internal/testutil"
)

// startBackends starts n redis-servers set up as backends must be
// (appendonly yes, appendfsync always) and returns their URLs.
func startBackends(t *testing.T, n int) ([]*testutil.Process, []string) {
	var ps []*testutil.Process
	var urls []string
	for i := 0; i < n; i++ {
		p := testutil.StartRedis(t, "--appendonly", "yes", "--appendfsync", "always")
		ps = append(ps, p)
		urls = append(urls, "redis://"+p.Addr)
	}
	return ps, urls
}

func backendArgs(urls []string) []string {
	var args []string
	for _, u := range urls {
		args = append(args, "--backend", u)
	}
	return args
}

// TestRedisBackends: the proxy in front of three redis-servers runs plain
// commands, multi-key commands and MULTI/EXEC across them, WATCH fails
// as in Redis, and the data sits in the backends under the users' names.
func TestRedisBackends(t *testing.T) {
	backends, urls := startBackends(t, 3)
	p := startProxy(t, backendArgs(urls)...)
	ctx := ctxT(t)
	c := client(t, p.Addr)
	keys := oneKeyPerShard("rb", 3)
	steps := []struct {
		cmd  []any
		want string
	}{
		{[]any{"SET", keys[0], "1"}, "OK"},
		{[]any{"INCR", keys[0]}, "2"},
		{[]any{"MSET", keys[0], "a", keys[1], "b", keys[2], "c"}, "OK"},
		{[]any{"MGET", keys[0], keys[1], keys[2], "missing"}, "[a b c <nil>]"},
		{[]any{"RENAME", keys[0], keys[1]}, "OK"},
		{[]any{"GET", keys[1]}, "a"},
		{[]any{"EXISTS", keys[0], keys[1], keys[2]}, "2"},
		{[]any{"RPUSH", keys[0], "x", "y"}, "2"},
		{[]any{"LMOVE", keys[0], keys[2] + "l", "LEFT", "RIGHT"}, "x"},
		{[]any{"DEL", keys[0], keys[1], keys[2]}, "3"},
		{[]any{"GET", "__sp:clock"}, "<nil>"},
		// Integers past 2^53 are the backend's own, not a script's double.
		{[]any{"SET", keys[2], "9007199254740993"}, "OK"},
		{[]any{"INCRBY", keys[2], "9007199254740993"}, "18014398509481986"},
		{[]any{"MSET", keys[2], "9223372036854775806", keys[0], "x"}, "OK"},
		{[]any{"INCR", keys[2]}, "9223372036854775807"},
		{[]any{"DEL", keys[0], keys[2]}, "2"},
		// Whole databases: metadata never shows.
		{[]any{"MSET", keys[0], "1", keys[1], "2"}, "OK"},
		{[]any{"DBSIZE"}, "3"}, // with keys[2]+"l" left by LMOVE
		{[]any{"EXISTS", keys[2] + "l"}, "1"},
		{[]any{"SWAPDB", "0", "5"}, "OK"},
		{[]any{"DBSIZE"}, "0"},
		{[]any{"SWAPDB", "0", "5"}, "OK"},
		{[]any{"DEL", keys[2] + "l"}, "1"},
		{[]any{"KEYS", "*"}, "[" + keys[0] + " " + keys[1] + "]"},
		{[]any{"FLUSHDB"}, "OK"},
		{[]any{"DBSIZE"}, "0"},
		{[]any{"KEYS", "*"}, "[]"},
		{[]any{"RANDOMKEY"}, "<nil>!"},
	}
	for _, s := range steps {
		got, err := c.Do(ctx, s.cmd...).Result()
		if s.want == "<nil>!" {
			if err != redis.Nil {
				t.Fatalf("%v = %v, %v; want nil", s.cmd, got, err)
			}
			continue
		}
		if s.want == "<nil>" {
			// The metadata prefix is refused.
			if err == nil || !strings.Contains(err.Error(), "reserved") {
				t.Fatalf("%v = %v, %v; want the reserved-prefix error", s.cmd, got, err)
			}
			continue
		}
		if g := fmt.Sprint(got); err != nil || g != s.want {
			t.Fatalf("%v = %v, %v; want %s", s.cmd, got, err, s.want)
		}
	}
	// MULTI across the backends.
	cmds, err := c.TxPipelined(ctx, func(pl redis.Pipeliner) error {
		pl.Set(ctx, keys[0], "10", 0)
		pl.IncrBy(ctx, keys[1], 5)
		pl.Append(ctx, keys[2], "z")
		return nil
	})
	if err != nil || len(cmds) != 3 {
		t.Fatalf("MULTI across backends: %v %v", cmds, err)
	}
	// A WATCHed key changed by another client fails the EXEC.
	other := client(t, p.Addr)
	err = c.Watch(ctx, func(tx *redis.Tx) error {
		if err := other.Set(ctx, keys[0], "changed", 0).Err(); err != nil {
			return err
		}
		_, err := tx.TxPipelined(ctx, func(pl redis.Pipeliner) error {
			pl.Set(ctx, keys[1], "never", 0)
			pl.Set(ctx, keys[2], "never", 0)
			return nil
		})
		return err
	}, keys[0])
	if err != redis.TxFailedErr {
		t.Fatalf("EXEC after the WATCHed key changed: %v", err)
	}
	// The data is in the backends, as Redis types under the users' names.
	var found []string
	for _, b := range backends {
		bc := redis.NewClient(&redis.Options{Addr: b.Addr})
		for _, k := range keys {
			if v, err := bc.Get(ctx, k).Result(); err == nil {
				found = append(found, k+"="+v)
			}
		}
		if n, _ := bc.Exists(ctx, "__sp:l:"+keys[0]).Result(); n != 0 {
			t.Errorf("backend %s still holds a lock", b.Addr)
		}
		bc.Close()
	}
	if got := strings.Join(found, " "); got != keys[0]+"=changed "+keys[1]+"=5 "+keys[2]+"=z" {
		t.Fatalf("backends hold %q", got)
	}
	// INFO keyspace counts the users' keys only; INFO backends lists the
	// backends and the requests each was sent.
	n, err := c.DBSize(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	if info := c.Info(ctx, "keyspace").Val(); !strings.Contains(info, fmt.Sprintf("db0:keys=%d,", n)) {
		t.Errorf("INFO keyspace with DBSIZE %d: %q", n, info)
	}
	info := c.Info(ctx, "backends").Val()
	for i, b := range backends {
		if !strings.Contains(info, fmt.Sprintf("backend%d:addr=%s,connections=", i, b.Addr)) {
			t.Errorf("INFO backends does not list %s: %q", b.Addr, info)
		}
	}
}

// TestRedisBackendsBank: concurrent WATCH transfers across the backends
// with an auditor: the total never changes.
func TestRedisBackendsBank(t *testing.T) {
	_, urls := startBackends(t, 3)
	p := startProxy(t, backendArgs(urls)...)
	c := client(t, p.Addr)
	runBank(t, c, 0, accountsOnShards("rbank", 6, 3), 4, 60)
}

// TestRedisBackendsRefusedWhenUnsafe: a backend that could lose committed
// transactions stops the start, in one line per problem, unless
// --unsafe-backends.
func TestRedisBackendsRefusedWhenUnsafe(t *testing.T) {
	safe := testutil.StartRedis(t, "--appendonly", "yes", "--appendfsync", "always")
	unsafe := testutil.StartRedis(t, "--maxmemory-policy", "allkeys-lru")
	args := []string{"--listen", fmt.Sprintf("127.0.0.1:%d", testutil.FreePort(t)),
		"--backend", "redis://" + safe.Addr, "--backend", "redis://" + unsafe.Addr}
	out, err := exec.CommandContext(context.Background(), proxyBinary(t), args...).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "maxmemory-policy") || !strings.Contains(string(out), "appendonly") {
		t.Fatalf("an unsafe backend was accepted: %v\n%s", err, out)
	}
	p := startProxy(t, append(args[2:], "--unsafe-backends")...)
	if err := client(t, p.Addr).Set(ctxT(t), "k", "v", 0).Err(); err != nil {
		t.Fatalf("with --unsafe-backends: %v", err)
	}
	if !strings.Contains(p.Output(), "unsafe-backends") {
		t.Fatalf("no warning at start:\n%s", p.Output())
	}
}

// oneKeyPerShard returns a key on each of n shards, in shard order.
func oneKeyPerShard(prefix string, n int) []string {
	m := cluster.NewSlotMap(n)
	keys := make([]string, n)
	for i, found := 0, 0; found < n; i++ {
		k := fmt.Sprintf("%s:%d", prefix, i)
		if s := m.ShardOf([]byte(k)); keys[s] == "" {
			keys[s] = k
			found++
		}
	}
	return keys
}

// TestRedisBackendsProxyKilled: two proxies over the same three backends
// run transfers (MULTI over accounts on different backends); the first
// proxy is killed with SIGKILL mid-run, which may leave transactions
// locked, or committed but not applied. The second finishes or drops them
// as their primaries say (past their deadline) and keeps serving without
// an error; the total, read in one transaction, is unchanged, and once a
// request over whole databases has drained them no lock is left.
func TestRedisBackendsProxyKilled(t *testing.T) {
	backends, urls := startBackends(t, 3)
	a := startProxy(t, backendArgs(urls)...)
	b := startProxy(t, backendArgs(urls)...)
	ctx := ctxT(t)
	accounts := accountsOnShards("pk", 6, 3)
	cb := client(t, b.Addr)
	for _, acc := range accounts {
		if err := cb.Set(ctx, acc, 100, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	const want = 600
	transfer := func(c *redis.Client, i int) error {
		_, err := transferOne(ctx, c, accounts, i)
		return err
	}
	var wg sync.WaitGroup
	var doneOnA atomic.Int64
	killed := make(chan struct{})
	for w := 0; w < 3; w++ {
		wg.Add(2)
		go func(w int) { // on the proxy that dies: errors after the kill
			defer wg.Done()
			c := client(t, a.Addr, func(o *redis.Options) { o.MaxRetries = -1 })
			for i := w; ; i += 3 {
				if transfer(c, i) != nil {
					return
				}
				doneOnA.Add(1)
			}
		}(w)
		go func(w int) { // on the proxy that lives: never an error
			defer wg.Done()
			c := client(t, b.Addr)
			for i := w; i < 300; i += 3 {
				if err := transfer(c, i); err != nil {
					t.Errorf("transfer on the living proxy: %v", err)
					return
				}
				if i == 90 {
					<-killed
				}
			}
		}(w)
	}
	deadline := time.Now().Add(20 * time.Second)
	for doneOnA.Load() < 100 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond) // polling the load's progress
	}
	a.Kill()
	close(killed)
	wg.Wait()
	if sum := total(t, cb, accounts); sum != want {
		t.Fatalf("total %d after the kill, want %d", sum, want)
	}
	// A request over whole databases resolves whatever is left.
	if err := cb.DBSize(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	for _, be := range backends {
		c := redis.NewClient(&redis.Options{Addr: be.Addr})
		keys, err := c.Keys(ctx, "__sp:l:*").Result()
		c.Close()
		if err != nil || len(keys) != 0 {
			t.Fatalf("backend %s holds locks %v after the dust settled (%v)", be.Addr, keys, err)
		}
	}
	t.Logf("%d transfers acknowledged by the killed proxy", doneOnA.Load())
}

// TestRedisBackendRestarted: a backend killed with SIGKILL under a load of
// transfers and started again on its data: requests in flight get an
// error, the proxy reconnects by itself, and no transfer is half applied.
func TestRedisBackendRestarted(t *testing.T) {
	_, urls := startBackends(t, 2)
	port := testutil.FreePort(t)
	dir := t.TempDir()
	args := []string{"--port", fmt.Sprint(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes",
		"--appendfsync", "always", "--dir", dir, "--daemonize", "no"}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	victim := testutil.Start(t, addr, testutil.RedisServer(t), args...)
	urls = append(urls, "redis://"+addr)
	p := startProxy(t, backendArgs(urls)...)
	ctx := ctxT(t)
	c := client(t, p.Addr)
	accounts := accountsOnShards("br", 6, 3)
	for _, acc := range accounts {
		if err := c.Set(ctx, acc, 100, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	var ok, failed atomic.Int64
	stop := make(chan struct{})
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			wc := client(t, p.Addr, func(o *redis.Options) { o.MaxRetries = -1 })
			for i := w; ; i += 4 {
				select {
				case <-stop:
					return
				default:
				}
				moved, err := transferOne(ctx, wc, accounts, i)
				if !moved && err == nil {
					continue
				}
				if err != nil {
					failed.Add(1)
				} else {
					ok.Add(1)
				}
			}
		}(w)
	}
	waitFor := func(n int64) {
		deadline := time.Now().Add(20 * time.Second)
		for ok.Load() < n && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond) // polling the load's progress
		}
		if ok.Load() < n {
			t.Fatalf("only %d transfers went through", ok.Load())
		}
	}
	waitFor(100)
	victim.Kill()
	testutil.Start(t, addr, testutil.RedisServer(t), args...) // stopped by its cleanup
	before := ok.Load()
	waitFor(before + 100) // served again, through new connections
	close(stop)
	wg.Wait()
	var sum int64
	for _, acc := range accounts {
		n, err := c.Get(ctx, acc).Int64()
		if err != nil {
			t.Fatal(err)
		}
		sum += n
	}
	if sum != 600 {
		t.Fatalf("total %d after the backend's restart, want 600", sum)
	}
	t.Logf("%d transfers, %d failed while the backend was down", ok.Load(), failed.Load())
}

// TestRedisBackendsProxyFrozen: one of two proxies over the same backends
// is stopped with SIGSTOP in the middle of transfers, for longer than a
// transaction's deadline, then continued. The other proxy resolves the
// frozen one's locks once they are past their deadline and keeps going;
// the frozen proxy, continued, cannot commit what it had in flight any
// more (it runs it again) or finds it finished; the total holds.
func TestRedisBackendsProxyFrozen(t *testing.T) {
	_, urls := startBackends(t, 3)
	a := startProxy(t, backendArgs(urls)...)
	b := startProxy(t, backendArgs(urls)...)
	ctx := ctxT(t)
	accounts := accountsOnShards("pf", 6, 3)
	cb := client(t, b.Addr)
	for _, acc := range accounts {
		if err := cb.Set(ctx, acc, 100, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	var onA, onB atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	work := func(addr string, n *atomic.Int64, w int) {
		defer wg.Done()
		c := client(t, addr, func(o *redis.Options) { o.ReadTimeout = 30 * time.Second })
		for i := w; ; i += 3 {
			select {
			case <-stop:
				return
			default:
			}
			moved, err := transferOne(ctx, c, accounts, i)
			if !moved && err == nil {
				continue
			}
			if err != nil {
				t.Errorf("transfer through %s: %v", addr, err)
				return
			}
			n.Add(1)
		}
	}
	for w := 0; w < 3; w++ {
		wg.Add(2)
		go work(a.Addr, &onA, w)
		go work(b.Addr, &onB, w)
	}
	waitFor := func(n *atomic.Int64, want int64) {
		deadline := time.Now().Add(30 * time.Second)
		for n.Load() < want && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond) // polling the load's progress
		}
		if n.Load() < want {
			t.Fatalf("only %d transfers", n.Load())
		}
	}
	waitFor(&onA, 100)
	if err := a.Cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	frozenAt := time.Now()
	waitFor(&onB, onB.Load()+300) // past the frozen proxy's deadline too
	for time.Since(frozenAt) < 6*time.Second {
		waitFor(&onB, onB.Load()+10)
	}
	if err := a.Cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	waitFor(&onA, onA.Load()+100) // the continued proxy works again
	close(stop)
	wg.Wait()
	if sum := total(t, cb, accounts); sum != 600 {
		t.Fatalf("total %d, want 600", sum)
	}
	t.Logf("%d transfers through the frozen proxy, %d through the other", onA.Load(), onB.Load())
}

// total reads every balance in one transaction and adds them up.
func total(t *testing.T, c *redis.Client, accounts []string) int64 {
	t.Helper()
	ctx := ctxT(t)
	cmds, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		for _, acc := range accounts {
			p.Get(ctx, acc)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var sum int64
	for _, c := range cmds {
		n, _ := c.(*redis.StringCmd).Int64()
		sum += n
	}
	return sum
}

// TestRedisBackendWatchAcrossRestart: a WATCH taken before its backend
// restarted fails the EXEC after it, as the client's connection to that
// server would have been lost, even though the data came back whole.
func TestRedisBackendWatchAcrossRestart(t *testing.T) {
	port := testutil.FreePort(t)
	dir := t.TempDir()
	args := []string{"--port", fmt.Sprint(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes",
		"--appendfsync", "always", "--dir", dir, "--daemonize", "no"}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	backend := testutil.Start(t, addr, testutil.RedisServer(t), args...)
	p := startProxy(t, "--backend", "redis://"+addr)
	ctx := ctxT(t)
	c := client(t, p.Addr)
	other := client(t, p.Addr)
	if err := c.Set(ctx, "w", "1", 0).Err(); err != nil {
		t.Fatal(err)
	}
	err := c.Watch(ctx, func(tx *redis.Tx) error {
		backend.Kill()
		testutil.Start(t, addr, testutil.RedisServer(t), args...) // stopped by its cleanup
		// The proxy finds the restarted server (a request may fail on a
		// connection to the old one first).
		deadline := time.Now().Add(10 * time.Second)
		for other.Get(ctx, "w").Val() != "1" {
			if time.Now().After(deadline) {
				t.Fatal("the proxy does not reach the restarted backend")
			}
		}
		_, err := tx.TxPipelined(ctx, func(pl redis.Pipeliner) error {
			pl.Set(ctx, "w", "2", 0)
			return nil
		})
		return err
	}, "w")
	if err != redis.TxFailedErr {
		t.Fatalf("EXEC after the backend restarted: %v, want a failed transaction", err)
	}
	if v := c.Get(ctx, "w").Val(); v != "1" {
		t.Fatalf("w = %q after the failed EXEC", v)
	}
	// A WATCH taken after the restart works as usual.
	err = c.Watch(ctx, func(tx *redis.Tx) error {
		_, err := tx.TxPipelined(ctx, func(pl redis.Pipeliner) error {
			pl.Set(ctx, "w", "3", 0)
			return nil
		})
		return err
	}, "w")
	if err != nil {
		t.Fatalf("EXEC with a fresh WATCH: %v", err)
	}
}

// transferOne moves 1 from accounts[i%6] to another account in one MULTI;
// moved is false when both are the same account (nothing sent).
func transferOne(ctx context.Context, c *redis.Client, accounts []string, i int) (moved bool, err error) {
	from, to := accounts[i%6], accounts[(i*5+1)%6]
	if from == to {
		return false, nil
	}
	_, err = c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.DecrBy(ctx, from, 1)
		p.IncrBy(ctx, to, 1)
		return nil
	})
	return err == nil, err
}
