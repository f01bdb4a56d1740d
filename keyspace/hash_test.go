package keyspace

import (
	"bytes"
	"flag"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/schemaproxy/schemaproxy/command"
	"github.com/schemaproxy/schemaproxy/proto/resp"
)

var hsSeed = flag.Uint64("hashset.seed", 0, "seed of the hash and set model tests (0: from the clock)")

func hsRand(t *testing.T) *rand.Rand {
	seed := *hsSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (rerun with -hashset.seed=%d)", seed, seed)
	return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}

// hsEnv runs hash and set commands on a Store, with the command table's
// arity check in front as the server has.
type hsEnv struct {
	store *Store
	rnd   *rand.Rand
	now   int64
	db    int
	// What the last command left behind.
	dirty int
	prop  [][]byte
}

func newHSEnv() *hsEnv {
	v := &hsEnv{now: 1_700_000_000_000, rnd: rand.New(rand.NewPCG(7, 8))}
	v.store = NewStore(2, func() int64 { return v.now })
	return v
}

func (v *hsEnv) run(proto int, args ...string) string {
	bs := make([][]byte, len(args))
	for i, a := range args {
		bs[i] = []byte(a)
	}
	return v.runBytes(proto, bs)
}

func (v *hsEnv) runBytes(proto int, bs [][]byte) string {
	w := resp.NewWriter(proto)
	cmd := command.Default.Lookup(bs[0])
	name := strings.ToLower(string(bs[0]))
	h := hashCommands[name]
	if h == nil {
		h = setCommands[name]
	}
	if cmd == nil || h == nil {
		panic("not a hash or set command: " + name)
	}
	v.dirty, v.prop = 0, nil
	if !cmd.CheckArity(len(bs)) {
		w.Error(ErrArity(cmd.Name))
		return string(w.B)
	}
	c := &Ctx{Store: v.store, DBIndex: v.db, DB: v.store.DB(v.db), Args: bs, W: w, Now: v.now, Rand: v.rnd}
	h(c)
	v.dirty, v.prop = c.Dirty, c.Propagate
	return string(w.B)
}

// do runs a command in RESP2 and returns its reply as resp.Value.String
// shows it.
func (v *hsEnv) do(args ...string) string {
	raw := v.run(2, args...)
	val, n, err := resp.Parse([]byte(raw))
	if err != nil || n != len(raw) {
		panic(fmt.Sprintf("bad reply %q: %v", raw, err))
	}
	return val.String()
}

func (v *hsEnv) entry(key string) *Entry { return v.store.DB(v.db).Get([]byte(key), v.now) }

func (v *hsEnv) putString(key, val string) {
	v.store.DB(v.db).Set([]byte(key), &Entry{Kind: KindString, Str: []byte(val)}, false)
}

func (v *hsEnv) hash(t *testing.T, key string) *Hash {
	t.Helper()
	e := v.entry(key)
	if e == nil {
		return nil
	}
	h, ok := e.Coll.(*Hash)
	if !ok {
		t.Fatalf("%s is a %s", key, e.Kind)
	}
	if h.Len() == 0 {
		t.Fatalf("%s is an empty hash that was not deleted", key)
	}
	return h
}

type hsStep struct {
	args []string
	want string
}

func hsSteps(t *testing.T, v *hsEnv, steps []hsStep) {
	t.Helper()
	for _, s := range steps {
		if got := v.do(s.args...); got != s.want {
			t.Errorf("%q:\n got  %s\n want %s", s.args, got, s.want)
		}
	}
}

