package keyspace

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"flag"
	"fmt"
	"hash/maphash"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/schemaproxy/schemaproxy/proto/resp"
)

var zsetSeed = flag.Uint64("zset.seed", 0, "seed of the sorted set property tests (0: from the clock)")

func zseed(t *testing.T) uint64 {
	s := *zsetSeed
	if s == 0 {
		s = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (rerun with -zset.seed=%d)", s, s)
	return s
}

// zenv runs sorted set commands straight on a Store (arity is the command
// table's business and is covered by zsets.txt).
type zenv struct {
	store *Store
	now   int64
	rnd   *rand.Rand
}

func newZEnv() *zenv {
	v := &zenv{now: 1_700_000_000_000, rnd: rand.New(rand.NewPCG(1, 2))}
	v.store = NewStore(1, func() int64 { return v.now })
	return v
}

// do runs one command in protocol proto and returns its reply and the
// Dirty count it left. A single argument is split on spaces.
func (v *zenv) do(proto int, args ...string) (string, int) {
	if len(args) == 1 {
		args = strings.Fields(args[0])
	}
	bs := make([][]byte, len(args))
	for i, a := range args {
		bs[i] = []byte(a)
	}
	h, ok := zsetCommands[strings.ToLower(args[0])]
	if !ok {
		panic("no sorted set command " + args[0])
	}
	c := &Ctx{Store: v.store, DB: v.store.DB(0), Args: bs, W: resp.NewWriter(proto), Now: v.now, Rand: v.rnd}
	h(c)
	// Every command finds small sets packed, as most do on a live store.
	v.store.PackZSets(1 << 30)
	return string(c.W.B), c.Dirty
}

func (v *zenv) setString(key, val string) {
	v.store.DB(0).Set([]byte(key), &Entry{Kind: KindString, Str: []byte(val)}, false)
}

func (v *zenv) zset(t *testing.T, key string) *ZSet {
	t.Helper()
	e := v.store.DB(0).Get([]byte(key), v.now)
	if e == nil {
		return nil
	}
	if e.Kind != KindZSet {
		t.Fatalf("%s is a %s", key, e.Kind)
	}
	z := e.Coll.(*ZSet)
	if z.Len() == 0 {
		t.Fatalf("%s is an empty zset that was not deleted", key)
	}
	if err := z.check(); err != nil {
		t.Fatalf("%s: %v", key, err)
	}
	return z
}

// TestZSetRESP3 compares RESP3 replies with what redis-server 7.0.15 sent
// for the same commands (the differential corpus runs RESP2 only).
func TestZSetRESP3(t *testing.T) {
	v := newZEnv()
	steps := []struct{ cmd, want string }{
		{"zadd z 1 a 2 b 3 c", ":3\r\n"},
		{"zrange z 0 -1 withscores", "*3\r\n*2\r\n$1\r\na\r\n,1\r\n*2\r\n$1\r\nb\r\n,2\r\n*2\r\n$1\r\nc\r\n,3\r\n"},
		{"zrange z 0 -1", "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n"},
		{"zrange z 0 1 rev withscores", "*2\r\n*2\r\n$1\r\nc\r\n,3\r\n*2\r\n$1\r\nb\r\n,2\r\n"},
		{"zrangebyscore z -inf +inf withscores", "*3\r\n*2\r\n$1\r\na\r\n,1\r\n*2\r\n$1\r\nb\r\n,2\r\n*2\r\n$1\r\nc\r\n,3\r\n"},
		{"zrevrangebyscore z +inf -inf withscores limit 1 1", "*1\r\n*2\r\n$1\r\nb\r\n,2\r\n"},
		{"zrevrange z 0 0 withscores", "*1\r\n*2\r\n$1\r\nc\r\n,3\r\n"},
		{"zrange nokey 0 -1 withscores", "*0\r\n"},
		{"zpopmin z 1", "*1\r\n*2\r\n$1\r\na\r\n,1\r\n"},
		{"zpopmax z", "*2\r\n$1\r\nc\r\n,3\r\n"},
		{"zadd z 1 a 3 c", ":2\r\n"},
		{"zpopmin z 0", "*0\r\n"},
		{"zmpop 1 z max count 1", "*2\r\n$1\r\nz\r\n*1\r\n*2\r\n$1\r\nc\r\n,3\r\n"},
		{"zmpop 1 nokey min", "_\r\n"},
		{"zrandmember z 5 withscores", "*2\r\n*2\r\n$1\r\nb\r\n,2\r\n*2\r\n$1\r\na\r\n,1\r\n"},
		{"zrandmember z 5", "*2\r\n$1\r\nb\r\n$1\r\na\r\n"},
		{"zunion 1 z withscores", "*2\r\n*2\r\n$1\r\na\r\n,1\r\n*2\r\n$1\r\nb\r\n,2\r\n"},
		{"zinter 1 z withscores", "*2\r\n*2\r\n$1\r\na\r\n,1\r\n*2\r\n$1\r\nb\r\n,2\r\n"},
		{"zdiff 1 z withscores", "*2\r\n*2\r\n$1\r\na\r\n,1\r\n*2\r\n$1\r\nb\r\n,2\r\n"},
		{"zdiff 1 z", "*2\r\n$1\r\na\r\n$1\r\nb\r\n"},
		{"zscan z 0", "*2\r\n$1\r\n0\r\n*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n"},
		{"zscore z a", ",1\r\n"},
		{"zscore z nosuch", "_\r\n"},
		{"zscore nokey a", "_\r\n"},
		{"zmscore z a nosuch", "*2\r\n,1\r\n_\r\n"},
		{"zrank z nosuch", "_\r\n"},
		{"zrevrank nokey a", "_\r\n"},
		{"zincrby z 0.5 a", ",1.5\r\n"},
		{"zadd z incr 1 a", ",2.5\r\n"},
		{"zadd z xx incr 1 nosuch", "_\r\n"},
		{"zrandmember nokey", "_\r\n"},
		{"zrandmember nokey 3", "*0\r\n"},
		{"zadd i +inf x -inf y", ":2\r\n"},
		{"zrange i 0 -1 withscores", "*2\r\n*2\r\n$1\r\ny\r\n,-inf\r\n*2\r\n$1\r\nx\r\n,inf\r\n"},
		{"zrangestore d z 0 -1", ":2\r\n"},
		{"zunionstore d 1 z", ":2\r\n"},
		{"zintercard 1 z", ":2\r\n"},
		{"zpopmin nokey", "*0\r\n"},
		{"zpopmin nokey 2", "*0\r\n"},
	}
	for _, s := range steps {
		if got, _ := v.do(3, strings.Fields(s.cmd)...); got != s.want {
			t.Errorf("%s:\n got  %q\n want %q", s.cmd, got, s.want)
		}
	}
}

// TestZSetDirty checks that only commands that change something count as
// a change (and bump the key's version), and that emptied keys go away.
func TestZSetDirty(t *testing.T) {
	cases := []struct {
		setup []string
		cmd   string
		dirty bool
		gone  string // key that must not exist afterwards
	}{
		{nil, "zadd z 1 a", true, ""},
		{[]string{"zadd z 1 a"}, "zadd z 1 a", false, ""},
		{[]string{"zadd z 1 a"}, "zadd z nx 2 a", false, ""},
		{[]string{"zadd z 1 a"}, "zadd z gt 0 a", false, ""},
		{[]string{"zadd z 1 a"}, "zadd z xx 2 b", false, ""},
		{nil, "zadd z xx 2 b", false, "z"},
		{[]string{"zadd z 1 a"}, "zadd z 2 a", true, ""},
		{[]string{"zadd z 1 a"}, "zincrby z 0 a", false, ""},
		{[]string{"zadd z 1 a"}, "zincrby z 1 a", true, ""},
		{[]string{"zadd z +inf a"}, "zincrby z -inf a", false, ""},
		{[]string{"zadd z 1 a"}, "zrem z b", false, ""},
		{[]string{"zadd z 1 a 2 b"}, "zrem z b", true, ""},
		{[]string{"zadd z 1 a"}, "zrem z a", true, "z"},
		{[]string{"zadd z 1 a"}, "zremrangebyscore z 2 3", false, ""},
		{[]string{"zadd z 1 a"}, "zremrangebyrank z 0 0", true, "z"},
		{[]string{"zadd z 0 a"}, "zremrangebylex z - +", true, "z"},
		{[]string{"zadd z 1 a"}, "zpopmin z 0", false, ""},
		{[]string{"zadd z 1 a"}, "zpopmax z", true, "z"},
		{[]string{"zadd z 1 a 2 b"}, "zmpop 1 z min", true, ""},
		{[]string{"zadd z 1 a"}, "zrange z 0 -1", false, ""},
		{[]string{"zadd z 1 a"}, "zrandmember z -5", false, ""},
		{[]string{"zadd z 1 a"}, "zunion 1 z", false, ""},
		{[]string{"zadd z 1 a"}, "zscan z 0", false, ""},
		{[]string{"zadd z 1 a"}, "zrangestore d z 0 -1", true, ""},
		{[]string{"zadd z 1 a"}, "zrangestore d z 5 6", false, "d"},
		{[]string{"zadd z 1 a", "zadd d 1 x"}, "zrangestore d z 5 6", true, "d"},
		{[]string{"zadd z 1 a", "zadd d 1 x"}, "zinterstore d 2 z nokey", true, "d"},
		{[]string{"zadd z 1 a"}, "zdiffstore d 1 nokey", false, "d"},
	}
	for _, tc := range cases {
		v := newZEnv()
		for _, s := range tc.setup {
			v.do(2, strings.Fields(s)...)
		}
		before, _ := v.store.DB(0).Version([]byte("z"), v.now)
		reply, dirty := v.do(2, strings.Fields(tc.cmd)...)
		if (dirty > 0) != tc.dirty {
			t.Errorf("%v; %s: dirty %d, want change %v (reply %q)", tc.setup, tc.cmd, dirty, tc.dirty, reply)
		}
		after, _ := v.store.DB(0).Version([]byte("z"), v.now)
		if !tc.dirty && after != before {
			t.Errorf("%v; %s: version of z changed without a change", tc.setup, tc.cmd)
		}
		if tc.gone != "" && v.store.DB(0).Get([]byte(tc.gone), v.now) != nil {
			t.Errorf("%v; %s: %s still exists", tc.setup, tc.cmd, tc.gone)
		}
		v.zset(t, "z")
	}
}

func TestZSetWrongType(t *testing.T) {
	v := newZEnv()
	v.setString("s", "x")
	wrong := "-" + ErrWrongType + "\r\n"
	for _, cmd := range []string{
		"zadd s 1 a", "zincrby s 1 a", "zrem s a", "zcard s", "zcount s 0 1", "zlexcount s - +",
		"zscore s a", "zmscore s a", "zrank s a", "zrevrank s a", "zrange s 0 -1",
		"zrangestore d s 0 -1", "zrevrange s 0 -1", "zrangebyscore s 0 1", "zrevrangebyscore s 1 0",
		"zrangebylex s - +", "zrevrangebylex s + -", "zremrangebyscore s 0 1", "zremrangebyrank s 0 1",
		"zremrangebylex s - +", "zpopmin s", "zpopmax s 0", "zmpop 1 s min", "zrandmember s",
		"zrandmember s 0", "zunion 1 s", "zinter 1 s", "zdiff 1 s", "zintercard 1 s",
		"zunionstore d 1 s", "zinterstore d 1 s", "zdiffstore d 1 s", "zscan s 0",
	} {
		if got, dirty := v.do(2, strings.Fields(cmd)...); got != wrong || dirty != 0 {
			t.Errorf("%s: %q dirty %d", cmd, got, dirty)
		}
	}
	if e := v.store.DB(0).Get([]byte("d"), v.now); e != nil {
		t.Errorf("a failed store created d")
	}
}

// TestZSetEncoding follows Redis's listpack/skiplist choice.
func TestZSetEncoding(t *testing.T) {
	v := newZEnv()
	long := strings.Repeat("x", 65)
	enc := func(key string) string { return v.zset(t, key).Encoding() }
	v.do(2, "zadd a 1 m")
	if enc("a") != "listpack" {
		t.Errorf("small set: %s", enc("a"))
	}
	v.do(2, "zadd b 1 "+long)
	if enc("b") != "skiplist" {
		t.Errorf("long first member: %s", enc("b"))
	}
	v.do(2, "zadd c 1 m 2 "+long)
	if enc("c") != "skiplist" {
		t.Errorf("long later member: %s", enc("c"))
	}
	args := []string{"zadd", "d"}
	for i := 0; i < 128; i++ {
		args = append(args, strconv.Itoa(i), "m"+strconv.Itoa(i))
	}
	v.do(2, args...)
	if enc("d") != "listpack" {
		t.Errorf("128 elements: %s", enc("d"))
	}
	v.do(2, "zadd d 1 one-more")
	if enc("d") != "skiplist" {
		t.Errorf("129 elements: %s", enc("d"))
	}
	v.do(2, "zpopmin d 100")
	if enc("d") != "skiplist" {
		t.Errorf("a skiplist never converts back: %s", enc("d"))
	}
	v.do(2, "zunionstore e 1 d")
	if enc("e") != "listpack" {
		t.Errorf("small union: %s", enc("e"))
	}
	v.do(2, "zrangestore f c 0 -1")
	if enc("f") != "skiplist" {
		t.Errorf("range with a long member: %s", enc("f"))
	}
	v.do(2, "zrangestore f c 0 0")
	if enc("f") != "listpack" {
		t.Errorf("short range: %s", enc("f"))
	}
	if z := v.zset(t, "d").Clone().(*ZSet); z.Encoding() != "skiplist" {
		t.Errorf("clone changed the encoding")
	}
	b := v.zset(t, "d").encode(nil)
	z, err := decodeZSet(b)
	if err != nil || z.Encoding() != "listpack" {
		t.Errorf("reload of a small skiplist: %v %v", err, z)
	}
}

func TestZRandMember(t *testing.T) {
	v := newZEnv()
	args := []string{"zadd", "z"}
	for i := 0; i < 100; i++ {
		args = append(args, strconv.Itoa(i), "m"+strconv.Itoa(i))
	}
	v.do(2, args...)
	for _, n := range []int{1, 10, 33, 34, 60, 99} { // cases 1, 4 and 3
		reply, _ := v.do(2, "zrandmember", "z", strconv.Itoa(n), "withscores")
		vals := zparseArray(t, reply)
		if len(vals) != 2*n {
			t.Fatalf("count %d: %d entries", n, len(vals))
		}
		seen := map[string]bool{}
		for i := 0; i < len(vals); i += 2 {
			m, s := vals[i], vals[i+1]
			if seen[m] {
				t.Errorf("count %d: %s twice", n, m)
			}
			seen[m] = true
			if "m"+s != m {
				t.Errorf("count %d: %s has score %s", n, m, s)
			}
		}
	}
	reply, _ := v.do(2, "zrandmember", "z", "-500")
	if vals := zparseArray(t, reply); len(vals) != 500 {
		t.Errorf("negative count: %d entries", len(vals))
	}
	// Every member comes up, roughly evenly.
	counts := map[string]int{}
	for i := 0; i < 20000; i++ {
		reply, _ := v.do(2, "zrandmember", "z")
		counts[reply]++
	}
	if len(counts) != 100 {
		t.Errorf("%d distinct members drawn", len(counts))
	}
	for m, n := range counts {
		if n < 100 || n > 300 {
			t.Errorf("%q drawn %d times of 20000", m, n)
		}
	}
}

// zparseArray reads a flat RESP2 array of bulk strings.
func zparseArray(t *testing.T, reply string) []string {
	t.Helper()
	val, _, err := resp.Parse([]byte(reply))
	if err != nil {
		t.Fatalf("%q: %v", reply, err)
	}
	var out []string
	for _, e := range val.Elems {
		out = append(out, string(e.Str))
	}
	return out
}

func TestZScanGuarantee(t *testing.T) {
	r := rand.New(rand.NewPCG(zseed(t), 7))
	for round := 0; round < 8; round++ {
		z := newZSet(0)
		z.compact = false
		stable := map[string]bool{}
		for i := 0; i < 50+r.IntN(2000); i++ {
			m := fmt.Sprintf("s%d", i)
			z.add(float64(r.IntN(10)), []byte(m), 0)
			stable[m] = true
		}
		seen := map[string]bool{}
		cursor := uint64(0)
		next := 0
		for calls := 0; ; calls++ {
			if calls > 100000 {
				t.Fatal("scan does not end")
			}
			cursor = z.scan(cursor, func(x *znode) { seen[x.member] = true })
			if cursor == 0 {
				break
			}
			// Grow and shrink the table between calls, never touching
			// the stable members.
			switch r.IntN(3) {
			case 0:
				for k := r.IntN(500); k > 0; k-- {
					z.add(1, []byte(fmt.Sprintf("t%d", next)), 0)
					next++
				}
			case 1:
				for x := z.first(); x != nil; {
					nx := x.next()
					if x.member[0] == 't' && r.IntN(2) == 0 {
						z.remove(x)
					}
					x = nx
				}
			}
		}
		for m := range stable {
			if !seen[m] {
				t.Fatalf("round %d: %s never returned", round, m)
			}
		}
		if err := z.check(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestZScanCommand(t *testing.T) {
	v := newZEnv()
	args := []string{"zadd", "z"}
	for i := 0; i < 1000; i++ {
		args = append(args, strconv.Itoa(i), "m"+strconv.Itoa(i))
	}
	v.do(2, args...)
	seen := map[string]string{}
	cursor := "0"
	for {
		reply, _ := v.do(2, "zscan", "z", cursor, "count", "7", "match", "m1*")
		val, _, err := resp.Parse([]byte(reply))
		if err != nil || len(val.Elems) != 2 {
			t.Fatalf("%q: %v", reply, err)
		}
		cursor = string(val.Elems[0].Str)
		els := val.Elems[1].Elems
		for i := 0; i < len(els); i += 2 {
			seen[string(els[i].Str)] = string(els[i+1].Str)
		}
		if cursor == "0" {
			break
		}
	}
	want := 0
	for i := 0; i < 1000; i++ {
		m := "m" + strconv.Itoa(i)
		if !strings.HasPrefix(m, "m1") {
			continue
		}
		want++
		if seen[m] != strconv.Itoa(i) {
			t.Errorf("%s: %q", m, seen[m])
		}
	}
	if len(seen) != want {
		t.Errorf("%d returned, want %d", len(seen), want)
	}
}

func TestParseScoreBound(t *testing.T) {
	cases := []struct {
		in  string
		v   float64
		ex  bool
		bad bool
	}{
		{"1", 1, false, false},
		{"(1", 1, true, false},
		{"", 0, false, false},
		{"(", 0, true, false},
		{" 1", 1, false, false},
		{"( 1", 1, true, false},
		{"1e999", math.Inf(1), false, false},
		{"-1e999", math.Inf(-1), false, false},
		{"+inf", math.Inf(1), false, false},
		{"(-inf", math.Inf(-1), true, false},
		{"2\x00junk", 2, false, false},
		{"\x00(", 0, false, false},
		{"((1", 0, false, true},
		{"[1", 0, false, true},
		{"1 ", 0, false, true},
		{"nan", 0, false, true},
		{"(nan", 0, false, true},
		{"x", 0, false, true},
	}
	for _, tc := range cases {
		v, ex, ok := parseScoreBound([]byte(tc.in))
		if ok == tc.bad || (ok && (v != tc.v || ex != tc.ex)) {
			t.Errorf("parseScoreBound(%q) = %v, %v, %v", tc.in, v, ex, ok)
		}
	}
}

func TestParseLexBound(t *testing.T) {
	cases := []struct {
		in   string
		want zlexBound
		ex   bool
		bad  bool
	}{
		{"-", zlexBound{kind: lexMinusInf}, true, false},
		{"+", zlexBound{kind: lexPlusInf}, true, false},
		{"+\x00x", zlexBound{kind: lexPlusInf}, true, false},
		{"[a", zlexBound{s: "a"}, false, false},
		{"(a\x00b", zlexBound{s: "a\x00b"}, true, false},
		{"[", zlexBound{s: ""}, false, false},
		{"", zlexBound{}, false, true},
		{"a", zlexBound{}, false, true},
		{"++", zlexBound{}, false, true},
		{"-a", zlexBound{}, false, true},
	}
	for _, tc := range cases {
		v, ex, ok := parseLexBound([]byte(tc.in))
		if ok == tc.bad || (ok && (v != tc.want || ex != tc.ex)) {
			t.Errorf("parseLexBound(%q) = %+v, %v, %v", tc.in, v, ex, ok)
		}
	}
	r, _ := parseLexRange([]byte("-"), []byte("-"))
	if !r.empty() {
		t.Errorf("- - is not empty")
	}
	r, _ = parseLexRange([]byte("-"), []byte("+"))
	if r.empty() || !r.gteMin("") || !r.lteMax("\xff\xff") {
		t.Errorf("- + does not hold everything")
	}
	r, _ = parseLexRange([]byte("[b"), []byte("(b"))
	if !r.empty() {
		t.Errorf("[b (b is not empty")
	}
}

// check verifies the skiplist's links, spans and order, and the hash
// table's contents.
func (z *ZSet) check() error {
	if z.packed { // check what it thaws into; the caller reads it packed
		c := z.Clone().(*ZSet)
		c.thaw()
		if !c.compact || c.packed {
			return fmt.Errorf("thawed set: compact %v packed %v", c.compact, c.packed)
		}
		z = c
	}
	n := 0
	var prev *znode
	maxLevel := 1
	for x := z.first(); x != nil; x = x.next() {
		if x.backward != prev {
			return fmt.Errorf("node %d (%q): wrong backward link", n, x.member)
		}
		if prev != nil && !zless(prev, x.score, x.member) {
			return fmt.Errorf("node %d (%q %v) out of order", n, x.member, x.score)
		}
		if math.IsNaN(x.score) {
			return fmt.Errorf("node %q has a NaN score", x.member)
		}
		if z.compact && x.score == 0 && math.Signbit(x.score) {
			return fmt.Errorf("compact set holds -0 for %q", x.member)
		}
		if z.findString(x.member) != x {
			return fmt.Errorf("node %q is not in the hash table", x.member)
		}
		maxLevel = max(maxLevel, len(x.level))
		prev = x
		n++
	}
	if n != z.length || z.tail != prev {
		return fmt.Errorf("length %d / tail wrong, walked %d", z.length, n)
	}
	if maxLevel != z.level {
		return fmt.Errorf("level %d, highest node %d", z.level, maxLevel)
	}
	// Every span is the level-0 distance to the forward node.
	pos := map[*znode]int{z.header: 0}
	i := 1
	for x := z.first(); x != nil; x = x.next() {
		pos[x] = i
		i++
	}
	for lvl := 0; lvl < z.level; lvl++ {
		for x := z.header; x != nil; x = x.level[lvl].forward {
			want := z.length - pos[x]
			if f := x.level[lvl].forward; f != nil {
				want = pos[f] - pos[x]
			}
			if x.level[lvl].span != want {
				return fmt.Errorf("level %d span at rank %d is %d, want %d", lvl, pos[x], x.level[lvl].span, want)
			}
		}
	}
	chained := 0
	for b, x := range z.buckets {
		for ; x != nil; x = x.chain {
			if z.bucket(maphash.String(zsetHashSeed, x.member)) != b {
				return fmt.Errorf("%q in bucket %d", x.member, b)
			}
			chained++
		}
	}
	if chained != z.length {
		return fmt.Errorf("hash table holds %d, list %d", chained, z.length)
	}
	return nil
}

// zmodel is the reference: a slice kept sorted by (score, member).
type zmodel []zpair

func (m zmodel) find(member string) int {
	for i, p := range m {
		if p.member == member {
			return i
		}
	}
	return -1
}

func (m *zmodel) set(member string, score float64) {
	if i := m.find(member); i >= 0 {
		*m = slices.Delete(*m, i, i+1)
	}
	*m = append(*m, zpair{member, score})
	slices.SortFunc(*m, func(a, b zpair) int {
		if a.score != b.score {
			return cmp.Compare(a.score, b.score)
		}
		return strings.Compare(a.member, b.member)
	})
}

func zmodelEqual(z *ZSet, m zmodel) error {
	if err := z.check(); err != nil {
		return err
	}
	if z.Len() != len(m) {
		return fmt.Errorf("length %d, model %d", z.Len(), len(m))
	}
	i := 0
	var err error
	z.Range(func(member string, score float64) bool {
		if member != m[i].member || score != m[i].score {
			err = fmt.Errorf("rank %d: %q %v, model %q %v", i, member, score, m[i].member, m[i].score)
		}
		i++
		return err == nil
	})
	for _, x := range m {
		if score, ok := z.Score([]byte(x.member)); !ok || score != x.score {
			return fmt.Errorf("Score(%q) = %v %v, model %v", x.member, score, ok, x.score)
		}
	}
	return err
}

var zmodelScores = []float64{math.Inf(-1), -1, math.Copysign(0, -1), 0, 0.5, 1, 2, 1e300, math.Inf(1)}

// TestZSetModel runs random operations on a ZSet and on the sorted-slice
// model and compares them after each.
func TestZSetModel(t *testing.T) {
	seed := zseed(t)
	r := rand.New(rand.NewPCG(seed, 1))
	for round := 0; round < 100; round++ {
		z := newZSet(uint64(round))
		var m zmodel
		alphabet := 5 + r.IntN(300)
		member := func() string {
			if r.IntN(50) == 0 {
				return strings.Repeat("L", 70) + strconv.Itoa(r.IntN(alphabet))
			}
			return "m" + strconv.Itoa(r.IntN(alphabet))
		}
		score := func() float64 { return zmodelScores[r.IntN(len(zmodelScores))] }
		for step := 0; step < 1000; step++ {
			op := r.IntN(10)
			switch op {
			case 0, 1, 2, 3: // ZADD with random flags
				flags := []int{0, zaddNX, zaddXX, zaddGT, zaddLT, zaddIncr, zaddXX | zaddGT}[r.IntN(7)]
				mem, s := member(), score()
				res, newscore := z.add(s, []byte(mem), flags)
				i := m.find(mem)
				want := s
				switch {
				case i >= 0 && flags&zaddNX != 0, i < 0 && flags&zaddXX != 0:
					if res != zaddNop {
						t.Fatalf("seed %d: add %q %v flags %d on existing=%v: %v", seed, mem, s, flags, i >= 0, res)
					}
					continue
				case i >= 0:
					cur := m[i].score
					if flags&zaddIncr != 0 {
						want += cur
					}
					if math.IsNaN(want) {
						if res != zaddNaN {
							t.Fatalf("seed %d: NaN not reported", seed)
						}
						continue
					}
					if (flags&zaddLT != 0 && want >= cur) || (flags&zaddGT != 0 && want <= cur) {
						if res != zaddNop {
							t.Fatalf("seed %d: GT/LT not respected", seed)
						}
						continue
					}
					if want == cur {
						if res != zaddSame {
							t.Fatalf("seed %d: same score gave %v", seed, res)
						}
						continue
					}
					if res != zaddUpdated || newscore != want {
						t.Fatalf("seed %d: update gave %v %v", seed, res, newscore)
					}
				default:
					if res != zaddAdded || newscore != want {
						t.Fatalf("seed %d: insert gave %v %v", seed, res, newscore)
					}
				}
				m.set(mem, want)
			case 4: // ZREM
				mem := member()
				if x := z.find([]byte(mem)); x != nil {
					z.remove(x)
				}
				if i := m.find(mem); i >= 0 {
					m = slices.Delete(m, i, i+1)
				}
			case 5: // remove a rank range
				if len(m) == 0 {
					continue
				}
				a := r.IntN(len(m))
				k := 1 + r.IntN(min(len(m)-a, 10))
				if got := z.removeRun(z.byRank(a+1), k, nil); got != k {
					t.Fatalf("seed %d: removed %d of rank run %d", seed, got, k)
				}
				m = slices.Delete(m, a, a+k)
			case 6: // remove a score range
				rg := zscoreRange{min: score(), max: score(), minex: r.IntN(2) == 0, maxex: r.IntN(2) == 0}
				got := z.removeRun(z.firstInScore(&rg), -1, func(x *znode) bool { return rg.lteMax(x.score) })
				n := len(m)
				m = slices.DeleteFunc(m, func(p zpair) bool { return rg.gteMin(p.score) && rg.lteMax(p.score) })
				if got != n-len(m) {
					t.Fatalf("seed %d: removed %d by score, model %d", seed, got, n-len(m))
				}
			case 7: // ranks and rank lookups
				for i, p := range m {
					x := z.byRank(i + 1)
					if x == nil || x.member != p.member {
						t.Fatalf("seed %d: byRank(%d)", seed, i+1)
					}
					if got := z.rank(x); got != i+1 {
						t.Fatalf("seed %d: rank(%q) = %d, want %d", seed, p.member, got, i+1)
					}
				}
			case 8: // score range queries
				rg := zscoreRange{min: score(), max: score(), minex: r.IntN(2) == 0, maxex: r.IntN(2) == 0}
				lo, hi := -1, -1
				for i, p := range m {
					if rg.gteMin(p.score) && rg.lteMax(p.score) {
						if lo < 0 {
							lo = i
						}
						hi = i
					}
				}
				f, l := z.firstInScore(&rg), z.lastInScore(&rg)
				if (lo < 0) != (f == nil) || (lo < 0) != (l == nil) ||
					(lo >= 0 && (f.member != m[lo].member || l.member != m[hi].member)) {
					t.Fatalf("seed %d: range %+v: first %v last %v, model %d..%d", seed, rg, f, l, lo, hi)
				}
			case 9: // clone and round trip, packed and expanded again
				c := z.Clone().(*ZSet)
				if err := zmodelEqual(c, m); err != nil {
					t.Fatalf("seed %d: clone: %v", seed, err)
				}
				z.pack()
				if z.packed != (z.compact && len(m) > 0) {
					t.Fatalf("seed %d: packed %v, compact %v, %d elements", seed, z.packed, z.compact, len(m))
				}
				if err := zmodelEqual(z, m); err != nil {
					t.Fatalf("seed %d: packed: %v", seed, err)
				}
				if pc := z.Clone().(*ZSet); pc.packed != z.packed || zmodelEqual(pc, m) != nil {
					t.Fatalf("seed %d: clone of packed differs", seed)
				}
				z.thaw()
				if len(m) > 0 {
					d, err := decodeZSet(z.encode(nil))
					if err != nil {
						t.Fatalf("seed %d: decode: %v", seed, err)
					}
					if err := zmodelEqual(d, m); err != nil {
						t.Fatalf("seed %d: decode: %v", seed, err)
					}
				}
			}
			if err := zmodelEqual(z, m); err != nil {
				t.Fatalf("seed %d round %d step %d op %d: %v", seed, round, step, op, err)
			}
		}
	}
}

// TestZSetLexModel checks lex ranges on equal scores in both encodings
// against a linear scan.
func TestZSetLexModel(t *testing.T) {
	seed := zseed(t)
	r := rand.New(rand.NewPCG(seed, 2))
	bound := func() []byte {
		switch r.IntN(8) {
		case 0:
			return []byte("-")
		case 1:
			return []byte("+")
		}
		b := []byte{"[("[r.IntN(2)]}
		for k := r.IntN(3); k > 0; k-- {
			b = append(b, 'a'+byte(r.IntN(4)))
		}
		return b
	}
	for round := 0; round < 200; round++ {
		z := newZSet(uint64(round))
		z.compact = round%2 == 0
		var members []string
		for k := r.IntN(60); k > 0; k-- {
			var b []byte
			for n := r.IntN(4); n > 0; n-- {
				b = append(b, 'a'+byte(r.IntN(4)))
			}
			if res, _ := z.add(0, b, zaddNX); res == zaddAdded {
				members = append(members, string(b))
			}
		}
		slices.Sort(members)
		for q := 0; q < 20; q++ {
			rg, ok := parseLexRange(bound(), bound())
			if !ok {
				t.Fatal("bad bound")
			}
			var in []string
			for _, m := range members {
				if !rg.empty() && rg.gteMin(m) && rg.lteMax(m) {
					in = append(in, m)
				}
			}
			if got := z.lexCount(&rg); got != len(in) {
				t.Fatalf("seed %d: lexCount %+v = %d, want %d", seed, rg, got, len(in))
			}
			f, l := z.firstInLex(&rg), z.lastInLex(&rg)
			if (f == nil) != (len(in) == 0) || (l == nil) != (len(in) == 0) ||
				(f != nil && (f.member != in[0] || l.member != in[len(in)-1])) {
				t.Fatalf("seed %d: first/last of %+v", seed, rg)
			}
		}
		rg, _ := parseLexRange(bound(), bound())
		c := z.Clone().(*ZSet)
		got := c.removeRun(c.lexDeleteStart(&rg), -1, func(x *znode) bool { return rg.lteMax(x.member) })
		if want := z.lexCount(&rg); got != want {
			t.Fatalf("seed %d: removed %d by lex, want %d", seed, got, want)
		}
		if err := c.check(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestZSetEncode(t *testing.T) {
	z := newZSet(0)
	for i, m := range []string{"", "a", "bin\x00", strings.Repeat("x", 300)} {
		z.add(float64(i)-1.5, []byte(m), 0)
	}
	z.add(math.Inf(1), []byte("top"), 0)
	b := z.encode(nil)
	d, err := decodeZSet(b)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.check(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(d.encode(nil), b) || d.Encoding() != "skiplist" {
		t.Fatalf("round trip differs")
	}
	e, err := DecodeValue(EncodeValue(nil, &Entry{Kind: KindZSet, Coll: z}))
	if err != nil || e.Coll.(*ZSet).Len() != z.Len() {
		t.Fatalf("DecodeValue: %v", err)
	}
	entry := func(m string, s float64) []byte {
		b := appendBytes(nil, []byte(m))
		return binary.LittleEndian.AppendUint64(b, math.Float64bits(s))
	}
	corrupt := map[string][]byte{
		"empty":     nil,
		"short":     append([]byte{1}, appendBytes(nil, []byte("a"))...),
		"nan":       append([]byte{1}, entry("a", math.NaN())...),
		"dup":       append(append([]byte{2}, entry("a", 1)...), entry("a", 2)...),
		"unordered": append(append([]byte{2}, entry("b", 1)...), entry("a", 1)...),
		"trailing":  append(append([]byte{1}, entry("a", 1)...), 0),
		"count":     append([]byte{3}, entry("a", 1)...),
	}
	for name, b := range corrupt {
		if _, err := decodeZSet(b); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestZSetClone(t *testing.T) {
	v := newZEnv()
	v.do(2, "zadd", "z", "1", "a", "2", "b", "3", "c")
	z := v.zset(t, "z")
	c := z.Clone().(*ZSet)
	v.do(2, "zadd", "z", "10", "a", "4", "d")
	v.do(2, "zrem", "z", "b")
	if err := zmodelEqual(c, zmodel{{"a", 1}, {"b", 2}, {"c", 3}}); err != nil {
		t.Fatal(err)
	}
}

func TestZSetExpired(t *testing.T) {
	v := newZEnv()
	v.do(2, "zadd", "z", "1", "a")
	e := v.store.DB(0).Get([]byte("z"), v.now)
	v.store.DB(0).SetExpire(e, v.now+10)
	v.now += 10
	if got, _ := v.do(2, "zcard", "z"); got != ":0\r\n" {
		t.Errorf("expired key: %q", got)
	}
	if got, _ := v.do(2, "zadd", "z", "xx", "1", "a"); got != ":0\r\n" {
		t.Errorf("xx on expired key: %q", got)
	}
}

func FuzzDecodeZSet(f *testing.F) {
	z := newZSet(0)
	for i, m := range []string{"a", "b", "c"} {
		z.add(float64(i), []byte(m), 0)
	}
	f.Add(z.encode(nil))
	f.Add([]byte{})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := decodeZSet(b)
		if err != nil {
			return
		}
		if err := d.check(); err != nil {
			t.Fatal(err)
		}
		if d.Len() > 0 && !bytes.Equal(d.encode(nil), b) {
			// Only -0 may change, when the set is compact.
			if _, err := decodeZSet(d.encode(nil)); err != nil {
				t.Fatal(err)
			}
		}
	})
}

func BenchmarkZAdd(b *testing.B) {
	z := newZSet(0)
	var buf [16]byte
	for i := 0; i < b.N; i++ {
		m := strconv.AppendInt(buf[:0], int64(i%100000), 10)
		z.add(float64(i%1000), m, 0)
	}
}

// TestZSetPackedAtRest: a small set a command expanded is packed by the
// store's next PackZSets, costs less then, and reads and writes on it as
// before; a large one, or one whose key went away, is left alone; the
// budget bounds one call.
func TestZSetPackedAtRest(t *testing.T) {
	v := newZEnv()
	db := v.store.DB(0)
	v.do(2, "ZADD z 1 a 2 b 3 c")
	z := v.zset(t, "z")
	if !z.packed {
		t.Fatal("small set not packed after PackZSets")
	}
	packedUsed := db.Used()
	c := &Ctx{Store: v.store, DB: db, Now: v.now, Rand: v.rnd}
	c.noteZSet([]byte("z"), db.Peek("z"))
	db.account(db.Peek("z"))
	if z.packed || db.Used() <= packedUsed {
		t.Fatalf("expanded: packed %v, used %d (packed %d)", z.packed, db.Used(), packedUsed)
	}
	v.store.PackZSets(1 << 30)
	if !z.packed || db.Used() != packedUsed {
		t.Fatalf("packed again: packed %v, used %d, want %d", z.packed, db.Used(), packedUsed)
	}
	if got, _ := v.do(2, "ZRANGE z 0 -1 WITHSCORES"); got != "*6\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n" {
		t.Fatalf("ZRANGE of a packed set: %q", got)
	}
	// A set Redis keeps as a skiplist stays one.
	args := []string{"ZADD", "big"}
	for i := range 200 {
		args = append(args, strconv.Itoa(i), "m"+strconv.Itoa(i))
	}
	v.do(2, args...)
	if b := v.zset(t, "big"); b.packed || b.compact {
		t.Fatalf("200 members: packed %v compact %v", b.packed, b.compact)
	}
	// A key deleted or replaced before the pass is not packed through a
	// stale reference.
	c.noteZSet([]byte("z"), db.Peek("z"))
	v.store.expanded = append(v.store.expanded[:0], zsetRef{db: db, key: "z", e: &Entry{Kind: KindZSet, Coll: z}})
	v.store.PackZSets(1 << 30)
	if z.packed {
		t.Fatal("packed through an entry that is not the key's")
	}
	// The budget: two sets of 3 with a budget of 1 take two calls.
	v.do(2, "ZADD y 1 a 2 b 3 c")
	for _, k := range []string{"y", "z"} {
		c.noteZSet([]byte(k), db.Peek(k))
	}
	v.store.PackZSets(1)
	if n := len(v.store.expanded); n != 1 {
		t.Fatalf("%d sets left after a budget of 1, want 1", n)
	}
	v.store.PackZSets(1)
	if !v.zset(t, "y").packed || !v.zset(t, "z").packed || len(v.store.expanded) != 0 {
		t.Fatal("not every set packed after two calls")
	}
}
