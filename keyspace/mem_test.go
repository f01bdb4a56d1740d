package keyspace

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// recount sums what every key is recorded to cost, as the running
// accounting should.
func recount(s *Store) int64 {
	var sum int64
	for _, db := range s.dbs {
		var dbSum int64
		for k, e := range db.keys {
			dbSum += keyCost(len(k)) + e.cost()
		}
		if t := db.str; t != nil {
			for _, sl := range t.slots {
				if sl != 0 {
					r := t.record(sl & posMask)
					dbSum += strCost(r.size())
				}
			}
		}
		if dbSum != db.used {
			panic(fmt.Sprintf("db %d: used %d, recount %d", db.index, db.used, dbSum))
		}
		sum += dbSum
	}
	return sum
}

// TestMemoryAccountingMatchesRecount runs random writes of every type, with
// expiry, renames, moves, swaps and flushes, and checks after each that the
// running total equals a walk over the keys, and is 0 when they are gone.
func TestMemoryAccountingMatchesRecount(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	rnd := rand.New(rand.NewPCG(seed, 1))
	v := newGenEnv()
	key := func() string { return "k" + strconv.Itoa(rnd.IntN(30)) }
	val := func() string { return string(make([]byte, rnd.IntN(200))) }
	for i := 0; i < 5000; i++ {
		v.db = rnd.IntN(2)
		switch rnd.IntN(16) {
		case 0:
			v.do("SET", key(), val())
		case 1:
			v.do("APPEND", key(), val())
		case 2:
			v.do("HSET", key(), val(), val())
		case 3:
			v.do("HDEL", key(), val())
		case 4:
			v.do("SADD", key(), strconv.Itoa(rnd.IntN(600)), val())
		case 5:
			v.do("SREM", key(), strconv.Itoa(rnd.IntN(600)))
		case 6:
			v.do("RPUSH", key(), val(), val())
		case 7:
			v.do("LPOP", key())
		case 8:
			v.do("ZADD", key(), strconv.Itoa(rnd.IntN(100)), val())
		case 9:
			v.do("ZREM", key(), val())
		case 10:
			v.do("DEL", key())
		case 11:
			v.do("RENAME", key(), key())
		case 12:
			v.do("MOVE", key(), strconv.Itoa(1-v.db))
		case 13:
			v.do("PEXPIRE", key(), strconv.Itoa(1+rnd.IntN(50)))
			v.now += int64(rnd.IntN(30))
		case 14:
			v.do("SETRANGE", key(), strconv.Itoa(rnd.IntN(300)), val())
		case 15:
			if rnd.IntN(50) == 0 {
				v.do("SWAPDB", "0", "1")
			} else {
				v.do("INCR", key())
			}
		}
		v.do("GET", key())    // expires lazily
		if rnd.IntN(4) == 0 { // strings at rest, packed
			v.store.packIdle = -1 << 40
			v.store.PackStrings(v.now, rnd.IntN(10))
		}
		if got := recount(v.store); got != v.store.Used() {
			t.Fatalf("step %d: used %d, recount %d", i, v.store.Used(), got)
		}
	}
	v.do("FLUSHALL")
	if v.store.Used() != 0 {
		t.Fatalf("used %d after FLUSHALL", v.store.Used())
	}
}

// TestCostCode: the code is exact below 2048 bytes and within 1/2048 above.
func TestCostCode(t *testing.T) {
	for _, n := range []int64{0, 1, 2047, 2048, 2049, 4095, 4096, 123456, 1 << 40, 3<<40 + 12345} {
		got := costOf(costCode(n))
		if n < 2048 && got != n || n >= 2048 && (got > n || n-got > n/2048) {
			t.Errorf("cost %d codes as %d", n, got)
		}
	}
}

// TestMemoryUsage: MEMORY USAGE grows with the value and answers nil for a
// missing key; SAMPLES 0 counts every element.
func TestMemoryUsage(t *testing.T) {
	v := newGenEnv()
	v.do("SET", "small", "x")
	v.do("SET", "big", string(make([]byte, 10000)))
	small, big := v.do("MEMORY", "USAGE", "small"), v.do("MEMORY", "USAGE", "big")
	s, _ := strconv.Atoi(small[1 : len(small)-2])
	b, _ := strconv.Atoi(big[1 : len(big)-2])
	if s <= 0 || b < 10000 || b > 11000 {
		t.Fatalf("usage small %q, big %q", small, big)
	}
	for i := 0; i < 1000; i++ {
		v.do("HSET", "h", "field:"+strconv.Itoa(i), "value")
	}
	all, sampled := v.do("MEMORY", "USAGE", "h", "SAMPLES", "0"), v.do("MEMORY", "USAGE", "h")
	if all != sampled { // uniform fields: the sample is exact
		t.Logf("SAMPLES 0 %q, default %q", all, sampled)
	}
	if n, _ := strconv.Atoi(all[1 : len(all)-2]); n < 1000*20 || n > 1000*300 {
		t.Fatalf("a hash of 1000 fields costs %d", n)
	}
	if got := v.do("MEMORY", "USAGE", "nokey"); got != "$-1\r\n" {
		t.Fatalf("missing key: %q", got)
	}
}

