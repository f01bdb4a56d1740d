package keyspace

import (
	"math"
	"math/big"
	"strconv"
	"strings"
	"testing"
)

// TestParseFloat checks ParseFloat (string2d, doubles) and parseLongDouble
// (string2ld, long doubles) on the same inputs. Expectations come from
// redis-server 7.0.15: the double from ZADD then ZSCORE (or "weight value is
// not a float" from ZUNION WEIGHTS, whose reply also shows -0), the long
// double from INCRBYFLOAT on 0 ("parse error" is "value is not a valid
// float", "inf" is "increment would produce NaN or Infinity").
func TestParseFloat(t *testing.T) {
	negZero := math.Copysign(0, -1)
	cases := []struct {
		in  string
		ok  bool
		f   float64
		inc string // INCRBYFLOAT's reply; a trailing "..." matches a prefix
	}{
		{"0x10", true, 16, "16"},
		{"+0x10", true, 16, "16"},
		{"-0x10", true, -16, "-16"},
		{"0X1P3", true, 8, "8"},
		{"0x1p3", true, 8, "8"},
		{"1e-400", false, 0, "0"},
		{"1e400", false, 0, "10000000000000000000281880683947586514586453433629052038625910693539685534008629862039363994848324160522094053927317616200295822777259255734023828976593340661017797447434546173917862448116674971723778943824391593338047470675026246684401359237513603830343735485505244955964979021825038280091068414947402456898653040951017512658092615827588920183472511643316591362664138176309734806343732497430221946880"},
		{"inf", true, math.Inf(1), "inf"},
		{"-inf", true, math.Inf(-1), "inf"},
		{"+inf", true, math.Inf(1), "inf"},
		{"infinity", true, math.Inf(1), "inf"},
		{"INFINITY", true, math.Inf(1), "inf"},
		{"Inf", true, math.Inf(1), "inf"},
		{"infinit", false, 0, "parse error"},
		{"nan", false, 0, "parse error"},
		{"-nan", false, 0, "parse error"},
		{"nan(1)", false, 0, "parse error"},
		{" 1", false, 0, "parse error"},
		{"\t1", false, 0, "parse error"},
		{"\v1", false, 0, "parse error"},
		{"1 ", false, 0, "parse error"},
		{"1\t", false, 0, "parse error"},
		{"1e", false, 0, "parse error"},
		{"1e+", false, 0, "parse error"},
		{".e5", false, 0, "parse error"},
		{".", false, 0, "parse error"},
		{"0x", false, 0, "parse error"},
		{"0x1p", false, 0, "parse error"},
		{".5", true, 0.5, "0.5"},
		{"5.", true, 5, "5"},
		{"1.e5", true, 1e5, "100000"},
		{"-0", true, negZero, "0"},
		{"1_000", false, 0, "parse error"},
		{"1_0", false, 0, "parse error"},
		{"", false, 0, "parse error"},
		{"abc", false, 0, "parse error"},
		{"--1", false, 0, "parse error"},
		{"(1", false, 0, "parse error"},
		{"NaN", false, 0, "parse error"},
		{"1E2", true, 100, "100"},
		{"-1.5", true, -1.5, "-1.5"},
		{"00012.5000", true, 12.5, "12.5"},
		{"+Infinity", true, math.Inf(1), "inf"},
		{"0x0p99999", true, 0, "0"},
		{"0e-5000", true, 0, "0"},
		{"1\x00", false, 0, "parse error"},
		{"1\x00abc", false, 0, "parse error"},
		{"1e-310", true, 1e-310, "0"},
		{"4.9e-324", true, 5e-324, "0"},
		{"2e-324", false, 0, "0"},
		{"0x1p-1075", false, 0, "0"},
		{"0x1.0000000000001p-1075", true, 5e-324, "0"},
		{"1e308", true, 1e308, "99999999999999999996685879655845645660560099847415567207797047994921734868838061872100126921888539320446747225054013223152134749593960583597420814430196418767959100019603190778663109604507106667939153395788938914560543563061268364901618630217086589253444881623791300855757318142424510452728255046343928578048"},
		{"1.7976931348623158e308", true, math.MaxFloat64, "179769313486231580004358536481903489571310159292147573755199403515249358616464327912400174025506692796615466080250056913696857333107838279770464729590055202909091930999383456694240361149343396112230513635575724338994599887806154226051327402979490422113618715591379296065295868508253026779414764388559131508736"},
		{"1.7976931348623159e308", false, 0, "17976931348623159000305071217830254601388048925209078071420815940772708118293635301288553075185987392633652367519258287885970138653313183599957301128842969469810689701616586513333128130468472475966070016837076754896698279748421095045275087443463211644938778506253801482655588049324179008537089772026300937011..."},
		{"0x1.fffffffffffff8p1023", false, 0, "17976931348623158079372897140530341507993413271003782693617377898044496829276475094664901797758720709633028641669288791094655554785194040263065748867150582068190890200070838367627385484581771153176447573027006985557136695962284291481986083493647529271907416844436551070434271155969950809304288017790417449779..."},
		{"0x1.fffffffffffff7p1023", true, math.MaxFloat64, "17976931348623157954632877794610353279470118706201372314401674120828400485367272442339158555948466598073155798379557473010752627023163087514788374592550978271992652807268874597627030925138916370830339982754320286641301899428289041898810430048593129966353962566433791226239214476235198206656882065893916829286..."},
	}
	for _, c := range cases {
		f, ok := ParseFloat([]byte(c.in))
		if ok != c.ok || (ok && math.Float64bits(f) != math.Float64bits(c.f)) {
			t.Errorf("ParseFloat(%q) = %v, %v; want %v, %v", c.in, f, ok, c.f, c.ok)
		}
		got := ldSum("0", c.in)
		if want, prefix := strings.CutSuffix(c.inc, "..."); got != c.inc && !(prefix && strings.HasPrefix(got, want)) {
			t.Errorf("INCRBYFLOAT 0 + %q = %q, want %q", c.in, got, c.inc)
		}
	}
}

