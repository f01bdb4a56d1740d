package keyspace

import (
	"encoding/binary"
	"math"
)

// A small sorted set at rest is packed, as Redis keeps one in a listpack:
// its elements in order in one buffer, each as a uvarint of its member's
// length shifted left once (the low bit set when the score is an integer,
// as Redis's listpack stores integers apart), the member's bytes, then the
// score: a zigzag varint when an integer, else its 8 bytes (little-endian
// IEEE 754). The commands work on the skiplist and hash index
// (zset_skiplist.go), so a command that reaches a packed set expands it
// first (thaw), and the store packs the sets commands expanded again on
// its next cron tick (Store.PackZSets): a set in use stays expanded and
// fast, a set at rest costs a fraction of the memory. A set packs only
// while Redis would keep it a listpack (ZSet.compact). Len, Encoding,
// Clone, Range, Score, encode, DUMP and MEMORY USAGE read a packed set as
// it is.

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
		h, w := binary.Uvarint(z.lp[i:])
		i += w
		m := z.lp[i : i+int(h>>1)]
		i += int(h >> 1)
		var score float64
		if h&1 != 0 {
			n, w := binary.Varint(z.lp[i:])
			score, i = float64(n), i+w
		} else {
			score, i = math.Float64frombits(binary.LittleEndian.Uint64(z.lp[i:])), i+8
		}
		if !fn(packedString(m), score) {
			return
		}
	}
}

// packedInt reports whether score is packed as an integer: exactly one,
// within float64's exact integers, and not -0.
func packedInt(score float64) (int64, bool) {
	if score != math.Trunc(score) || math.Abs(score) > 1<<53 || (score == 0 && math.Signbit(score)) {
		return 0, false
	}
	return int64(score), true
}

// appendPackedZElem appends one element in the packed form.
func appendPackedZElem(lp []byte, member string, score float64) []byte {
	n, isInt := packedInt(score)
	h := uint64(len(member)) << 1
	if isInt {
		h |= 1
	}
	lp = binary.AppendUvarint(lp, h)
	lp = append(lp, member...)
	if isInt {
		return binary.AppendVarint(lp, n)
	}
	return binary.LittleEndian.AppendUint64(lp, math.Float64bits(score))
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
	z.length = 0
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
	var scratch [binary.MaxVarintLen64 + 10]byte
	size := 0
	for x := z.first(); x != nil; x = x.next() {
		size += len(appendPackedZElem(scratch[:0], "", x.score)) + uvarintLen(len(x.member)<<1) - 1 + len(x.member)
	}
	lp := make([]byte, 0, size)
	for x := z.first(); x != nil; x = x.next() {
		lp = appendPackedZElem(lp, x.member, x.score)
	}
	z.zskip = nil
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
		r.db.noteHot(r.key, r.e) // to its database's table, once left alone
	}
	n := copy(s.expanded, s.expanded[done:])
	clear(s.expanded[n:])
	s.expanded = s.expanded[:n]
	if n == 0 && cap(s.expanded) > 1024 {
		s.expanded = nil // a burst's backlog does not stay allocated
	}
}