// zaddTen adds a sorted set of 10 members under zset:i.
func zaddTen(v *genEnv, i int) {
	args := []string{"ZADD", "zset:" + strconv.Itoa(i)}
	for j := range 10 {
		args = append(args, strconv.Itoa(j), "member:"+strconv.Itoa(i+j))
	}
	v.do(args...)
}

// TestAccountingMatchesHeap loads each kind of value, in each packed or
// expanded form, and compares what the store accounts (used_memory,
// MEMORY USAGE) with what the Go heap grew by: within a fifth.
func TestAccountingMatchesHeap(t *testing.T) {
	if testing.Short() {
		t.Skip("loads tens of megabytes")
	}
	for _, tc := range []struct {
		name string
		keys int
		load func(v *genEnv, i int)
	}{
		{"strings of 32 bytes, as entries", 100_000, func(v *genEnv, i int) {
			// APPEND creates an entry; SET would write the table.
			v.do("APPEND", "key:"+strconv.Itoa(i), strings.Repeat("x", 24)+strconv.Itoa(10_000_000+i))
		}},
		{"strings of 32 bytes, packed", 100_000, func(v *genEnv, i int) {
			v.do("SET", "key:"+strconv.Itoa(i), strings.Repeat("x", 24)+strconv.Itoa(10_000_000+i))
			packAll(v, i)
		}},
		{"hashes of 10 fields", 10_000, func(v *genEnv, i int) { hsetFields(v, i, 10) }},
		{"hashes of 300 fields", 200, func(v *genEnv, i int) { hsetFields(v, i, 300) }},
		{"sets of 10 members", 10_000, func(v *genEnv, i int) {
			args := []string{"SADD", "set:" + strconv.Itoa(i)}
			for j := range 10 {
				args = append(args, "member:"+strconv.Itoa(i+j))
			}
			v.do(args...)
		}},
		{"sorted sets of 10, packed", 10_000, func(v *genEnv, i int) {
			zaddTen(v, i)
			v.store.PackZSets(1 << 30)
		}},
		{"sorted sets of 10, expanded", 10_000, zaddTen},
		{"sorted sets of 10, in the table", 10_000, func(v *genEnv, i int) {
			zaddTen(v, i)
			packAll(v, i)
		}},
		{"hashes of 10 fields, in the table", 10_000, func(v *genEnv, i int) {
			hsetFields(v, i, 10)
			packAll(v, i)
		}},
		{"lists of 1000", 50, func(v *genEnv, i int) {
			args := []string{"RPUSH", "list:" + strconv.Itoa(i)}
			for j := range 1000 {
				args = append(args, "element:"+strconv.Itoa(i+j))
			}
			v.do(args...)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := newGenEnv()
			heap := func() uint64 {
				runtime.GC()
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				return ms.HeapAlloc
			}
			before, used := heap(), v.store.Used()
			for i := range tc.keys {
				tc.load(v, i)
			}
			// The registries of values to pack are not the data's.
			v.store.expanded = nil
			v.store.DB(0).fresh, v.store.DB(0).hot = nil, nil
			grew, accounted := float64(heap()-before), float64(v.store.Used()-used)
			t.Logf("heap grew %.0f bytes per key, accounted %.0f", grew/float64(tc.keys), accounted/float64(tc.keys))
			if accounted < 0.8*grew || accounted > 1.2*grew {
				t.Errorf("accounted %.0f bytes, the heap grew %.0f", accounted, grew)
			}
			runtime.KeepAlive(v)
		})
	}
}

// hsetFields sets hash i to n fields.
func hsetFields(v *genEnv, i, n int) {
	args := []string{"HSET", "hash:" + strconv.Itoa(i)}
	for j := range n {
		args = append(args, "field:"+strconv.Itoa(j), "value:"+strconv.Itoa(i+j))
	}
	v.do(args...)
}

// packAll packs every value that can be, every thousand keys.
func packAll(v *genEnv, i int) {
	if i%1000 == 999 {
		v.store.packIdle = -1 << 40
		v.store.PackZSets(1 << 30)
		v.store.PackStrings(v.store.Now(), 1<<30)
	}
}
