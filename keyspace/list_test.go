package keyspace

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/schemaproxy/schemaproxy/proto/resp"
)

var listSeed = flag.Uint64("list.seed", 0, "seed of TestListModel (0: from the clock)")

// listEnv runs list commands straight on a Store, without the command
// table (arity is the table's business and is covered by lists.txt).
type listEnv struct {
	store *Store
	now   int64
}

func newListEnv() *listEnv {
	v := &listEnv{now: 1_700_000_000_000}
	v.store = NewStore(1, func() int64 { return v.now })
	return v
}

// do runs one command in protocol proto and returns its reply and the
// Dirty count it left.
func (v *listEnv) do(proto int, args ...string) (string, int) {
	bs := make([][]byte, len(args))
	for i, a := range args {
		bs[i] = []byte(a)
	}
	return v.doBytes(proto, bs)
}

func (v *listEnv) doBytes(proto int, bs [][]byte) (string, int) {
	h, ok := listCommands[strings.ToLower(string(bs[0]))]
	if !ok {
		panic("no list command " + string(bs[0]))
	}
	c := &Ctx{Store: v.store, DB: v.store.DB(0), Args: bs, W: resp.NewWriter(proto),
		Now: v.now, Rand: rand.New(rand.NewPCG(1, 2))}
	h(c)
	return string(c.W.B), c.Dirty
}

// setString stores a string value, for WRONGTYPE cases.
func (v *listEnv) setString(key, val string) {
	v.store.DB(0).Set([]byte(key), &Entry{Kind: KindString, Str: []byte(val)}, false)
}

// contents returns the elements of list key, or nil when the key is absent.
func (v *listEnv) contents(t *testing.T, key string) []string {
	t.Helper()
	e := v.store.DB(0).Get([]byte(key), v.now)
	if e == nil {
		return nil
	}
	if e.Kind != KindList {
		t.Fatalf("%s is a %s", key, e.Kind)
	}
	l := e.Coll.(*List)
	if l.Len() == 0 {
		t.Fatalf("%s is an empty list that was not deleted", key)
	}
	out := make([]string, l.Len())
	for i := range out {
		out[i] = string(l.At(i))
	}
	return out
}

func bulks(xs ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(xs))
	for _, x := range xs {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(x), x)
	}
	return b.String()
}

