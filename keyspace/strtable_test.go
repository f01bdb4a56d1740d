package keyspace

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestPackedStringsModel runs random sets, deletes, reads, expiries,
// packing and compaction on a database against a map: every key reads
// back its value wherever it lives, Len and Range agree with the model, the
// accounting returns to where it started when every key is gone, and the
// arena's segments are freed as their records die.
func TestPackedStringsModel(t *testing.T) {
	seed := zseed(t)
	rnd := rand.New(rand.NewPCG(seed, 7))
	now := int64(1_700_000_000_000)
	s := NewStore(1, func() int64 { return now })
	s.packIdle = -1 << 40
	db := s.DB(0)
	model := map[string]string{}
	expiry := map[string]int64{}
	key := func() string { return fmt.Sprintf("key:%d", rnd.IntN(3000)) }
	val := func() string {
		if rnd.IntN(50) == 0 {
			return strings.Repeat("L", strPackMax+1+rnd.IntN(10)) // never packed
		}
		return strings.Repeat("v", rnd.IntN(200)) + fmt.Sprint(rnd.Uint32())
	}
	check := func(step int) {
		t.Helper()
		if db.Len() < len(model) { // Len counts expired keys not removed yet
			t.Fatalf("step %d: Len %d, model %d", step, db.Len(), len(model))
		}
		seen := 0
		db.Range(now, func(k string, e *Entry) bool {
			seen++
			if model[k] != string(e.Str) {
				t.Fatalf("step %d: Range %s = %q, want %q", step, k, e.Str, model[k])
			}
			return true
		})
		if seen != len(model) {
			t.Fatalf("step %d: Range saw %d keys, want %d", step, seen, len(model))
		}
	}
	for step := range 200_000 {
		switch op := rnd.IntN(100); {
		case op < 50:
			k, v := key(), val()
			e := newStringEntry([]byte(v), 0)
			if rnd.IntN(5) == 0 {
				e.ExpireAt = now + 1 + int64(rnd.IntN(5000))
				expiry[k] = e.ExpireAt
			} else {
				delete(expiry, k)
			}
			db.Set([]byte(k), e, false)
			model[k] = v
		case op < 65:
			k := key()
			_, ok := model[k]
			if db.Delete([]byte(k), now) != ok {
				t.Fatalf("step %d: DEL %s: existed %v", step, k, ok)
			}
			delete(model, k)
			delete(expiry, k)
		case op < 90:
			k := key()
			e := db.Get([]byte(k), now)
			want, ok := model[k]
			if (e != nil) != ok || ok && string(e.Str) != want {
				t.Fatalf("step %d: GET %s = %v, want %q (%v)", step, k, e, want, ok)
			}
		case op < 97:
			s.PackStrings(now, 1+rnd.IntN(500))
		default:
			now += int64(rnd.IntN(2000))
			for k, at := range expiry {
				if at <= now {
					delete(model, k)
					delete(expiry, k)
				}
			}
			db.ActiveExpire(now, 100)
		}
		if step%10_000 == 0 {
			check(step)
		}
	}
	s.PackStrings(now, 1<<30)
	check(-1)
	if db.packedLen() == 0 {
		t.Fatal("nothing packed")
	}
	if tbl := db.str; tbl != nil {
		live := 0
		for _, b := range tbl.segs {
			if b != nil {
				live++
			}
		}
		if live > 8 {
			t.Errorf("%d segments live for %d keys", live, tbl.n)
		}
	}
	db.Flush(now)
	if db.Len() != 0 || s.Used() != 0 {
		t.Fatalf("after FLUSHDB: %d keys, used %d", db.Len(), s.Used())
	}
}

