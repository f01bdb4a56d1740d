package keyspace

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/schemaproxy/schemaproxy/proto/resp"
)

// The cost of the SCAN index on the hot paths: compare these with the index
// compiled in and out (see the note in scan.go).

func benchKeys(n int) [][]byte {
	keys := make([][]byte, n)
	for i := range keys {
		keys[i] = []byte("key:" + strconv.Itoa(i))
	}
	return keys
}

// filledDB returns a database holding n string keys (each its own value),
// and the keys.
func filledDB(n int) (*DB, [][]byte) {
	keys := benchKeys(n)
	db := NewStore(1, func() int64 { return 1e12 }).DB(0)
	for _, k := range keys {
		db.Set(k, &Entry{Kind: KindString, Str: k}, false)
	}
	return db, keys
}

func BenchmarkDBSetNew(b *testing.B) { benchSetNew(b, false) }

// BenchmarkDBSetNewScanning is SET of a new key while SCAN is in use, so
// the scan index is kept up to date.
func BenchmarkDBSetNewScanning(b *testing.B) { benchSetNew(b, true) }

func benchSetNew(b *testing.B, scanning bool) {
	keys := benchKeys(b.N)
	db := NewStore(1, func() int64 { return 1e12 }).DB(0)
	if scanning {
		db.Set([]byte("first"), &Entry{Kind: KindString}, false)
		db.Scan(0, 1, nil, KindNone, 1e12, func(string) {})
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		db.Set(keys[i], &Entry{Kind: KindString, Str: keys[i]}, false)
	}
}

func BenchmarkDBSetExisting(b *testing.B) {
	db, keys := filledDB(1 << 16)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		k := keys[i&(1<<16-1)]
		db.Set(k, &Entry{Kind: KindString, Str: k}, false)
	}
}

func BenchmarkDBGet(b *testing.B) {
	db, keys := filledDB(1 << 16)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if db.Get(keys[i&(1<<16-1)], 1e12) == nil {
			b.Fatal("missing")
		}
	}
}

func BenchmarkDBSetDelete(b *testing.B) {
	db, keys := filledDB(1 << 16)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		k := keys[i&(1<<16-1)]
		db.Delete(k, 1e12)
		db.Set(k, &Entry{Kind: KindString, Str: k}, false)
	}
}

func scanSeed(t *testing.T) *rand.Rand {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	return rand.New(rand.NewPCG(seed, 5))
}

// TestScanGuarantee is the SCAN contract under a changing database: each
// full scan returns every key that exists throughout it exactly once, never
// a key that does not exist at the time, and cursors stay below
// 1<<ScanCursorBits. Between calls keys are added (growing the index) and
// deleted, sometimes in bursts large enough to drop the index.
func TestScanGuarantee(t *testing.T) {
	r := scanSeed(t)
	for _, size := range []int{0, 1, 7, 100, 3000, 20000} {
		st := NewStore(1, func() int64 { return 1e12 })
		db := st.DB(0)
		next := 0
		add := func() string {
			k := "k" + strconv.Itoa(next)
			next++
			db.Set([]byte(k), &Entry{Kind: KindString}, false)
			return k
		}
		for i := 0; i < size; i++ {
			add()
		}
		for round := 0; round < 3; round++ {
			// stable: present from start to end; everything else may
			// come and go.
			stable := map[string]bool{}
			db.Range(0, func(k string, _ *Entry) bool { stable[k] = true; return true })
			seen := map[string]int{}
			cursor := uint64(0)
			calls := 0
			dropped := false // at most once per scan: it doubles the database
			growing := 0     // calls left that add half the database
			grown := false
			for {
				count := 1 + r.IntN(50)
				cursor = db.Scan(cursor, count, nil, KindNone, 1e12, func(k string) {
					if db.Peek(k) == nil {
						t.Fatalf("size %d: returned missing key %q", size, k)
					}
					seen[k]++
				})
				calls++
				if cursor >= 1<<ScanCursorBits {
					t.Fatalf("cursor %d out of range", cursor)
				}
				if cursor == 0 {
					break
				}
				if calls > 10*size+100 {
					t.Fatalf("size %d: scan does not end", size)
				}
				if growing > 0 {
					// Half the database per call stays below the idle
					// limit, so the index grows instead of being dropped.
					growing--
					for i := db.Len() / 2; i > 0; i-- {
						add()
					}
					if db.scan == nil && db.Len() > 0 {
						t.Fatal("index dropped while scanning")
					}
					continue
				}
				switch r.IntN(7) {
				case 0:
					for i := r.IntN(20); i > 0; i-- {
						add()
					}
				case 1:
					for i := r.IntN(20); i > 0; i-- {
						k := "k" + strconv.Itoa(r.IntN(next))
						if db.Delete([]byte(k), 1e12) {
							delete(stable, k)
						}
					}
				case 2:
					if !dropped && r.IntN(10) == 0 {
						dropped = true
						// enough new keys to drop the index
						for i := db.Len() + scanIdleSlack + 10; i > 0; i-- {
							add()
						}
						if db.scan != nil {
							t.Fatal("index kept without scans")
						}
					}
				case 4:
					if round == 0 && size > 0 && size < 5000 && !grown {
						growing, grown = 4, true
					}
				case 3:
					// delete and re-create: a stale slot, then live again
					k := "k" + strconv.Itoa(r.IntN(next))
					if db.Delete([]byte(k), 1e12) {
						delete(stable, k)
						db.Set([]byte(k), &Entry{Kind: KindString}, false)
					}
				}
			}
			for k := range stable {
				if seen[k] != 1 {
					t.Fatalf("size %d: stable key %q returned %d times", size, k, seen[k])
				}
			}
			for k, n := range seen {
				if n != 1 {
					t.Fatalf("size %d: key %q returned %d times", size, k, n)
				}
			}
		}
	}
}