// TestListCommands checks replies the differential corpus cannot: RESP3
// nulls, and a few sequences with their resulting contents.
func TestListCommands(t *testing.T) {
	type step struct {
		args  string // split on spaces
		proto int    // 2 unless set
		want  string
	}
	cases := []struct {
		name  string
		steps []step
		after map[string][]string // key contents afterwards (nil: absent)
	}{
		{"resp3 nulls", []step{
			{args: "LPOP nokey", proto: 3, want: "_\r\n"},
			{args: "LPOP nokey 2", proto: 3, want: "_\r\n"},
			{args: "RPOP nokey 2", want: "*-1\r\n"},
			{args: "LINDEX nokey 0", proto: 3, want: "_\r\n"},
			{args: "LPOS nokey a", proto: 3, want: "_\r\n"},
			{args: "LMPOP 2 a b LEFT", proto: 3, want: "_\r\n"},
			{args: "LMPOP 2 a b LEFT", want: "*-1\r\n"},
			{args: "RPOPLPUSH a b", proto: 3, want: "_\r\n"},
			{args: "LMOVE a b LEFT LEFT", want: "$-1\r\n"},
		}, map[string][]string{"nokey": nil, "a": nil, "b": nil}},
		{"pushes", []step{
			{args: "RPUSH l a b", want: ":2\r\n"},
			{args: "LPUSH l c d", want: ":4\r\n"},
			{args: "RPUSHX l e", want: ":5\r\n"},
			{args: "LPUSHX m e", want: ":0\r\n"},
		}, map[string][]string{"l": {"d", "c", "a", "b", "e"}, "m": nil}},
		{"rpop count order", []step{
			{args: "RPUSH l a b c d", want: ":4\r\n"},
			{args: "RPOP l 3", want: bulks("d", "c", "b")},
			{args: "LPOP l 0", want: "*0\r\n"},
		}, map[string][]string{"l": {"a"}}},
		{"lmpop right", []step{
			{args: "RPUSH l a b c", want: ":3\r\n"},
			{args: "LMPOP 2 x l RIGHT COUNT 2", want: "*2\r\n$1\r\nl\r\n" + bulks("c", "b")},
			{args: "LMPOP 1 l RIGHT COUNT 2", want: "*2\r\n$1\r\nl\r\n" + bulks("a")},
		}, map[string][]string{"l": nil}},
		{"rotation", []step{
			{args: "RPUSH l a b c", want: ":3\r\n"},
			{args: "LMOVE l l LEFT RIGHT", want: "$1\r\na\r\n"},
			{args: "RPOPLPUSH l l", want: "$1\r\na\r\n"},
			{args: "LMOVE l l RIGHT RIGHT", want: "$1\r\nc\r\n"},
		}, map[string][]string{"l": {"a", "b", "c"}}},
		{"lrem both ways", []step{
			{args: "RPUSH l x a x b x c x", want: ":7\r\n"},
			{args: "LREM l 2 x", want: ":2\r\n"},
			{args: "LREM l -1 x", want: ":1\r\n"},
		}, map[string][]string{"l": {"a", "b", "x", "c"}}},
		{"linsert", []step{
			{args: "RPUSH l a b c", want: ":3\r\n"},
			{args: "LINSERT l AFTER c d", want: ":4\r\n"},
			{args: "LINSERT l BEFORE a z", want: ":5\r\n"},
			{args: "LINSERT l AFTER q z", want: ":-1\r\n"},
			{args: "LINSERT m AFTER q z", want: ":0\r\n"},
		}, map[string][]string{"l": {"z", "a", "b", "c", "d"}}},
		{"ltrim empties", []step{
			{args: "RPUSH l a b c", want: ":3\r\n"},
			{args: "LTRIM l 5 9", want: "+OK\r\n"},
		}, map[string][]string{"l": nil}},
		{"lpos", []step{
			{args: "RPUSH l a b a b a", want: ":5\r\n"},
			{args: "LPOS l a RANK -1 COUNT 2", want: "*2\r\n:4\r\n:2\r\n"},
			{args: "LPOS l b COUNT 0 MAXLEN 2", want: "*1\r\n:1\r\n"},
			{args: "LPOS l a RANK 2", want: ":2\r\n"},
		}, map[string][]string{"l": {"a", "b", "a", "b", "a"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := newListEnv()
			for _, s := range tc.steps {
				proto := s.proto
				if proto == 0 {
					proto = 2
				}
				got, _ := v.do(proto, strings.Split(s.args, " ")...)
				if got != s.want {
					t.Errorf("%s (RESP%d): got %q, want %q", s.args, proto, got, s.want)
				}
			}
			for key, want := range tc.after {
				if got := v.contents(t, key); !slices.Equal(got, want) {
					t.Errorf("%s = %q, want %q", key, got, want)
				}
			}
		})
	}
}

// TestListDirty checks that writes count as changes and bump the key's
// version, and that reads and no-op writes do neither.
func TestListDirty(t *testing.T) {
	cases := []struct {
		args    string
		changes bool
	}{
		{"LLEN l", false},
		{"LINDEX l 0", false},
		{"LRANGE l 0 -1", false},
		{"LPOS l a COUNT 0", false},
		{"LPUSHX nokey a", false},
		{"LPOP nokey", false},
		{"LPOP l 0", false},
		{"LREM l 0 zz", false},
		{"LINSERT l BEFORE zz a", false},
		{"LTRIM l 0 -1", false},
		{"LTRIM nokey 0 0", false},
		{"LSET l 9 x", false},
		{"RPOPLPUSH nokey l", false},
		{"LMOVE l s LEFT LEFT", false}, // s holds a string
		{"LMPOP 1 nokey LEFT", false},
		{"LPOP l 1 2", false},
		{"LPUSH l a", true},
		{"RPUSHX l a", true},
		{"LPOP l", true},
		{"RPOP l 2", true},
		{"LSET l 0 x", true},
		{"LTRIM l 1 -1", true},
		{"LREM l 1 a", true},
		{"LINSERT l AFTER a z", true},
		{"LMOVE l l LEFT RIGHT", true},
		{"RPOPLPUSH l l", true},
		{"LMPOP 1 l LEFT", true},
	}
	for _, tc := range cases {
		t.Run(tc.args, func(t *testing.T) {
			v := newListEnv()
			v.do(2, "RPUSH", "l", "a", "b", "a", "c")
			v.setString("s", "str")
			before, _ := v.store.DB(0).Version([]byte("l"), v.now)
			_, dirty := v.do(2, strings.Split(tc.args, " ")...)
			after, _ := v.store.DB(0).Version([]byte("l"), v.now)
			if got := dirty > 0; got != tc.changes {
				t.Errorf("dirty = %d, want changes=%v", dirty, tc.changes)
			}
			if got := after != before; got != tc.changes {
				t.Errorf("version %d -> %d, want changes=%v", before, after, tc.changes)
			}
		})
	}
}

// TestListKeepsCopies checks that the list does not alias argument buffers,
// which the caller reuses for the next command.
func TestListKeepsCopies(t *testing.T) {
	v := newListEnv()
	args := [][]byte{[]byte("RPUSH"), []byte("l"), []byte("aa"), []byte("bb")}
	v.doBytes(2, args)
	v.doBytes(2, [][]byte{[]byte("LPUSHX"), []byte("l"), []byte("cc")})
	v.doBytes(2, [][]byte{[]byte("LSET"), []byte("l"), []byte("1"), []byte("dd")})
	ins := [][]byte{[]byte("LINSERT"), []byte("l"), []byte("AFTER"), []byte("bb"), []byte("ee")}
	v.doBytes(2, ins)
	for _, bs := range [][][]byte{args, ins} {
		for _, b := range bs {
			for i := range b {
				b[i] = '#'
			}
		}
	}
	if got, want := v.contents(t, "l"), []string{"cc", "dd", "bb", "ee"}; !slices.Equal(got, want) {
		t.Fatalf("l = %q, want %q", got, want)
	}
}

// TestListExpired checks that an expired list counts as missing.
func TestListExpired(t *testing.T) {
	v := newListEnv()
	v.do(2, "RPUSH", "l", "a", "b")
	e := v.store.DB(0).Get([]byte("l"), v.now)
	v.store.DB(0).SetExpire(e, v.now+10)
	if got, _ := v.do(2, "LLEN", "l"); got != ":2\r\n" {
		t.Fatalf("LLEN before expiry = %q", got)
	}
	v.now += 10
	for _, tc := range []struct{ args, want string }{
		{"LLEN l", ":0\r\n"},
		{"LPUSHX l x", ":0\r\n"},
		{"LSET l 0 x", "-ERR no such key\r\n"},
		{"RPUSH l c", ":1\r\n"},
	} {
		if got, _ := v.do(2, strings.Split(tc.args, " ")...); got != tc.want {
			t.Errorf("%s = %q, want %q", tc.args, got, tc.want)
		}
	}
	if e := v.store.DB(0).Get([]byte("l"), v.now); e == nil || e.ExpireAt != 0 {
		t.Fatalf("recreated list: %+v", e)
	}
}

// TestListWrongTypeLeavesSource checks that a move to a non-list
// destination pops nothing.
func TestListWrongTypeLeavesSource(t *testing.T) {
	v := newListEnv()
	v.do(2, "RPUSH", "l", "a", "b")
	v.setString("s", "x")
	for _, args := range []string{"RPOPLPUSH l s", "LMOVE l s LEFT RIGHT"} {
		got, dirty := v.do(2, strings.Split(args, " ")...)
		if got != "-"+ErrWrongType+"\r\n" || dirty != 0 {
			t.Errorf("%s = %q (dirty %d)", args, got, dirty)
		}
	}
	if got := v.contents(t, "l"); !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("l = %q", got)
	}
}

