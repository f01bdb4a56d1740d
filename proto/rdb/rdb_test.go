package rdb

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"math"
	"math/rand/v2"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestCRC64 checks Redis's own test vector (crc64.c) and that the checksum
// continues across calls.
func TestCRC64(t *testing.T) {
	if got := CRC64(0, []byte("123456789")); got != 0xe9c6d914c4b8d9ca {
		t.Fatalf("crc64(123456789) = %x", got)
	}
	if got := CRC64(CRC64(0, []byte("1234")), []byte("56789")); got != 0xe9c6d914c4b8d9ca {
		t.Fatalf("crc64 in two steps = %x", got)
	}
}

func TestFooter(t *testing.T) {
	p := AppendFooter([]byte{TypeString, 0x05, 'h', 'e', 'l', 'l', 'o'}, 0)
	if want := unhex(t, "000568656c6c6f0a006372df766534200a"); !bytes.Equal(p, want) {
		t.Fatalf("payload %x, want %x", p, want)
	}
	if err := CheckFooter(p); err != nil {
		t.Fatal(err)
	}
	// An earlier version is accepted, a later one is not (the checksum
	// covers the version, so it is recomputed).
	for _, v := range []uint16{0, 9, 11, 0xffff} {
		q := binary.LittleEndian.AppendUint16(append([]byte(nil), p[:7]...), v)
		q = binary.LittleEndian.AppendUint64(q, CRC64(0, q))
		if err := CheckFooter(q); (err == nil) != (v <= Version) {
			t.Errorf("version %d: %v", v, err)
		}
	}
	for i := range p {
		q := append([]byte(nil), p...)
		q[i] ^= 0x20
		if CheckFooter(q) == nil {
			t.Errorf("flipped byte %d accepted", i)
		}
	}
	for n := range footerLen {
		if CheckFooter(make([]byte, n)) == nil {
			t.Errorf("%d bytes accepted", n)
		}
	}
}

func TestLen(t *testing.T) {
	for _, c := range []struct {
		n    uint64
		want string
	}{
		{0, "00"}, {63, "3f"}, {64, "4040"}, {16383, "7fff"}, {16384, "8000004000"},
		{math.MaxUint32, "80ffffffff"}, {math.MaxUint32 + 1, "810000000100000000"},
	} {
		b := AppendLen(nil, c.n)
		if hex.EncodeToString(b) != c.want {
			t.Errorf("AppendLen(%d) = %x, want %s", c.n, b, c.want)
		}
		n, enc, rest, err := ReadLen(append(b, 'x'))
		if err != nil || enc || n != c.n || string(rest) != "x" {
			t.Errorf("ReadLen(%x) = %d %v %q %v", b, n, enc, rest, err)
		}
	}
	// A special encoding, and a count written as one (Redis reads its low
	// bits as the count).
	if n, enc, _, err := ReadLen([]byte{0xc3}); err != nil || !enc || n != encLZF {
		t.Errorf("ReadLen(c3) = %d %v %v", n, enc, err)
	}
	if n, _, err := ReadCount([]byte{0xc2, 1, 2}); err != nil || n != 2 {
		t.Errorf("ReadCount(c2) = %d %v", n, err)
	}
	for _, bad := range []string{"", "40", "80000000", "8100000000000000", "82", "bf00", "81ffffffffffffffff"} {
		if _, _, _, err := ReadLen(unhex(t, bad)); err == nil {
			t.Errorf("ReadLen(%s) accepted", bad)
		}
	}
	if _, _, err := ReadCount([]byte{3, 'a', 'b'}); err == nil {
		t.Error("ReadCount: a count larger than the bytes left accepted")
	}
}

