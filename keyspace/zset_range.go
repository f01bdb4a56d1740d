package keyspace

// Range lookups and the ZRANGE family.
//
// Score ranges follow the (score, member) order, so any walk finds the same
// nodes. Lex ranges only make sense when all scores are equal; with mixed
// scores Redis's answer depends on its encoding: a listpack is scanned
// linearly, a skiplist is descended comparing members only. Both are
// reproduced, chosen by z.compact.

// inScore is zslIsInRange: could any node be in r?
func (z *ZSet) inScore(r *zscoreRange) bool {
	return !r.empty() && z.tail != nil && r.gteMin(z.tail.score) && r.lteMax(z.first().score)
}

// firstInScore returns the first node within r, or nil (zslFirstInRange).
func (z *ZSet) firstInScore(r *zscoreRange) *znode {
	if !z.inScore(r) {
		return nil
	}
	h := z.header
	for i := z.level - 1; i >= 0; i-- {
		for f := h.level[i].forward; f != nil && !r.gteMin(f.score); f = h.level[i].forward {
			h = f
		}
	}
	if x := h.next(); x != nil && r.lteMax(x.score) {
		return x
	}
	return nil
}

// lastInScore returns the last node within r, or nil (zslLastInRange).
func (z *ZSet) lastInScore(r *zscoreRange) *znode {
	if !z.inScore(r) {
		return nil
	}
	h := z.header
	for i := z.level - 1; i >= 0; i-- {
		for f := h.level[i].forward; f != nil && r.lteMax(f.score); f = h.level[i].forward {
			h = f
		}
	}
	if h != z.header && r.gteMin(h.score) {
		return h
	}
	return nil
}

// inLex is zslIsInLexRange / zzlIsInLexRange: could any node be in r?
func (z *ZSet) inLex(r *zlexRange) bool {
	return !r.empty() && z.tail != nil && r.gteMin(z.tail.member) && r.lteMax(z.first().member)
}

// firstInLex returns the first node within r, or nil.
func (z *ZSet) firstInLex(r *zlexRange) *znode {
	if !z.inLex(r) {
		return nil
	}
	x := z.lexDescendMin(r)
	if x != nil && r.lteMax(x.member) {
		return x
	}
	return nil
}

// lexDescendMin finds the first node not below r's min: a linear scan for
// a listpack, a member-only descent for a skiplist.
func (z *ZSet) lexDescendMin(r *zlexRange) *znode {
	if z.compact {
		x := z.first()
		for x != nil && !r.gteMin(x.member) {
			x = x.next()
		}
		return x
	}
	h := z.header
	for i := z.level - 1; i >= 0; i-- {
		for f := h.level[i].forward; f != nil && !r.gteMin(f.member); f = h.level[i].forward {
			h = f
		}
	}
	return h.next()
}

// lastInLex returns the last node within r, or nil.
func (z *ZSet) lastInLex(r *zlexRange) *znode {
	if !z.inLex(r) {
		return nil
	}
	var x *znode
	if z.compact {
		x = z.tail
		for x != nil && !r.lteMax(x.member) {
			x = x.backward
		}
	} else {
		h := z.header
		for i := z.level - 1; i >= 0; i-- {
			for f := h.level[i].forward; f != nil && r.lteMax(f.member); f = h.level[i].forward {
				h = f
			}
		}
		if h != z.header {
			x = h
		}
	}
	if x != nil && r.gteMin(x.member) {
		return x
	}
	return nil
}

// lexCount is ZLEXCOUNT: a walk for a listpack, rank arithmetic for a
// skiplist.
func (z *ZSet) lexCount(r *zlexRange) int {
	first := z.firstInLex(r)
	if first == nil {
		return 0
	}
	if z.compact {
		n := 0
		for x := first; x != nil && r.lteMax(x.member); x = x.next() {
			n++
		}
		return n
	}
	n := z.length - (z.rank(first) - 1)
	if last := z.lastInLex(r); last != nil {
		n -= z.length - z.rank(last)
	}
	return n
}

// lexDeleteStart is where ZREMRANGEBYLEX starts deleting: the listpack
// version checks the whole range first, the skiplist one does not.
func (z *ZSet) lexDeleteStart(r *zlexRange) *znode {
	if z.compact {
		return z.firstInLex(r)
	}
	return z.lexDescendMin(r)
}

// zspan is a score range or a lex range, for the commands that take either
// (ZRANGE BYSCORE|BYLEX, ZCOUNT / ZLEXCOUNT, ZREMRANGEBYSCORE / BYLEX): its
// methods pick the score or the lex walk, which mirror Redis's own.
type zspan struct {
	lex   bool
	score zscoreRange
	str   zlexRange
}

