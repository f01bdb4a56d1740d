package keyspace

import (
	"bytes"
	"flag"
	"fmt"
	"math/rand/v2"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/schemaproxy/schemaproxy/internal/testutil"
	"github.com/schemaproxy/schemaproxy/proto/resp"
)

var strSeed = flag.Uint64("strings.seed", 0, "seed of the randomized string tests (0: from the clock)")

// strNow is the fixed clock of the string unit tests (unix ms).
const strNow int64 = 1_700_000_000_000

// strEnv runs string commands straight on a store with a fixed clock.
type strEnv struct {
	store *Store
	now   int64
	last  *Ctx
}

func newStrEnv() *strEnv {
	v := &strEnv{now: strNow}
	v.store = NewStore(1, func() int64 { return v.now })
	return v
}

// run executes one string command (its arity is assumed right) and returns
// the reply; the Ctx stays in v.last.
func (v *strEnv) run(proto int, args [][]byte) string {
	h := stringCommands[strings.ToLower(string(args[0]))]
	if h == nil {
		panic("not a string command: " + string(args[0]))
	}
	c := &Ctx{Store: v.store, DB: v.store.DB(0), Args: args, W: resp.NewWriter(proto), Now: v.now,
		Rand: rand.New(rand.NewPCG(1, 2))}
	h(c)
	v.last = c
	return string(c.W.B)
}

func (v *strEnv) do(args ...string) string { return v.run(2, strBytes(args)) }

func strBytes(args []string) [][]byte {
	bs := make([][]byte, len(args))
	for i, a := range args {
		bs[i] = []byte(a)
	}
	return bs
}

// strFake is a non-string value for WRONGTYPE cases, independent of the
// other families' types.
type strFake struct{}

func (strFake) Len() int          { return 1 }
func (strFake) Clone() Collection { return strFake{} }
func (v *strEnv) putOther(k string) {
	v.store.DB(0).Set([]byte(k), &Entry{Kind: KindList, Coll: strFake{}}, false)
}

func (v *strEnv) entry(k string) *Entry { return v.store.DB(0).Get([]byte(k), v.now) }

// RESP2 reply builders.
func rBulk(s string) string { return "$" + strconv.Itoa(len(s)) + "\r\n" + s + "\r\n" }
func rInt(n int64) string   { return ":" + strconv.FormatInt(n, 10) + "\r\n" }
func rErr(s string) string  { return "-" + s + "\r\n" }

const (
	rOK   = "+OK\r\n"
	rNull = "$-1\r\n"
	rWT   = "-" + ErrWrongType + "\r\n"
)

func rArr(elems ...string) string {
	return "*" + strconv.Itoa(len(elems)) + "\r\n" + strings.Join(elems, "")
}

type strStep struct {
	args []string
	want string
}

