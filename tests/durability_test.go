package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestKill9Durability kills schemaproxy (appendfsync always) under a load
// of cross-shard transactions and plain writes, restarts it on the same
// data directory, and checks that every acknowledged write is there and no
// transaction is half there.
func TestKill9Durability(t *testing.T) {
	p := startProxy(t, "--appendfsync", "always")
	ctx := ctxT(t)
	c := client(t, p.Addr)
	const workers = 6
	pairs := make([][]string, workers)
	for w := range pairs {
		pairs[w] = accountsOnShards(fmt.Sprintf("pair%d", w), 2, 2)
	}
	acked := make([]atomic.Int64, workers) // transactions acknowledged
	attempted := make([]atomic.Int64, workers)
	var pushes [workers][]string // acknowledged list elements, in order
	var total atomic.Int64
	killAt := int64(400)
	var killed atomic.Bool
	var running atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		running.Add(1)
		go func(w int) {
			defer wg.Done()
			defer running.Add(-1)
			fail := func(err error) {
				if !killed.Load() {
					t.Errorf("worker %d before the kill: %v", w, err)
				}
			}
			for i := 0; ; i++ {
				attempted[w].Add(1)
				_, err := c.TxPipelined(ctx, func(pl redis.Pipeliner) error {
					pl.Incr(ctx, pairs[w][0])
					pl.Incr(ctx, pairs[w][1])
					return nil
				})
				if err != nil {
					fail(err)
					return
				}
				acked[w].Add(1)
				el := fmt.Sprintf("e%d", i)
				if err := c.RPush(ctx, fmt.Sprintf("log%d", w), el).Err(); err != nil {
					fail(err)
					return
				}
				pushes[w] = append(pushes[w], el)
				total.Add(1)
			}
		}(w)
	}
	// Snapshots run back to back until the kill, which may land in one.
	saves, stopSaving := bgsaveLoop(ctx, func() string {
		if killed.Load() {
			return ""
		}
		return p.Addr
	})
	defer stopSaving()
	deadline := time.Now().Add(time.Minute)
	for total.Load() < killAt && running.Load() > 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond) // polling progress of the load
	}
	killed.Store(true)
	p.Kill()
	wg.Wait()
	stopSaving()
	if total.Load() < killAt {
		t.Fatalf("load made only %d writes before the deadline", total.Load())
	}
	if saves.Load() == 0 {
		t.Fatalf("no BGSAVE started before the kill")
	}

	q := startProxyIn(t, p.dataDir, "--appendfsync", "always")
	c2 := client(t, q.Addr)
	for w := 0; w < workers; w++ {
		a, err := c2.Get(ctx, pairs[w][0]).Int64()
		if err != nil {
			t.Fatal(err)
		}
		b, err := c2.Get(ctx, pairs[w][1]).Int64()
		if err != nil {
			t.Fatal(err)
		}
		if a != b {
			t.Errorf("worker %d: half a transaction survived: %d vs %d", w, a, b)
		}
		if a < acked[w].Load() || a > attempted[w].Load() {
			t.Errorf("worker %d: counter %d, acknowledged %d, attempted %d", w, a, acked[w].Load(), attempted[w].Load())
		}
		got, err := c2.LRange(ctx, fmt.Sprintf("log%d", w), 0, -1).Result()
		if err != nil {
			t.Fatal(err)
		}
		if len(got) < len(pushes[w]) {
			t.Errorf("worker %d: %d list elements after restart, %d acknowledged", w, len(got), len(pushes[w]))
			continue
		}
		for i, el := range pushes[w] {
			if got[i] != el {
				t.Errorf("worker %d: element %d is %q, want %q", w, i, got[i], el)
				break
			}
		}
	}
}

// TestRestartKeepsDatabasesAndTTL: keys in databases 0, 1 and 15 come back
// in their own database with their TTL after a graceful restart and after
// kill -9.
func TestRestartKeepsDatabasesAndTTL(t *testing.T) {
	for _, graceful := range []bool{true, false} {
		t.Run(fmt.Sprintf("graceful=%v", graceful), func(t *testing.T) {
			p := startProxy(t, "--appendfsync", "always")
			ctx := ctxT(t)
			for _, db := range []int{0, 1, 15} {
				c := client(t, p.Addr, func(o *redis.Options) { o.DB = db })
				if err := c.RPush(ctx, "k", fmt.Sprintf("v%d", db)).Err(); err != nil {
					t.Fatal(err)
				}
				if err := c.Expire(ctx, "k", time.Hour).Err(); err != nil {
					t.Fatal(err)
				}
				if err := c.RPush(ctx, fmt.Sprintf("only%d", db), "x").Err(); err != nil {
					t.Fatal(err)
				}
			}
			if graceful {
				if err := p.Cmd.Process.Signal(interrupt); err != nil {
					t.Fatal(err)
				}
				<-p.Done()
			} else {
				p.Kill()
			}
			q := startProxyIn(t, p.dataDir, "--appendfsync", "always")
			for _, db := range []int{0, 1, 15} {
				c := client(t, q.Addr, func(o *redis.Options) { o.DB = db })
				got, err := c.LRange(ctx, "k", 0, -1).Result()
				if err != nil || len(got) != 1 || got[0] != fmt.Sprintf("v%d", db) {
					t.Fatalf("db %d: k = %v, %v", db, got, err)
				}
				ttl, err := c.TTL(ctx, "k").Result()
				if err != nil || ttl <= 0 || ttl > time.Hour {
					t.Fatalf("db %d: TTL %v, %v", db, ttl, err)
				}
				for _, other := range []int{0, 1, 15} {
					n, err := c.Exists(ctx, fmt.Sprintf("only%d", other)).Result()
					if err != nil || (n == 1) != (other == db) {
						t.Fatalf("db %d: only%d exists=%d, %v", db, other, n, err)
					}
				}
			}
		})
	}
}

