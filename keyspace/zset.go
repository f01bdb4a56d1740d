package keyspace

import (
	"encoding/binary"
	"math"
)

// ZSet is the value of a zset key: members ordered by (score, member bytes),
// each with a score that is never NaN. See zset_skiplist.go for the
// indexes.
type ZSet struct {
	*zskip        // the skiplist and hash index; nil while packed
	length int    // elements
	rng    uint64 // skiplist level generator state
	// lp is the packed form while packed is set (zset_packed.go). noted:
	// the store will pack the set on its next PackZSets.
	lp []byte
	// compact mirrors Redis's choice of the listpack encoding: whether the
	// set has stayed within zset-max-listpack-entries/-value since it was
	// created (Redis never converts back). ZSCAN, OBJECT ENCODING and lex
	// ranges over mixed scores depend on it.
	compact bool
	packed  bool
	noted   bool
}

// zskip is an expanded set's indexes (zset_skiplist.go), apart from ZSet
// so that a packed set does not carry them.
type zskip struct {
	header  *znode // sentinel; header.level[i].forward is the first node of level i
	tail    *znode
	level   int // levels in use
	buckets []*znode
}

// newZSet returns an empty set; seed starts its level generator.
func newZSet(seed uint64) *ZSet {
	z := &ZSet{}
	z.init(seed)
	return z
}

// Len is the number of elements.
func (z *ZSet) Len() int { return z.length }

// Clone returns a deep copy.
func (z *ZSet) Clone() Collection {
	if z.packed { // the buffer never changes: share it
		return &ZSet{lp: z.lp, packed: true, length: z.length, rng: z.rng, compact: z.compact}
	}
	c := newZSet(z.rng)
	c.reserve(z.length)
	a := newZAppender(c)
	for x := z.first(); x != nil; x = x.next() {
		a.add(x.member, x.score)
	}
	a.finish()
	c.compact = z.compact
	return c
}

// Encoding is the name OBJECT ENCODING gives the set in Redis 7.0.
func (z *ZSet) Encoding() string {
	if z.compact {
		return "listpack"
	}
	return "skiplist"
}

// Score returns the score of member.
func (z *ZSet) Score(member []byte) (float64, bool) {
	if z.packed {
		var score float64
		found := false
		z.packedEach(func(m string, s float64) bool {
			if m == string(member) {
				score, found = s, true
			}
			return !found
		})
		return score, found
	}
	if x := z.find(member); x != nil {
		return x.score, true
	}
	return 0, false
}

// Range calls fn for every element in ascending order until fn returns
// false. fn must not change the set.
func (z *ZSet) Range(fn func(member string, score float64) bool) {
	if z.packed {
		z.packedEach(fn)
		return
	}
	for x := z.first(); x != nil; x = x.next() {
		if !fn(x.member, x.score) {
			return
		}
	}
}

// setCompact records the encoding Redis would pick for a set built at
// once. A listpack stores -0 as "0", so a compact set never holds -0.
func (z *ZSet) setCompact(compact bool) {
	z.compact = compact
	if compact {
		for x := z.first(); x != nil; x = x.next() {
			if x.score == 0 {
				x.score = 0
			}
		}
	}
}

// zsetFits reports whether a set of n elements, the longest maxlen bytes,
// is listpack-encoded in Redis when built at once (stores, RESTORE).
func zsetFits(n, maxlen int) bool {
	return n <= zsetMaxListpackEntries && maxlen <= zsetMaxListpackValue
}

// zaddFlags are ZADD's options (ZADD_IN_*).
const (
	zaddNX = 1 << iota
	zaddXX
	zaddGT
	zaddLT
	zaddIncr
)

// zaddResult is what one add did (ZADD_OUT_*).
type zaddResult int

const (
	zaddNop zaddResult = iota
	zaddAdded
	zaddUpdated
	zaddSame // processed, score unchanged
	zaddNaN
)