func TestStringCommands(t *testing.T) {
	groups := []struct {
		name  string
		other []string // keys holding a non-string value
		steps []strStep
	}{
		{"get-set", []string{"l"}, []strStep{
			{[]string{"GET", "k"}, rNull},
			{[]string{"SET", "k", "v"}, rOK},
			{[]string{"GET", "k"}, rBulk("v")},
			{[]string{"SET", "k", "a\x00b"}, rOK},
			{[]string{"GET", "k"}, rBulk("a\x00b")},
			{[]string{"GET", "l"}, rWT},
			{[]string{"SET", "l", "x"}, rOK},
			{[]string{"GET", "l"}, rBulk("x")},
		}},
		{"set-options", []string{"l"}, []strStep{
			{[]string{"SET", "k", "v", "XX"}, rNull},
			{[]string{"SET", "k", "v", "NX"}, rOK},
			{[]string{"SET", "k", "w", "NX"}, rNull},
			{[]string{"SET", "k", "w", "XX", "GET"}, rBulk("v")},
			{[]string{"SET", "k", "x", "NX", "GET"}, rBulk("w")},
			{[]string{"SET", "n", "x", "NX", "GET"}, rNull},
			{[]string{"GET", "n"}, rBulk("x")},
			{[]string{"SET", "l", "x", "GET"}, rWT},
			{[]string{"SET", "k", "v", "NX", "XX"}, rErr(ErrSyntax)},
			{[]string{"SET", "k", "v", "EX", "1", "PX", "1"}, rErr(ErrSyntax)},
			{[]string{"SET", "k", "v", "KEEPTTL", "EXAT", "1"}, rErr(ErrSyntax)},
			{[]string{"SET", "k", "v", "PXAT", "1", "KEEPTTL"}, rErr(ErrSyntax)},
			{[]string{"SET", "k", "v", "EX"}, rErr(ErrSyntax)},
			{[]string{"SET", "k", "v", "PERSIST"}, rErr(ErrSyntax)},
			{[]string{"SET", "k", "v", "EX", "5", "EX", "6"}, rOK},
			{[]string{"SET", "k", "v", "EX", "0"}, rErr(ErrInvalidExpire("set"))},
			{[]string{"SET", "k", "v", "PX", "-1"}, rErr(ErrInvalidExpire("set"))},
			{[]string{"SET", "k", "v", "EX", "x"}, rErr(ErrNotInt)},
			{[]string{"SET", "k", "v", "EX", "9223372036854776"}, rErr(ErrInvalidExpire("set"))},
			{[]string{"SET", "k", "v", "PX", "9223372036854775807"}, rErr(ErrInvalidExpire("set"))},
			{[]string{"SET", "l", "v", "EX", "0", "GET"}, rErr(ErrInvalidExpire("set"))},
			{[]string{"SET", "k", "v", "nx\x00junk"}, rNull},
			{[]string{"SET", "k", "v", "nxx"}, rErr(ErrSyntax)},
		}},
		{"setnx-setex-getset-getdel", []string{"l"}, []strStep{
			{[]string{"SETNX", "k", "v"}, rInt(1)},
			{[]string{"SETNX", "k", "w"}, rInt(0)},
			{[]string{"SETNX", "l", "w"}, rInt(0)},
			{[]string{"SETEX", "k", "10", "x"}, rOK},
			{[]string{"SETEX", "k", "0", "x"}, rErr(ErrInvalidExpire("setex"))},
			{[]string{"PSETEX", "k", "-3", "x"}, rErr(ErrInvalidExpire("psetex"))},
			{[]string{"PSETEX", "k", "1.5", "x"}, rErr(ErrNotInt)},
			{[]string{"GETSET", "k", "y"}, rBulk("x")},
			{[]string{"GETSET", "m", "y"}, rNull},
			{[]string{"GETSET", "l", "y"}, rWT},
			{[]string{"GETDEL", "k"}, rBulk("y")},
			{[]string{"GETDEL", "k"}, rNull},
			{[]string{"GETDEL", "l"}, rWT},
		}},
		{"getex", []string{"l"}, []strStep{
			{[]string{"GETEX", "k", "EX", "0"}, rNull},
			{[]string{"GETEX", "k", "FOO"}, rErr(ErrSyntax)},
			{[]string{"SET", "k", "v"}, rOK},
			{[]string{"GETEX", "k", "EX", "0"}, rErr(ErrInvalidExpire("getex"))},
			{[]string{"GETEX", "k", "EX", "10", "PERSIST"}, rErr(ErrSyntax)},
			{[]string{"GETEX", "k", "KEEPTTL"}, rErr(ErrSyntax)},
			{[]string{"GETEX", "k", "NX"}, rErr(ErrSyntax)},
			{[]string{"GETEX", "k", "PX", "100"}, rBulk("v")},
			{[]string{"GETEX", "k", "PERSIST"}, rBulk("v")},
			{[]string{"GETEX", "k", "EXAT", "1"}, rBulk("v")},
			{[]string{"GET", "k"}, rNull},
			{[]string{"GETEX", "l"}, rWT},
			{[]string{"GETEX", "l", "EX", "0"}, rWT},
		}},
		{"mget-mset", []string{"l"}, []strStep{
			{[]string{"MSET", "a", "1", "b", "2"}, rOK},
			{[]string{"MGET", "a", "l", "b", "c"}, rArr(rBulk("1"), rNull, rBulk("2"), rNull)},
			{[]string{"MSET", "a", "1", "b"}, rErr(ErrArity("mset"))},
			{[]string{"MSETNX", "a", "1", "b"}, rErr(ErrArity("msetnx"))},
			{[]string{"MSETNX", "c", "3", "a", "x"}, rInt(0)},
			{[]string{"MGET", "c"}, rArr(rNull)},
			{[]string{"MSETNX", "c", "3", "c", "4"}, rInt(1)},
			{[]string{"GET", "c"}, rBulk("4")},
			{[]string{"MSET", "l", "v"}, rOK},
			{[]string{"GET", "l"}, rBulk("v")},
		}},
		{"append-strlen", []string{"l"}, []strStep{
			{[]string{"APPEND", "k", ""}, rInt(0)},
			{[]string{"GET", "k"}, rBulk("")},
			{[]string{"APPEND", "k", "ab"}, rInt(2)},
			{[]string{"APPEND", "k", "\x00"}, rInt(3)},
			{[]string{"STRLEN", "k"}, rInt(3)},
			{[]string{"STRLEN", "none"}, rInt(0)},
			{[]string{"STRLEN", "l"}, rWT},
			{[]string{"APPEND", "l", "x"}, rWT},
		}},
		{"incr", []string{"l"}, []strStep{
			{[]string{"INCR", "c"}, rInt(1)},
			{[]string{"INCRBY", "c", "41"}, rInt(42)},
			{[]string{"DECRBY", "c", "50"}, rInt(-8)},
			{[]string{"DECR", "c"}, rInt(-9)},
			{[]string{"INCRBY", "c", "x"}, rErr(ErrNotInt)},
			{[]string{"INCRBY", "l", "x"}, rErr(ErrNotInt)},
			{[]string{"INCR", "l"}, rWT},
			{[]string{"DECRBY", "c", "-9223372036854775808"}, rErr(ErrDecrementOverflow)},
			{[]string{"DECRBY", "l", "-9223372036854775808"}, rErr(ErrDecrementOverflow)},
			{[]string{"SET", "c", "9223372036854775807"}, rOK},
			{[]string{"INCR", "c"}, rErr(ErrOverflow)},
			{[]string{"DECRBY", "c", "-1"}, rErr(ErrOverflow)},
			{[]string{"SET", "c", "-9223372036854775808"}, rOK},
			{[]string{"DECR", "c"}, rErr(ErrOverflow)},
			{[]string{"INCRBY", "c", "9223372036854775807"}, rInt(-1)},
			{[]string{"SET", "c", "007"}, rOK},
			{[]string{"INCR", "c"}, rErr(ErrNotInt)},
			{[]string{"SET", "c", "-0"}, rOK},
			{[]string{"INCR", "c"}, rErr(ErrNotInt)},
		}},
		{"incrbyfloat", []string{"l"}, []strStep{
			{[]string{"INCRBYFLOAT", "f", "0.2"}, rBulk("0.2")},
			{[]string{"INCRBYFLOAT", "f", "0.1"}, rBulk("0.3")},
			{[]string{"INCRBYFLOAT", "f", "x"}, rErr(ErrNotFloat)},
			{[]string{"INCRBYFLOAT", "f", "nan"}, rErr(ErrNotFloat)},
			{[]string{"INCRBYFLOAT", "f", "inf"}, rErr(ErrNaNOrInf)},
			{[]string{"INCRBYFLOAT", "f", "1e5000"}, rErr(ErrNotFloat)},
			{[]string{"INCRBYFLOAT", "l", "x"}, rWT},
			{[]string{"SET", "f", "abc"}, rOK},
			{[]string{"INCRBYFLOAT", "f", "1"}, rErr(ErrNotFloat)},
			{[]string{"SET", "f", "1e4932"}, rOK},
			{[]string{"INCRBYFLOAT", "f", "1e4932"}, rErr(ErrNaNOrInf)},
		}},
		{"getrange-setrange", []string{"l"}, []strStep{
			{[]string{"GETRANGE", "k", "0", "-1"}, rBulk("")},
			{[]string{"SETRANGE", "k", "0", ""}, rInt(0)},
			{[]string{"GET", "k"}, rNull},
			{[]string{"SETRANGE", "k", "2", "ab"}, rInt(4)},
			{[]string{"GET", "k"}, rBulk("\x00\x00ab")},
			{[]string{"SETRANGE", "k", "1", "X"}, rInt(4)},
			{[]string{"SETRANGE", "k", "9", ""}, rInt(4)},
			{[]string{"GETRANGE", "k", "1", "2"}, rBulk("Xa")},
			{[]string{"SUBSTR", "k", "-2", "-1"}, rBulk("ab")},
			{[]string{"GETRANGE", "k", "-1", "-2"}, rBulk("")},
			{[]string{"GETRANGE", "k", "-100", "100"}, rBulk("\x00Xab")},
			{[]string{"GETRANGE", "k", "x", "1"}, rErr(ErrNotInt)},
			{[]string{"GETRANGE", "l", "x", "1"}, rErr(ErrNotInt)},
			{[]string{"GETRANGE", "l", "0", "1"}, rWT},
			{[]string{"SETRANGE", "k", "-1", "a"}, rErr(ErrOffsetRange)},
			{[]string{"SETRANGE", "l", "-1", "a"}, rErr(ErrOffsetRange)},
			{[]string{"SETRANGE", "l", "0", ""}, rWT},
			{[]string{"SETRANGE", "k", "536870912", "a"}, rErr(ErrStringTooLong)},
			{[]string{"SETRANGE", "k", "9223372036854775807", "a"}, rErr(ErrStringTooLong)},
		}},
		{"lcs", []string{"l"}, []strStep{
			{[]string{"MSET", "a", "ohmytext", "b", "mynewtext"}, rOK},
			{[]string{"LCS", "a", "b"}, rBulk("mytext")},
			{[]string{"LCS", "a", "b", "LEN"}, rInt(6)},
			{[]string{"LCS", "a", "b", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN"}, rArr(
				rBulk("matches"), rArr(rArr(rArr(rInt(4), rInt(7)), rArr(rInt(5), rInt(8)), rInt(4))),
				rBulk("len"), rInt(6))},
			{[]string{"LCS", "a", "b", "IDX"}, rArr(
				rBulk("matches"), rArr(rArr(rArr(rInt(4), rInt(7)), rArr(rInt(5), rInt(8))),
					rArr(rArr(rInt(2), rInt(3)), rArr(rInt(0), rInt(1)))),
				rBulk("len"), rInt(6))},
			{[]string{"LCS", "a", "b", "LEN", "IDX"}, rErr(ErrLCSLenAndIdx)},
			{[]string{"LCS", "a", "b", "MINMATCHLEN"}, rErr(ErrSyntax)},
			{[]string{"LCS", "a", "b", "MINMATCHLEN", "x"}, rErr(ErrNotInt)},
			{[]string{"LCS", "a", "l"}, rErr(ErrLCSNotStrings)},
			{[]string{"LCS", "l", "a", "FOO"}, rErr(ErrLCSNotStrings)},
			{[]string{"LCS", "a", "none"}, rBulk("")},
			{[]string{"LCS", "none", "none", "IDX"}, rArr(rBulk("matches"), rArr(), rBulk("len"), rInt(0))},
		}},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			v := newStrEnv()
			for _, k := range g.other {
				v.putOther(k)
			}
			for _, s := range g.steps {
				if got := v.do(s.args...); got != s.want {
					t.Errorf("%q: got %q, want %q", s.args, got, s.want)
				}
			}
		})
	}
}