// stringVectors are DUMPs of SET k <value> from redis-server 7.0.15.
var stringVectors = []struct{ val, dump string }{
	{"", "00000a005d9b5c400f7fa2da"},
	{"hello", "000568656c6c6f0a006372df766534200a"},
	{"0", "00c0000a009840a778f8500308"},
	{"-1", "00c0ff0a000c937e2485089dc5"},
	{"127", "00c07f0a000db5eb315254c514"},
	{"-128", "00c0800a009966326d2f0c5bd9"},
	{"128", "00c180000a00eb7ab3b510cf4b65"},
	{"-129", "00c17fff0a001760822854808480"},
	{"32767", "00c1ff7f0a00495a37da17f4d52b"},
	{"32768", "00c2008000000a0045d82eedd5bda910"},
	{"-32768", "00c100800a00b540064753bb1ace"},
	{"-32769", "00c2ff7fffff0a00aee34c4d06c68536"},
	{"2147483647", "00c2ffffff7f0a002c74e59ee02eada1"},
	{"2147483648", "000a323134373438333634380a00e7b129a34c1d76ee"},
	{"-2147483648", "00c2000000800a00c74f873e33558187"},
	{"-2147483649", "000b2d323134373438333634390a00c261377908f2028c"},
	{"12345678901", "000b31323334353637383930310a00304e52d727176510"},
	{"007", "00033030370a007258e27b4c69bad9"},
	{"-0", "00022d300a00d5411fd9d6d050cc"},
	{"+1", "00022b310a00c286f0d7439aee6f"},
	{" 1", "000220310a003fe5791ae5defb1b"},
	{"9223372036854775807", "0013393232333337323033363835343737353830370a003a657e9481e85f22"},
	{"abcdefghijklmnopqrst", "00146162636465666768696a6b6c6d6e6f70717273740a0085f41a84e2b570f6"},
	{"abcdefghijklmnopqrstu", "00156162636465666768696a6b6c6d6e6f7071727374750a00ad1c23029a10e306"},
	{strings.Repeat("a", 21), "00c30615016161e00a000a00fd0cb36807413f68"},
	{strings.Repeat("a", 24), "00c30918016161e00b000161610a00585cedc38be546a5"},
	{strings.Repeat("a", 25), "00c30919016161e00c000161610a00d08d67009b1b83b3"},
	{strings.Repeat("ab", 40), "00c30a405002616261e042010161620a00949d5f0eb1dea445"},
	{"hello world hello world hello world", "00c314230c68656c6c6f20776f726c642068e00b0b016c640a00778390696934acb7"},
	{strings.Repeat("x", 300), "00c30c412c017878e0ff00e017000178780a00f033195a8b660d84"},
	{strings.Repeat("abcdefghij", 30) + strings.Repeat("0123456789", 30),
		"00c32642580a6162636465666768696a61e0ff09e1100d0930313233343536373839e0ff09e10f0d0138390a0066bed1776b0ba36a"},
}

// TestStringRedis writes strings byte for byte as Redis 7.0 does (integer,
// LZF and verbatim forms) and reads them back.
func TestStringRedis(t *testing.T) {
	for _, v := range stringVectors {
		want := unhex(t, v.dump)
		got := AppendFooter(AppendString([]byte{TypeString}, []byte(v.val)), 0)
		if !bytes.Equal(got, want) {
			t.Errorf("%q:\n got %x\nwant %x", v.val, got, want)
		}
		s, _, err := ReadString(want[1:])
		if err != nil || string(s) != v.val {
			t.Errorf("ReadString(%x) = %q, %v; want %q", want, s, err, v.val)
		}
	}
}

