package keyspace

import (
	"math"
	"math/bits"
	"sort"
)

// Memory accounting: every entry carries the cost of its value as the
// store last counted it (a 16-bit code, in bytes spare in Entry's padding),
// and each database sums its keys' costs as they change: Set, Put and Touch
// count the new cost and take off the one recorded, a removal takes off the
// recorded cost. The sum is what the store says it uses (INFO used_memory,
// maxmemory); it never needs a walk, and it cannot drift, because what is
// taken off is exactly what was added. A collection's cost is estimated from
// a few sampled elements, as Redis's MEMORY USAGE does, so a change to a big
// collection stays O(1).

// Go's heap size classes up to 32 KiB: an allocation of n bytes costs the
// first class that holds it.
var sizeClasses = [...]int{8, 16, 24, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224,
	240, 256, 288, 320, 352, 384, 416, 448, 480, 512, 576, 640, 704, 768, 896, 1024, 1152, 1280,
	1408, 1536, 1792, 2048, 2304, 2688, 3072, 3200, 3456, 4096, 4864, 5376, 6144, 6528, 6784,
	6912, 8192, 9472, 9728, 10240, 10880, 12288, 13568, 14336, 16384, 18432, 19072, 20480, 21760,
	24576, 27264, 28672, 32768}

// allocSize is what the Go heap spends on an allocation of n bytes.
func allocSize(n int) int {
	if n <= 0 {
		return 0
	}
	if n > 32768 {
		return (n + 8191) &^ 8191 // whole pages
	}
	return sizeClasses[sort.SearchInts(sizeClasses[:], n)]
}

// Fixed costs, from the layouts of the types below on 64-bit Go.
const (
	entrySize = 64 // Entry
	// keySlot is a key's cell in a database's map (string header and
	// pointer, 24 bytes, at a Swiss table's load of 7/8 with a control
	// byte), plus the free cells of a table that has grown by doubling.
	keySlot = 40
	// fieldSlot and fieldIndex are a hash field's or set member's slot
	// (fieldSlot[V]) and its cell in the index map.
	hashSlot   = 48 // key, value string headers, seq, gone
	setSlot    = 32 // key string header, seq, gone
	fieldIndex = 40
	collHeader = 64 // the collection's struct and its map or slice header
	znodeSize  = 80 // znode with its inline level
	zsetHeader = 64 // a packed ZSet's struct
)

// keyCost is what a key costs besides its value: its bytes and its cell.
func keyCost(n int) int64 { return int64(allocSize(n) + keySlot) }

// valueCost estimates what e's value costs, sampling up to samples
// elements of a collection (0: all of them).
func valueCost(e *Entry, samples int) int64 {
	if e.Coll == nil {
		// Short strings live in the entry's own allocation (newStringEntry).
		if c := cap(e.Str); c <= 128 {
			return int64(allocSize(entrySize + c))
		}
		return int64(entrySize + allocSize(cap(e.Str)))
	}
	return entrySize + collCost(e.Coll, samples)
}

// sampled returns the indexes of up to k elements spread evenly over n.
func sampleStep(n, k int) (count, step int) {
	if k <= 0 || k >= n {
		return n, 1
	}
	return k, n / k
}

// collCost estimates a collection's cost: its fixed part and its elements,
// those not sampled counted at the sampled average.
func collCost(coll Collection, samples int) int64 {
	if s, ok := coll.(*Stream); ok {
		return s.memCost() // kept as it changes; an empty stream has groups
	}
	n := coll.Len()
	if n == 0 {
		return collHeader
	}
	var fixed, sum int64
	k, step := sampleStep(n, samples)
	switch c := coll.(type) {
	case *Hash:
		if c.m == nil {
			return int64(collHeader + allocSize(cap(c.lp)))
		}
		fixed = int64(collHeader + (cap(c.m.slots)-n)*hashSlot)
		index := c.m.indexCost()
		got := 0
		for i := 0; got < k && i < len(c.m.slots); i += step {
			s := &c.m.slots[i]
			if s.gone {
				i -= step - 1 // the next live slot
				continue
			}
			sum += int64(hashSlot + index + allocSize(len(s.key)) + allocSize(len(s.val)))
			got++
		}
		k = max(got, 1)
	case *Set:
		if !c.table {
			return int64(collHeader + allocSize(8*cap(c.ints)))
		}
		fixed = int64(collHeader + (cap(c.m.slots)-n)*setSlot)
		index := c.m.indexCost()
		got := 0
		for i := 0; got < k && i < len(c.m.slots); i += step {
			s := &c.m.slots[i]
			if s.gone {
				i -= step - 1
				continue
			}
			sum += int64(setSlot + index + allocSize(len(s.key)))
			got++
		}
		k = max(got, 1)
	case *List:
		return collHeader + c.cost()
	case *ZSet:
		if c.packed {
			return int64(zsetHeader + allocSize(cap(c.lp)))
		}
		fixed = int64(collHeader + 48 + len(c.header.level)*16 + 8*len(c.buckets)) // 48: zskip
		x := c.first()
		for i := 0; i < k && x != nil; i++ {
			sum += int64(znodeSize + allocSize(len(x.member)))
			if len(x.level) > 1 {
				sum += int64(allocSize(16 * len(x.level)))
			}
			for j := 0; j < step && x != nil; j++ {
				x = x.next()
			}
		}
	default:
		return collHeader
	}
	return fixed + sum*int64(n)/int64(k)
}

