package keyspace

import (
	"hash/maphash"
	"math/bits"
)

// The sorted set's two indexes, as in Redis: a skiplist with spans ordered by
// (score, member) for ranges and ranks in O(log n), and a chained hash table
// member -> node for O(1) score lookups. The hash table is our own (rather
// than a Go map) so that ZSCAN can walk it with Redis's reverse-binary
// cursor, which stays valid across resizes between calls.

const (
	zslMaxLevel = 32 // enough for 2^64 elements at p = 1/4

	// Redis 7.0's zset-max-listpack-entries / -value defaults: a set within
	// both limits is "listpack" encoded in Redis, which changes what ZSCAN
	// returns and how lex ranges over mixed scores are walked.
	zsetMaxListpackEntries = 128
	zsetMaxListpackValue   = 64
)

// zsetHashSeed keys the member hash. Random per process, like Redis's
// siphash key, so that clients cannot force collisions; nothing but ZSCAN's
// cursor order depends on it.
var zsetHashSeed = maphash.MakeSeed()

type zlevel struct {
	forward *znode
	span    int // nodes from this one to forward (to the end when forward is nil)
}

type znode struct {
	member   string
	score    float64
	backward *znode
	chain    *znode // next node in the same hash bucket
	level    []zlevel
	inline   [1]zlevel // backs level for the 3 in 4 nodes of level 1
}

func (x *znode) next() *znode { return x.level[0].forward }

// zless reports whether node x sorts before (score, member).
func zless(x *znode, score float64, member string) bool {
	return x.score < score || (x.score == score && x.member < member)
}

func (z *ZSet) init(seed uint64) {
	// The header grows with the set's levels (growHeader): a small set
	// does not pay for 32 of them.
	z.zskip = &zskip{header: &znode{level: make([]zlevel, 2)}, level: 1}
	z.rng = seed
	z.compact = true
}

// randomLevel draws a node level with P(level > k) = 4^-k from the set's
// own generator: deterministic, and no shared state between sets.
func (z *ZSet) randomLevel() int {
	z.rng += 0x9E3779B97F4A7C15 // splitmix64
	x := z.rng
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9
	x = (x ^ (x >> 27)) * 0x94D049BB133111EB
	x ^= x >> 31
	return min(1+bits.TrailingZeros64(x)/2, zslMaxLevel)
}

func (z *ZSet) newNode(member string, score float64) *znode {
	x := &znode{member: member, score: score}
	if lvl := z.randomLevel(); lvl == 1 {
		x.level = x.inline[:]
	} else {
		x.level = make([]zlevel, lvl)
	}
	return x
}

func (z *ZSet) first() *znode { return z.header.level[0].forward }

// growHeader gives the header at least lvl levels.
func (z *ZSet) growHeader(lvl int) {
	if lvl <= len(z.header.level) {
		return
	}
	levels := make([]zlevel, min(max(lvl, 2*len(z.header.level)), zslMaxLevel))
	copy(levels, z.header.level)
	z.header.level = levels
}

// insert adds a new member, which must not be present.
func (z *ZSet) insert(member string, score float64) *znode {
	x := z.newNode(member, score)
	z.link(x)
	z.dictAdd(x)
	return x
}

// link puts the unlinked node x at its place in the skiplist (zslInsert).
func (z *ZSet) link(x *znode) {
	var update [zslMaxLevel]*znode
	var rank [zslMaxLevel]int
	h := z.header
	for i := z.level - 1; i >= 0; i-- {
		if i < z.level-1 {
			rank[i] = rank[i+1]
		}
		for f := h.level[i].forward; f != nil && zless(f, x.score, x.member); f = h.level[i].forward {
			rank[i] += h.level[i].span
			h = f
		}
		update[i] = h
	}
	lvl := len(x.level)
	if lvl > z.level {
		z.growHeader(lvl)
		for i := z.level; i < lvl; i++ {
			update[i] = z.header
			z.header.level[i].span = z.length
		}
		z.level = lvl
	}
	for i := 0; i < lvl; i++ {
		x.level[i].forward = update[i].level[i].forward
		update[i].level[i].forward = x
		x.level[i].span = update[i].level[i].span - (rank[0] - rank[i])
		update[i].level[i].span = rank[0] - rank[i] + 1
	}
	for i := lvl; i < z.level; i++ {
		update[i].level[i].span++
	}
	if update[0] == z.header {
		x.backward = nil
	} else {
		x.backward = update[0]
	}
	if f := x.level[0].forward; f != nil {
		f.backward = x
	} else {
		z.tail = x
	}
	z.length++
}

