package keyspace

import (
	"bytes"
	"math"
	"math/big"
	"strconv"
)

// ParseInt parses b as Redis's string2ll does: optional '-', no '+', no
// leading zeros, no spaces, within int64.
func ParseInt(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	if len(b) == 1 && b[0] == '0' {
		return 0, true
	}
	neg := false
	p := b
	if p[0] == '-' {
		neg = true
		p = p[1:]
		if len(p) == 0 {
			return 0, false
		}
	}
	if p[0] < '1' || p[0] > '9' {
		return 0, false
	}
	var v uint64
	for _, ch := range p {
		if ch < '0' || ch > '9' {
			return 0, false
		}
		if v > (math.MaxUint64-9)/10 {
			return 0, false
		}
		v = v*10 + uint64(ch-'0')
	}
	if neg {
		if v > 1<<63 {
			return 0, false
		}
		return -int64(v), true
	}
	if v > math.MaxInt64 {
		return 0, false
	}
	return int64(v), true
}

// ParseFloat parses b as Redis's string2d (getDoubleFromObject) does: glibc's
// strtod must take all of b, with no leading space, and NaN, overflow and
// underflow to zero are refused. Every argument Redis reads as a double
// (scores, increments, weights) goes through it.
func ParseFloat(b []byte) (float64, bool) {
	if len(b) == 0 || cIsSpace(b[0]) {
		return 0, false
	}
	f, n, erange := cStrtod(b)
	if n != len(b) || math.IsNaN(f) || (erange && (math.IsInf(f, 0) || f == 0)) {
		return 0, false
	}
	return f, true
}

// cStrtod parses the longest prefix of s that glibc's strtod accepts (C
// locale). n is the number of bytes consumed, 0 when there is no number;
// erange is strtod's ERANGE: overflow to infinity, or a result below the
// smallest normal that is inexact (zero included).
func cStrtod(s []byte) (f float64, n int, erange bool) {
	x := scanCNumber(s)
	switch {
	case x.n == 0:
		return 0, 0, false
	case x.inf:
		return signed(math.Inf(1), x.neg), x.n, false
	case x.nan:
		return math.NaN(), x.n, false
	}
	f, erange = x.float64(s)
	return f, x.n, erange
}

// cNumber is a number as glibc's strtod family reads it from the front of a
// string: leading space, a sign, then "inf", "infinity", "nan", "nan(chars)"
// (any case), a decimal mantissa with an optional e exponent, or "0x" and a
// hex mantissa with an optional binary p exponent. C takes forms Go's
// strconv refuses ("0x10" without an exponent) and refuses some Go takes
// ("1_0"), so the syntax is checked here and strconv only converts.
type cNumber struct {
	n        int  // bytes consumed; 0 when there is no number
	neg      bool // a '-' sign
	inf, nan bool
	hex      bool
	start    int    // index of the sign or of the mantissa
	mantEnd  int    // index after the mantissa (before the exponent)
	intd     []byte // mantissa digits before the point
	fracd    []byte // mantissa digits after the point
	exp      int64  // the exponent as written, saturated far out of range
}

func scanCNumber(s []byte) (x cNumber) {
	i := 0
	for i < len(s) && cIsSpace(s[i]) {
		i++
	}
	x.start = i
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		x.neg = s[i] == '-'
		i++
	}
	rest := s[i:]
	switch {
	case hasPrefixFold(rest, "infinity"):
		x.inf, x.n = true, i+8
		return x
	case hasPrefixFold(rest, "inf"):
		x.inf, x.n = true, i+3
		return x
	case hasPrefixFold(rest, "nan"):
		i += 3
		if i < len(s) && s[i] == '(' {
			// nan(n-char-sequence) only when the parenthesis closes.
			j := i + 1
			for j < len(s) && (isDigit(s[j]) || s[j] == '_' || ('a' <= s[j]|0x20 && s[j]|0x20 <= 'z')) {
				j++
			}
			if j < len(s) && s[j] == ')' {
				i = j + 1
			}
		}
		x.nan, x.n = true, i
		return x
	case len(rest) >= 2 && rest[0] == '0' && rest[1]|0x20 == 'x':
		if j, ok := x.mantissa(s, i+2, isHexDigit); ok {
			x.hex = true
			x.n = x.exponent(s, j, 'p')
			return x
		}
		// "0x" without a hex digit: just the "0".
		x.intd, x.mantEnd, x.n = rest[:1], i+1, i+1
		return x
	}
	j, ok := x.mantissa(s, i, isDigit)
	if !ok {
		return cNumber{}
	}
	x.n = x.exponent(s, j, 'e')
	return x
}