func TestStringLCSResp3(t *testing.T) {
	v := newStrEnv()
	v.do("MSET", "a", "ohmytext", "b", "mynewtext")
	got := v.run(3, strBytes([]string{"LCS", "a", "b", "IDX", "MINMATCHLEN", "4"}))
	want := "%2\r\n$7\r\nmatches\r\n*1\r\n*2\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n$3\r\nlen\r\n:6\r\n"
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := v.run(3, strBytes([]string{"GET", "none"})); got != "_\r\n" {
		t.Errorf("RESP3 GET of a missing key: %q", got)
	}
}

// TestStringTTL checks the expiry each command leaves behind.
func TestStringTTL(t *testing.T) {
	const far = 4102444800
	tests := []struct {
		setup []string // run first; "SET k v EX 100" gives k a TTL
		cmd   []string
		want  int64 // k's ExpireAt afterwards; -1: k is gone
	}{
		{nil, []string{"SET", "k", "v", "EX", "10"}, strNow + 10_000},
		{nil, []string{"SET", "k", "v", "PX", "10"}, strNow + 10},
		{nil, []string{"SET", "k", "v", "EXAT", "4102444800"}, far * 1000},
		{nil, []string{"SET", "k", "v", "PXAT", "4102444800123"}, far*1000 + 123},
		{nil, []string{"SET", "k", "v", "KEEPTTL"}, 0},
		{[]string{"SET", "k", "v", "EX", "100"}, []string{"SET", "k", "w"}, 0},
		{[]string{"SET", "k", "v", "EX", "100"}, []string{"SET", "k", "w", "KEEPTTL"}, strNow + 100_000},
		{[]string{"SET", "k", "v", "EX", "100"}, []string{"SET", "k", "w", "NX"}, strNow + 100_000},
		{[]string{"SET", "k", "v", "EX", "100"}, []string{"SET", "k", "w", "PX", "5"}, strNow + 5},
		{[]string{"SET", "k", "v", "EX", "100"}, []string{"SET", "k", "w", "EXAT", "1"}, -1},
		{nil, []string{"SETEX", "k", "7", "v"}, strNow + 7000},
		{nil, []string{"PSETEX", "k", "7", "v"}, strNow + 7},
		{[]string{"SET", "k", "v", "EX", "100"}, []string{"SETNX", "k", "w"}, strNow + 100_000},
		{[]string{"SET", "k", "v", "EX", "100"}, []string{"GETSET", "k", "w"}, 0},
		{[]string{"SET", "k", "v", "EX", "100"}, []string{"MSET", "k", "w"}, 0},
		{[]string{"SET", "k", "v", "EX", "100"}, []string{"APPEND", "k", "w"}, strNow + 100_000},
		{[]string{"SET", "k", "1", "EX", "100"}, []string{"INCR", "k"}, strNow + 100_000},
		{[]string{"SET", "k", "1", "EX", "100"}, []string{"DECRBY", "k", "5"}, strNow + 100_000},
		{[]string{"SET", "k", "1", "EX", "100"}, []string{"INCRBYFLOAT", "k", "0.5"}, strNow + 100_000},
		{[]string{"SET", "k", "v", "EX", "100"}, []string{"SETRANGE", "k", "3", "w"}, strNow + 100_000},
		{[]string{"SET", "k", "v", "EX", "100"}, []string{"GETEX", "k"}, strNow + 100_000},
		{[]string{"SET", "k", "v", "EX", "100"}, []string{"GETEX", "k", "PERSIST"}, 0},
		{[]string{"SET", "k", "v", "EX", "100"}, []string{"GETEX", "k", "EX", "3"}, strNow + 3000},
		{[]string{"SET", "k", "v"}, []string{"GETEX", "k", "PX", "3"}, strNow + 3},
		{[]string{"SET", "k", "v"}, []string{"GETEX", "k", "EXAT", "4102444800"}, far * 1000},
		{[]string{"SET", "k", "v"}, []string{"GETEX", "k", "PXAT", strconv.FormatInt(strNow+1, 10)}, strNow + 1},
		{[]string{"SET", "k", "v"}, []string{"GETEX", "k", "PXAT", strconv.FormatInt(strNow, 10)}, -1},
		{[]string{"SET", "k", "v", "EX", "100"}, []string{"GETEX", "k", "EX", "0"}, strNow + 100_000},
	}
	for _, tc := range tests {
		v := newStrEnv()
		if tc.setup != nil {
			v.do(tc.setup...)
		}
		v.do(tc.cmd...)
		e := v.entry("k")
		got := int64(-1)
		if e != nil {
			got = e.ExpireAt
		}
		if got != tc.want {
			t.Errorf("%q after %q: ExpireAt %d, want %d", tc.cmd, tc.setup, got, tc.want)
		}
		if n := v.store.DB(0).Expires(); (got > 0) != (n == 1) {
			t.Errorf("%q after %q: %d keys with a TTL", tc.cmd, tc.setup, n)
		}
	}
}