// accountSamples is how many elements the running accounting samples of a
// collection that changed: enough for a fair average, few enough that a
// write to a big collection costs no more than a few lookups.
const accountSamples = 8

// The cost code: 16 bits holding a cost in bytes as a float with an 11-bit
// mantissa: exact below 2048, within 1/2048 above, up to about 4 TB.
func costCode(n int64) uint16 {
	if n < 2048 {
		return uint16(max(n, 0))
	}
	s := bits.Len64(uint64(n)) - 12 // n>>s is in [2048, 4096)
	if s >= 31 {
		return math.MaxUint16
	}
	return uint16((s+1)<<11 | int(n>>s-2048))
}

func costOf(code uint16) int64 {
	x, m := int(code>>11), int64(code&2047)
	if x == 0 {
		return m
	}
	return (2048 + m) << (x - 1)
}

// The cost code lives in Entry.memHi and the top byte of Entry.lru.
func (e *Entry) cost() int64 { return costOf(uint16(e.memHi)<<8 | uint16(e.lru>>24)) }

func (e *Entry) setCost(n int64) int64 {
	c := costCode(n)
	e.memHi, e.lru = uint8(c>>8), e.lru&lruMask|uint32(c&0xff)<<24
	return costOf(c)
}

// account records e's new cost and adds the change to the database.
func (db *DB) account(e *Entry) {
	old := e.cost()
	d := e.setCost(valueCost(e, accountSamples)) - old
	db.used += d
	db.store.used += d
}

// accountKey adds (sign 1) or takes off (sign -1) what key and e cost
// as last recorded in e.
func (db *DB) accountKey(key string, e *Entry, sign int64) {
	d := sign * (keyCost(len(key)) + e.cost())
	db.used += d
	db.store.used += d
}

// addKeyCost counts a new key of n bytes (its value is counted apart).
func (db *DB) addKeyCost(n int) {
	db.used += keyCost(n)
	db.store.used += keyCost(n)
}

// Used is the store's estimate of the bytes its keys and values take.
func (s *Store) Used() int64 { return s.used }

// Used is the database's share of Store.Used.
func (db *DB) Used() int64 { return db.used }

// MemoryUsage estimates what key and its value cost, sampling up to
// samples elements of a collection (0: all), as MEMORY USAGE.
func MemoryUsage(key string, e *Entry, samples int) int64 {
	return keyCost(len(key)) + valueCost(e, samples)
}

var memoryHelp = []string{
	"MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
	"DOCTOR",
	"    Return memory problems reports.",
	"MALLOC-STATS",
	"    Return internal statistics report from the memory allocator.",
	"PURGE",
	"    Attempt to purge dirty pages for reclamation by the allocator.",
	"STATS",
	"    Return information about the memory usage of the server.",
	"USAGE <key> [SAMPLES <count>]",
	"    Return memory in bytes used by <key> and its value. Nested values are",
	"    sampled up to <count> times (default: 5, 0 means sample all).",
	"HELP",
	"    Prints this help.",
}

// MEMORY USAGE key [SAMPLES n], MEMORY HELP. USAGE answers the store's
// estimate (see valueCost); it does not count the access.
func memoryCmd(c *Ctx) {
	sub := c.Args[1]
	switch {
	case EqualFold(sub, "help") && len(c.Args) == 2:
		c.W.Array(len(memoryHelp))
		for _, l := range memoryHelp {
			c.W.Status(l)
		}
	case EqualFold(sub, "usage") && len(c.Args) >= 3:
		samples := int64(5)
		for j := 3; j < len(c.Args); j++ {
			if optIs(c.Args[j], "samples") && j+1 < len(c.Args) {
				n, ok := c.intArg(j + 1)
				if !ok {
					return
				}
				if n < 0 {
					c.W.Error(ErrSyntax)
					return
				}
				samples = n
				j++
				continue
			}
			c.W.Error(ErrSyntax)
			return
		}
		if n, ok := c.DB.packedUsage(c.Args[2], c.Now); ok {
			c.W.Int(n) // what its record costs, without taking it out
			return
		}
		e := c.DB.GetNoTouch(c.Args[2], c.Now)
		if e == nil {
			c.W.Null()
			return
		}
		c.W.Int(MemoryUsage(string(c.Args[2]), e, int(min(samples, math.MaxInt32))))
	default:
		c.W.Error(ErrUnknownSubcommand(sub, "MEMORY"))
	}
}