func TestHashCommands(t *testing.T) {
	v := newHSEnv()
	v.putString("str", "x")
	hsSteps(t, v, []hsStep{
		{[]string{"HSET", "h", "a", "1", "b", "2"}, "(integer) 2"},
		{[]string{"HSET", "h", "a", "10", "c", "3"}, "(integer) 1"},
		{[]string{"HGETALL", "h"}, `["a" "10" "b" "2" "c" "3"]`},
		{[]string{"HMSET", "h", "d", "4"}, `"OK"`},
		{[]string{"HSET", "h", "x"}, "(error) ERR wrong number of arguments for 'hset' command"},
		{[]string{"HSET", "h", "x", "1", "y"}, "(error) ERR wrong number of arguments for 'hset' command"},
		{[]string{"HMSET", "h", "x", "1", "y"}, "(error) ERR wrong number of arguments for 'hmset' command"},
		{[]string{"HSETNX", "h", "a", "0"}, "(integer) 0"},
		{[]string{"HSETNX", "h", "e", "5"}, "(integer) 1"},
		{[]string{"HMGET", "h", "a", "zz", "e"}, `["10" (nil) "5"]`},
		{[]string{"HMGET", "nokey", "a"}, `[(nil)]`},
		{[]string{"HDEL", "h", "b", "b", "zz"}, "(integer) 1"},
		{[]string{"HKEYS", "h"}, `["a" "c" "d" "e"]`},
		{[]string{"HVALS", "h"}, `["10" "3" "4" "5"]`},
		{[]string{"HLEN", "h"}, "(integer) 4"},
		{[]string{"HSTRLEN", "h", "a"}, "(integer) 2"},
		{[]string{"HEXISTS", "h", "a"}, "(integer) 1"},
		{[]string{"HEXISTS", "h", "b"}, "(integer) 0"},
		{[]string{"HINCRBY", "h", "a", "5"}, "(integer) 15"},
		{[]string{"HINCRBY", "h", "a", "x"}, "(error) ERR value is not an integer or out of range"},
		{[]string{"HINCRBY", "h", "a", "9223372036854775800"}, "(error) ERR increment or decrement would overflow"},
		{[]string{"HSET", "h", "f", "1.5"}, "(integer) 1"},
		{[]string{"HINCRBY", "h", "f", "1"}, "(error) ERR hash value is not an integer"},
		{[]string{"HINCRBYFLOAT", "h", "f", "0.1"}, `"1.6"`},
		{[]string{"HINCRBYFLOAT", "h", "f", "inf"}, "(error) ERR value is NaN or Infinity"},
		{[]string{"HINCRBYFLOAT", "h", "f", "x"}, "(error) ERR value is not a valid float"},
		{[]string{"HDEL", "h", "a", "c", "d", "e", "f"}, "(integer) 5"},
		{[]string{"HLEN", "h"}, "(integer) 0"},
		{[]string{"HGETALL", "h"}, "[]"},
		{[]string{"HGET", "str", "a"}, "(error) " + ErrWrongType},
		{[]string{"HSET", "str", "a", "1"}, "(error) " + ErrWrongType},
		{[]string{"HINCRBY", "str", "a", "x"}, "(error) ERR value is not an integer or out of range"},
		{[]string{"HINCRBY", "str", "a", "1"}, "(error) " + ErrWrongType},
		{[]string{"HSCAN", "str", "x"}, "(error) ERR invalid cursor"},
		{[]string{"HSCAN", "str", "0"}, "(error) " + ErrWrongType},
		{[]string{"HSCAN", "nokey", "0", "BAD"}, `["0" []]`},
		{[]string{"HRANDFIELD", "nokey"}, "(nil)"},
		{[]string{"HRANDFIELD", "nokey", "3"}, "[]"},
		{[]string{"HRANDFIELD", "str", "x"}, "(error) ERR value is not an integer or out of range"},
	})
	if e := v.entry("h"); e != nil {
		t.Errorf("emptied hash still stored: %+v", e)
	}
}