// TestStringDirty checks that writes count and bump the version and that
// reads and refused writes do neither.
func TestStringDirty(t *testing.T) {
	tests := []struct {
		cmd   []string
		dirty int
	}{
		{[]string{"GET", "s"}, 0},
		{[]string{"MGET", "s", "n", "none"}, 0},
		{[]string{"STRLEN", "s"}, 0},
		{[]string{"GETRANGE", "s", "0", "1"}, 0},
		{[]string{"LCS", "s", "n"}, 0},
		{[]string{"SET", "s", "x"}, 1},
		{[]string{"SET", "s", "x", "NX"}, 0},
		{[]string{"SET", "none", "x", "XX"}, 0},
		{[]string{"SET", "s", "x", "EX", "0"}, 0},
		{[]string{"SET", "l", "x", "GET"}, 0},
		{[]string{"SETNX", "s", "x"}, 0},
		{[]string{"SETNX", "new", "x"}, 1},
		{[]string{"SETEX", "s", "5", "x"}, 1},
		{[]string{"GETSET", "s", "x"}, 1},
		{[]string{"GETDEL", "s"}, 1},
		{[]string{"GETDEL", "none"}, 0},
		{[]string{"GETEX", "s"}, 0},
		{[]string{"GETEX", "s", "PERSIST"}, 0},
		{[]string{"GETEX", "s", "EX", "5"}, 1},
		{[]string{"MSET", "a", "1", "b", "2"}, 2},
		{[]string{"MSETNX", "a", "1", "s", "2"}, 0},
		{[]string{"APPEND", "s", ""}, 1},
		{[]string{"INCR", "n"}, 1},
		{[]string{"INCR", "s"}, 0},
		{[]string{"INCRBYFLOAT", "n", "1.5"}, 1},
		{[]string{"SETRANGE", "s", "0", ""}, 0},
		{[]string{"SETRANGE", "s", "0", "a"}, 1},
	}
	for _, tc := range tests {
		v := newStrEnv()
		v.do("SET", "s", "abc")
		v.do("SET", "n", "10")
		v.putOther("l")
		before, _ := v.store.DB(0).Version([]byte(tc.cmd[1]), v.now)
		v.do(tc.cmd...)
		if v.last.Dirty != tc.dirty {
			t.Errorf("%q: Dirty %d, want %d", tc.cmd, v.last.Dirty, tc.dirty)
		}
		after, _ := v.store.DB(0).Version([]byte(tc.cmd[1]), v.now)
		if (after != before) != (tc.dirty > 0) {
			t.Errorf("%q: version %d -> %d with Dirty %d", tc.cmd, before, after, tc.dirty)
		}
	}
}