// TestTornLogTail: garbage after the last complete record of the log
// (a write torn by a crash) is cut with a warning, and the server starts
// with every complete record.
func TestTornLogTail(t *testing.T) {
	p := startProxy(t, "--appendfsync", "always", "--shards", "2")
	ctx := ctxT(t)
	c := client(t, p.Addr)
	for i := 0; i < 50; i++ {
		if err := c.Set(ctx, fmt.Sprintf("key%d", i), i, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	p.Kill()
	logs, err := filepath.Glob(filepath.Join(p.dataDir, "store.*.log"))
	if err != nil || len(logs) == 0 {
		t.Fatalf("no log in %s: %v", p.dataDir, err)
	}
	for _, l := range logs {
		f, err := os.OpenFile(l, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		// A frame header promising more bytes than follow.
		if _, err := f.Write([]byte{0xff, 0x00, 0x00, 0x00, 1, 2, 3}); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	q := startProxyIn(t, p.dataDir, "--appendfsync", "always", "--shards", "2")
	c2 := client(t, q.Addr)
	for i := 0; i < 50; i++ {
		if v, err := c2.Get(ctx, fmt.Sprintf("key%d", i)).Int(); err != nil || v != i {
			t.Fatalf("key%d = %d, %v", i, v, err)
		}
	}
	if err := c2.Set(ctx, "after", "1", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(q.Output(), "torn tail") {
		t.Fatalf("no warning about the torn tail in the log:\n%s", q.Output())
	}
}

// TestSaveThenRestart: SAVE writes a snapshot (and truncates the log);
// writes before and after it survive a kill -9.
func TestSaveThenRestart(t *testing.T) {
	p := startProxy(t, "--appendfsync", "always")
	ctx := ctxT(t)
	c := client(t, p.Addr)
	for i := 0; i < 100; i++ {
		if err := c.Set(ctx, fmt.Sprintf("before%d", i), i, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	before, err := c.LastSave(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Save(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if snaps, _ := filepath.Glob(filepath.Join(p.dataDir, "store.*.snap")); len(snaps) == 0 {
		entries, _ := os.ReadDir(p.dataDir)
		t.Fatalf("no snapshot files after SAVE: %v", entries)
	}
	if after, err := c.LastSave(ctx).Result(); err != nil || after < before {
		t.Fatalf("LASTSAVE %d after SAVE, %d before, %v", after, before, err)
	}
	if err := c.Set(ctx, "after", "1", 0).Err(); err != nil {
		t.Fatal(err)
	}
	p.Kill()
	q := startProxyIn(t, p.dataDir, "--appendfsync", "always")
	c2 := client(t, q.Addr)
	if n, err := c2.DBSize(ctx).Result(); err != nil || n != 101 {
		t.Fatalf("DBSIZE after restart = %d, %v", n, err)
	}
}

// TestWholeDatabaseCommandsSurviveRestart: SWAPDB and FLUSHDB, logged as one
// record for every shard, are replayed on every shard after kill -9.
func TestWholeDatabaseCommandsSurviveRestart(t *testing.T) {
	p := startProxy(t, "--appendfsync", "always")
	ctx := ctxT(t)
	c0 := client(t, p.Addr)
	c1 := client(t, p.Addr, func(o *redis.Options) { o.DB = 1 })
	for i := 0; i < 40; i++ {
		if err := c0.Set(ctx, fmt.Sprintf("zero%d", i), i, 0).Err(); err != nil {
			t.Fatal(err)
		}
		if err := c1.Set(ctx, fmt.Sprintf("one%d", i), i, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if err := c0.Do(ctx, "SWAPDB", 0, 1).Err(); err != nil {
		t.Fatal(err)
	}
	if err := c1.FlushDB(ctx).Err(); err != nil { // db 1 now holds the "zero" keys
		t.Fatal(err)
	}
	p.Kill()
	q := startProxyIn(t, p.dataDir, "--appendfsync", "always")
	d0 := client(t, q.Addr)
	d1 := client(t, q.Addr, func(o *redis.Options) { o.DB = 1 })
	if n, err := d0.DBSize(ctx).Result(); err != nil || n != 40 {
		t.Fatalf("db 0 after restart: %d keys, %v", n, err)
	}
	if v, err := d0.Get(ctx, "one7").Int(); err != nil || v != 7 {
		t.Fatalf("db 0 one7 = %d, %v", v, err)
	}
	if n, err := d1.DBSize(ctx).Result(); err != nil || n != 0 {
		t.Fatalf("db 1 after restart: %d keys, %v", n, err)
	}
}
