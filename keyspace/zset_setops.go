package keyspace

import (
	"cmp"
	"math"
	"slices"
)

// ZUNION, ZINTER, ZDIFF, their STORE forms and ZINTERCARD
// (zunionInterDiffGenericCommand). Plain sets count as members of score 1.

type zsetOp int

const (
	zopUnion zsetOp = iota
	zopInter
	zopDiff
)

const (
	zaggSum = iota
	zaggMin
	zaggMax
)

// zsrc is one input: a sorted set, a set, or a missing key (both nil).
type zsrc struct {
	e      *Entry
	z      *ZSet
	s      *Set
	weight float64
}

func (s *zsrc) length() int {
	switch {
	case s.z != nil:
		return s.z.Len()
	case s.s != nil:
		return s.s.Len()
	}
	return 0
}

// each calls fn for every element until it returns false. A sorted set is
// walked from the top down, as Redis's zuiNext does; no result depends on
// the order except where floating-point sums are concerned, which only
// combine values across inputs.
func (s *zsrc) each(fn func(member string, score float64) bool) {
	switch {
	case s.z != nil:
		for x := s.z.tail; x != nil; x = x.backward {
			if !fn(x.member, x.score) {
				return
			}
		}
	case s.s != nil:
		s.s.Each(func(m string) bool { return fn(m, 1) })
	}
}

// find returns the score of member in the input.
func (s *zsrc) find(member string) (float64, bool) {
	switch {
	case s.z != nil:
		if x := s.z.findString(member); x != nil {
			return x.score, true
		}
	case s.s != nil:
		if s.s.Has([]byte(member)) {
			return 1, true
		}
	}
	return 0, false
}

func zaggregate(target *float64, v float64, agg int) {
	switch agg {
	case zaggSum:
		*target += v
		// +inf plus -inf: Redis keeps 0 rather than NaN.
		if math.IsNaN(*target) {
			*target = 0
		}
	case zaggMin:
		if v < *target {
			*target = v
		}
	case zaggMax:
		if v > *target {
			*target = v
		}
	}
}

func zunion(c *Ctx)      { zsetOpGeneric(c, "zunion", nil, 1, zopUnion, false) }
func zinter(c *Ctx)      { zsetOpGeneric(c, "zinter", nil, 1, zopInter, false) }
func zdiff(c *Ctx)       { zsetOpGeneric(c, "zdiff", nil, 1, zopDiff, false) }
func zintercard(c *Ctx)  { zsetOpGeneric(c, "zintercard", nil, 1, zopInter, true) }
func zunionstore(c *Ctx) { zsetOpGeneric(c, "zunionstore", c.Args[1], 2, zopUnion, false) }
func zinterstore(c *Ctx) { zsetOpGeneric(c, "zinterstore", c.Args[1], 2, zopInter, false) }
func zdiffstore(c *Ctx)  { zsetOpGeneric(c, "zdiffstore", c.Args[1], 2, zopDiff, false) }

// zpair is one element of a result under construction.
type zpair struct {
	member string
	score  float64
}

