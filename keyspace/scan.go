package keyspace

import (
	"hash/maphash"
	"math"
)

// SCAN over a Go map, which cannot resume an iteration.
//
// The cursor is a position in the space of key hashes: every key has a
// ScanCursorBits-bit hash (maphash with the store's seed), and cursor c
// means "every key whose hash is below c has been returned". A call returns
// every live key of a hash range [c, next) and answers next, so a key that
// exists for the whole scan is returned exactly once, whatever the database
// did between calls; a key added or deleted meanwhile may or may not be.
// That is Redis's guarantee (Redis may even repeat keys; this never does).
//
// To serve a call in time proportional to COUNT, the keys are indexed by
// hash: buckets by the top bits of the hash, doubled as the database grows.
// Keeping the index costs a new key a hash and a bucket append, about 5% of
// a SET of a new key into a million-key database (BenchmarkDBSetNew vs
// BenchmarkDBSetNewScanning): not worth paying on every SET for a command
// most databases never see. So the index exists only while SCAN is in use.
// The first SCAN builds it in one pass over the map (O(n), the price of one
// unindexed call: ~140 ms per million keys, BenchmarkScanBuild; later calls
// take ~3 us at COUNT 10, BenchmarkScanCall). It is dropped again once it
// has absorbed more new keys than the database held at the last SCAN, so
// its upkeep never exceeds the cost of rebuilding it, and a database
// without SCAN traffic pays one nil check per new key.
//
// Deleted keys leave the index lazily: their slots go when SCAN meets them
// (or stay unused when the key comes back), so deleting and expiring stay
// free of calls.
//
// Cursors do not depend on the index (only on the hash), so dropping and
// rebuilding it mid-scan is invisible to clients.

// ScanCursorBits bounds the cursors of DB.Scan: they are below
// 1<<ScanCursorBits, leaving the high bits to a caller that combines the
// scans of several shards into one cursor.
const ScanCursorBits = 48

const (
	scanMinBits = 4
	// scanLoad is the average bucket size at which the index doubles.
	scanLoad = 8
	// scanIdleSlack lets a small database absorb a few updates without
	// dropping its index.
	scanIdleSlack = 1024
)

type scanSlot struct {
	h   uint64
	key string
}

// scanIndex holds every key of a database by hash: bucket b has the keys
// whose hash, shifted right by ScanCursorBits-bits, is b; each key once,
// plus slots of deleted keys not swept yet.
type scanIndex struct {
	bits    uint
	buckets [][]scanSlot
	n       int
	// work counts the keys added since the last Scan; base is the number
	// of keys then, which the index was worth rebuilding for.
	work, base int
}

// scanHash is key's position in the cursor space.
func (db *DB) scanHash(key string) uint64 {
	return maphash.String(db.store.seed, key) >> (64 - ScanCursorBits)
}

// buildScanIndex indexes every key of db.
func (db *DB) buildScanIndex() *scanIndex {
	bits := uint(scanMinBits)
	for db.Len() > (scanLoad/2)<<bits {
		bits++
	}
	slots := make([]scanSlot, 0, db.Len())
	for k := range db.keys {
		slots = append(slots, scanSlot{db.scanHash(k), k})
	}
	if t := db.str; t != nil {
		for _, s := range t.slots {
			if s != 0 {
				r := t.record(s & posMask)
				k := string(r.key())
				slots = append(slots, scanSlot{db.scanHash(k), k})
			}
		}
	}
	ix := &scanIndex{bits: bits}
	ix.layout(slots)
	return ix
}

// layout distributes slots into 1<<ix.bits buckets with a counting sort
// into one array that the buckets share, each capped at its own end so that
// a later append moves that bucket out instead of overwriting the next.
func (ix *scanIndex) layout(slots []scanSlot) {
	starts := make([]int, 1<<ix.bits+1)
	for _, sl := range slots {
		starts[ix.bucket(sl.h)+1]++
	}
	for b := 1; b < len(starts); b++ {
		starts[b] += starts[b-1]
	}
	sorted := make([]scanSlot, len(slots))
	next := append([]int(nil), starts...)
	for _, sl := range slots {
		b := ix.bucket(sl.h)
		sorted[next[b]] = sl
		next[b]++
	}
	ix.buckets = make([][]scanSlot, 1<<ix.bits)
	for b := range ix.buckets {
		ix.buckets[b] = sorted[starts[b]:starts[b+1]:starts[b+1]]
	}
	ix.n = len(slots)
}

