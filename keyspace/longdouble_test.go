package keyspace

import (
	"math"
	"math/big"
	"strings"
	"testing"
)

// ldSum adds two strings as INCRBYFLOAT and HINCRBYFLOAT do.
func ldSum(a, b string) string {
	x, ok1 := parseLongDouble([]byte(a))
	y, ok2 := parseLongDouble([]byte(b))
	if !ok1 || !ok2 {
		return "parse error"
	}
	z, ok := addLongDouble(x, y)
	if !ok {
		return "inf"
	}
	return string(formatLongDouble(z))
}

// TestLongDouble checks the long double emulation: strtold's syntax, 64-bit
// mantissa rounding and "%.17Lf" output. Expected values come from
// redis-server 7.0.15 on x86-64 (INCRBYFLOAT / HINCRBYFLOAT).
func TestLongDouble(t *testing.T) {
	for _, c := range []struct{ a, b, want string }{
		{"10.5", "0.1", "10.6"},
		{"1.1", "2.2", "3.3"},
		{"0.1", "0.2", "0.3"},
		{"3", "-3", "0"},
		{"0", "-1e-20", "0"},
		{"0", "0.000003814697265625", "0.00000381469726562"}, // a tie: to even
		{"0", "0.000003814697265675", "0.00000381469726568"},
		{"9223372036854775807", "1", "9223372036854775808"},
		{"100000000000000000000", "1", "100000000000000000000"}, // below the ulp (8)
		{"10000000000000000000", "1", "10000000000000000001"},
		{"-1.7976931348623157e308", "-1.7976931348623157e308", "-359538626972463139991842093548208868096772893888658356970628841530353257046248792709403737216774171128857586838851041378617416726902272110715794556052955234146997955372576789671236326588091188869859074894581254961338834769297758245552436667197907705664206565009503223382416235440319971852753604933726679072768"},
		{"0", "123456789.123456789123", "123456789.12345678912242875"},
		{"0", "3.14159265358979323846264338327950288", "3.14159265358979324"},
		{"0.33333333333333333333", "0.33333333333333333333", "0.66666666666666667"},
		{"0", "0x1.8p1", "3"},
		{"0", "0X.8P-1", "0.25"},
		{"0", "1e-300", "0"},
		{"1e4932", "1e4932", "inf"},
		{"0", "-0", "0"},
		{"-0", "-0", "0"},
		{"0", "inf", "inf"},
		{"0", "1.7976931348623159e308", "179769313486231590003050712178302546013880489252090780714208159407727081182936353012885530751859873926336523675192582878859701386533131835999573011288429694698106897016165865133331281304684724759660700168370767548966982797484210950452750874434632116449387785062538014826555880493241790085370897720263009370112"},
		{"0", "0x1.fffffffffffff8p1023", "179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497792"},
	} {
		if got := ldSum(c.a, c.b); got != c.want {
			t.Errorf("%s + %s = %s, want %s", c.a, c.b, got, c.want)
		}
	}
	if got := ldSum("0", "1e400"); !strings.HasPrefix(got, "1000000000000000000028188068394758651458645343362905203862591069353968553400862986203936399484832416") || len(got) != 401 {
		t.Errorf("1e400 = %s", got)
	}
}

// TestParseLongDouble checks which strings string2ld takes, from
// redis-server 7.0.15 (INCRBYFLOAT refusing with "value is not a valid
// float" or not).
func TestParseLongDouble(t *testing.T) {
	for _, s := range []string{
		"", " 1", "1 ", "\t1", "\v1", "1\t", "1e", "1e+", "0x", "0xg", "0x1p", ".", ".e5", "-", "+",
		"1_0", "1_000", "1.2.3", "--1", "1,5", "0x.p1", "abc", "1\x00", "1\x00abc", "nan", "NaN", "-nan",
		"NaN(1)", "infinit", "1e5000", "-1e5000", "1e-5000", "1e4933", "1e-4952", "0x1p16384",
		"0x1p20000", "0x1.ffffffffffffffffp16383", "1.18973149535723176508e4932",
		strings.Repeat("1", ldMaxChars), "1." + strings.Repeat("0", ldMaxChars-2),
		// Underflow to zero: at or below half the smallest subnormal
		// 2^-16445, and glibc's forgotten bit (see glibcTiny).
		"0x1p-16446", "0x1.0000000000000001p-16446", "0x0.80000000000000008p-16445",
		"0x8.0000000000000008p-16449", "0x10.000000000000001p-16450",
		"1.8225997659412373012e-4951", "1.822599765941237301264e-4951", "1.8225997659412373e-4951",
	} {
		if _, ok := parseLongDouble([]byte(s)); ok {
			t.Errorf("parseLongDouble(%q) accepted", s)
		}
	}
	for _, s := range []string{
		"1", "-1", "+1", ".5", "5.", "+2", "00012.5000", "1e5", "1E+5", "1e-5", "1.e5", "0x10", "+0x10",
		"0X1P-3", "-0x.8p1", "0x1p3", "inf", "-INF", "+Infinity", "infinity", "0e-5000", "0e99999999999",
		"0e99999999999999999999", "0x0p99999", "1e4932", "1e400", "1e-400", "1e-4950", "3.6e-4951",
		"1.18973149535723176502e4932", "0x1.fffffffffffffffep16383",
		"1." + strings.Repeat("0", ldMaxChars-3),
		// Just above half the smallest subnormal: rounds up to it.
		"0x1.0000000000000002p-16446", "0x1.00000000000000008p-16446", "0x1.00000000000000001p-16446",
		"0x1.00000000000000018p-16446", "0x8.000000000000001p-16449", "0x8.0000000000000001p-16449",
		"0x10.00000000000000001p-16450", "0x0.00000000000000000001p-16365",
		"1.8225997659412373013e-4951", "1.8225997659412373012645e-4951", "1.82259976594123731e-4951",
	} {
		if _, ok := parseLongDouble([]byte(s)); !ok {
			t.Errorf("parseLongDouble(%q) refused", s)
		}
	}
}

