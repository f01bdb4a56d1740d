package memory

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/schemaproxy/schemaproxy/backends/memory/aof"
	"github.com/schemaproxy/schemaproxy/command"
	"github.com/schemaproxy/schemaproxy/keyspace"
)

const oomReply = "-" + keyspace.ErrOOM + "\r\n"

// openFakeClock opens a store in dir (none: "") on a clock the test moves.
func openFakeClock(t *testing.T, dir string, now *atomic.Int64) *Store {
	t.Helper()
	st, err := Open(Options{Shards: 3, Databases: 2, Dir: dir, Fsync: aof.No,
		Now: func() int64 { return now.Load() }}, keyspace.NewExecutor(command.Default))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func usedBytes(st *Store) int64 {
	used, _ := st.memoryStats()
	return used
}

// liveKeys lists every key of database 0.
func liveKeys(st *Store) map[string]bool {
	out := map[string]bool{}
	for _, s := range st.shards {
		s.mu.Lock()
		s.store.DB(0).Range(st.clock.now(), func(k string, _ *keyspace.Entry) bool {
			out[k] = true
			return true
		})
		s.mu.Unlock()
	}
	return out
}

func count(keys map[string]bool, prefix string) int {
	n := 0
	for k := range keys {
		if strings.HasPrefix(k, prefix) {
			n++
		}
	}
	return n
}

// TestEvictionPolicies writes three times maxmemory under each policy: the
// store's accounting stays within maxmemory (+5 %), and what goes is what
// the policy says: a hot set read all along stays under LRU and LFU, keys
// without a TTL stay under volatile-*, volatile-ttl takes the nearest
// expiries first, and noeviction refuses writes with Redis's OOM error
// while reads go on.
func TestEvictionPolicies(t *testing.T) {
	const (
		maxmemory = 400 << 10
		hot       = 50
		perm      = 200 // keys without a TTL, written first
	)
	value := strings.Repeat("v", 100)
	for _, p := range []keyspace.Policy{keyspace.NoEviction, keyspace.AllKeysLRU, keyspace.AllKeysLFU,
		keyspace.AllKeysRandom, keyspace.VolatileLRU, keyspace.VolatileLFU, keyspace.VolatileRandom,
		keyspace.VolatileTTL} {
		t.Run(p.String(), func(t *testing.T) {
			var now atomic.Int64
			now.Store(1_700_000_000_000)
			st := openFakeClock(t, "", &now)
			mp := keyspace.DefaultMemoryPolicy()
			mp.Policy = p
			if err := st.SetMemory(maxmemory, mp); err != nil {
				t.Fatal(err)
			}
			for i := 0; i < perm; i++ {
				exec(t, st, 0, "SET", fmt.Sprintf("perm:%d", i), value)
			}
			for i := 0; i < hot; i++ {
				exec(t, st, 0, "SET", fmt.Sprintf("hot:%d", i), value)
			}
			written, ooms := 0, 0
			for i := 0; written < 3*maxmemory; i++ {
				if i%10 == 0 {
					now.Add(1000) // the LRU clock counts seconds
					for j := 0; j < hot; j++ {
						if got := exec(t, st, 0, "GET", fmt.Sprintf("hot:%d", j)); got == "$-1\r\n" && !p.Volatile() && p != keyspace.AllKeysRandom {
							t.Fatalf("hot:%d was evicted after %d writes", j, i)
						}
					}
				}
				// Even keys expire in 10^7 s, odd ones in 10^4 s.
				ttl := "10000"
				if i%2 == 0 {
					ttl = "10000000"
				}
				key := fmt.Sprintf("k:%d", i)
				got := exec(t, st, 0, "SET", key, value, "EX", ttl)
				switch got {
				case "+OK\r\n":
				case oomReply:
					ooms++
				default:
					t.Fatalf("SET %s = %q", key, got)
				}
				written += len(key) + len(value)
				if used := usedBytes(st); used > maxmemory*105/100 {
					t.Fatalf("after %d writes the store uses %d bytes, over maxmemory %d + 5%%", i, used, maxmemory)
				}
			}
			keys := liveKeys(st)
			_, evicted := st.memoryStats()
			t.Logf("%s: %d keys left, %d evicted, %d OOM, used %d", p, len(keys), evicted, ooms, usedBytes(st))
			if p == keyspace.NoEviction {
				if ooms == 0 || evicted != 0 {
					t.Fatalf("noeviction: %d OOM errors, %d evicted", ooms, evicted)
				}
				if got := exec(t, st, 0, "GET", "perm:1"); got != "$100\r\n"+value+"\r\n" {
					t.Fatalf("GET under OOM = %q", got)
				}
				if got := exec(t, st, 0, "DEL", "perm:1"); got != ":1\r\n" {
					t.Fatalf("DEL under OOM = %q", got) // not denyoom: frees memory
				}
				return
			}
			if ooms != 0 || evicted == 0 {
				t.Fatalf("%s: %d OOM errors, %d evicted", p, ooms, evicted)
			}
			if p.Volatile() {
				if n := count(keys, "perm:"); n != perm {
					t.Fatalf("%s evicted keys without a TTL: %d of %d left", p, n, perm)
				}
				if n := count(keys, "hot:"); n != hot {
					t.Fatalf("%s evicted keys without a TTL: %d of %d hot left", p, n, hot)
				}
			}
			if p == keyspace.VolatileTTL {
				long, short := 0, 0
				for k := range keys {
					var i int
					if _, err := fmt.Sscanf(k, "k:%d", &i); err == nil {
						if i%2 == 0 {
							long++
						} else {
							short++
						}
					}
				}
				if long < 2*short {
					t.Fatalf("volatile-ttl kept %d keys of the far expiry and %d of the near one", long, short)
				}
			}
		})
	}
}

// TestEvictionOOMWhenNothingEvictable: a volatile policy with no key that
// has a TTL cannot evict, so writes get the OOM error; reads still work.
func TestEvictionOOMWhenNothingEvictable(t *testing.T) {
	var now atomic.Int64
	now.Store(1_700_000_000_000)
	st := openFakeClock(t, "", &now)
	mp := keyspace.DefaultMemoryPolicy()
	mp.Policy = keyspace.VolatileLRU
	if err := st.SetMemory(30<<10, mp); err != nil {
		t.Fatal(err)
	}
	ooms := 0
	for i := 0; i < 1000; i++ {
		if exec(t, st, 0, "SET", fmt.Sprintf("k:%d", i), strings.Repeat("x", 100)) == oomReply {
			ooms++
		}
	}
	if ooms == 0 {
		t.Fatal("no OOM error with nothing to evict")
	}
	if got := exec(t, st, 0, "EXISTS", "k:0"); got != ":1\r\n" {
		t.Fatalf("EXISTS k:0 = %q", got)
	}
}

// TestEvictionSurvivesRestart: evictions are logged deletions, so the
// keys after a restart are the keys before it, and the accounting agrees.
func TestEvictionSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	var now atomic.Int64
	now.Store(1_700_000_000_000)
	st := openFakeClock(t, dir, &now)
	mp := keyspace.DefaultMemoryPolicy()
	mp.Policy = keyspace.AllKeysLRU
	if err := st.SetMemory(100<<10, mp); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3000; i++ {
		exec(t, st, 0, "SET", fmt.Sprintf("k:%d", i), strings.Repeat("x", 100))
	}
	before, used := liveKeys(st), usedBytes(st)
	if len(before) >= 3000 {
		t.Fatalf("nothing evicted: %d keys", len(before))
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st2 := openFakeClock(t, dir, &now)
	after := liveKeys(st2)
	if len(after) != len(before) {
		t.Fatalf("%d keys before the restart, %d after", len(before), len(after))
	}
	for k := range before {
		if !after[k] {
			t.Fatalf("%s is gone after the restart", k)
		}
	}
	if got := usedBytes(st2); got != used {
		t.Fatalf("used %d before the restart, %d after", used, got)
	}
}

// TestEvictionSkipsLockedKeys: a key a cross-shard transaction has locked
// is never evicted, even when it is the only candidate.
func TestEvictionSkipsLockedKeys(t *testing.T) {
	var now atomic.Int64
	now.Store(1_700_000_000_000)
	st, err := Open(Options{Shards: 1, Databases: 1, Now: func() int64 { return now.Load() }},
		keyspace.NewExecutor(command.Default))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	exec(t, st, 0, "SET", "locked", strings.Repeat("x", 1000))
	s := st.shards[0]
	s.mu.Lock()
	s.locks[lockKey{0, "locked"}] = 7
	s.mu.Unlock()
	mp := keyspace.DefaultMemoryPolicy()
	mp.Policy = keyspace.AllKeysRandom
	if err := st.SetMemory(100, mp); err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	ok := s.evictLocked(now.Load())
	still := s.store.DB(0).Peek("locked") != nil
	delete(s.locks, lockKey{0, "locked"})
	s.mu.Unlock()
	if ok || !still {
		t.Fatalf("evict reported %v; locked key still there: %v", ok, still)
	}
}