func TestReadStringErrors(t *testing.T) {
	for _, bad := range []string{
		"", "05616263", "c0", "c100", "c2000000", "c4", "ff",
		"c3", "c305", "c3050a", "c3050a0161", // LZF: missing lengths or data
		"c30102016161",       // LZF: a literal run longer than the data
		"c30280ffffffff0000", // LZF: an original length 2 bytes cannot make
		"c302042000",         // LZF: a back reference before the start
		"c302050400616263",   // LZF: the literal run is cut short
		"c30305016162",       // LZF: makes fewer bytes than announced
		"c30301016162",       // LZF: makes more bytes than announced
	} {
		if s, _, err := ReadString(unhex(t, bad)); err == nil {
			t.Errorf("ReadString(%s) = %q, want an error", bad, s)
		}
	}
	// An original length past MaxStringLen is refused before anything is
	// allocated for it, even with data that could expand that far.
	huge := AppendLen(AppendLen([]byte{lenEnc<<6 | encLZF}, MaxStringLen/80), MaxStringLen+1)
	huge = append(huge, make([]byte, MaxStringLen/80)...)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if _, _, err := ReadString(huge); err == nil {
		t.Error("a string past MaxStringLen accepted")
	}
	runtime.ReadMemStats(&after)
	if d := after.TotalAlloc - before.TotalAlloc; d > MaxStringLen/4 {
		t.Errorf("refusing it allocated %d bytes", d)
	}
	// An LZF string announced empty is empty, whatever its data (Redis's
	// lzf_decompress reports failure as 0 bytes, which is then right).
	if s, rest, err := ReadString(unhex(t, "c30200ffff41")); err != nil || len(s) != 0 || string(rest) != "A" {
		t.Errorf("empty LZF string: %q %q %v", s, rest, err)
	}
}

func TestParseInt(t *testing.T) {
	for s, want := range map[string]bool{
		"0": true, "-1": true, "9223372036854775807": true, "-9223372036854775808": true,
		"9223372036854775808": false, "-9223372036854775809": false, "-0": false, "01": false,
		"+1": false, " 1": false, "1 ": false, "": false, "-": false, "1a": false,
		"18446744073709551616": false, "000000000000000000001": false,
	} {
		v, ok := ParseInt([]byte(s))
		if ok != want || (ok && strconv.FormatInt(v, 10) != s) {
			t.Errorf("ParseInt(%q) = %d, %v", s, v, ok)
		}
	}
}

func TestDoubles(t *testing.T) {
	for _, f := range []float64{0, math.Copysign(0, -1), 1.5, -3e300, math.Inf(1), math.Inf(-1), math.SmallestNonzeroFloat64} {
		b := AppendBinaryDouble(nil, f)
		g, rest, err := ReadBinaryDouble(append(b, 'x'))
		if err != nil || math.Float64bits(g) != math.Float64bits(f) || string(rest) != "x" {
			t.Errorf("binary double %v: %v %q %v", f, g, rest, err)
		}
	}
	if _, _, err := ReadBinaryDouble(make([]byte, 7)); err == nil {
		t.Error("short binary double accepted")
	}
	parse := func(b []byte) (float64, bool) {
		f, err := strconv.ParseFloat(string(b), 64)
		return f, err == nil
	}
	for in, want := range map[string]float64{"\xfe": math.Inf(1), "\xff": math.Inf(-1), "\x032.5": 2.5, "\x00": -1} {
		f, _, err := ReadTextDouble([]byte(in), parse)
		if want == -1 {
			if err == nil {
				t.Errorf("%q accepted", in)
			}
			continue
		}
		if err != nil || f != want {
			t.Errorf("ReadTextDouble(%q) = %v %v", in, f, err)
		}
	}
	if f, _, err := ReadTextDouble([]byte{253}, parse); err != nil || !math.IsNaN(f) {
		t.Errorf("253 is NaN: %v %v", f, err)
	}
	if _, _, err := ReadTextDouble([]byte{5, '1'}, parse); err == nil {
		t.Error("short text double accepted")
	}
}

// TestLZFRoundTrip compresses and expands inputs of every kind (seed
// printed), including sizes where the output bound is tight.
func TestLZFRoundTrip(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	rnd := rand.New(rand.NewPCG(seed, 0))
	for i := range 2000 {
		n := rnd.IntN(300)
		if i%50 == 0 {
			n = rnd.IntN(100_000)
		}
		in := make([]byte, n)
		alphabet := 1 + rnd.IntN(256)
		for j := range in {
			if j > 8 && rnd.IntN(4) == 0 { // repeats at any distance
				in[j] = in[rnd.IntN(j)]
			} else {
				in[j] = byte(rnd.IntN(alphabet))
			}
		}
		for _, room := range []int{n + 40, n, n - 4, n / 2} {
			c, ok := LZFCompress(in, room)
			if !ok {
				continue
			}
			if len(c) > room {
				t.Fatalf("seed %d: %d bytes into room for %d", seed, len(c), room)
			}
			out, err := LZFDecompress(c, uint64(n))
			if err != nil || !bytes.Equal(out, in) {
				t.Fatalf("seed %d: round trip of %d bytes (room %d): %v", seed, n, room, err)
			}
		}
	}
	if _, ok := LZFCompress(nil, 10); ok {
		t.Error("empty input compressed")
	}
}