// TestPackedStringsEveryWay packs strings and reaches them by every path
// that must take them out or read them where they are: the reads, SCAN,
// RANDOMKEY, eviction and expiry, with accounting back at zero once all
// are deleted.
func TestPackedStringsEveryWay(t *testing.T) {
	now := int64(1_700_000_000_000)
	s := NewStore(1, func() int64 { return now })
	s.packIdle = -1 << 40
	db := s.DB(0)
	for i := range 1000 {
		e := newStringEntry([]byte(fmt.Sprint("value", i)), 0)
		if i%2 == 0 {
			e.ExpireAt = now + 1000
		}
		db.Set([]byte(fmt.Sprint("k", i)), e, false)
	}
	s.PackStrings(now, 1<<30)
	if db.packedLen() != 1000 || len(db.keys) != 0 {
		t.Fatalf("packed %d, in the map %d", db.packedLen(), len(db.keys))
	}
	if db.Expires() != 500 {
		t.Fatalf("expires %d", db.Expires())
	}
	// A record and its slot: less than an entry, a key string and a map
	// cell (over 130 bytes), and nothing taken out.
	if n, ok := db.packedUsage([]byte("k1"), now); !ok || n < 20 || n > 60 || db.packedLen() != 1000 {
		t.Fatalf("MEMORY USAGE of a packed key: %d %v (used %d), %d packed", n, ok, s.Used(), db.packedLen())
	}
	seen := map[string]bool{}
	for cursor := uint64(0); ; {
		cursor = db.Scan(cursor, 10, nil, KindNone, now, func(k string) { seen[k] = true })
		if cursor == 0 {
			break
		}
	}
	if len(seen) != 1000 {
		t.Fatalf("SCAN saw %d keys", len(seen))
	}
	if k, ok := db.RandomKey(now, rand.New(rand.NewPCG(1, 1))); !ok || !seen[k] {
		t.Fatalf("RANDOMKEY %q %v", k, ok)
	}
	s.SetMemoryPolicy(MemoryPolicy{Policy: AllKeysLRU, Samples: 5})
	ev, ok := s.Evict(now, nil)
	if !ok || ev.Entry == nil || db.Len() != 999 {
		t.Fatalf("evict: %+v %v, %d keys", ev, ok, db.Len())
	}
	now += 2000
	for range 1000 {
		if db.ActiveExpire(now, 100); db.Expires() == 0 {
			break
		}
	}
	want := 500 // the odd keys, without a TTL
	var n int
	if fmt.Sscanf(ev.Key, "k%d", &n); n%2 == 1 {
		want--
	}
	if db.Len() != want || db.Expires() != 0 {
		t.Fatalf("after expiry: %d keys, %d expires", db.Len(), db.Expires())
	}
	for i := 1; i < 1000; i += 2 {
		db.Delete([]byte(fmt.Sprint("k", i)), now)
	}
	db.SweepTombstones(1 << 62)
	if db.Len() != 0 || s.Used() != 0 || db.str != nil {
		t.Fatalf("after deleting all: %d keys, used %d, table %v", db.Len(), s.Used(), db.str != nil)
	}
}

// TestPackStringsHotKeys: a string written all the time stays an entry and
// is looked at about once a second, its listings do not pile up however
// often it is deleted and set again, and it is packed once left alone.
func TestPackStringsHotKeys(t *testing.T) {
	now := int64(1_700_000_000_000)
	s := NewStore(1, func() int64 { return now })
	db := s.DB(0)
	for tick := range 100 { // 10 s of 100 ms ticks
		for range 50 {
			db.Delete([]byte("hot"), now)
			db.Set([]byte("hot"), newStringEntry([]byte(fmt.Sprint(tick)), 0), false)
		}
		s.PackStrings(now, 50_000)
		if db.packedLen() != 0 {
			t.Fatalf("tick %d: the hot key was packed", tick)
		}
		if len(db.fresh)+len(db.hot) > 60 {
			t.Fatalf("tick %d: %d listings", tick, len(db.fresh)+len(db.hot))
		}
		now += 100
	}
	for range 30 {
		now += 100
		s.PackStrings(now, 50_000)
	}
	if db.packedLen() != 1 || len(db.keys) != 0 || len(db.fresh)+len(db.hot) != 0 {
		t.Fatalf("left alone: %d packed, %d entries, %d listings", db.packedLen(), len(db.keys), len(db.fresh)+len(db.hot))
	}
}