// TestHashResp3 checks the replies whose RESP3 form differs from RESP2,
// byte for byte as Redis 7.0 sends them.
func TestHashResp3(t *testing.T) {
	v := newHSEnv()
	v.run(3, "HSET", "h", "a", "1", "b", "2")
	v.run(3, "HSET", "one", "f", "v")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"HGETALL", "h"}, "%2\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n"},
		{[]string{"HGETALL", "nokey"}, "%0\r\n"},
		{[]string{"HKEYS", "h"}, "*2\r\n$1\r\na\r\n$1\r\nb\r\n"},
		{[]string{"HGET", "h", "zz"}, "_\r\n"},
		{[]string{"HMGET", "h", "zz"}, "*1\r\n_\r\n"},
		{[]string{"HRANDFIELD", "nokey"}, "_\r\n"},
		{[]string{"HRANDFIELD", "h", "5", "WITHVALUES"}, "*2\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n"},
		{[]string{"HRANDFIELD", "one", "-2", "WITHVALUES"}, "*2\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n"},
		{[]string{"HRANDFIELD", "one", "-2"}, "*2\r\n$1\r\nf\r\n$1\r\nf\r\n"},
		{[]string{"HRANDFIELD", "h", "0", "WITHVALUES"}, "*0\r\n"},
		{[]string{"HSCAN", "h", "0"}, "*2\r\n$1\r\n0\r\n*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n"},
		{[]string{"HINCRBYFLOAT", "h", "a", "1.5"}, "$3\r\n2.5\r\n"},
	} {
		if got := v.run(3, c.args...); got != c.want {
			t.Errorf("%q: got %q, want %q", c.args, got, c.want)
		}
	}
	// RESP2 flattens the pairs.
	if got, want := v.run(2, "HRANDFIELD", "one", "-2", "WITHVALUES"), "*4\r\n$1\r\nf\r\n$1\r\nv\r\n$1\r\nf\r\n$1\r\nv\r\n"; got != want {
		t.Errorf("RESP2 pairs: got %q, want %q", got, want)
	}
}

// TestHashDirty checks that only real changes count, bump the version and
// are logged, and that HINCRBYFLOAT is logged as the HSET of its result.
func TestHashDirty(t *testing.T) {
	v := newHSEnv()
	v.run(2, "HSET", "h", "a", "1", "f", "x")
	for _, c := range []struct {
		args  []string
		dirty bool
	}{
		{[]string{"HGET", "h", "a"}, false},
		{[]string{"HMGET", "h", "a", "b"}, false},
		{[]string{"HLEN", "h"}, false},
		{[]string{"HSTRLEN", "h", "a"}, false},
		{[]string{"HEXISTS", "h", "a"}, false},
		{[]string{"HKEYS", "h"}, false},
		{[]string{"HVALS", "h"}, false},
		{[]string{"HGETALL", "h"}, false},
		{[]string{"HRANDFIELD", "h", "-3", "WITHVALUES"}, false},
		{[]string{"HSCAN", "h", "0"}, false},
		{[]string{"HSETNX", "h", "a", "2"}, false},
		{[]string{"HDEL", "h", "nosuch"}, false},
		{[]string{"HDEL", "nokey", "a"}, false},
		{[]string{"HINCRBY", "h", "f", "1"}, false},
		{[]string{"HINCRBYFLOAT", "h", "f", "1"}, false},
		{[]string{"HINCRBYFLOAT", "h", "a", "inf"}, false},
		{[]string{"HSET", "h", "a", "1"}, true}, // Redis counts a same-value HSET too
		{[]string{"HSETNX", "h", "b", "2"}, true},
		{[]string{"HINCRBY", "h", "a", "0"}, true},
		{[]string{"HDEL", "h", "b"}, true},
	} {
		before, _ := v.store.DB(0).Version([]byte("h"), v.now)
		v.run(2, c.args...)
		after, _ := v.store.DB(0).Version([]byte("h"), v.now)
		if (v.dirty > 0) != c.dirty || (after != before) != c.dirty {
			t.Errorf("%q: dirty %d, version %d -> %d; want changed=%v", c.args, v.dirty, before, after, c.dirty)
		}
	}
	if v.entry("nokey") != nil {
		t.Error("a read created nokey")
	}
	v.run(2, "HINCRBYFLOAT", "h", "a", "0.25")
	if got := fmt.Sprintf("%q", v.prop); got != `["hset" "h" "a" "1.25"]` {
		t.Errorf("HINCRBYFLOAT propagates %s", got)
	}
	// Replaying the logged form gives the same hash.
	w := newHSEnv()
	w.run(2, "HSET", "h", "a", "1")
	w.runBytes(2, v.prop)
	if got, want := w.do("HGET", "h", "a"), v.do("HGET", "h", "a"); got != want {
		t.Errorf("replay: %s, want %s", got, want)
	}
}