// TestScanCost checks that a call's work follows COUNT, not the database
// size: the keys a call returns stay near COUNT and a full scan takes about
// size/COUNT calls.
func TestScanCost(t *testing.T) {
	const n = 100000
	db, _ := filledDB(n)
	cursor, calls, maxPer := uint64(0), 0, 0
	for {
		got := 0
		cursor = db.Scan(cursor, 10, nil, KindNone, 1e12, func(string) { got++ })
		calls++
		maxPer = max(maxPer, got)
		if cursor == 0 {
			break
		}
	}
	if maxPer > 10+4*scanLoad || calls < n/(10+4*scanLoad) || calls > n/10+1 {
		t.Errorf("%d calls, at most %d keys per call", calls, maxPer)
	}
	if db.scan.n != n {
		t.Errorf("index holds %d keys", db.scan.n)
	}
}

// TestScanFilters checks MATCH, TYPE and expiry through the SCAN command.
func TestScanFilters(t *testing.T) {
	v := newGenEnv()
	for i := 0; i < 50; i++ {
		v.do("SET", fmt.Sprint("str:", i), "v")
		v.do("RPUSH", fmt.Sprint("list:", i), "v")
	}
	v.do("SET", "dead:1", "v")
	v.do("PEXPIRE", "dead:1", "5")
	v.now += 5
	scanAll := func(opts ...string) []string {
		var out []string
		cursor := "0"
		for {
			raw := v.do(append([]string{"SCAN", cursor}, opts...)...)
			val, _, err := resp.Parse([]byte(raw))
			if err != nil || len(val.Elems) != 2 {
				t.Fatalf("SCAN reply %q", raw)
			}
			cursor = string(val.Elems[0].Str)
			for _, e := range val.Elems[1].Elems {
				out = append(out, string(e.Str))
			}
			if cursor == "0" {
				sort.Strings(out)
				return out
			}
		}
	}
	if got := scanAll(); len(got) != 100 || slices.Contains(got, "dead:1") {
		t.Errorf("SCAN: %d keys", len(got))
	}
	if v.store.DB(0).Peek("dead:1") != nil {
		t.Error("SCAN did not remove the expired key")
	}
	if got := scanAll("MATCH", "str:1*"); strings.Join(got, ",") != "str:1,str:10,str:11,str:12,str:13,str:14,str:15,str:16,str:17,str:18,str:19" {
		t.Errorf("MATCH: %v", got)
	}
	if got := scanAll("TYPE", "LIST", "COUNT", "3"); len(got) != 50 || !strings.HasPrefix(got[0], "list:") {
		t.Errorf("TYPE list: %d keys", len(got))
	}
	if got := scanAll("TYPE", "list", "MATCH", "str:*"); len(got) != 0 {
		t.Errorf("TYPE list MATCH str:*: %v", got)
	}
	for _, typ := range []string{"none", "stream", "foo"} {
		if got := scanAll("TYPE", typ); len(got) != 0 {
			t.Errorf("TYPE %s: %v", typ, got)
		}
	}
	// A cursor past the hash space ends the scan.
	if got := v.do("SCAN", "18446744073709551615"); got != "*2\r\n$1\r\n0\r\n*0\r\n" {
		t.Errorf("huge cursor: %q", got)
	}
}

// BenchmarkScanCall is one SCAN step of COUNT 10 over a million keys, the
// index built.
func BenchmarkScanCall(b *testing.B) {
	db, _ := filledDB(1 << 20)
	cursor := db.Scan(0, 10, nil, KindNone, 1e12, func(string) {})
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		cursor = db.Scan(cursor, 10, nil, KindNone, 1e12, func(string) {})
	}
}

// BenchmarkScanBuild is the first SCAN of a million keys: building the
// index.
func BenchmarkScanBuild(b *testing.B) {
	db, _ := filledDB(1 << 20)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		db.scan = nil
		db.Scan(0, 10, nil, KindNone, 1e12, func(string) {})
	}
}