func zsetOpGeneric(c *Ctx, name string, dst []byte, numkeysIdx int, op zsetOp, cardOnly bool) {
	setnum, ok := c.intArg(numkeysIdx)
	if !ok {
		return
	}
	if setnum < 1 {
		c.W.Error(ErrZNeedKey(name))
		return
	}
	if setnum > int64(len(c.Args)-numkeysIdx-1) {
		c.W.Error(ErrSyntax)
		return
	}
	// Inputs are looked up and type-checked before the options are parsed.
	src := make([]zsrc, setnum)
	j := numkeysIdx + 1
	for i := range src {
		src[i].weight = 1
		key := c.Args[j]
		e := c.Get(key)
		j++
		if e == nil {
			continue
		}
		switch e.Kind {
		case KindZSet:
			src[i].e, src[i].z = e, c.noteZSet(key, e)
		case KindSet:
			src[i].e, src[i].s = e, e.Coll.(*Set)
		default:
			c.W.Error(ErrWrongType)
			return
		}
	}
	agg := zaggSum
	withscores := false
	limit := int64(0)
	for remaining := len(c.Args) - j; remaining > 0; remaining = len(c.Args) - j {
		a := c.Args[j]
		switch {
		case op != zopDiff && !cardOnly && remaining >= len(src)+1 && optIs(a, "weights"):
			j++
			for i := range src {
				w, ok := ParseFloat(c.Args[j])
				if !ok {
					c.W.Error(ErrWeightNotFloat)
					return
				}
				src[i].weight = w
				j++
			}
		case op != zopDiff && !cardOnly && remaining >= 2 && optIs(a, "aggregate"):
			switch b := c.Args[j+1]; {
			case optIs(b, "sum"):
				agg = zaggSum
			case optIs(b, "min"):
				agg = zaggMin
			case optIs(b, "max"):
				agg = zaggMax
			default:
				c.W.Error(ErrSyntax)
				return
			}
			j += 2
		case dst == nil && !cardOnly && optIs(a, "withscores"):
			withscores = true
			j++
		case cardOnly && remaining >= 2 && optIs(a, "limit"):
			n, ok := c.nonNegArg(j+1, ErrLimitNegative)
			if !ok {
				return
			}
			limit = n
			j += 2
		default:
			c.W.Error(ErrSyntax)
			return
		}
	}
	if op != zopDiff {
		// Smallest first; stable so that sums add up in argument order among
		// inputs of equal size.
		slices.SortStableFunc(src, func(a, b zsrc) int { return cmp.Compare(a.length(), b.length()) })
	}
	var out []zpair
	card := int64(0)
	switch op {
	case zopInter:
		if src[0].length() == 0 {
			break
		}
		src[0].each(func(m string, s float64) bool {
			score := src[0].weight * s
			if math.IsNaN(score) {
				score = 0
			}
			for k := 1; k < len(src); k++ {
				var v float64
				if src[k].e == src[0].e {
					v = s
				} else if v, ok = src[k].find(m); !ok {
					return true
				}
				zaggregate(&score, v*src[k].weight, agg)
			}
			if cardOnly {
				card++
				return limit == 0 || card < limit
			}
			out = append(out, zpair{m, score})
			return true
		})
	case zopUnion:
		acc := make(map[string]float64)
		for k := range src {
			src[k].each(func(m string, s float64) bool {
				score := src[k].weight * s
				if math.IsNaN(score) {
					score = 0
				}
				if cur, ok := acc[m]; ok {
					zaggregate(&cur, score, agg)
					acc[m] = cur
				} else {
					acc[m] = score
				}
				return true
			})
		}
		out = make([]zpair, 0, len(acc))
		for m, s := range acc {
			out = append(out, zpair{m, s})
		}
	case zopDiff:
		if src[0].length() == 0 {
			break
		}
		if slices.ContainsFunc(src[1:], func(s zsrc) bool { return s.e == src[0].e }) {
			break // a set minus itself
		}
		src[0].each(func(m string, s float64) bool {
			for k := 1; k < len(src); k++ {
				if _, ok := src[k].find(m); ok {
					return true
				}
			}
			out = append(out, zpair{m, s})
			return true
		})
	}
	if cardOnly {
		c.W.Int(card)
		return
	}
	slices.SortFunc(out, func(a, b zpair) int {
		if a.score != b.score {
			return cmp.Compare(a.score, b.score)
		}
		return cmp.Compare(a.member, b.member)
	})
	if dst == nil {
		writePairsHeader(c, len(out), withscores)
		for _, p := range out {
			writeZElem(c, p.member, p.score, withscores)
		}
		return
	}
	z := newZSet(uint64(len(out)))
	z.reserve(len(out))
	a := newZAppender(z)
	maxlen := 0
	for _, p := range out {
		a.add(p.member, p.score)
		maxlen = max(maxlen, len(p.member))
	}
	a.finish()
	z.setCompact(zsetFits(len(out), maxlen))
	c.storeResult(dst, KindZSet, z)
}