// path fills update with the last node before x at every level.
func (z *ZSet) path(x *znode, update *[zslMaxLevel]*znode) {
	h := z.header
	for i := z.level - 1; i >= 0; i-- {
		for f := h.level[i].forward; f != nil && zless(f, x.score, x.member); f = h.level[i].forward {
			h = f
		}
		update[i] = h
	}
}

// unlink takes x out of the skiplist given its predecessors (zslDeleteNode).
// update stays valid for x's successor.
func (z *ZSet) unlink(x *znode, update *[zslMaxLevel]*znode) {
	for i := 0; i < z.level; i++ {
		if update[i].level[i].forward == x {
			update[i].level[i].span += x.level[i].span - 1
			update[i].level[i].forward = x.level[i].forward
		} else {
			update[i].level[i].span--
		}
	}
	if f := x.level[0].forward; f != nil {
		f.backward = x.backward
	} else {
		z.tail = x.backward
	}
	for z.level > 1 && z.header.level[z.level-1].forward == nil {
		z.level--
	}
	z.length--
}

// remove deletes node x from both indexes.
func (z *ZSet) remove(x *znode) {
	var update [zslMaxLevel]*znode
	z.path(x, &update)
	z.unlink(x, &update)
	z.dictRemove(x)
	z.shrink()
}

// removeRun deletes the run of nodes starting at x, going forward, while
// there are fewer than max (when max >= 0) and keep approves them. It
// returns how many it deleted.
func (z *ZSet) removeRun(x *znode, max int, keep func(*znode) bool) int {
	if x == nil {
		return 0
	}
	var update [zslMaxLevel]*znode
	z.path(x, &update)
	n := 0
	for x != nil && n != max && (keep == nil || keep(x)) {
		next := x.next()
		z.unlink(x, &update)
		z.dictRemove(x)
		n++
		x = next
	}
	z.shrink()
	return n
}

// setScore changes x's score, moving it only if its position changes
// (zslUpdateScore).
func (z *ZSet) setScore(x *znode, score float64) {
	if (x.backward == nil || x.backward.score < score) &&
		(x.level[0].forward == nil || x.level[0].forward.score > score) {
		x.score = score
		return
	}
	var update [zslMaxLevel]*znode
	z.path(x, &update)
	z.unlink(x, &update)
	x.score = score
	z.link(x)
}

// rank is the 1-based rank of x (zslGetRank).
func (z *ZSet) rank(x *znode) int {
	r := 0
	h := z.header
	for i := z.level - 1; i >= 0; i-- {
		for f := h.level[i].forward; f != nil && (f.score < x.score || (f.score == x.score && f.member <= x.member)); f = h.level[i].forward {
			r += h.level[i].span
			h = f
		}
		if h == x {
			return r
		}
	}
	return 0
}

// byRank returns the node of 1-based rank r, or nil.
func (z *ZSet) byRank(r int) *znode {
	if r < 1 || r > z.length {
		return nil
	}
	t := 0
	h := z.header
	for i := z.level - 1; i >= 0; i-- {
		for h.level[i].forward != nil && t+h.level[i].span <= r {
			t += h.level[i].span
			h = h.level[i].forward
		}
		if t == r {
			return h
		}
	}
	return nil
}