// TestStringKeepsCopies reuses the argument buffers after each command, as
// the caller does, and checks that stored values did not change with them.
func TestStringKeepsCopies(t *testing.T) {
	cmds := [][]string{
		{"SET", "a", "val-a"},
		{"SETNX", "b", "val-b"},
		{"SETEX", "c", "100", "val-c"},
		{"PSETEX", "d", "100000", "val-d"},
		{"GETSET", "e", "val-e"},
		{"MSET", "f", "val-f", "g", "val-g"},
		{"MSETNX", "h", "val-h"},
		{"APPEND", "i", "val-i"},
		{"SETRANGE", "j", "0", "val-j"},
		{"SET", "a", "val-a"}, // overwrite in place
		{"APPEND", "i", "val-i"},
		{"INCRBYFLOAT", "k", "1.5"},
	}
	v := newStrEnv()
	for _, cmd := range cmds {
		args := strBytes(cmd)
		v.run(2, args)
		for _, a := range args {
			for i := range a {
				a[i] = '#'
			}
		}
	}
	want := map[string]string{"a": "val-a", "b": "val-b", "c": "val-c", "d": "val-d", "e": "val-e",
		"f": "val-f", "g": "val-g", "h": "val-h", "i": "val-ival-i", "j": "val-j", "k": "1.5"}
	for k, w := range want {
		if e := v.entry(k); e == nil || string(e.Str) != w {
			t.Errorf("%s: got %v, want %q", k, e, w)
		}
	}
	if p := v.last.Propagate; len(p) != 4 || string(bytes.Join(p, []byte(" "))) != "set k 1.5 keepttl" {
		t.Errorf("INCRBYFLOAT propagates %q", p)
	}
}