func listOf(xs ...string) *List {
	l := &List{}
	for _, x := range xs {
		l.PushBack([]byte(x))
	}
	return l
}

func listStrings(l *List) []string {
	out := make([]string, l.Len())
	for i := range out {
		out[i] = string(l.At(i))
	}
	return out
}

func TestListEncode(t *testing.T) {
	for _, xs := range [][]string{
		{"a"},
		{"", "\x00", "a\x00b", strings.Repeat("x", 300)},
		strings.Split(strings.Repeat("e,", 1000), ","),
	} {
		l := listOf(xs...)
		e := &Entry{Kind: KindList, Coll: l}
		got, err := DecodeValue(EncodeValue(nil, e))
		if err != nil {
			t.Fatalf("%d elements: %v", len(xs), err)
		}
		if !slices.Equal(listStrings(got.Coll.(*List)), xs) {
			t.Fatalf("round trip of %d elements differs", len(xs))
		}
	}
	good := listOf("ab", "c").encode(nil)
	for name, b := range map[string][]byte{
		"empty":         nil,
		"zero count":    {0},
		"truncated":     good[:len(good)-1],
		"trailing":      append(slices.Clip(good), 'x'),
		"count too big": {0xff, 0xff, 0xff, 0xff, 0x0f, 1, 'a'},
		"len too big":   {1, 5, 'a'},
		"bad varint":    {0x80},
	} {
		if l, err := decodeList(b); err == nil && l.Len() > 0 {
			t.Errorf("%s: decoded %q", name, listStrings(l))
		}
	}
}