// TestListpackRedis builds the listpacks of Redis 7.0.15 DUMPs: a list (in
// a quicklist node, LZF compressed), a hash and a sorted set.
func TestListpackRedis(t *testing.T) {
	s := func(x ...string) [][]byte {
		out := make([][]byte, len(x))
		for i := range x {
			out[i] = []byte(x[i])
		}
		return out
	}
	for _, c := range []struct {
		name  string
		head  []byte // type byte and what precedes the listpack
		elems [][]byte
		dump  string
	}{
		{"list", []byte{TypeListQuicklist2, 1, ContainerPacked},
			s("a", "1", "-1", "200", "-5000", "70000", "-9000000", "3000000000", "9223372036854775807", strings.Repeat("x", 70)),
			"120102c33c407e1f7e0000000a008161020101dfff02c0c802f178ec03f270110104f3c0ab76ff0504f4005ed0b22023030009f4ff8000047f09e04678e03c000148ff0a009d97c78588ba7ce7"},
		{"hash", []byte{TypeHashListpack}, s("f", "v", "n", "12"),
			"1012120000000400816602817602816e020c01ff0a0001369481d35b8974"},
		{"zset", []byte{TypeZSetListpack}, s("c", "-inf", "e", "0.10000000000000001", "a", "1", "b", "2.5", "d", "inf"),
			"11c3343d163d0000000a00816302842d696e660581650293302e3130e00500123114816102010181620283322e350481640283202c0104ff0a002096ddde7ef0dc7d"},
	} {
		lp := NewListpack()
		for _, e := range c.elems {
			lp = ListpackAppend(lp, e)
		}
		got := AppendFooter(AppendString(append([]byte(nil), c.head...), lp), 0)
		if want := unhex(t, c.dump); !bytes.Equal(got, want) {
			t.Errorf("%s:\n got %x\nwant %x", c.name, got, want)
		}
		var back [][]byte
		if err := ListpackEach(lp, func(e []byte) error {
			back = append(back, append([]byte(nil), e...))
			return nil
		}); err != nil || !equalElems(back, c.elems) || ListpackLen(lp) != len(c.elems) {
			t.Errorf("%s: read back %q, %v", c.name, back, err)
		}
	}
}