// zspanArgs parses min and max as a lex range (lex) or a score range,
// writing Redis's error when they are wrong.
func (c *Ctx) zspanArgs(lex bool, min, max []byte) (r zspan, ok bool) {
	r.lex = lex
	if lex {
		if r.str, ok = parseLexRange(min, max); !ok {
			c.W.Error(ErrMinMaxNotRange)
		}
		return r, ok
	}
	if r.score, ok = parseScoreRange(min, max); !ok {
		c.W.Error(ErrMinMaxNotFloat)
	}
	return r, ok
}

func (r *zspan) gteMin(x *znode) bool {
	if r.lex {
		return r.str.gteMin(x.member)
	}
	return r.score.gteMin(x.score)
}

func (r *zspan) lteMax(x *znode) bool {
	if r.lex {
		return r.str.lteMax(x.member)
	}
	return r.score.lteMax(x.score)
}

// count is ZLEXCOUNT, or ZCOUNT by rank arithmetic.
func (z *ZSet) count(r *zspan) int {
	if r.lex {
		return z.lexCount(&r.str)
	}
	first := z.firstInScore(&r.score)
	if first == nil {
		return 0
	}
	return z.rank(z.lastInScore(&r.score)) - z.rank(first) + 1
}

// removeSpan is ZREMRANGEBYSCORE / ZREMRANGEBYLEX; it returns how many
// elements it removed.
func (z *ZSet) removeSpan(r *zspan) int {
	var start *znode
	if r.lex {
		start = z.lexDeleteStart(&r.str)
	} else {
		start = z.firstInScore(&r.score)
	}
	return z.removeRun(start, -1, r.lteMax)
}

// spanRun is the run of ZRANGE BYSCORE|BYLEX: its first node in reply
// order and its length (see boundedRun).
func (z *ZSet) spanRun(r *zspan, reverse bool, offset, limit int64) (*znode, int) {
	if r.lex {
		if reverse {
			return z.boundedRun(z.lastInLex(&r.str), true, offset, limit, r.gteMin)
		}
		return z.boundedRun(z.firstInLex(&r.str), false, offset, limit, r.lteMax)
	}
	if reverse {
		return z.boundedRun(z.lastInScore(&r.score), true, offset, limit, r.gteMin)
	}
	return z.boundedRun(z.firstInScore(&r.score), false, offset, limit, r.lteMax)
}

// step moves to the next node in reply order.
func (x *znode) step(reverse bool) *znode {
	if reverse {
		return x.backward
	}
	return x.next()
}

type zrangeKind int

const (
	zrangeAuto zrangeKind = iota
	zrangeRank
	zrangeScore
	zrangeLex
)

type zrangeDir int

const (
	zdirAuto zrangeDir = iota
	zdirForward
	zdirReverse
)

func zrange(c *Ctx)           { zrangeGeneric(c, 1, false, zrangeAuto, zdirAuto) }
func zrangestore(c *Ctx)      { zrangeGeneric(c, 2, true, zrangeAuto, zdirAuto) }
func zrevrange(c *Ctx)        { zrangeGeneric(c, 1, false, zrangeRank, zdirReverse) }
func zrangebyscore(c *Ctx)    { zrangeGeneric(c, 1, false, zrangeScore, zdirForward) }
func zrevrangebyscore(c *Ctx) { zrangeGeneric(c, 1, false, zrangeScore, zdirReverse) }
func zrangebylex(c *Ctx)      { zrangeGeneric(c, 1, false, zrangeLex, zdirForward) }
func zrevrangebylex(c *Ctx)   { zrangeGeneric(c, 1, false, zrangeLex, zdirReverse) }