// TestStringLongDouble checks INCRBYFLOAT's arithmetic against replies of
// redis-server 7.0.15 on x86-64.
func TestStringLongDouble(t *testing.T) {
	tests := []struct{ val, incr, want string }{
		{"0.2", "0.1", "0.3"},
		{"0", "0.1", "0.1"},
		{"1.1", "2.2", "3.3"},
		{"3", "-3", "0"},
		{"-0", "-0", "0"},
		{"1e20", "1", "100000000000000000000"},
		{"12345678901234567890", "0.5", "12345678901234567890"},
		{"0x1p-1", "0", "0.5"},
		{"1.5e-10", "0", "0.00000000015"},
		{"1e-17", "0", "0.00000000000000001"},
		{"-1e-17", "0", "-0.00000000000000001"},
		{"5e-18", "0", "0"},
		{"5.000000000000001e-18", "0", "0.00000000000000001"},
		{"0.1", "0.7", "0.8"},
		{"10.5", "0.1", "10.6"},
		{"1e18", "0.7", "1000000000000000000.6875"},
		{"9223372036854775807", "1", "9223372036854775808"},
		{"1e38", "0", "99999999999999999999312600448599326720"},
		{"0", "1e30", "1000000000000000000024696061952"},
		{"0.000011444091796875", "0", "0.00001144409179688"},
		{"-0.000003814697265625", "0", "-0.00000381469726562"},
		{"3.0e3", "200", "3200"},
		{"123.456", "-123.456", "0"},
		{"0", "1e-4940", "0"},
	}
	for _, tc := range tests {
		v := newStrEnv()
		v.do("SET", "f", tc.val)
		if got := v.do("INCRBYFLOAT", "f", tc.incr); got != rBulk(tc.want) {
			t.Errorf("%s + %s: got %q, want %q", tc.val, tc.incr, got, tc.want)
		}
	}
}

func strRand(t *testing.T) *rand.Rand {
	seed := *strSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (rerun with -strings.seed=%d)", seed, seed)
	return rand.New(rand.NewPCG(seed, 7))
}