// TestHashExpired checks that an expired hash is gone for every command.
func TestHashExpired(t *testing.T) {
	v := newHSEnv()
	v.run(2, "HSET", "h", "a", "1")
	v.store.DB(0).SetExpire(v.entry("h"), v.now+10)
	v.now += 10
	hsSteps(t, v, []hsStep{
		{[]string{"HGET", "h", "a"}, "(nil)"},
		{[]string{"HLEN", "h"}, "(integer) 0"},
		{[]string{"HSETNX", "h", "b", "2"}, "(integer) 1"},
		{[]string{"HGETALL", "h"}, `["b" "2"]`},
	})
	if e := v.entry("h"); e == nil || e.ExpireAt != 0 {
		t.Errorf("recreated hash: %+v", e)
	}
}

// TestHashKeepsCopies checks that a hash does not alias the argument
// buffers it was given.
func TestHashKeepsCopies(t *testing.T) {
	v := newHSEnv()
	args := [][]byte{[]byte("HSET"), []byte("h"), []byte("field"), []byte("value")}
	v.runBytes(2, args)
	copy(args[2], "XXXXX")
	copy(args[3], "YYYYY")
	if got := v.do("HGETALL", "h"); got != `["field" "value"]` {
		t.Errorf("hash changed with its arguments: %s", got)
	}
}

// TestHashEncoding checks when a hash stops being a listpack in Redis's
// terms (which decides HSCAN's behavior), and that it never goes back.
func TestHashEncoding(t *testing.T) {
	v := newHSEnv()
	args := []string{"HSET", "h"}
	for i := 0; i < hashMaxListpackEntries; i++ {
		args = append(args, "f"+strconv.Itoa(i), "v")
	}
	v.run(2, args...)
	if enc := v.hash(t, "h").Encoding(); enc != "listpack" {
		t.Fatalf("128 fields: %s", enc)
	}
	v.run(2, "HSET", "h", "one-more", "v")
	if enc := v.hash(t, "h").Encoding(); enc != "hashtable" {
		t.Fatalf("129 fields: %s", enc)
	}
	v.run(2, "HDEL", "h", "one-more", "f1", "f2")
	if enc := v.hash(t, "h").Encoding(); enc != "hashtable" {
		t.Fatalf("after HDEL: %s", enc)
	}
	if enc := v.hash(t, "h").Clone().(*Hash).Encoding(); enc != "hashtable" {
		t.Fatalf("clone: %s", enc)
	}
	long := strings.Repeat("x", hashMaxListpackValue)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"HSET", "a", "f", long}, "listpack"},
		{[]string{"HSET", "b", "f", long + "x"}, "hashtable"},
		{[]string{"HSET", "c", long + "x", "v"}, "hashtable"},
		{[]string{"HSETNX", "d", "f", long + "x"}, "hashtable"},
		{[]string{"HINCRBY", "e", long + "x", "1"}, "hashtable"},
		{[]string{"HINCRBYFLOAT", "f", "f", "1e70"}, "hashtable"},
		{[]string{"HINCRBYFLOAT", "g", "f", "1e40"}, "listpack"},
	} {
		v.run(2, c.args...)
		if enc := v.hash(t, c.args[1]).Encoding(); enc != c.want {
			t.Errorf("%q: %s, want %s", c.args, enc, c.want)
		}
	}
	// Decoding recomputes the encoding, as Redis loading a dump does.
	h := v.hash(t, "h")
	for h.Len() > 10 {
		f, _ := h.random(v.rnd)
		h.Delete([]byte(f))
	}
	d, err := decodeHash(h.encode(nil))
	if err != nil || d.Encoding() != "listpack" {
		t.Errorf("decoded small hash: %v %v", d, err)
	}
}