// add is zsetAdd: it applies one score/member pair under flags and returns
// what happened and the member's resulting score.
func (z *ZSet) add(score float64, member []byte, flags int) (zaddResult, float64) {
	if math.IsNaN(score) {
		return zaddNaN, 0
	}
	if x := z.find(member); x != nil {
		if flags&zaddNX != 0 {
			return zaddNop, 0
		}
		cur := x.score
		if flags&zaddIncr != 0 {
			score += cur
			if math.IsNaN(score) {
				return zaddNaN, 0
			}
		}
		if (flags&zaddLT != 0 && score >= cur) || (flags&zaddGT != 0 && score <= cur) {
			return zaddNop, 0
		}
		if score == cur {
			return zaddSame, score
		}
		z.setScore(x, z.stored(score))
		return zaddUpdated, score
	}
	if flags&zaddXX != 0 {
		return zaddNop, 0
	}
	if z.compact && (z.length+1 > zsetMaxListpackEntries || len(member) > zsetMaxListpackValue) {
		z.compact = false
	}
	z.insert(string(member), z.stored(score))
	return zaddAdded, score
}

// stored is the score a set keeps for score: a listpack turns -0 into 0
// (the reply still shows the score as computed).
func (z *ZSet) stored(score float64) float64 {
	if z.compact && score == 0 {
		return 0
	}
	return score
}

func (z *ZSet) encode(b []byte) []byte {
	b = binary.AppendUvarint(b, uint64(z.length))
	z.Range(func(m string, score float64) bool {
		b = appendHashString(b, m)
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(score))
		return true
	})
	return b
}

// decodeZSet reads what encode wrote: a count, then members with their
// scores in strictly increasing order; anything else is corrupt.
func decodeZSet(b []byte) (*ZSet, error) {
	n, b, err := readCount(b)
	if err != nil {
		return nil, err
	}
	z := newZSet(uint64(n))
	z.reserve(n) // n is bounded by len(b)
	a := newZAppender(z)
	maxlen := 0
	for i := 0; i < n; i++ {
		var m []byte
		m, b, err = readBytes(b)
		if err != nil || len(b) < 8 {
			return nil, errCorrupt
		}
		score := math.Float64frombits(binary.LittleEndian.Uint64(b))
		b = b[8:]
		if math.IsNaN(score) || (z.tail != nil && !zless(z.tail, score, string(m))) || z.find(m) != nil {
			return nil, errCorrupt
		}
		a.add(string(m), score)
		maxlen = max(maxlen, len(m))
	}
	if len(b) != 0 {
		return nil, errCorrupt
	}
	a.finish()
	z.setCompact(zsetFits(n, maxlen))
	z.pack()
	return z, nil
}

var zsetCommands = map[string]Handler{
	"zadd":             zadd,
	"zincrby":          zincrby,
	"zrem":             zrem,
	"zcard":            zcard,
	"zcount":           zcount,
	"zlexcount":        zlexcount,
	"zscore":           zscore,
	"zmscore":          zmscore,
	"zrank":            zrank,
	"zrevrank":         zrevrank,
	"zrange":           zrange,
	"zrangestore":      zrangestore,
	"zrevrange":        zrevrange,
	"zrangebyscore":    zrangebyscore,
	"zrevrangebyscore": zrevrangebyscore,
	"zrangebylex":      zrangebylex,
	"zrevrangebylex":   zrevrangebylex,
	"zremrangebyscore": zremrangebyscore,
	"zremrangebyrank":  zremrangebyrank,
	"zremrangebylex":   zremrangebylex,
	"zpopmin":          zpopmin,
	"zpopmax":          zpopmax,
	"zmpop":            zmpop,
	"zrandmember":      zrandmember,
	"zunion":           zunion,
	"zinter":           zinter,
	"zdiff":            zdiff,
	"zintercard":       zintercard,
	"zunionstore":      zunionstore,
	"zinterstore":      zinterstore,
	"zdiffstore":       zdiffstore,
	"zscan":            zscan,
}