func equalElems(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

// TestListpackEncodings covers every entry encoding and backlen size, and
// the count that stops at 65535.
func TestListpackEncodings(t *testing.T) {
	elems := [][]byte{}
	for _, v := range []int64{0, 127, 128, -1, 4095, -4096, 4096, -4097, 32767, -32768, 32768, 8388607, -8388608,
		8388608, math.MaxInt32, math.MinInt32, math.MaxInt32 + 1, math.MaxInt64, math.MinInt64} {
		elems = append(elems, strconv.AppendInt(nil, v, 10))
	}
	for _, n := range []int{0, 1, 63, 64, 126, 127, 4095, 4096, 16382, 16383, 20000, 2097151} {
		elems = append(elems, bytes.Repeat([]byte{'s'}, n))
	}
	elems = append(elems, []byte("01"), []byte("-0"), []byte("1.5"))
	lp := NewListpack()
	for _, e := range elems {
		lp = ListpackAppend(lp, e)
	}
	var back [][]byte
	if err := ListpackEach(lp, func(e []byte) error {
		back = append(back, append([]byte(nil), e...))
		return nil
	}); err != nil || !equalElems(back, elems) {
		t.Fatalf("round trip: %v", err)
	}

	big := NewListpack()
	for range 70000 {
		big = ListpackAppend(big, []byte("7"))
	}
	if n := binary.LittleEndian.Uint16(big[4:]); n != 0xffff {
		t.Errorf("count field %d past 65535", n)
	}
	if n := ListpackLen(big); n != 70000 {
		t.Errorf("ListpackLen = %d", n)
	}
}

func TestListpackErrors(t *testing.T) {
	good := ListpackAppend(ListpackAppend(NewListpack(), []byte("ab")), []byte("300"))
	if err := ListpackEach(good, func([]byte) error { return nil }); err != nil {
		t.Fatal(err)
	}
	mod := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), good...)) }
	setTotal := func(b []byte) []byte { binary.LittleEndian.PutUint32(b, uint32(len(b))); return b }
	for name, lp := range map[string][]byte{
		"empty":          {},
		"short":          {6, 0, 0, 0, 0, 0},
		"total bytes":    mod(func(b []byte) []byte { b[0]++; return b }),
		"no terminator":  mod(func(b []byte) []byte { b[len(b)-1] = 0; return b }),
		"count":          mod(func(b []byte) []byte { b[4] = 3; return b }),
		"backlen":        mod(func(b []byte) []byte { b[9] = 4; return b }),
		"bad encoding":   mod(func(b []byte) []byte { b[6] = 0xf5; return b }),
		"string too far": mod(func(b []byte) []byte { b[6] = 0x80 | 20; return b }),
		"early end":      setTotal(append(mod(func(b []byte) []byte { return b[:len(b)-1] }), 0xff, 0xff)),
		"12-bit cut":     setTotal([]byte{0, 0, 0, 0, 1, 0, 0xe0, 0xff}),
		"32-bit cut":     setTotal([]byte{0, 0, 0, 0, 1, 0, 0xf0, 1, 0, 0xff}),
	} {
		if err := ListpackEach(lp, func([]byte) error { return nil }); err == nil {
			t.Errorf("%s: accepted %x", name, lp)
		}
	}
	stop := errors.New("stop")
	if err := ListpackEach(good, func([]byte) error { return stop }); err != stop {
		t.Errorf("callback error: %v", err)
	}
}

func TestZiplist(t *testing.T) {
	elems := [][]byte{}
	for _, v := range []int64{0, 12, 13, -1, 127, -128, 128, 32767, -32769, 8388607, -8388608, 8388608, math.MaxInt32 + 1, math.MinInt64} {
		elems = append(elems, strconv.AppendInt(nil, v, 10))
	}
	for _, n := range []int{0, 63, 64, 250, 253, 254, 16383, 16384} {
		elems = append(elems, bytes.Repeat([]byte{'z'}, n))
	}
	elems = append(elems, []byte("1234567890123456789012345678901234567890"))
	zl := AppendZiplist(nil, elems)
	var back [][]byte
	if err := ZiplistEach(zl, func(e []byte) error {
		back = append(back, append([]byte(nil), e...))
		return nil
	}); err != nil || !equalElems(back, elems) {
		t.Fatalf("round trip: %v %q", err, back)
	}
	// "a" and 1, laid out by hand: header (16 bytes, tail at 13, 2
	// entries), a 1-byte string, the immediate 1, the end.
	if got, want := AppendZiplist(nil, [][]byte{[]byte("a"), []byte("1")}), unhex(t, "100000000d000000020000016103f2ff"); !bytes.Equal(got, want) {
		t.Errorf("ziplist a 1 = %x, want %x", got, want)
	}
	if err := ZiplistEach(AppendZiplist(nil, nil), func([]byte) error { return errors.New("no entries") }); err != nil {
		t.Errorf("empty ziplist: %v", err)
	}

	small := AppendZiplist(nil, [][]byte{[]byte("a"), []byte("bc"), []byte("1")})
	mod := func(f func(b []byte)) []byte { b := append([]byte(nil), small...); f(b); return b }
	for name, bad := range map[string][]byte{
		"empty":         {},
		"total bytes":   mod(func(b []byte) { b[0]++ }),
		"no end":        mod(func(b []byte) { b[len(b)-1] = 0 }),
		"tail":          mod(func(b []byte) { b[4]-- }),
		"tail too far":  mod(func(b []byte) { b[4] = 200 }),
		"count":         mod(func(b []byte) { b[8] = 2 }),
		"prevlen":       mod(func(b []byte) { b[13] = 5 }),
		"first prevlen": mod(func(b []byte) { b[10] = 1 }),
		"encoding":      mod(func(b []byte) { b[11] = 0xc1 }),
		"string length": mod(func(b []byte) { b[11] = 30 }),
	} {
		if err := ZiplistEach(bad, func([]byte) error { return nil }); err == nil {
			t.Errorf("%s: accepted %x", name, bad)
		}
	}
}