// TestHashScanBig walks a hashtable-sized hash with HSCAN while fields are
// added and removed: every field present for the whole walk is returned.
func TestHashScanBig(t *testing.T) {
	rnd := hsRand(t)
	v := newHSEnv()
	const n = 500
	args := []string{"HSET", "h"}
	for i := 0; i < n; i++ {
		args = append(args, "k"+strconv.Itoa(i), strconv.Itoa(i))
	}
	v.run(2, args...)
	stable := map[string]bool{}
	for i := 0; i < n; i += 2 {
		stable["k"+strconv.Itoa(i)] = true // odd ones may be deleted
	}
	seen := map[string]bool{}
	cursor := "0"
	for steps := 0; ; steps++ {
		if steps > 10*n {
			t.Fatal("HSCAN does not terminate")
		}
		raw := v.run(2, "HSCAN", "h", cursor, "COUNT", strconv.Itoa(1+rnd.IntN(20)))
		val, _, err := resp.Parse([]byte(raw))
		if err != nil {
			t.Fatal(err)
		}
		cursor = string(val.Elems[0].Str)
		kv := val.Elems[1].Elems
		for i := 0; i < len(kv); i += 2 {
			seen[string(kv[i].Str)] = true
		}
		// Churn: delete an odd field, add a new one.
		v.run(2, "HDEL", "h", "k"+strconv.Itoa(2*rnd.IntN(n/2)+1))
		v.run(2, "HSET", "h", "new"+strconv.Itoa(steps), "x")
		if cursor == "0" {
			break
		}
	}
	for k := range stable {
		if !seen[k] {
			t.Errorf("HSCAN missed %s", k)
		}
	}
	// MATCH filters what a step returns.
	raw := v.do("HSCAN", "h", "0", "MATCH", "k1?", "COUNT", "1000")
	if !strings.Contains(raw, `"k10"`) || strings.Contains(raw, `"k100"`) || strings.Contains(raw, `"k2"`) {
		t.Errorf("HSCAN MATCH k1?: %s", raw)
	}
}

// TestHashModel runs random operations on a Hash and on a simple model (a
// map and the keys in insertion order) and compares them after each one.
func TestHashModel(t *testing.T) {
	// 60 fields: packed throughout; 2000: converted to a table midway.
	for _, space := range []int{60, 2000} {
		t.Run(strconv.Itoa(space), func(t *testing.T) { testHashModel(t, space) })
	}
}

func testHashModel(t *testing.T, space int) {
	rnd := hsRand(t)
	h := NewHash()
	vals := map[string]string{}
	var order []string
	key := func() []byte { return []byte("f" + strconv.Itoa(rnd.IntN(space))) }
	for step := 0; step < 20000; step++ {
		switch op := rnd.IntN(10); {
		case op < 5:
			k, val := key(), strconv.Itoa(rnd.IntN(1000))
			added := h.Set(k, []byte(val))
			_, had := vals[string(k)]
			if added == had {
				t.Fatalf("step %d: Set(%s) added=%v, model had=%v", step, k, added, had)
			}
			if !had {
				order = append(order, string(k))
			}
			vals[string(k)] = val
		case op < 9:
			k := key()
			_, had := vals[string(k)]
			if h.Delete(k) != had {
				t.Fatalf("step %d: Delete(%s) != %v", step, k, had)
			}
			delete(vals, string(k))
			order = slices.DeleteFunc(order, func(s string) bool { return s == string(k) })
		default:
			if h.Len() > 1 {
				k := rnd.IntN(h.Len())
				seen := map[string]bool{}
				h.randomDistinct(rnd, k, func(f, val string) {
					if seen[f] || vals[f] != val {
						t.Fatalf("step %d: randomDistinct gave %s=%s again or wrong (model %s)", step, f, val, vals[f])
					}
					seen[f] = true
				})
				if len(seen) != k {
					t.Fatalf("step %d: randomDistinct(%d) gave %d", step, k, len(seen))
				}
			}
		}
		if h.Len() != len(vals) {
			t.Fatalf("step %d: Len %d, model %d", step, h.Len(), len(vals))
		}
		if h.m != nil && h.m.dead*2 > len(h.m.slots) {
			t.Fatalf("step %d: %d dead of %d slots", step, h.m.dead, len(h.m.slots))
		}
		if step%50 == 0 {
			var got []string
			h.Each(func(f, val string) bool {
				if vals[f] != val {
					t.Fatalf("step %d: %s=%s, model %s", step, f, val, vals[f])
				}
				got = append(got, f)
				return true
			})
			if !slices.Equal(got, order) {
				t.Fatalf("step %d: order %v, model %v", step, got, order)
			}
			if h.m == nil {
				continue
			}
			for i, s := range h.m.slots {
				if !s.gone && h.m.index[s.key] != i {
					t.Fatalf("step %d: index of %s is %d, slot %d", step, s.key, h.m.index[s.key], i)
				}
				if i > 0 && h.m.slots[i-1].seq >= s.seq {
					t.Fatalf("step %d: sequence numbers out of order at %d", step, i)
				}
			}
		}
	}
}