// TestParseFloatSubnormal checks doubles below the smallest normal, which
// glibc's strtod does not round correctly (see glibcTiny). Expected values
// are ZSCOREs from redis-server 7.0.15.
func TestParseFloatSubnormal(t *testing.T) {
	// exact returns the exact decimal expansion of m * 2^e.
	exact := func(m int64, e int) string {
		return new(big.Float).SetMantExp(new(big.Float).SetInt64(m), e).Text('e', 1100)
	}
	cases := []struct {
		in string
		ok bool
		f  float64
	}{
		// Mantissa ...1, then only the forgotten bit: a tie for glibc.
		{"0x20000000000003p-1076", true, 1.1125369292536007e-308},
		{exact(0x20000000000003, -1076), true, 1.1125369292536007e-308},
		{"0x20000000000005p-1077", true, 5.5626846462680035e-309},
		// The same in decimal reaches past glibc's digit cut: the cut
		// digits count as sticky, so this one rounds correctly.
		{exact(0x20000000000005, -1077), true, 5.5626846462680084e-309},
		{"0x20000000000009p-1078", true, 2.7813423231340017e-309},
		{"0x28000000000001p-1126", true, 9.8813129168249309e-324},
		{"0x40000000000007p-1077", true, 1.1125369292536012e-308}, // a bit past it: up
		// Just above half the smallest subnormal, by the forgotten bit
		// only: zero, refused.
		{"0x1.00000000000008p-1075", false, 0},
		{"0x20000000000001p-1128", false, 0},
		{"0x1.00000000000004p-1075", true, 5e-324},
		{"2.4703282292062328e-324", true, 5e-324},
		{"2.4703282292062327e-324", false, 0},
		{"-4.9e-324", true, -5e-324},
	}
	for _, c := range cases {
		f, ok := ParseFloat([]byte(c.in))
		if ok != c.ok || (ok && f != c.f) {
			t.Errorf("ParseFloat(%.40q) = %v, %v; want %v, %v", c.in, f, ok, c.f, c.ok)
		}
	}
}