func TestIntset(t *testing.T) {
	for _, c := range []struct {
		vals []int64
		dump string // SADD in redis-server 7.0.15, DUMP
	}{
		{[]int64{1, 2, 3}, "0b0e02000000030000000100020003000a00a5025ce26d6e4d1b"},
		{[]int64{1, 100000}, "0b10040000000200000001000000a08601000a00d7b548c007796515"},
		{[]int64{-1, 10000000000}, "0b180800000002000000ffffffffffffffff00e40b54020000000a00f1423a11c4b76ce5"},
	} {
		is := AppendIntset(nil, c.vals)
		got := AppendFooter(AppendString([]byte{TypeSetIntset}, is), 0)
		if want := unhex(t, c.dump); !bytes.Equal(got, want) {
			t.Errorf("%v:\n got %x\nwant %x", c.vals, got, want)
		}
		back, err := Intset(is)
		if err != nil || len(back) != len(c.vals) {
			t.Errorf("%v: read %v %v", c.vals, back, err)
		}
		for i := range back {
			if back[i] != c.vals[i] {
				t.Errorf("%v: read %v", c.vals, back)
			}
		}
	}
	for name, bad := range map[string]string{
		"short":     "0200000001",
		"width":     "030000000100000001",
		"empty":     "0200000000000000",
		"size":      "02000000020000000100",
		"order":     "020000000200000002000100",
		"duplicate": "020000000200000001000100",
		"huge":      "08000000ffffffff0100000000000000",
	} {
		if v, err := Intset(unhex(t, bad)); err == nil {
			t.Errorf("%s: accepted as %v", name, v)
		}
	}
}

func TestZipmap(t *testing.T) {
	kv := [][]byte{[]byte("f"), []byte("v"), []byte("long"), bytes.Repeat([]byte{'L'}, 300), []byte(""), []byte("")}
	zm := AppendZipmap(nil, kv)
	var back [][]byte
	if err := ZipmapEach(zm, func(f, v []byte) error {
		back = append(back, append([]byte(nil), f...), append([]byte(nil), v...))
		return nil
	}); err != nil || !equalElems(back, kv) {
		t.Fatalf("round trip: %v %q", err, back)
	}
	// Free space after a value is skipped.
	withFree := unhex(t, "0101610102"+"62"+"0000"+"ff")
	if err := ZipmapEach(withFree, func(f, v []byte) error {
		if string(f) != "a" || string(v) != "b" {
			t.Errorf("with free space: %q %q", f, v)
		}
		return nil
	}); err != nil {
		t.Errorf("with free space: %v", err)
	}
	for name, bad := range map[string]string{
		"empty":         "00ff",
		"short":         "ff",
		"no end":        "01016101006200",
		"count":         "020161010062ff",
		"field too far": "010961010062ff",
		"value too far": "010161090062ff",
		"free too far":  "010161010962ff",
		"noncanonical":  "01fe0100000061010062ff",
	} {
		if err := ZipmapEach(unhex(t, bad), func(_, _ []byte) error { return nil }); err == nil {
			t.Errorf("%s: accepted %s", name, bad)
		}
	}
}