// zrangeGeneric is ZRANGE, ZRANGESTORE and the older Z[REV]RANGE[BYSCORE|
// BYLEX] (zrangeGenericCommand): Args[start] is the source key, followed by
// min, max and the options the command allows.
func zrangeGeneric(c *Ctx, start int, store bool, kind zrangeKind, dir zrangeDir) {
	withscores := false
	offset, limit := int64(0), int64(-1)
	for j := start + 3; j < len(c.Args); j++ {
		a := c.Args[j]
		left := len(c.Args) - j - 1
		switch {
		case !store && optIs(a, "withscores"):
			withscores = true
		case optIs(a, "limit") && left >= 2:
			var ok bool
			if offset, limit, ok = c.intArgPair(j + 1); !ok {
				return
			}
			j += 2
		case dir == zdirAuto && optIs(a, "rev"):
			dir = zdirReverse
		case kind == zrangeAuto && optIs(a, "bylex"):
			kind = zrangeLex
		case kind == zrangeAuto && optIs(a, "byscore"):
			kind = zrangeScore
		default:
			c.W.Error(ErrSyntax)
			return
		}
	}
	if kind == zrangeAuto {
		kind = zrangeRank
	}
	reverse := dir == zdirReverse
	// A count of -1 is the "no LIMIT" default, so LIMIT x -1 passes here.
	if limit != -1 && kind == zrangeRank {
		c.W.Error(ErrZLimitRank)
		return
	}
	if withscores && kind == zrangeLex {
		c.W.Error(ErrZWithscoresLex)
		return
	}
	minArg, maxArg := c.Args[start+1], c.Args[start+2]
	if reverse && kind != zrangeRank {
		minArg, maxArg = maxArg, minArg
	}
	var rankStart, rankEnd int64
	var span zspan
	var ok bool
	if kind == zrangeRank {
		rankStart, rankEnd, ok = c.intArgPair(start + 1)
	} else {
		span, ok = c.zspanArgs(kind == zrangeLex, minArg, maxArg)
	}
	if !ok {
		return
	}
	_, z, wrong := c.zsetOf(c.Args[start])
	if wrong {
		return
	}
	var first *znode
	n := 0
	switch {
	case z == nil:
	case kind == zrangeRank:
		first, n = z.rankRange(rankStart, rankEnd, reverse)
	default:
		first, n = z.spanRun(&span, reverse, offset, limit)
	}
	if store {
		zstoreRun(c, c.Args[1], first, n, reverse, kind == zrangeRank)
		return
	}
	writePairsHeader(c, n, withscores)
	for x := first; n > 0; n-- {
		writeZElem(c, x.member, x.score, withscores)
		x = x.step(reverse)
	}
}

// rankRange resolves ZRANGE's start/stop indexes to the run's first node
// (in reply order) and length.
func (z *ZSet) rankRange(start, end int64, reverse bool) (*znode, int) {
	from, to, ok := indexRange(start, end, z.length)
	if !ok {
		return nil, 0
	}
	if reverse {
		return z.byRank(z.length - from), to - from + 1
	}
	return z.byRank(from + 1), to - from + 1
}

// boundedRun skips offset nodes from x (toward the end of the reply) and
// counts the nodes after that which pass in, at most limit of them unless
// limit is negative. A negative offset yields nothing, as in Redis, where
// it walks off the end.
func (z *ZSet) boundedRun(x *znode, reverse bool, offset, limit int64, in func(*znode) bool) (*znode, int) {
	if x == nil || offset < 0 {
		return nil, 0
	}
	if offset > 0 {
		r := int64(z.rank(x))
		if reverse {
			r -= offset
		} else {
			r += offset
		}
		if r < 1 || r > int64(z.length) {
			return nil, 0
		}
		x = z.byRank(int(r))
	}
	first := x
	n := 0
	for x != nil && limit != 0 && in(x) {
		n++
		limit--
		x = x.step(reverse)
	}
	return first, n
}

// zstoreRun stores the run of n nodes from first as a new set at dst
// (ZRANGESTORE; storeResult deletes dst when the run is empty). Redis adds
// them one by one in reply order to a set that starts as a listpack unless
// a rank range is known to be too long; the elements added before it turns
// into a skiplist have a -0 score stored as 0.
func zstoreRun(c *Ctx, dst []byte, first *znode, n int, reverse, byRank bool) {
	conv := 0 // elements added while the destination was a listpack
	if !byRank || n <= zsetMaxListpackEntries {
		for x := first; conv < n && conv < zsetMaxListpackEntries && len(x.member) <= zsetMaxListpackValue; conv++ {
			x = x.step(reverse)
		}
	}
	// Append in ascending order: start from the run's low end.
	lo := first
	if reverse {
		for i := 1; i < n; i++ {
			lo = lo.backward
		}
	}
	z := newZSet(uint64(n))
	z.reserve(n)
	a := newZAppender(z)
	for x, i := lo, 0; i < n; i++ {
		score := x.score
		order := i // position in reply order
		if reverse {
			order = n - 1 - i
		}
		if order < conv && score == 0 {
			score = 0
		}
		a.add(x.member, score)
		x = x.next()
	}
	a.finish()
	z.compact = conv == n
	c.storeResult(dst, KindZSet, z)
}