// TestLongDoubleSubnormal checks values below the smallest normal against
// glibc 2.36's strtold (what redis-server links), which rounds them its own
// way; they print as 0 but decide what underflows.
func TestLongDoubleSubnormal(t *testing.T) {
	for _, c := range []struct {
		in   string
		mant int64 // the value is mant * 2^exp
		exp  int
	}{
		{"0x1p-16445", 1, ldUnitExp},
		{"0x1.8p-16445", 2, ldUnitExp}, // a tie: to even
		{"0x2.8p-16445", 2, ldUnitExp},
		{"0x1.00000000000000018p-16446", 1, ldUnitExp},
		{"3.6e-4951", 1, ldUnitExp},
		{"1e-4950", 3, ldUnitExp},
		{"0x1.fffffffffffffffep-16383", 1, -16382},
		{"0x1.fffffffffffffffe8p-16384", 1, -16383},
		{"0x1.0000000000000001p-16384", 1, -16384},
		{"-0x1p-16445", -1, ldUnitExp},
	} {
		x, ok := parseLongDouble([]byte(c.in))
		want := new(big.Float).SetMantExp(big.NewFloat(float64(c.mant)), c.exp)
		if !ok || x.Cmp(want) != 0 {
			t.Errorf("parseLongDouble(%q) = %v, %v; want %v", c.in, x, ok, want)
		}
	}
}

func FuzzLongDouble(f *testing.F) {
	for _, s := range []string{"1.5", "-0.5", "0x1.8p1", "0x1p-3", "0X.Ap1", "1e400", "1e4932", "-0", "inf",
		"1e-4950", ".19e-4950", ".5e-3", ".5e+3", "0x1.00000000000000018p-16446"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		x, ok := parseLongDouble(b)
		if len(b) < ldMaxChars && (len(b) == 0 || !cIsSpace(b[0])) {
			// strtold and strtod read the same syntax; the long double
			// range is wider.
			if d, dok := ParseFloat(b); dok && !ok {
				t.Fatalf("%q: a double (%v) but not a long double", b, d)
			}
		}
		if !ok || x.IsInf() {
			return
		}
		if x.MantExp(nil) > ldMaxExp || x.Prec() != ldPrec {
			t.Fatalf("%q parsed out of range: %v", b, x)
		}
		// What INCRBYFLOAT stores must parse back.
		s := formatLongDouble(x)
		if _, ok := parseLongDouble(s); !ok && len(s) < ldMaxChars {
			t.Fatalf("%q formats as %q, which does not parse", b, s)
		}
		// Where both are normal doubles, strtod's value is strtold's
		// rounded to 53 bits (at most one rounding step apart).
		if d, ok := ParseFloat(b); ok && d != 0 && math.Abs(d) > 0x1p-1000 && math.Abs(d) < 0x1p1000 {
			got, _ := x.Float64()
			if got != d && math.Nextafter(got, d) != d {
				t.Fatalf("%q: long double %v, double %v", b, got, d)
			}
		}
		// A long double exact in 17 decimals reads back the same.
		tenTo17 := new(big.Float).SetInt64(1e17)
		if scaled := new(big.Float).SetPrec(256).Mul(x, tenTo17); scaled.IsInt() {
			if y, ok := parseLongDouble(s); !ok || x.Cmp(y) != 0 {
				t.Fatalf("%q: %v formats as %q, which reads back as %v", b, x, s, y)
			}
		}
	})
}