// TestListDecodeCopies checks that decode does not alias its input.
func TestListDecodeCopies(t *testing.T) {
	b := listOf("abc", "de").encode(nil)
	l, err := decodeList(b)
	if err != nil {
		t.Fatal(err)
	}
	for i := range b {
		b[i] = 0
	}
	if got := listStrings(l); !slices.Equal(got, []string{"abc", "de"}) {
		t.Fatalf("decoded list changed with its input: %q", got)
	}
}

func TestListClone(t *testing.T) {
	l := listOf("a", "b", "c")
	l.PopFront()
	l.PushBack([]byte("d")) // wraps around the ring
	c := l.Clone().(*List)
	l.Set(0, []byte("X"))
	l.PushFront([]byte("Y"))
	l.At(1)[0] = 'Z'
	if got := listStrings(c); !slices.Equal(got, []string{"b", "c", "d"}) {
		t.Fatalf("clone = %q", got)
	}
	c.PushBack([]byte("e")) // the clone is a working list
	if got := listStrings(c); !slices.Equal(got, []string{"b", "c", "d", "e"}) {
		t.Fatalf("clone after push = %q", got)
	}
}

// TestListShrinks checks that a list gives memory back after pops.
func TestListShrinks(t *testing.T) {
	l := &List{}
	for i := range 10000 {
		l.PushBack([]byte{byte(i)})
	}
	for l.Len() > 10 {
		l.PopFront()
	}
	if c := l.cost(); c > 2*listNodeBytes {
		t.Fatalf("%d bytes for %d elements", c, l.Len())
	}
	for i := range 1000 {
		l.PushFront([]byte{byte(i)})
	}
	l.Trim(500, 505)
	if c := l.cost(); l.Len() != 5 || c > 2*listNodeBytes {
		t.Fatalf("after trim: %d elements, %d bytes", l.Len(), c)
	}
}