// mantissa reads digits[.digits] from s[i:], at least one digit in all.
func (x *cNumber) mantissa(s []byte, i int, digit func(byte) bool) (int, bool) {
	j := i
	for j < len(s) && digit(s[j]) {
		j++
	}
	x.intd = s[i:j]
	if j < len(s) && s[j] == '.' {
		j++
		k := j
		for j < len(s) && digit(s[j]) {
			j++
		}
		x.fracd = s[k:j]
	}
	x.mantEnd = j
	return j, len(x.intd)+len(x.fracd) > 0
}

// exponent reads an exponent (the letter, a sign, decimal digits) at s[j:]
// and returns the end of the number: an exponent without digits is not
// part of it.
func (x *cNumber) exponent(s []byte, j int, letter byte) int {
	if j >= len(s) || s[j]|0x20 != letter {
		return j
	}
	k := j + 1
	neg := false
	if k < len(s) && (s[k] == '+' || s[k] == '-') {
		neg = s[k] == '-'
		k++
	}
	if k >= len(s) || !isDigit(s[k]) {
		return j
	}
	var e int64
	for ; k < len(s) && isDigit(s[k]); k++ {
		if e < 1<<50 {
			e = e*10 + int64(s[k]-'0')
		}
	}
	if neg {
		e = -e
	}
	x.exp = e
	return k
}

func (x *cNumber) nonzero() bool {
	for _, d := range x.intd {
		if d != '0' {
			return true
		}
	}
	for _, d := range x.fracd {
		if d != '0' {
			return true
		}
	}
	return false
}

// The double format for glibcTiny: 53 mantissa bits, smallest normal
// 2^-1022, and glibc's cut of decimal input at fraction digit
// MANT_DIG - MIN_EXP + 2 (a quarter of the smallest subnormal).
const (
	dblMantBits  = 53
	dblMinExp    = -1022
	dblCapDigits = 53 + 1021 + 2
)