// TestHashRandomUniform checks that random choices reach every field with
// about the same frequency, holes in the slot slice included.
func TestHashRandomUniform(t *testing.T) {
	rnd := hsRand(t)
	h := NewHash()
	for i := 0; i < 40; i++ {
		h.Set([]byte(strconv.Itoa(i)), nil)
	}
	for i := 0; i < 40; i += 3 {
		h.Delete([]byte(strconv.Itoa(i))) // leaves holes without compacting
	}
	counts := map[string]int{}
	const draws = 200000
	for i := 0; i < draws; i++ {
		f, _ := h.random(rnd)
		counts[f]++
	}
	want := float64(draws) / float64(h.Len())
	for k, n := range counts {
		if _, ok := h.Get([]byte(k)); !ok {
			t.Fatalf("random returned deleted field %s", k)
		}
		if f := float64(n); f < 0.85*want || f > 1.15*want {
			t.Errorf("field %s drawn %d times, expected about %.0f", k, n, want)
		}
	}
	if len(counts) != h.Len() {
		t.Errorf("drew %d distinct fields of %d", len(counts), h.Len())
	}
}

func TestHashEncodeRoundTrip(t *testing.T) {
	h := NewHash()
	h.Set([]byte("a"), []byte("1"))
	h.Set([]byte(""), []byte("\x00bin"))
	h.Set([]byte("z"), []byte(strings.Repeat("v", 300)))
	h.Delete([]byte("a"))
	h.Set([]byte("a"), []byte("again"))
	e, err := DecodeValue(EncodeValue(nil, &Entry{Kind: KindHash, Coll: h}))
	if err != nil {
		t.Fatal(err)
	}
	d := e.Coll.(*Hash)
	var got, want []string
	h.Each(func(f, v string) bool { want = append(want, f, v); return true })
	d.Each(func(f, v string) bool { got = append(got, f, v); return true })
	if !slices.Equal(got, want) || d.Encoding() != h.Encoding() {
		t.Errorf("round trip: %q (%s), want %q (%s)", got, d.Encoding(), want, h.Encoding())
	}
	for _, bad := range [][]byte{
		{},
		{1},
		{1, 1, 'a'},
		{2, 1, 'a', 1, 'b', 1, 'a', 1, 'c'}, // duplicate field
		{1, 1, 'a', 1, 'b', 0},              // trailing byte
		{0xff, 0xff, 0xff, 0xff, 0x0f},      // huge count
	} {
		if _, err := decodeHash(bad); err == nil {
			t.Errorf("decodeHash(%q) accepted", bad)
		}
	}
}

func FuzzDecodeHash(f *testing.F) {
	f.Add([]byte{1, 1, 'a', 1, 'b'})
	f.Add([]byte{2, 0, 0, 1, 'x', 0})
	f.Add(NewHash().encode(nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := decodeHash(b)
		if err != nil {
			return
		}
		again, err := decodeHash(h.encode(nil))
		if err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		if !bytes.Equal(again.encode(nil), h.encode(nil)) {
			t.Fatal("encoding not stable")
		}
	})
}

