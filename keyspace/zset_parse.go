package keyspace

import (
	"math"
	"strings"
)

// Range parsing as t_zset.c does it. Scores, increments and weights are
// plain doubles (ParseFloat); score ranges go through a bare strtod with no
// errno check ("1e999" is +inf there, "" is 0), hence cStrtod below.

// zscoreRange is a score interval (zrangespec).
type zscoreRange struct {
	min, max     float64
	minex, maxex bool
}

func (r *zscoreRange) gteMin(v float64) bool {
	if r.minex {
		return v > r.min
	}
	return v >= r.min
}

func (r *zscoreRange) lteMax(v float64) bool {
	if r.maxex {
		return v < r.max
	}
	return v <= r.max
}

func (r *zscoreRange) empty() bool {
	return r.min > r.max || (r.min == r.max && (r.minex || r.maxex))
}

// parseScoreBound reads one end of a score range: "(" makes it exclusive,
// and the rest goes through a bare strtod that must stop at the end of the
// C string (zslParseRange).
func parseScoreBound(b []byte) (v float64, ex, ok bool) {
	b = cstr(b)
	if len(b) > 0 && b[0] == '(' {
		ex = true
		b = b[1:]
	}
	v, n, _ := cStrtod(b)
	if n != len(b) || math.IsNaN(v) {
		return 0, false, false
	}
	return v, ex, true
}

func parseScoreRange(min, max []byte) (r zscoreRange, ok bool) {
	var ok1, ok2 bool
	r.min, r.minex, ok1 = parseScoreBound(min)
	r.max, r.maxex, ok2 = parseScoreBound(max)
	return r, ok1 && ok2
}

// A lex bound is a string or one of the two infinities "-" and "+".
const (
	lexString = iota
	lexMinusInf
	lexPlusInf
)

type zlexBound struct {
	s    string
	kind int
}

// cmp compares two bounds as sdscmplex does (the infinities are shared
// objects there, so "-" equals only itself).
func (a zlexBound) cmp(b zlexBound) int {
	switch {
	case a.kind != lexString && a.kind == b.kind:
		return 0
	case a.kind == lexMinusInf || b.kind == lexPlusInf:
		return -1
	case a.kind == lexPlusInf || b.kind == lexMinusInf:
		return 1
	}
	return strings.Compare(a.s, b.s)
}

// cmpMember compares a member with bound b.
func (b zlexBound) cmpMember(m string) int {
	switch b.kind {
	case lexMinusInf:
		return 1
	case lexPlusInf:
		return -1
	}
	return strings.Compare(m, b.s)
}

// zlexRange is a member interval (zlexrangespec).
type zlexRange struct {
	min, max     zlexBound
	minex, maxex bool
}

func (r *zlexRange) gteMin(m string) bool {
	if r.minex {
		return r.min.cmpMember(m) > 0
	}
	return r.min.cmpMember(m) >= 0
}

func (r *zlexRange) lteMax(m string) bool {
	if r.maxex {
		return r.max.cmpMember(m) < 0
	}
	return r.max.cmpMember(m) <= 0
}

func (r *zlexRange) empty() bool {
	c := r.min.cmp(r.max)
	return c > 0 || (c == 0 && (r.minex || r.maxex))
}

// parseLexBound reads "[x", "(x", "-" or "+" (zslParseLexRangeItem; the
// infinities are tested as C strings, so "+\x00..." is "+").
func parseLexBound(b []byte) (v zlexBound, ex, ok bool) {
	if len(b) == 0 {
		return v, false, false
	}
	switch b[0] {
	case '+', '-':
		if len(b) > 1 && b[1] != 0 {
			return v, false, false
		}
		v.kind = lexPlusInf
		if b[0] == '-' {
			v.kind = lexMinusInf
		}
		return v, true, true
	case '(':
		return zlexBound{s: string(b[1:])}, true, true
	case '[':
		return zlexBound{s: string(b[1:])}, false, true
	}
	return v, false, false
}

func parseLexRange(min, max []byte) (r zlexRange, ok bool) {
	var ok1, ok2 bool
	r.min, r.minex, ok1 = parseLexBound(min)
	if !ok1 {
		return r, false
	}
	r.max, r.maxex, ok2 = parseLexBound(max)
	return r, ok2
}