// zappender builds a set from members given in strictly increasing
// (score, member) order in O(1) each: the rightmost node of every level is
// where the next one links.
type zappender struct {
	z    *ZSet
	last [zslMaxLevel]*znode
	rank [zslMaxLevel]int
}

func newZAppender(z *ZSet) *zappender {
	a := &zappender{z: z}
	for i := range a.last {
		a.last[i] = z.header
	}
	return a
}

func (a *zappender) add(member string, score float64) {
	z := a.z
	x := z.newNode(member, score)
	if len(x.level) > z.level {
		z.growHeader(len(x.level))
		z.level = len(x.level)
	}
	r := z.length + 1
	for i := range x.level {
		a.last[i].level[i].forward = x
		a.last[i].level[i].span = r - a.rank[i]
		a.last[i], a.rank[i] = x, r
	}
	if z.tail != nil {
		x.backward = z.tail
	}
	z.tail = x
	z.length = r
	z.dictAdd(x)
}

// finish sets the spans that run to the end of the list.
func (a *zappender) finish() {
	for i := 0; i < a.z.level; i++ {
		a.last[i].level[i].span = a.z.length - a.rank[i]
	}
}

// Hash table.

func (z *ZSet) bucket(h uint64) int { return int(h & uint64(len(z.buckets)-1)) }

// find returns the node of member, or nil.
func (z *ZSet) find(member []byte) *znode {
	if z.length == 0 {
		return nil
	}
	for x := z.buckets[z.bucket(maphash.Bytes(zsetHashSeed, member))]; x != nil; x = x.chain {
		if x.member == string(member) {
			return x
		}
	}
	return nil
}

func (z *ZSet) findString(member string) *znode {
	if z.length == 0 {
		return nil
	}
	for x := z.buckets[z.bucket(maphash.String(zsetHashSeed, member))]; x != nil; x = x.chain {
		if x.member == member {
			return x
		}
	}
	return nil
}

// dictAdd indexes x, already counted in z.length.
func (z *ZSet) dictAdd(x *znode) {
	if z.length > len(z.buckets) {
		z.rehash(max(4, 2*len(z.buckets)))
	}
	b := z.bucket(maphash.String(zsetHashSeed, x.member))
	x.chain = z.buckets[b]
	z.buckets[b] = x
}

// dictRemove drops x from the hash table; z.length no longer counts it.
func (z *ZSet) dictRemove(x *znode) {
	p := &z.buckets[z.bucket(maphash.String(zsetHashSeed, x.member))]
	for *p != x {
		p = &(*p).chain
	}
	*p = x.chain
	x.chain = nil
}

// reserve sizes the table for n elements at once, for sets built whole.
func (z *ZSet) reserve(n int) {
	size := max(4, len(z.buckets))
	for size < n {
		size *= 2
	}
	if size > len(z.buckets) {
		z.rehash(size)
	}
}

// shrink resizes a table that is less than 10% full, as Redis does after
// deletions.
func (z *ZSet) shrink() {
	if len(z.buckets) > 4 && z.length*10 < len(z.buckets) {
		n := 4
		for n < z.length {
			n *= 2
		}
		z.rehash(n)
	}
}

func (z *ZSet) rehash(n int) {
	old := z.buckets
	z.buckets = make([]*znode, n)
	for _, x := range old {
		for x != nil {
			next := x.chain
			b := z.bucket(maphash.String(zsetHashSeed, x.member))
			x.chain = z.buckets[b]
			z.buckets[b] = x
			x = next
		}
	}
}

// scan visits one bucket for cursor and returns the next cursor, 0 at the
// end (Redis's dictScan on a table that is not being rehashed).
func (z *ZSet) scan(cursor uint64, fn func(*znode)) uint64 {
	if len(z.buckets) == 0 {
		return 0
	}
	m := uint64(len(z.buckets) - 1)
	for x := z.buckets[cursor&m]; x != nil; x = x.chain {
		fn(x)
	}
	cursor |= ^m
	cursor = bits.Reverse64(cursor)
	cursor++
	return bits.Reverse64(cursor)
}