// TestStringModel runs random string commands against the keyspace and a
// map of Go strings, comparing every reply.
func TestStringModel(t *testing.T) {
	r := strRand(t)
	v := newStrEnv()
	model := map[string]string{}
	keys := []string{"a", "b", "c", "\x00"}
	vals := []string{"", "x", "hello", "\x00\xff", "12", "-7", "3.5"}
	key := func() string { return keys[r.IntN(len(keys))] }
	val := func() string { return vals[r.IntN(len(vals))] }
	bulkOrNull := func(k string) string {
		if s, ok := model[k]; ok {
			return rBulk(s)
		}
		return rNull
	}
	for i := 0; i < 20000; i++ {
		var args []string
		var want string
		switch r.IntN(10) {
		case 0:
			k, s := key(), val()
			args, want = []string{"SET", k, s}, rOK
			model[k] = s
		case 1:
			k := key()
			args, want = []string{"GET", k}, bulkOrNull(k)
		case 2:
			k, s := key(), val()
			args = []string{"APPEND", k, s}
			model[k] += s
			want = rInt(int64(len(model[k])))
		case 3:
			k, s, off := key(), val(), r.IntN(12)
			args = []string{"SETRANGE", k, strconv.Itoa(off), s}
			old := model[k]
			switch {
			case s == "":
				want = rInt(int64(len(old)))
			default:
				b := []byte(old)
				if n := off + len(s); n > len(b) {
					b = append(b, make([]byte, n-len(b))...)
				}
				copy(b[off:], s)
				model[k] = string(b)
				want = rInt(int64(len(b)))
			}
		case 4:
			k, a, b := key(), r.IntN(20)-10, r.IntN(20)-10
			args = []string{"GETRANGE", k, strconv.Itoa(a), strconv.Itoa(b)}
			want = rBulk(strModelRange(model[k], a, b))
		case 5:
			k, n := key(), int64(r.IntN(200)-100)
			args = []string{"INCRBY", k, strconv.FormatInt(n, 10)}
			cur, ok := model[k]
			x, err := strconv.ParseInt(cur, 10, 64)
			switch {
			case !ok:
				model[k] = strconv.FormatInt(n, 10)
				want = rInt(n)
			case err != nil || cur != strconv.FormatInt(x, 10):
				want = rErr(ErrNotInt)
			default:
				model[k] = strconv.FormatInt(x+n, 10)
				want = rInt(x + n)
			}
		case 6:
			k := key()
			args, want = []string{"GETDEL", k}, bulkOrNull(k)
			delete(model, k)
		case 7:
			k, s := key(), val()
			args, want = []string{"GETSET", k, s}, bulkOrNull(k)
			model[k] = s
		case 8:
			k1, k2 := key(), key()
			args = []string{"MGET", k1, k2}
			want = rArr(bulkOrNull(k1), bulkOrNull(k2))
		case 9:
			k, s := key(), val()
			args = []string{"SETNX", k, s}
			if _, ok := model[k]; ok {
				want = rInt(0)
			} else {
				model[k] = s
				want = rInt(1)
			}
		}
		if got := v.do(args...); got != want {
			t.Fatalf("step %d %q: got %q, want %q", i, args, got, want)
		}
	}
	if n := v.store.DB(0).Len(); n != len(model) {
		t.Fatalf("%d keys, model has %d", n, len(model))
	}
}

// strModelRange is GETRANGE spelled out on Go strings.
func strModelRange(s string, a, b int) string {
	n := len(s)
	if a < 0 && b < 0 && a > b {
		return ""
	}
	if a < 0 {
		a = max(n+a, 0)
	}
	if b < 0 {
		b = max(n+b, 0)
	}
	b = min(b, n-1)
	if a > b || n == 0 {
		return ""
	}
	return s[a : b+1]
}