func TestParseCStrtod(t *testing.T) {
	cases := []struct {
		in     string
		f      float64
		n      int
		erange bool
	}{
		{"", 0, 0, false},
		{"1", 1, 1, false},
		{"  -2.5x", -2.5, 6, false},
		{"+.5", 0.5, 3, false},
		{"5.", 5, 2, false},
		{".", 0, 0, false},
		{"-", 0, 0, false},
		{"1e", 1, 1, false},
		{"1e+", 1, 1, false},
		{"1e-3", 0.001, 4, false},
		{"1E3", 1000, 3, false},
		{"inf", math.Inf(1), 3, false},
		{"-Infinity", math.Inf(-1), 9, false},
		{"infin", math.Inf(1), 3, false},
		{"0x10", 16, 4, false},
		{"0x", 0, 1, false},
		{"-0xg", math.Copysign(0, -1), 2, false},
		{"0x1p-2", 0.25, 6, false},
		{"0x1p", 1, 3, false},
		{"0X.8P1", 1, 6, false},
		{"1e400", math.Inf(1), 5, true},
		{"-1e400", math.Inf(-1), 6, true},
		{"1e-400", 0, 6, true},
		{"0e-400", 0, 6, false},
		{"4.9e-324", 5e-324, 8, true}, // inexact below the smallest normal
		{"0x1p99999", math.Inf(1), 9, true},
		{"1_0", 1, 1, false},
		{"12abc", 12, 2, false},
	}
	for _, tc := range cases {
		f, n, erange := cStrtod([]byte(tc.in))
		if n != tc.n || erange != tc.erange || math.Float64bits(f) != math.Float64bits(tc.f) {
			t.Errorf("cStrtod(%q) = %v, %d, %v; want %v, %d, %v", tc.in, f, n, erange, tc.f, tc.n, tc.erange)
		}
	}
	for _, s := range []string{"nan", "-NaN", "nan(123)", "nan(x_y)"} {
		if f, n, _ := cStrtod([]byte(s)); !math.IsNaN(f) || n != len(s) {
			t.Errorf("cStrtod(%q) = %v, %d", s, f, n)
		}
	}
	if _, n, _ := cStrtod([]byte("nan(1")); n != 3 {
		t.Errorf("unclosed nan( consumed %d", n)
	}
}

// FuzzParseFloat checks ParseFloat for panics and for consistency: what it
// takes is a number that prints and reads back the same, strconv agrees
// wherever both read the input and the result is normal, and strtod is
// stable on the prefix it consumed.
func FuzzParseFloat(f *testing.F) {
	for _, s := range []string{"1", "-1.5", "0x10", "0x1.8p-3", ".5", "5.", "1e-310", "1e400", "inf",
		"-Infinity", "nan(12)", " 1", "0x20000000000003p-1076", "2.4703282292062328e-324", "1_0", "0x"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		v, ok := ParseFloat(b)
		if ok {
			if math.IsNaN(v) {
				t.Fatalf("%q: NaN accepted", b)
			}
			if math.IsInf(v, 0) && !strings.Contains(strings.ToLower(string(b)), "inf") {
				t.Fatalf("%q: overflow accepted as %v", b, v)
			}
			for _, s := range []string{strconv.FormatFloat(v, 'g', -1, 64), strconv.FormatFloat(v, 'x', -1, 64),
				strconv.FormatFloat(v, 'g', 17, 64)} {
				if w, ok := ParseFloat([]byte(s)); !ok || math.Float64bits(w) != math.Float64bits(v) {
					t.Fatalf("%q: %v prints as %q, which reads back as %v, %v", b, v, s, w, ok)
				}
			}
		}
		if d, err := strconv.ParseFloat(string(b), 64); err == nil && !math.IsNaN(d) && math.Abs(d) >= 0x1p-1022 &&
			!strings.Contains(string(b), "_") {
			if !ok || math.Float64bits(d) != math.Float64bits(v) {
				t.Fatalf("%q: %v, %v; strconv %v", b, v, ok, d)
			}
		}
		g, n, erange := cStrtod(b)
		if n < 0 || n > len(b) || (n == 0 && (g != 0 || erange)) {
			t.Fatalf("cStrtod(%q) = %v, %d, %v", b, g, n, erange)
		}
		if n > 0 {
			g2, n2, erange2 := cStrtod(b[:n])
			if n2 != n || erange2 != erange || (math.Float64bits(g2) != math.Float64bits(g) && !math.IsNaN(g)) {
				t.Fatalf("cStrtod(%q) = %v, %d, %v but on its prefix %v, %d, %v", b, g, n, erange, g2, n2, erange2)
			}
		}
	})
}