// float64 converts a finite number (s is the scanned string). strconv
// rounds correctly, as glibc does down to the smallest normal; below it
// glibc rounds its own way (glibcTiny).
func (x *cNumber) float64(s []byte) (float64, bool) {
	var text string
	if x.hex {
		// strconv requires the p exponent in hex.
		exp := s[x.mantEnd:x.n]
		if len(exp) == 0 {
			exp = []byte("p0")
		}
		text = string(s[x.start:x.mantEnd]) + string(exp)
	} else {
		text = string(s[x.start:x.n])
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil {
		return f, true // out of range: +-Inf
	}
	if math.Abs(f) >= 0x1p-1022 || !x.nonzero() {
		return f, false
	}
	// Below 10^-324 is below half the smallest subnormal.
	num, den, e2, cut, rng := x.exact(dblCapDigits, -324, math.MaxInt64)
	if rng != 0 {
		return signed(0, x.neg), true
	}
	q, erange := glibcTiny(num, den, e2, cut, dblMantBits, dblMinExp)
	return signed(math.Ldexp(float64(q), dblMinExp-dblMantBits+1), x.neg), erange
}

// exact returns the magnitude of a finite, nonzero number as
// num * 2^e2 / den. Decimal digits past fraction position capDigits are
// dropped as glibc's strtod drops them for tiny results (cut: a nonzero
// one was). A decimal below 10^minDec or from 10^maxDec up is not built:
// rng is -1 or +1 then, for the caller's underflow or overflow.
func (x *cNumber) exact(capDigits, minDec, maxDec int64) (num, den *big.Int, e2 int64, cut bool, rng int) {
	num, den = new(big.Int), big.NewInt(1)
	if x.hex {
		digits := append(append([]byte(nil), x.intd...), x.fracd...)
		num.SetString(string(digits), 16)
		return num, den, x.exp - 4*int64(len(x.fracd)), false, 0
	}
	digits, e10 := x.decimal()
	switch n := int64(len(digits)); {
	case n+e10 < minDec:
		return nil, nil, 0, false, -1
	case n-1+e10 >= maxDec:
		return nil, nil, 0, false, 1
	}
	if e10 < -capDigits {
		drop := int(-capDigits - e10) // < len(digits), after the minDec test
		for _, d := range digits[len(digits)-drop:] {
			cut = cut || d != '0'
		}
		digits, e10 = digits[:len(digits)-drop], -capDigits
	}
	num.SetString(string(digits), 10)
	if e10 >= 0 {
		num.Mul(num, new(big.Int).Exp(big.NewInt(10), big.NewInt(e10), nil))
	} else {
		den.Exp(big.NewInt(10), big.NewInt(-e10), nil)
	}
	return num, den, 0, cut, 0
}

// decimal returns the significant digits of a nonzero decimal number
// (without leading and trailing zeros) and the power of ten they scale by.
func (x *cNumber) decimal() (digits []byte, e10 int64) {
	digits = append(append([]byte(nil), x.intd...), x.fracd...)
	e10 = x.exp - int64(len(x.fracd))
	for len(digits) > 0 && digits[0] == '0' {
		digits = digits[1:]
	}
	for len(digits) > 0 && digits[len(digits)-1] == '0' {
		digits = digits[:len(digits)-1]
		e10++
	}
	return digits, e10
}

// glibcTiny rounds a positive value v = num * 2^e2 / den below 2^emin, the
// smallest normal of a format with p mantissa bits, as glibc's strtod
// family does (round_and_return): the first p bits of v are shifted right
// to the subnormal position and rounded to nearest even, but the bit right
// after those p bits is forgotten; only the bits below it (and cut) count
// as sticky. So a value whose only excess bit is that one rounds as if it
// were not there, unlike correct rounding. The result is q units of
// 2^(emin-p+1); erange is glibc's ERANGE (inexact and still tiny after
// rounding).
func glibcTiny(num, den *big.Int, e2 int64, cut bool, p, emin int) (q uint64, erange bool) {
	if int64(num.BitLen()-den.BitLen())+e2 < int64(emin-p) {
		return 0, true // below half the smallest subnormal
	}
	mant, r, lead, sticky := leadingBits(num, den, e2, p)
	if lead < int64(emin-p) {
		return 0, true
	}
	shift := uint(int64(emin) - lead) // 1..p
	q = mant >> shift
	half := mant>>(shift-1)&1 == 1
	more := mant&(1<<(shift-1)-1) != 0 || sticky || cut
	erange = half || more
	if shift == 1 && mant == ^uint64(0)>>(64-p) && r {
		// Tininess is decided after rounding (x86): this one rounds,
		// with the bit glibc keeps for that test, to the smallest normal.
		erange = false
	}
	if half && (more || q&1 == 1) {
		q++
	}
	return q, erange
}

// leadingBits returns the first p bits (p <= 64) of v = num * 2^e2 / den
// (positive), the bit after them, the exponent of v's leading bit and
// whether any nonzero bit follows.
func leadingBits(num, den *big.Int, e2 int64, p int) (mant uint64, r bool, lead int64, sticky bool) {
	// v is in [2^(lead-1), 2^(lead+1)) for this estimate.
	lead = int64(num.BitLen()-den.BitLen()) + e2
	a, b, q, rem := new(big.Int), new(big.Int), new(big.Int), new(big.Int)
	for {
		// floor(v * 2^(p-lead)) has p+1 bits when lead is right.
		sh := e2 + int64(p) - lead
		a.Set(num)
		b.Set(den)
		if sh >= 0 {
			a.Lsh(a, uint(sh))
		} else {
			b.Lsh(b, uint(-sh))
		}
		q.QuoRem(a, b, rem)
		if q.BitLen() == p+1 {
			return new(big.Int).Rsh(q, 1).Uint64(), q.Bit(0) == 1, lead, rem.Sign() != 0
		}
		lead--
	}
}

// intArg parses argument i as an integer or writes ErrNotInt.
func (c *Ctx) intArg(i int) (int64, bool) { return c.intVal(c.Args[i]) }

// intVal parses b as an integer or writes ErrNotInt.
func (c *Ctx) intVal(b []byte) (int64, bool) {
	n, ok := ParseInt(b)
	if !ok {
		c.W.Error(ErrNotInt)
	}
	return n, ok
}

// cstr is b as C code sees it: up to the first NUL. Redis compares option
// words with strcasecmp and parses numbers with strtod, so "nx\x00junk" is
// NX to it.
func cstr(b []byte) []byte {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		return b[:i]
	}
	return b
}

// optIs reports whether option argument b is the lower-case word s, as
// strcasecmp(b, s) == 0.
func optIs(b []byte, s string) bool { return EqualFold(cstr(b), s) }

// EqualFold reports whether b equals the lower-case ASCII word s, ignoring
// case, without allocating: how an option word is matched, here and in
// the commands the proxy answers itself.
func EqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
		ch := b[i]
		if 'A' <= ch && ch <= 'Z' {
			ch += 'a' - 'A'
		}
		if ch != s[i] {
			return false
		}
	}
	return true
}

// cIsSpace is C's isspace in the C locale.
func cIsSpace(ch byte) bool {
	return ch == ' ' || ('\t' <= ch && ch <= '\r')
}

func isDigit(ch byte) bool { return '0' <= ch && ch <= '9' }

func isHexDigit(ch byte) bool {
	return isDigit(ch) || ('a' <= ch|0x20 && ch|0x20 <= 'f')
}

// hasPrefixFold reports whether s starts with the lower-case ASCII word,
// ignoring case.
func hasPrefixFold(s []byte, word string) bool {
	return len(s) >= len(word) && EqualFold(s[:len(word)], word)
}

func signed(f float64, neg bool) float64 {
	if neg {
		return -f
	}
	return f
}