// TestStringRedis compares INCRBYFLOAT, LCS and the range commands with a
// real redis-server on random inputs.
func TestStringRedis(t *testing.T) {
	if testing.Short() {
		t.Skip("starts redis-server")
	}
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("no redis-server")
	}
	srv := testutil.StartRedis(t)
	ref, err := testutil.Dial(srv.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer ref.Close()
	r := strRand(t)
	v := newStrEnv()
	check := func(args ...string) {
		t.Helper()
		want, err := ref.Do(args...)
		if err != nil {
			t.Fatal(err)
		}
		if got := v.do(args...); got != string(want) {
			t.Fatalf("%q: redis %q, got %q", args, want, got)
		}
	}
	floats := func() string {
		switch r.IntN(8) {
		case 6:
			return fmt.Sprintf("%d.%de%d", r.IntN(10), r.Uint64(), r.IntN(9900)-4950)
		case 7:
			digits := make([]byte, 1+r.IntN(40))
			for i := range digits {
				digits[i] = byte('0' + r.IntN(10))
			}
			return "-" + string(digits[:len(digits)/2]) + "." + string(digits[len(digits)/2:])
		case 0:
			return strconv.FormatFloat(r.NormFloat64()*100, 'f', r.IntN(20), 64)
		case 1:
			return fmt.Sprintf("%de%d", r.IntN(2000)-1000, r.IntN(80)-40)
		case 2:
			return strconv.FormatFloat(r.Float64(), 'g', -1, 64)
		case 3:
			return fmt.Sprintf("0x%xp%d", r.Uint64()>>r.IntN(64), r.IntN(200)-100)
		case 4:
			return strconv.Itoa(r.IntN(1e9) - 5e8)
		default:
			return fmt.Sprintf("%d.%d", r.IntN(100), r.IntN(1e6))
		}
	}
	for i := 0; i < 3000; i++ {
		if r.IntN(8) == 0 {
			s := floats()
			check("SET", "f", s)
		}
		check("INCRBYFLOAT", "f", floats())
		check("GET", "f")
	}
	alpha := "abcAB\x00"
	word := func(n int) string {
		b := make([]byte, r.IntN(n))
		for i := range b {
			b[i] = alpha[r.IntN(len(alpha))]
		}
		return string(b)
	}
	for i := 0; i < 500; i++ {
		check("SET", "a", word(30))
		check("SET", "b", word(30))
		check("LCS", "a", "b")
		check("LCS", "a", "b", "LEN")
		check("LCS", "a", "b", "IDX", "WITHMATCHLEN")
		check("LCS", "a", "b", "IDX", "MINMATCHLEN", strconv.Itoa(r.IntN(4)))
		check("GETRANGE", "a", strconv.Itoa(r.IntN(60)-30), strconv.Itoa(r.IntN(60)-30))
		check("SETRANGE", "b", strconv.Itoa(r.IntN(40)), word(5))
		check("GET", "b")
	}
}

// TestStringAllocs holds GET and SET of an existing key to zero allocations.
func TestStringAllocs(t *testing.T) {
	v := newStrEnv()
	w := resp.NewWriter(2)
	set := &Ctx{Store: v.store, DB: v.store.DB(0), W: w, Now: strNow,
		Args: strBytes([]string{"SET", "key", "value"})}
	get := &Ctx{Store: v.store, DB: v.store.DB(0), W: w, Now: strNow,
		Args: strBytes([]string{"GET", "key"})}
	setCmd(set)
	if n := testing.AllocsPerRun(100, func() { w.Reset(); setCmd(set) }); n != 0 {
		t.Errorf("SET of an existing key: %v allocations", n)
	}
	if n := testing.AllocsPerRun(100, func() { w.Reset(); getCmd(get) }); n != 0 {
		t.Errorf("GET: %v allocations", n)
	}
	set.Args = strBytes([]string{"SET", "key", "value", "EX", "100", "XX"})
	if n := testing.AllocsPerRun(100, func() { w.Reset(); setCmd(set) }); n != 0 {
		t.Errorf("SET EX XX of an existing key: %v allocations", n)
	}
	// A new key costs its key string and its entry, which holds a small
	// value (map growth is amortized away).
	const runs = 2000
	keys := make([][]byte, runs+1)
	for i := range keys {
		keys[i] = []byte("new:" + strconv.Itoa(i))
	}
	i := 0
	set.Args = strBytes([]string{"SET", "", "value"})
	if n := testing.AllocsPerRun(runs, func() { w.Reset(); set.Args[1] = keys[i]; i++; setCmd(set) }); n > 2 {
		t.Errorf("SET of a new key: %v allocations", n)
	}
}

// BenchmarkSetGet runs SET then GET over a working set of 1000 keys.
func BenchmarkSetGet(b *testing.B) {
	store := NewStore(1, func() int64 { return strNow })
	w := resp.NewWriter(2)
	const nkeys = 1000
	keys := make([][]byte, nkeys)
	for i := range keys {
		keys[i] = []byte("key:" + strconv.Itoa(i))
	}
	val := bytes.Repeat([]byte("v"), 64)
	setArgs := [][]byte{[]byte("SET"), nil, val}
	getArgs := [][]byte{[]byte("GET"), nil}
	c := &Ctx{Store: store, DB: store.DB(0), W: w, Now: strNow}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		k := keys[i%nkeys]
		setArgs[1] = k
		c.Args = setArgs
		w.Reset()
		setCmd(c)
		getArgs[1] = k
		c.Args = getArgs
		w.Reset()
		getCmd(c)
	}
}