// zsetOf returns the set under key, nil if there is none; wrong is set
// (and WRONGTYPE written) for another kind.
func (c *Ctx) zsetOf(key []byte) (e *Entry, z *ZSet, wrong bool) {
	e, wrong = c.lookup(key, KindZSet)
	if e == nil {
		return nil, nil, wrong
	}
	return e, c.noteZSet(key, e), false
}

// zsetAsIs is zsetOf for the commands that read a packed set as it is
// (ZCARD, ZSCORE, ZMSCORE): a cold set is not expanded to be read once.
func (c *Ctx) zsetAsIs(key []byte) (e *Entry, z *ZSet, wrong bool) {
	e, wrong = c.lookup(key, KindZSet)
	if e == nil {
		return nil, nil, wrong
	}
	return e, e.Coll.(*ZSet), false
}

// writeZElem writes one element of a reply with optional scores (see
// writePairsHeader).
func writeZElem(c *Ctx, member string, score float64, withscores bool) {
	writePairStart(c, withscores)
	c.W.BulkString(member)
	if withscores {
		c.W.Double(score)
	}
}

func zadd(c *Ctx)    { zaddGeneric(c, 0) }
func zincrby(c *Ctx) { zaddGeneric(c, zaddIncr) }

// zaddGeneric is ZADD and ZINCRBY (which Redis parses the same way, options
// included).
func zaddGeneric(c *Ctx, flags int) {
	key := c.Args[1]
	ch := false
	i := 2
options:
	for ; i < len(c.Args); i++ {
		a := c.Args[i]
		switch {
		case optIs(a, "nx"):
			flags |= zaddNX
		case optIs(a, "xx"):
			flags |= zaddXX
		case optIs(a, "ch"):
			ch = true
		case optIs(a, "incr"):
			flags |= zaddIncr
		case optIs(a, "gt"):
			flags |= zaddGT
		case optIs(a, "lt"):
			flags |= zaddLT
		default:
			break options
		}
	}
	nx, xx := flags&zaddNX != 0, flags&zaddXX != 0
	gt, lt, incr := flags&zaddGT != 0, flags&zaddLT != 0, flags&zaddIncr != 0
	pairs := c.Args[i:]
	switch {
	case len(pairs) == 0 || len(pairs)%2 != 0:
		c.W.Error(ErrSyntax)
		return
	case nx && xx:
		c.W.Error(ErrXXandNX)
		return
	case (gt && nx) || (lt && nx) || (gt && lt):
		c.W.Error(ErrGTLTNX)
		return
	case incr && len(pairs) > 2:
		c.W.Error(ErrIncrPair)
		return
	}
	var buf [8]float64
	scores := buf[:0]
	if len(pairs)/2 > len(buf) {
		scores = make([]float64, 0, len(pairs)/2)
	}
	scores = scores[:len(pairs)/2]
	for j := range scores {
		f, ok := ParseFloat(pairs[2*j])
		if !ok {
			c.W.Error(ErrNotFloat)
			return
		}
		scores[j] = f
	}
	e, z, wrong := c.zsetOf(key)
	if wrong {
		return
	}
	added, updated, processed := 0, 0, 0
	var score float64
	if z == nil && !xx {
		z = newZSet(0)
		z.compact = len(pairs[1]) <= zsetMaxListpackValue
	}
	if z != nil {
		for j, s := range scores {
			res, newscore := z.add(s, pairs[2*j+1], flags)
			switch res {
			case zaddNaN:
				c.W.Error(ErrScoreNaN)
				return
			case zaddAdded:
				added++
			case zaddUpdated:
				updated++
			}
			if res != zaddNop {
				processed++
				score = newscore
			}
		}
		switch {
		case e == nil && z.Len() > 0:
			// A new small set starts packed: a load of many keys then
			// holds no skiplists waiting for the cron.
			if z.compact {
				z.pack()
				c.Put(key, &Entry{Kind: KindZSet, Coll: z}, false)
			} else {
				c.noteZSet(key, c.Put(key, &Entry{Kind: KindZSet, Coll: z}, false))
			}
		case e != nil && added+updated > 0:
			c.Modified(e)
		}
	}
	switch {
	case !incr && ch:
		c.W.Int(int64(added + updated))
	case !incr:
		c.W.Int(int64(added))
	case processed > 0:
		c.W.Double(score)
	default:
		c.W.Null()
	}
}