func TestParseScanCursor(t *testing.T) {
	for _, c := range []struct {
		in   string
		want uint64
		ok   bool
	}{
		{"0", 0, true},
		{"", 0, true},
		{"17", 17, true},
		{"+5", 5, true},
		{"007", 7, true},
		{"-1", 1<<64 - 1, true},
		{"18446744073709551615", 1<<64 - 1, true},
		{"-18446744073709551615", 1, true},
		{"5\x00junk", 5, true},
		{"18446744073709551616", 0, false},
		{"-18446744073709551616", 0, false},
		{" 1", 0, false},
		{"\t1", 0, false},
		{"1 ", 0, false},
		{"1x", 0, false},
		{"0x10", 0, false},
		{"-", 0, false},
		{"+", 0, false},
		{"abc", 0, false},
	} {
		got, ok := ParseScanCursor([]byte(c.in))
		if ok != c.ok || (ok && got != c.want) {
			t.Errorf("ParseScanCursor(%q) = %d, %v; want %d, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

// TestHashClone checks that a clone is independent of its original.
func TestHashClone(t *testing.T) {
	h := NewHash()
	h.Set([]byte("a"), []byte("1"))
	h.Set([]byte("b"), []byte("2"))
	c := h.Clone().(*Hash)
	c.Set([]byte("a"), []byte("changed"))
	c.Delete([]byte("b"))
	c.Set([]byte("c"), []byte("3"))
	got := map[string]string{}
	h.Each(func(f, v string) bool { got[f] = v; return true })
	if !maps.Equal(got, map[string]string{"a": "1", "b": "2"}) {
		t.Errorf("original changed with its clone: %v", got)
	}
}

// TestFieldMapSmallAndIndexed: a fieldMap searched in order while small
// and through its index once large answers as a Go map does, keeps
// insertion order, and survives deletes and compactions across the
// threshold both ways.
func TestFieldMapSmallAndIndexed(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	for round := 0; round < 50; round++ {
		var m fieldMap[string]
		ref := map[string]string{}
		var order []string
		keys := 1 + rnd.IntN(3*fieldMapSmall)
		for op := 0; op < 400; op++ {
			k := strconv.Itoa(rnd.IntN(keys))
			switch rnd.IntN(3) {
			case 0, 1:
				v := strconv.Itoa(op)
				if _, ok := ref[k]; !ok {
					order = append(order, k)
				}
				if added := m.put(k, v); added == (ref[k] != "") {
					t.Fatalf("round %d op %d: put(%s) added=%v, map had it: %v", round, op, k, added, ref[k] != "")
				}
				ref[k] = v
			case 2:
				_, had := ref[k]
				if m.del([]byte(k)) != had {
					t.Fatalf("round %d op %d: del(%s) != %v", round, op, k, had)
				}
				delete(ref, k)
				order = slices.DeleteFunc(order, func(o string) bool { return o == k })
			}
			if m.len() != len(ref) {
				t.Fatalf("round %d op %d: len %d, want %d", round, op, m.len(), len(ref))
			}
			if v, ok := m.get([]byte(k)); ok != (ref[k] != "") || v != ref[k] {
				t.Fatalf("round %d op %d: get(%s) = %q %v, want %q", round, op, k, v, ok, ref[k])
			}
		}
		var got []string
		m.each(func(s *fieldSlot[string]) bool { got = append(got, s.key); return true })
		if !slices.Equal(got, order) {
			t.Fatalf("round %d: order %v, want %v", round, got, order)
		}
		if c := m.clone(); c.len() != m.len() || (m.len() > fieldMapSmall) != (c.index != nil) {
			t.Fatalf("round %d: clone len %d indexed %v", round, c.len(), c.index != nil)
		}
	}
}

// TestHashPackedStringsStay checks that strings read from a packed hash
// (which point into its buffer) keep their contents whatever the hash does
// next: a script may hold them across later commands.
func TestHashPackedStringsStay(t *testing.T) {
	h := NewHash()
	for i := range 20 {
		h.Set([]byte("f"+strconv.Itoa(i)), []byte("v"+strconv.Itoa(i)))
	}
	type held struct{ field, val, want string }
	var hold []held
	c := h.Clone().(*Hash)
	for i := range 40 {
		h.Each(func(f, v string) bool {
			hold = append(hold, held{f, v, f + "=" + v})
			return true
		})
		f := []byte("f" + strconv.Itoa(i%25))
		switch i % 4 {
		case 0:
			h.Set(f, []byte("changed"+strconv.Itoa(i)))
		case 1:
			h.Delete(f)
		case 2:
			h.Set([]byte("new"+strconv.Itoa(i)), []byte("x"))
			c.Set([]byte("clone"+strconv.Itoa(i)), []byte("y"))
		default:
			h.Delete([]byte("new" + strconv.Itoa(i-1)))
		}
	}
	for _, x := range hold {
		if got := x.field + "=" + x.val; got != x.want {
			t.Errorf("held string changed: %s, was %s", got, x.want)
		}
	}
	if v, _ := c.Get([]byte("f3")); v != "v3" {
		t.Errorf("clone f3=%q, want v3", v)
	}
}
