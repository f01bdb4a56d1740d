package keyspace

import (
	"encoding/binary"
	"math"
)

// A small sorted set at rest is packed, as Redis keeps one in a listpack:
// its elements in order in one buffer (packed.go), each as its score's 8
// bytes (little-endian IEEE 754) and its member as a packed string. The
// commands work on the skiplist and hash index (zset_skiplist.go), so a
// command that reaches a packed set expands it first (thaw), and the store
// packs the sets commands expanded again on its next cron tick
// (Store.PackZSets): a set in use stays expanded and fast, a set at rest
// costs a tenth of the memory. A set packs only while Redis would keep it a
// listpack (ZSet.compact). Len, Encoding, Clone, Range, Score, encode,
// DUMP and MEMORY USAGE read a packed set as it is.

// zsetRef is a set a command expanded, to pack again.
type zsetRef struct {
	db  *DB
	key string
	e   *Entry
}

// packedEach calls fn for every element of a packed set in order until fn
// returns false.
func (z *ZSet) packedEach(fn func(member string, score float64) bool) {
	for i := 0; i < len(z.lp); {
		score := math.Float64frombits(binary.LittleEndian.Uint64(z.lp[i:]))
		m, next := packedNext(z.lp, i+8)
		if !fn(packedString(m), score) {
			return
		}
		i = next
	}
}

// thaw rebuilds the skiplist and hash index of a packed set. The members
// stay where they are: the nodes' strings point into the buffer, whose
// bytes never change.
func (z *ZSet) thaw() {
	if !z.packed {
		return
	}
	lp, n, compact := z.lp, z.length, z.compact
	z.lp, z.packed = nil, false
	z.init(z.rng)
	z.length, z.tail, z.buckets = 0, nil, nil
	z.reserve(n)
	a := newZAppender(z)
	(&ZSet{lp: lp}).packedEach(func(m string, score float64) bool {
		a.add(m, score)
		return true
	})
	a.finish()
	z.compact = compact
}

// pack replaces the skiplist and hash index of a compact set with its
// packed form.
func (z *ZSet) pack() {
	if z.packed || !z.compact || z.length == 0 {
		return
	}
	size := 0
	for x := z.first(); x != nil; x = x.next() {
		size += 8 + uvarintLen(len(x.member)) + len(x.member)
	}
	lp := make([]byte, 0, allocSize(size))
	for x := z.first(); x != nil; x = x.next() {
		lp = binary.LittleEndian.AppendUint64(lp, math.Float64bits(x.score))
		lp = binary.AppendUvarint(lp, uint64(len(x.member)))
		lp = append(lp, x.member...)
	}
	z.header, z.tail, z.buckets, z.level = nil, nil, nil, 0
	z.lp, z.packed = lp, true
}

// noteZSet makes sure the set at key (in e) is expanded, and has it packed
// again on the store's next PackZSets if Redis would keep it a listpack.
func (c *Ctx) noteZSet(key []byte, e *Entry) *ZSet {
	z := e.Coll.(*ZSet)
	z.thaw()
	if !z.noted && z.compact {
		z.noted = true
		s := c.DB.store
		s.expanded = append(s.expanded, zsetRef{db: c.DB, key: string(key), e: e})
	}
	return z
}

// PackZSets packs the sorted sets commands expanded since they were last
// packed, those still under their key and still small, up to about budget
// elements (the rest wait for the next call, so one call holds the shard
// for a bounded time), and accounts for what that saves. The embedded
// shard calls it from its cron, under its lock.
func (s *Store) PackZSets(budget int) {
	done := 0
	for done < len(s.expanded) && budget > 0 {
		r := s.expanded[done]
		s.expanded[done] = zsetRef{}
		done++
		z, ok := r.e.Coll.(*ZSet)
		if !ok {
			continue
		}
		z.noted = false
		if r.db.keys[r.key] != r.e || z.packed || !z.compact {
			continue
		}
		budget -= z.length
		z.pack()
		r.db.account(r.e)
	}
	n := copy(s.expanded, s.expanded[done:])
	clear(s.expanded[n:])
	s.expanded = s.expanded[:n]
	if n == 0 && cap(s.expanded) > 1024 {
		s.expanded = nil // a burst's backlog does not stay allocated
	}
}