func zrem(c *Ctx) {
	zremrange(c, func(z *ZSet) int {
		deleted := 0
		for _, m := range c.Args[2:] {
			if x := z.find(m); x != nil {
				z.remove(x)
				deleted++
			}
			if z.Len() == 0 {
				break
			}
		}
		return deleted
	})
}

func zcard(c *Ctx) {
	_, z, wrong := c.zsetAsIs(c.Args[1])
	switch {
	case wrong:
	case z == nil:
		c.W.Int(0)
	default:
		c.W.Int(int64(z.Len()))
	}
}

func zcount(c *Ctx)    { zcountGeneric(c, false) }
func zlexcount(c *Ctx) { zcountGeneric(c, true) }

// zcountGeneric is ZCOUNT and ZLEXCOUNT key min max.
func zcountGeneric(c *Ctx, lex bool) {
	r, ok := c.zspanArgs(lex, c.Args[2], c.Args[3])
	if !ok {
		return
	}
	_, z, wrong := c.zsetOf(c.Args[1])
	switch {
	case wrong:
	case z == nil:
		c.W.Int(0)
	default:
		c.W.Int(int64(z.count(&r)))
	}
}

func zscore(c *Ctx) {
	_, z, wrong := c.zsetAsIs(c.Args[1])
	if wrong {
		return
	}
	if z != nil {
		if s, ok := z.Score(c.Args[2]); ok {
			c.W.Double(s)
			return
		}
	}
	c.W.Null()
}

func zmscore(c *Ctx) {
	_, z, wrong := c.zsetAsIs(c.Args[1])
	if wrong {
		return
	}
	c.W.Array(len(c.Args) - 2)
	for _, m := range c.Args[2:] {
		if z != nil {
			if s, ok := z.Score(m); ok {
				c.W.Double(s)
				continue
			}
		}
		c.W.Null()
	}
}

func zrank(c *Ctx)    { zrankGeneric(c, false) }
func zrevrank(c *Ctx) { zrankGeneric(c, true) }

func zrankGeneric(c *Ctx, reverse bool) {
	_, z, wrong := c.zsetOf(c.Args[1])
	if wrong {
		return
	}
	if z != nil {
		if x := z.find(c.Args[2]); x != nil {
			r := z.rank(x)
			if reverse {
				c.W.Int(int64(z.Len() - r))
			} else {
				c.W.Int(int64(r - 1))
			}
			return
		}
	}
	c.W.Null()
}

func zremrangebyrank(c *Ctx) {
	start, end, ok := c.intArgPair(2)
	if !ok {
		return
	}
	zremrange(c, func(z *ZSet) int {
		from, to, ok := indexRange(start, end, z.Len())
		if !ok {
			return 0
		}
		return z.removeRun(z.byRank(from+1), to-from+1, nil)
	})
}

func zremrangebyscore(c *Ctx) { zremrangeSpan(c, false) }
func zremrangebylex(c *Ctx)   { zremrangeSpan(c, true) }

// zremrangeSpan is ZREMRANGEBYSCORE and ZREMRANGEBYLEX key min max.
func zremrangeSpan(c *Ctx, lex bool) {
	r, ok := c.zspanArgs(lex, c.Args[2], c.Args[3])
	if !ok {
		return
	}
	zremrange(c, func(z *ZSet) int { return z.removeSpan(&r) })
}

// zremrange runs del on the set at Args[1] and replies with the number of
// elements it removed (removeCount).
func zremrange(c *Ctx, del func(z *ZSet) int) {
	c.removeCountOf(KindZSet, func(e *Entry) int { return del(c.noteZSet(c.Key(1), e)) })
}

