package keyspace

import (
	"bytes"
	"math"
	"strconv"
	"strings"
)

// Number and range parsing as t_zset.c does it. Redis reads scores with C's
// strtod, which takes forms Go's ParseFloat refuses ("0x10" without a 'p'
// exponent) and ranges through a bare strtod with no errno check ("1e999"
// is +inf there, "" is 0), so these emulate glibc rather than reuse
// ParseFloat.

func cIsSpace(ch byte) bool {
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\v' || ch == '\f' || ch == '\r'
}

func isDigit(ch byte) bool { return '0' <= ch && ch <= '9' }

func isHexDigit(ch byte) bool {
	return isDigit(ch) || ('a' <= ch && ch <= 'f') || ('A' <= ch && ch <= 'F')
}

func hasPrefixFold(s []byte, word string) bool {
	return len(s) >= len(word) && equalFold(s[:len(word)], word)
}

// cStrtod parses the longest prefix of s that glibc's strtod accepts (C
// locale). n is the number of bytes consumed, 0 when there is no number;
// erange is strtod's ERANGE: overflow to infinity or underflow to zero.
func cStrtod(s []byte) (f float64, n int, erange bool) {
	i := 0
	for i < len(s) && cIsSpace(s[i]) {
		i++
	}
	start := i
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	rest := s[i:]
	switch {
	case hasPrefixFold(rest, "infinity"):
		return signed(math.Inf(1), neg), i + 8, false
	case hasPrefixFold(rest, "inf"):
		return signed(math.Inf(1), neg), i + 3, false
	case hasPrefixFold(rest, "nan"):
		i += 3
		if i < len(s) && s[i] == '(' {
			j := i + 1
			for j < len(s) && (isDigit(s[j]) || s[j] == '_' || ('a' <= s[j]|0x20 && s[j]|0x20 <= 'z')) {
				j++
			}
			if j < len(s) && s[j] == ')' {
				i = j + 1
			}
		}
		return math.NaN(), i, false
	case len(rest) >= 2 && rest[0] == '0' && rest[1]|0x20 == 'x':
		if f, k, er, ok := hexFloat(rest[2:], neg); ok {
			return f, i + 2 + k, er
		}
		return signed(0, neg), i + 1, false // just the "0"
	}
	j := i
	digits, nonzero := 0, false
	for j < len(s) && isDigit(s[j]) {
		nonzero = nonzero || s[j] != '0'
		j++
		digits++
	}
	if j < len(s) && s[j] == '.' {
		j++
		for j < len(s) && isDigit(s[j]) {
			nonzero = nonzero || s[j] != '0'
			j++
			digits++
		}
	}
	if digits == 0 {
		return 0, 0, false
	}
	if j < len(s) && s[j]|0x20 == 'e' {
		k := j + 1
		if k < len(s) && (s[k] == '+' || s[k] == '-') {
			k++
		}
		if k < len(s) && isDigit(s[k]) {
			for k < len(s) && isDigit(s[k]) {
				k++
			}
			j = k
		}
	}
	f, err := strconv.ParseFloat(string(s[start:j]), 64)
	return f, j, err != nil || (f == 0 && nonzero)
}

// hexFloat parses the hexadecimal mantissa and optional binary exponent
// after "0x".
func hexFloat(s []byte, neg bool) (f float64, n int, erange, ok bool) {
	j := 0
	digits, nonzero := 0, false
	for j < len(s) && isHexDigit(s[j]) {
		nonzero = nonzero || s[j] != '0'
		j++
		digits++
	}
	if j < len(s) && s[j] == '.' {
		j++
		for j < len(s) && isHexDigit(s[j]) {
			nonzero = nonzero || s[j] != '0'
			j++
			digits++
		}
	}
	if digits == 0 {
		return 0, 0, false, false
	}
	mant := j
	exp := "p0"
	if j < len(s) && s[j]|0x20 == 'p' {
		k := j + 1
		if k < len(s) && (s[k] == '+' || s[k] == '-') {
			k++
		}
		if k < len(s) && isDigit(s[k]) {
			for k < len(s) && isDigit(s[k]) {
				k++
			}
			exp = string(s[j:k])
			j = k
		}
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	b.WriteString("0x")
	b.Write(s[:mant])
	b.WriteString(exp)
	f, err := strconv.ParseFloat(b.String(), 64)
	return f, j, err != nil || (f == 0 && nonzero), true
}

func signed(f float64, neg bool) float64 {
	if neg {
		return -f
	}
	return f
}

// zparseFloat parses a score, increment or weight as Redis's string2d:
// the whole argument, no leading space, no overflow or underflow to zero,
// no NaN.
func zparseFloat(b []byte) (float64, bool) {
	if len(b) == 0 || cIsSpace(b[0]) {
		return 0, false
	}
	f, n, erange := cStrtod(b)
	if n != len(b) || (erange && (math.IsInf(f, 0) || f == 0)) || math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

// cString cuts b at its first NUL, as C string functions see it.
func cString(b []byte) []byte {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		return b[:i]
	}
	return b
}

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
	b = cString(b)
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