func (db *DB) scanAdd(key string) {
	db.scan.add(db.scanHash(key), key)
	db.scanWork()
}

// scanWork counts an added key and drops an index nobody scans.
func (db *DB) scanWork() {
	db.scan.work++
	if db.scan.work > db.scan.base+scanIdleSlack {
		db.scan = nil
	}
}

func (ix *scanIndex) bucket(h uint64) uint64 { return h >> (ScanCursorBits - ix.bits) }

func (ix *scanIndex) add(h uint64, key string) {
	b := ix.bucket(h)
	for _, sl := range ix.buckets[b] {
		if sl.h == h && sl.key == key {
			return // a stale slot of a deleted key, live again
		}
	}
	ix.buckets[b] = append(ix.buckets[b], scanSlot{h, key})
	ix.n++
	if ix.n > scanLoad<<ix.bits && ix.bits < 32 {
		ix.grow()
	}
}

// sweep drops the slots of bucket b whose keys are gone.
func (ix *scanIndex) sweep(db *DB, b uint64) {
	s := ix.buckets[b]
	kept := s[:0]
	for _, sl := range s {
		if _, _, ok := db.lookupMeta(sl.key); ok {
			kept = append(kept, sl)
		}
	}
	clear(s[len(kept):]) // let the keys' memory go
	ix.n -= len(s) - len(kept)
	ix.buckets[b] = kept
}

// grow doubles the buckets: bucket b splits into 2b and 2b+1.
func (ix *scanIndex) grow() {
	slots := make([]scanSlot, 0, ix.n)
	for _, s := range ix.buckets {
		slots = append(slots, s...)
	}
	ix.bits++
	ix.layout(slots)
}

// Scan calls fn for the live keys of a range of hashes starting at cursor,
// and returns the cursor to continue from (0 when the scan is complete).
// It covers whole buckets until it has met count keys or visited 10*count
// buckets, as Redis's SCAN does; match (a glob; nil for all) and typ
// (KindNone for all) then filter what fn sees, so a call may return fewer
// keys than count, or none, before the end. Expired keys met on the way are
// removed. fn must not change the database.
func (db *DB) Scan(cursor uint64, count int, match []byte, typ Kind, now int64, fn func(key string)) (next uint64) {
	if cursor >= 1<<ScanCursorBits || db.Len() == 0 {
		return 0
	}
	if db.scan == nil {
		db.scan = db.buildScanIndex()
	}
	ix := db.scan
	ix.work, ix.base = 0, db.Len()
	count = max(count, 1)
	maxVisits := math.MaxInt
	if count < math.MaxInt/10 {
		maxVisits = count * 10
	}
	shift := ScanCursorBits - ix.bits
	stale := false
	var buf []byte
	found, visits := 0, 0
	for b := ix.bucket(cursor); ; {
		for _, sl := range ix.buckets[b] {
			if sl.h < cursor {
				continue
			}
			kind, at, ok := db.lookupMeta(sl.key)
			if !ok {
				stale = true
				continue
			}
			found++
			switch {
			case at != 0 && at <= now:
				db.expire(sl.key, db.Peek(sl.key))
				stale = true
				continue
			case typ != KindNone && kind != typ:
				continue
			}
			if match != nil {
				buf = append(buf[:0], sl.key...)
				if !keyMatch(match, buf) {
					continue
				}
			}
			fn(sl.key)
		}
		if stale {
			ix.sweep(db, b)
			stale = false
		}
		b++
		visits++
		if b == 1<<ix.bits {
			next = 0
			break
		}
		if found >= count || visits >= maxVisits {
			next = b << shift
			break
		}
	}
	return next
}
