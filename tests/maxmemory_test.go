package tests

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/schemaproxy/schemaproxy/internal/testutil"
)

// infoField reads one field of INFO section from c.
func infoField(t *testing.T, c *redis.Client, section, name string) string {
	t.Helper()
	info, err := c.Info(ctxT(t), section).Result()
	if err != nil {
		t.Fatal(err)
	}
	if v := infoFieldOf(info, name); v != "" {
		return v
	}
	t.Fatalf("INFO %s has no %s:\n%s", section, name, info)
	return ""
}

// infoFieldOf is the value of field name in an INFO reply ("" if none).
func infoFieldOf(info, name string) string {
	for _, line := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, name+":"); ok {
			return v
		}
	}
	return ""
}

func infoInt(t *testing.T, c *redis.Client, section, name string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(infoField(t, c, section, name), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestMaxmemoryEvictsAndSurvivesRestart: a real proxy started with
// --maxmemory and allkeys-lru takes a pipelined load three times that size,
// stays within maxmemory (+5 %) by INFO used_memory, counts its evictions,
// and has the same keys after kill -9 (evictions are logged deletions).
// Which keys LRU keeps is tested on an injected clock in backends/memory:
// the LRU clock counts seconds, as Redis's, and this load takes few.
func TestMaxmemoryEvictsAndSurvivesRestart(t *testing.T) {
	const maxmemory = 2 << 20
	p := startProxy(t, "--maxmemory", "2mb", "--maxmemory-policy", "allkeys-lru", "--appendfsync", "always")
	c := client(t, p.Addr)
	ctx := ctxT(t)
	if got := infoField(t, c, "memory", "maxmemory_policy"); got != "allkeys-lru" {
		t.Fatalf("maxmemory_policy %q", got)
	}
	if got := infoInt(t, c, "memory", "maxmemory"); got != maxmemory {
		t.Fatalf("maxmemory %d", got)
	}
	value := strings.Repeat("v", 200)
	written := 0
	for round := 0; written < 3*maxmemory; round++ {
		pipe := c.Pipeline()
		for j := 0; j < 100; j++ {
			key := fmt.Sprintf("k:%d:%d", round, j)
			pipe.Set(ctx, key, value, 0)
			written += len(key) + len(value)
		}
		if _, err := pipe.Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if used := infoInt(t, c, "memory", "used_memory"); used > maxmemory*105/100 {
			t.Fatalf("used_memory %d over maxmemory %d + 5%% after %d bytes", used, maxmemory, written)
		}
	}
	evicted := infoInt(t, c, "stats", "evicted_keys")
	if evicted == 0 {
		t.Fatal("evicted_keys is 0 after writing three times maxmemory")
	}
	if rss := infoInt(t, c, "memory", "used_memory_rss"); rss < maxmemory {
		t.Fatalf("used_memory_rss %d is below what the keys take", rss)
	}
	if peak, used := infoInt(t, c, "memory", "used_memory_peak"), infoInt(t, c, "memory", "used_memory"); peak < used {
		t.Fatalf("used_memory_peak %d below used_memory %d", peak, used)
	}
	before, err := c.DBSize(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	used := infoInt(t, c, "memory", "used_memory")
	p.Kill()
	q := startProxyIn(t, p.dataDir, "--maxmemory", "2mb", "--maxmemory-policy", "allkeys-lru")
	c2 := client(t, q.Addr)
	if after, err := c2.DBSize(ctx).Result(); err != nil || after != before {
		t.Fatalf("DBSIZE %d before kill -9, %d after (%v)", before, after, err)
	}
	if got := infoInt(t, c2, "memory", "used_memory"); got != used {
		t.Fatalf("used_memory %d before kill -9, %d after", used, got)
	}
}

// TestBankUnderEviction: the bank's accounts have no TTL, so volatile-lru
// never evicts them, while a loader fills the store three times over with
// keys that have one. Transfers and the auditor run all along: every
// account survives, the total holds, used_memory stays within maxmemory
// (+5 %), and keys were evicted.
func TestBankUnderEviction(t *testing.T) {
	const maxmemory = 2 << 20
	p := startProxy(t, "--maxmemory", "2mb", "--maxmemory-policy", "volatile-lru")
	c := client(t, p.Addr)
	ctx := ctxT(t)
	accounts := accountsOnShards("acct", 8, 4)
	loaded := make(chan error, 1)
	go func() {
		loaded <- func() error {
			value := strings.Repeat("v", 200)
			for written, round := 0, 0; written < 3*maxmemory; round++ {
				pipe := c.Pipeline()
				for j := 0; j < 50; j++ {
					key := fmt.Sprintf("cache:%d:%d", round, j)
					pipe.Set(ctx, key, value, time.Hour)
					written += len(key) + len(value)
				}
				if _, err := pipe.Exec(ctx); err != nil {
					return fmt.Errorf("load: %w", err)
				}
				info, err := c.Info(ctx, "memory").Result()
				if err != nil {
					return err
				}
				used := infoFieldOf(info, "used_memory")
				if n, _ := strconv.ParseInt(used, 10, 64); n > maxmemory*105/100 {
					return fmt.Errorf("used_memory %s over maxmemory %d + 5%% after %d bytes", used, maxmemory, written)
				}
			}
			return nil
		}()
	}()
	if n := runBank(t, c, 0, accounts, 8, 150); n == 0 {
		t.Fatal("no transfer committed")
	}
	if err := <-loaded; err != nil {
		t.Fatal(err)
	}
	if evicted := infoInt(t, c, "stats", "evicted_keys"); evicted == 0 {
		t.Fatal("evicted_keys is 0 after loading three times maxmemory")
	}
	if n, err := c.Exists(ctx, accounts...).Result(); err != nil || n != int64(len(accounts)) {
		t.Fatalf("%d of %d accounts left (%v)", n, len(accounts), err)
	}
}

// TestMaxmemoryNoEviction: under noeviction a write over maxmemory gets
// Redis's OOM error, reads and deletes work, and raising maxmemory with
// CONFIG SET lets writes in again.
func TestMaxmemoryNoEviction(t *testing.T) {
	p := startProxy(t, "--maxmemory", "200kb")
	c := client(t, p.Addr)
	ctx := ctxT(t)
	var oom error
	for i := 0; i < 10000 && oom == nil; i++ {
		oom = c.Set(ctx, fmt.Sprintf("k:%d", i), strings.Repeat("x", 100), 0).Err()
	}
	if oom == nil || oom.Error() != "OOM command not allowed when used memory > 'maxmemory'." {
		t.Fatalf("write over maxmemory: %v", oom)
	}
	if err := c.Get(ctx, "k:0").Err(); err != nil {
		t.Fatalf("read under OOM: %v", err)
	}
	if err := c.Set(ctx, "k:0", "y", 0).Err(); err == nil {
		t.Fatal("a write under noeviction went through") // every shard is full by now
	}
	if err := c.ConfigSet(ctx, "maxmemory", "100mb").Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.Set(ctx, "k:0", "y", 0).Err(); err != nil {
		t.Fatalf("write after raising maxmemory: %v", err)
	}
	if got := infoField(t, c, "memory", "maxmemory_human"); got != "100.00M" {
		t.Fatalf("maxmemory_human %q", got)
	}
}

// TestMaxmemoryDifferential: CONFIG SET/GET of the memory settings, their
// errors, OBJECT FREQ/IDLETIME under each kind of policy and the OOM error
// answer byte for byte as a redis-server's.
func TestMaxmemoryDifferential(t *testing.T) {
	ref, got := referencePair(t)
	steps := [][]string{
		{"CONFIG", "GET", "maxmemory"},
		{"CONFIG", "GET", "maxmemory-policy"},
		{"CONFIG", "GET", "maxmemory-samples"},
		{"CONFIG", "GET", "lfu-log-factor"},
		{"CONFIG", "GET", "lfu-decay-time"},
		{"CONFIG", "SET", "maxmemory-policy", "foo"},
		{"CONFIG", "SET", "maxmemory", "1zb"},
		{"CONFIG", "SET", "maxmemory", "-5"},
		{"CONFIG", "SET", "maxmemory-samples", "0"},
		{"CONFIG", "SET", "maxmemory-samples", "65"},
		{"CONFIG", "SET", "maxmemory-samples", "abc"},
		{"CONFIG", "SET", "lfu-log-factor", "-1"},
		{"CONFIG", "SET", "lfu-decay-time", "x"},
		{"CONFIG", "SET", "no-such-setting", "1"},
		{"CONFIG", "SET", "maxmemory", "100mb"},
		{"CONFIG", "GET", "maxmemory"},
		{"CONFIG", "SET", "maxmemory", "3GB"},
		{"CONFIG", "GET", "maxmemory"},
		{"CONFIG", "SET", "maxmemory-samples", "10", "lfu-log-factor", "20"},
		{"CONFIG", "GET", "maxmemory-samples"},
		{"CONFIG", "GET", "lfu-log-factor"},
		{"CONFIG", "SET", "maxmemory-policy", "ALLKEYS-LFU"},
		{"CONFIG", "GET", "maxmemory-policy"},
		{"SET", "k", "v"},
		{"OBJECT", "FREQ", "k"},
		{"GET", "k"},
		{"OBJECT", "FREQ", "k"}, // the first hit always counts
		{"OBJECT", "IDLETIME", "k"},
		{"CONFIG", "SET", "maxmemory-policy", "volatile-ttl"},
		{"OBJECT", "FREQ", "k"},
		{"OBJECT", "IDLETIME", "k"},
		{"CONFIG", "SET", "maxmemory-policy", "noeviction", "maxmemory-samples", "5", "lfu-log-factor", "10"},
		{"CONFIG", "SET", "maxmemory", "0"},
	}
	// Keys on every shard, then a limit every shard is over.
	for i := 0; i < 32; i++ {
		steps = append(steps, []string{"SET", "fill:" + strconv.Itoa(i), strings.Repeat("x", 64)})
	}
	steps = append(steps,
		[]string{"CONFIG", "SET", "maxmemory", "1"},
		[]string{"SET", "x", "y"},
		[]string{"RPUSH", "fill:1", "y"},
		[]string{"GET", "fill:1"},
		[]string{"DEL", "fill:2"},
		// Out of memory, MULTI queues nothing, reads included.
		[]string{"MULTI"},
		[]string{"GET", "fill:1"},
		[]string{"SET", "x", "y"},
		[]string{"EXEC"},
		[]string{"MULTI"},
		[]string{"DISCARD"},
		// Writes queued before memory ran out (another client lowers
		// maxmemory): EXEC is refused; reads only, it runs.
		[]string{"CONFIG", "SET", "maxmemory", "0"},
		[]string{"MULTI"},
		[]string{"SET", "x", "y"},
		[]string{"GET", "fill:1"},
		[]string{"2", "CONFIG", "SET", "maxmemory", "1"},
		[]string{"EXEC"},
		[]string{"CONFIG", "SET", "maxmemory", "0"},
		[]string{"MULTI"},
		[]string{"GET", "fill:1"},
		[]string{"2", "CONFIG", "SET", "maxmemory", "1"},
		[]string{"EXEC"},
		[]string{"CONFIG", "SET", "maxmemory", "0"},
		[]string{"SET", "x", "y"},
	)
	// A step starting with "2" goes on a second connection of each.
	ref2, err := testutil.Dial(ref.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer ref2.Close()
	got2, err := testutil.Dial(got.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer got2.Close()
	for _, s := range steps {
		r, g := ref, got
		if s[0] == "2" {
			r, g, s = ref2, got2, s[1:]
		}
		want, err := r.Do(s...)
		if err != nil {
			t.Fatal(err)
		}
		have, err := g.Do(s...)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(want, have) && !(len(s) > 1 && strings.EqualFold(s[1], "idletime") && idleClose(want, have)) {
			t.Errorf("%v: redis %q, schemaproxy %q", s, want, have)
		}
	}
}

// idleClose reports whether two OBJECT IDLETIME replies are a second
// apart at most: each server's clock may tick between the two reads.
func idleClose(a, b []byte) bool {
	x, err1 := strconv.ParseInt(strings.Trim(string(a), ":\r\n"), 10, 64)
	y, err2 := strconv.ParseInt(strings.Trim(string(b), ":\r\n"), 10, 64)
	return err1 == nil && err2 == nil && x-y <= 1 && y-x <= 1
}