func zpopmin(c *Ctx) { zpopMinMax(c, false) }
func zpopmax(c *Ctx) { zpopMinMax(c, true) }

// zpopMinMax is ZPOPMIN/ZPOPMAX key [count].
func zpopMinMax(c *Ctx, max bool) {
	if len(c.Args) > 3 {
		c.W.Error(ErrSyntax)
		return
	}
	count := int64(-1)
	if len(c.Args) == 3 {
		n, ok := c.nonNegArg(2, ErrNotPositive)
		if !ok {
			return
		}
		count = n
	}
	// RESP3 nests [member, score] pairs only when a count was given.
	nested := c.W.Resp3() && count != -1
	key := c.Args[1]
	e, z, wrong := c.zsetOf(key)
	switch {
	case wrong:
		return
	case z == nil || count == 0:
		c.W.Array(0)
		return
	}
	if count == -1 {
		count = 1
	}
	n := int(min(count, int64(z.Len())))
	if nested {
		c.W.Array(n)
	} else {
		c.W.Array(2 * n)
	}
	zpopWrite(c, z, max, n, nested)
	c.collChanged(key, e)
}

// zpopWrite pops n elements from one end and writes them.
func zpopWrite(c *Ctx, z *ZSet, max bool, n int, nested bool) {
	for ; n > 0; n-- {
		x := z.first()
		if max {
			x = z.tail
		}
		if nested {
			c.W.Array(2)
		}
		c.W.BulkString(x.member)
		c.W.Double(x.score)
		z.remove(x)
	}
}

// zmpop is ZMPOP numkeys key [key ...] MIN|MAX [COUNT count].
func zmpop(c *Ctx) {
	keys, max, count, ok := c.mpopArgs("min", "max")
	if !ok {
		return
	}
	for _, key := range keys {
		e, z, wrong := c.zsetOf(key)
		if wrong {
			return
		}
		if z == nil {
			continue
		}
		n := int(min(count, int64(z.Len())))
		c.W.Array(2)
		c.W.Bulk(key)
		c.W.Array(n)
		zpopWrite(c, z, max, n, true)
		c.collChanged(key, e)
		return
	}
	c.W.NullArray()
}

// zrandmember is ZRANDMEMBER key [count [WITHSCORES]].
func zrandmember(c *Ctx) {
	if len(c.Args) < 3 {
		_, z, wrong := c.zsetOf(c.Args[1])
		switch {
		case wrong:
		case z == nil:
			c.W.Null()
		default:
			c.W.BulkString(z.byRank(1 + c.Rand.IntN(z.Len())).member)
		}
		return
	}
	l, ok := c.randCountArg()
	if !ok {
		return
	}
	withscores, ok := c.randWithArg(l, "withscores")
	if !ok {
		return
	}
	_, z, wrong := c.zsetOf(c.Args[1])
	if wrong {
		return
	}
	if z == nil || l == 0 {
		c.W.Array(0)
		return
	}
	size := z.Len()
	draw := func() *znode { return z.byRank(1 + c.Rand.IntN(size)) }
	mode, n := randPlan(l, size)
	writePairsHeader(c, n, withscores)
	switch mode {
	case randRepeat:
		for range n {
			x := draw()
			writeZElem(c, x.member, x.score, withscores)
		}
	case randAll:
		// In the descending order Redis's set iterator walks it.
		for x := z.tail; x != nil; x = x.backward {
			writeZElem(c, x.member, x.score, withscores)
		}
	default:
		all := func() []*znode {
			nodes := make([]*znode, 0, size)
			for x := z.first(); x != nil; x = x.next() {
				nodes = append(nodes, x)
			}
			return nodes
		}
		for _, x := range pickDistinct(c.Rand, n, size, all, draw) {
			writeZElem(c, x.member, x.score, withscores)
		}
	}
}
