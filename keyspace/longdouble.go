package keyspace

import (
	"bytes"
	"math/big"
)

// Long double arithmetic for INCRBYFLOAT and HINCRBYFLOAT, which Redis does
// in C long double: on x86-64 the x87 80-bit format, a 64-bit mantissa and a
// 15-bit exponent. big.Float at precision 64 rounds as the FPU does; the
// exponent range is applied by hand. In big.Float terms (mantissa in
// [0.5, 1)) a finite long double has exponent <= ldMaxExp, a normal one
// exponent >= ldMinNormExp.
const (
	ldPrec       = 64
	ldMaxExp     = 16384  // largest finite: (1-2^-64) * 2^16384
	ldMinNormExp = -16381 // smallest normal: 2^-16382
	// ldMinExp is the C exponent of the smallest normal, 2^ldMinExp, and
	// ldUnitExp that of the smallest subnormal.
	ldMinExp  = -16382
	ldUnitExp = ldMinExp - ldPrec + 1
	// ldCapDigits is where glibc's strtold stops reading fraction digits
	// (MANT_DIG - LDBL_MIN_EXP + 2).
	ldCapDigits = ldPrec + 16381 + 2
	// ldMaxChars is Redis's MAX_LONG_DOUBLE_CHARS: string2ld refuses input
	// of this length or more.
	ldMaxChars = 5 * 1024
)

// parseLongDouble parses b as Redis's string2ld does with glibc's strtold:
// strtod's syntax (see scanCNumber) over all of b, no leading space, NaN
// and out-of-range values (overflow, underflow to zero) refused. The result
// has precision ldPrec and may be an infinity.
func parseLongDouble(b []byte) (*big.Float, bool) {
	if len(b) == 0 || len(b) >= ldMaxChars || cIsSpace(b[0]) {
		return nil, false
	}
	x := scanCNumber(b)
	if x.n != len(b) || x.nan {
		return nil, false
	}
	f := new(big.Float).SetPrec(ldPrec)
	if x.inf {
		return f.SetInf(x.neg), true
	}
	if x.nonzero() && !x.longDouble(f) {
		return nil, false
	}
	if x.neg {
		f.Neg(f)
	}
	return f, true
}

// longDouble sets f to the magnitude of the finite, nonzero x rounded as
// strtold rounds it; false on overflow or underflow to zero.
func (x *cNumber) longDouble(f *big.Float) bool {
	// The long double range is about [3.6e-4951, 1.19e4932].
	num, den, e2, cut, rng := x.exact(ldCapDigits, -4951, 4933)
	if rng != 0 {
		return false
	}
	// The leading bit of the value is 2^lead or 2^(lead-1).
	lead := int64(num.BitLen()-den.BitLen()) + e2
	if lead > ldMaxExp || lead < ldMinExp-ldPrec {
		return false
	}
	if den.BitLen() == 1 {
		f.SetInt(num)
		f.SetMantExp(f, int(e2))
	} else {
		f.Quo(new(big.Float).SetInt(num), new(big.Float).SetInt(den))
	}
	if f.MantExp(nil) > ldMaxExp {
		return false
	}
	if f.MantExp(nil) < ldMinNormExp {
		// Subnormal: round the exact value again as glibc does.
		q, _ := glibcTiny(num, den, e2, cut, ldPrec, ldMinExp)
		if q == 0 {
			return false
		}
		f.SetUint64(q)
		f.SetMantExp(f, ldUnitExp)
	}
	return true
}

// addLongDouble returns x+y as the FPU adds long doubles; false when the sum
// is not finite (an infinite operand, or overflow). A sum of subnormals is
// exact, so rounding to 64 bits is all there is to do.
func addLongDouble(x, y *big.Float) (*big.Float, bool) {
	if x.IsInf() || y.IsInf() {
		return nil, false
	}
	sum := new(big.Float).SetPrec(ldPrec).Add(x, y)
	if sum.MantExp(nil) > ldMaxExp {
		return nil, false
	}
	return sum, true
}

// formatLongDouble prints x as ld2string's LD_STR_HUMAN mode: "%.17Lf",
// then trailing zeros and a trailing '.' trimmed, and "-0" made "0".
func formatLongDouble(x *big.Float) []byte {
	if x.Sign() == 0 || x.MantExp(nil) < -60 {
		// Below 2^-61 rounds to 0 at 17 decimals; skip expanding the
		// thousands of digits of a tiny number.
		return []byte("0")
	}
	s := x.Append(nil, 'f', 17)
	if bytes.IndexByte(s, '.') >= 0 {
		s = bytes.TrimRight(s, "0")
		s = bytes.TrimSuffix(s, []byte("."))
	}
	if len(s) == 2 && s[0] == '-' && s[1] == '0' {
		s = s[1:]
	}
	return s
}