// TestListModel runs random operations on a List and on a plain slice and
// requires the same contents after each.
func TestListModel(t *testing.T) {
	seed := *listSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (rerun with -list.seed=%d)", seed, seed)
	rnd := rand.New(rand.NewPCG(seed, seed))
	l := &List{}
	var model []string
	// Mostly one letter; now and then long, so the list spans many nodes
	// and an element may fill one alone.
	elem := func() string {
		x := string(rune('a' + rnd.IntN(4)))
		if rnd.IntN(8) == 0 {
			x = strings.Repeat(x, rnd.IntN(2*listNodeBytes))
		}
		return x
	}
	for step := range 20000 {
		n := len(model)
		var op string
		switch r := rnd.IntN(100); {
		case r < 20 || n == 0 && r < 50:
			x := elem()
			op = "pushfront " + x
			l.PushFront([]byte(x))
			model = slices.Insert(model, 0, x)
		case r < 40 || n == 0:
			x := elem()
			op = "pushback " + x
			l.PushBack([]byte(x))
			model = append(model, x)
		case r < 52:
			op = "popfront"
			if got := string(l.PopFront()); got != model[0] {
				t.Fatalf("step %d: popfront = %q, want %q", step, got, model[0])
			}
			model = model[1:]
		case r < 64:
			op = "popback"
			if got := string(l.PopBack()); got != model[n-1] {
				t.Fatalf("step %d: popback = %q, want %q", step, got, model[n-1])
			}
			model = model[:n-1]
		case r < 72:
			i, x := rnd.IntN(n), elem()
			op = fmt.Sprintf("set %d %s", i, x)
			l.Set(i, []byte(x))
			model[i] = x
		case r < 84:
			i, x := rnd.IntN(n+1), elem()
			op = fmt.Sprintf("insert %d %s", i, x)
			l.Insert(i, []byte(x))
			model = slices.Insert(model, i, x)
		case r < 88:
			front := rnd.IntN(n/4 + 1)
			back := rnd.IntN(n - front + 1)
			if back > n/4 {
				back = n / 4
			}
			op = fmt.Sprintf("trim %d %d", front, back)
			l.Trim(front, back)
			model = model[front : n-back]
		case r < 92 && n > 0:
			from := rnd.IntN(n)
			to := from + rnd.IntN(n-from)
			op = fmt.Sprintf("range %d %d", from, to)
			var fwd, back []string
			l.Range(from, to, func(i int, x []byte) bool {
				if i != from+len(fwd) {
					t.Fatalf("step %d: %s gave index %d", step, op, i)
				}
				fwd = append(fwd, string(x))
				return true
			})
			l.RangeReverse(from, to, func(i int, x []byte) bool {
				if i != to-len(back) {
					t.Fatalf("step %d: %s reversed gave index %d", step, op, i)
				}
				back = append(back, string(x))
				return true
			})
			slices.Reverse(back)
			if !slices.Equal(fwd, model[from:to+1]) || !slices.Equal(back, fwd) {
				t.Fatalf("step %d: %s differs", step, op)
			}
		case r < 96:
			x, limit, fromTail := elem(), rnd.IntN(4), rnd.IntN(2) == 0
			op = fmt.Sprintf("remove %s %d %v", x, limit, fromTail)
			got := l.Remove([]byte(x), limit, fromTail)
			want := modelRemove(&model, x, limit, fromTail)
			if got != want {
				t.Fatalf("step %d: %s removed %d, want %d", step, op, got, want)
			}
		default:
			op = "clone+encode"
			b := l.encode(nil)
			d, err := decodeList(b)
			if n > 0 && err != nil {
				t.Fatalf("step %d: decode: %v", step, err)
			}
			if n > 0 && !slices.Equal(listStrings(d), model) {
				t.Fatalf("step %d: decode differs", step)
			}
			l = l.Clone().(*List)
		}
		if !slices.Equal(listStrings(l), model) || l.Len() != len(model) {
			t.Fatalf("step %d after %s: list %q, model %q", step, op, listStrings(l), model)
		}
		// Keep lists of every size in play: long runs of growth and drain.
		if len(model) > 300 && rnd.IntN(50) == 0 {
			l.Trim(len(model)-3, 0)
			model = model[len(model)-3:]
		}
	}
}

// modelRemove is LREM on a slice.
func modelRemove(m *[]string, x string, limit int, fromTail bool) int {
	s := *m
	idx := make([]int, 0)
	for i := range s {
		if s[i] == x {
			idx = append(idx, i)
		}
	}
	if fromTail {
		slices.Reverse(idx)
	}
	if limit > 0 && len(idx) > limit {
		idx = idx[:limit]
	}
	drop := map[int]bool{}
	for _, i := range idx {
		drop[i] = true
	}
	out := s[:0:0]
	for i, e := range s {
		if !drop[i] {
			out = append(out, e)
		}
	}
	*m = out
	return len(idx)
}

// FuzzDecodeList requires decode to reject or accept any input without
// panicking, and an accepted list to survive a round trip.
func FuzzDecodeList(f *testing.F) {
	f.Add(listOf("a", "bc").encode(nil))
	f.Add(listOf("", "\x00").encode(nil))
	f.Add([]byte{0xff, 0xff, 0x03})
	f.Fuzz(func(t *testing.T, b []byte) {
		l, err := decodeList(b)
		if err != nil {
			return
		}
		again, err := decodeList(l.encode(nil))
		if l.Len() == 0 {
			return
		}
		if err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		if !slices.Equal(listStrings(l), listStrings(again)) {
			t.Fatal("round trip differs")
		}
	})
}
