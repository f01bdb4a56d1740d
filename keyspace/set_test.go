package keyspace

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/schemaproxy/schemaproxy/proto/resp"
)

func (v *hsEnv) set(t *testing.T, key string) *Set {
	t.Helper()
	e := v.entry(key)
	if e == nil {
		return nil
	}
	s, ok := e.Coll.(*Set)
	if !ok {
		t.Fatalf("%s is a %s", key, e.Kind)
	}
	if s.Len() == 0 {
		t.Fatalf("%s is an empty set that was not deleted", key)
	}
	return s
}

// members returns the members of set key in its order.
func (v *hsEnv) members(t *testing.T, key string) []string {
	t.Helper()
	s := v.set(t, key)
	if s == nil {
		return nil
	}
	var out []string
	s.Each(func(m string) bool { out = append(out, m); return true })
	return out
}

func TestSetCommands(t *testing.T) {
	v := newHSEnv()
	v.putString("str", "x")
	hsSteps(t, v, []hsStep{
		{[]string{"SADD", "s", "3", "1", "2", "1"}, "(integer) 3"},
		{[]string{"SMEMBERS", "s"}, `["1" "2" "3"]`},
		{[]string{"SISMEMBER", "s", "2"}, "(integer) 1"},
		{[]string{"SISMEMBER", "s", "02"}, "(integer) 0"},
		{[]string{"SMISMEMBER", "s", "1", "x"}, "[(integer) 1 (integer) 0]"},
		{[]string{"SREM", "s", "2", "x"}, "(integer) 1"},
		{[]string{"SCARD", "s"}, "(integer) 2"},
		{[]string{"SMOVE", "s", "d", "3"}, "(integer) 1"},
		{[]string{"SMOVE", "s", "d", "3"}, "(integer) 0"},
		{[]string{"SMOVE", "nokey", "str", "3"}, "(integer) 0"},
		{[]string{"SMOVE", "s", "str", "1"}, "(error) " + ErrWrongType},
		{[]string{"SMOVE", "s", "s", "1"}, "(integer) 1"},
		{[]string{"SADD", "a", "1", "2", "3", "x"}, "(integer) 4"},
		{[]string{"SADD", "b", "3", "2", "9"}, "(integer) 3"},
		{[]string{"SINTER", "b", "a"}, `["2" "3"]`},
		{[]string{"SINTERCARD", "2", "a", "b", "LIMIT", "1"}, "(integer) 1"},
		{[]string{"SINTERCARD", "2", "a"}, "(error) ERR Number of keys can't be greater than number of args"},
		{[]string{"SINTERCARD", "0", "a"}, "(error) ERR numkeys should be greater than 0"},
		{[]string{"SINTERCARD", "1", "a", "LIMIT", "-1"}, "(error) ERR LIMIT can't be negative"},
		{[]string{"SUNION", "b", "s", "nokey"}, `["1" "2" "3" "9"]`},
		{[]string{"SDIFF", "b", "a"}, `["9"]`},
		{[]string{"SDIFFSTORE", "str", "b", "a"}, "(integer) 1"},
		{[]string{"SMEMBERS", "str"}, `["9"]`},
		{[]string{"SINTERSTORE", "str", "b", "nokey"}, "(integer) 0"},
		{[]string{"SCARD", "str"}, "(integer) 0"},
		{[]string{"SPOP", "s", "-1"}, "(error) ERR value is out of range, must be positive"},
		{[]string{"SPOP", "s", "x"}, "(error) ERR value is out of range, must be positive"},
		{[]string{"SPOP", "s", "1", "2"}, "(error) ERR syntax error"},
		{[]string{"SRANDMEMBER", "s", "x"}, "(error) ERR value is not an integer or out of range"},
		{[]string{"SRANDMEMBER", "s", "-9223372036854775808"}, "(error) " + ErrRandCountRange},
		{[]string{"SSCAN", "s", "0", "COUNT", "0"}, "(error) ERR syntax error"},
		{[]string{"SSCAN", "s", "0", "MATCH", "1"}, `["0" ["1"]]`},
		{[]string{"SPOP", "s"}, `"1"`},
		{[]string{"SCARD", "s"}, "(integer) 0"},
		{[]string{"SPOP", "s"}, "(nil)"},
	})
}

// TestSetResp3 checks the replies whose RESP3 form differs from RESP2.
func TestSetResp3(t *testing.T) {
	v := newHSEnv()
	v.run(3, "SADD", "s", "2", "1")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"SMEMBERS", "s"}, "~2\r\n$1\r\n1\r\n$1\r\n2\r\n"},
		{[]string{"SMEMBERS", "nokey"}, "~0\r\n"},
		{[]string{"SINTER", "s", "nokey"}, "~0\r\n"},
		{[]string{"SUNION", "s"}, "~2\r\n$1\r\n1\r\n$1\r\n2\r\n"},
		{[]string{"SDIFF", "nokey"}, "~0\r\n"},
		{[]string{"SRANDMEMBER", "s", "5"}, "*2\r\n$1\r\n1\r\n$1\r\n2\r\n"},
		{[]string{"SRANDMEMBER", "nokey"}, "_\r\n"},
		{[]string{"SPOP", "nokey"}, "_\r\n"},
		{[]string{"SPOP", "nokey", "2"}, "~0\r\n"},
		{[]string{"SPOP", "s", "0"}, "~0\r\n"},
		{[]string{"SMISMEMBER", "s", "1"}, "*1\r\n:1\r\n"},
		{[]string{"SSCAN", "s", "0"}, "*2\r\n$1\r\n0\r\n*2\r\n$1\r\n1\r\n$1\r\n2\r\n"},
		{[]string{"SPOP", "s", "5"}, "~2\r\n$1\r\n1\r\n$1\r\n2\r\n"},
	} {
		if got := v.run(3, c.args...); got != c.want {
			t.Errorf("%q: got %q, want %q", c.args, got, c.want)
		}
	}
}

// TestSetDirty checks that only real changes count and bump the version.
func TestSetDirty(t *testing.T) {
	v := newHSEnv()
	v.run(2, "SADD", "s", "1", "2", "3")
	for _, c := range []struct {
		args  []string
		dirty bool
	}{
		{[]string{"SMEMBERS", "s"}, false},
		{[]string{"SISMEMBER", "s", "1"}, false},
		{[]string{"SMISMEMBER", "s", "1"}, false},
		{[]string{"SCARD", "s"}, false},
		{[]string{"SRANDMEMBER", "s", "-5"}, false},
		{[]string{"SINTER", "s", "s"}, false},
		{[]string{"SINTERCARD", "1", "s"}, false},
		{[]string{"SUNION", "s"}, false},
		{[]string{"SDIFF", "s"}, false},
		{[]string{"SSCAN", "s", "0"}, false},
		{[]string{"SADD", "s", "1", "2"}, false},
		{[]string{"SREM", "s", "9"}, false},
		{[]string{"SMOVE", "s", "d", "9"}, false},
		{[]string{"SMOVE", "s", "s", "1"}, false},
		{[]string{"SPOP", "s", "0"}, false},
		{[]string{"SINTERSTORE", "nokey", "s", "nokey2"}, false},
		{[]string{"SADD", "s", "4"}, true},
		{[]string{"SREM", "s", "4"}, true},
		{[]string{"SPOP", "s", "1"}, true},
	} {
		before, _ := v.store.DB(0).Version([]byte("s"), v.now)
		v.run(2, c.args...)
		after, _ := v.store.DB(0).Version([]byte("s"), v.now)
		if (v.dirty > 0) != c.dirty || (after != before) != c.dirty {
			t.Errorf("%q: dirty %d, version %d -> %d; want changed=%v", c.args, v.dirty, before, after, c.dirty)
		}
	}
	for _, k := range []string{"d", "nokey"} {
		if v.entry(k) != nil {
			t.Errorf("%s was created", k)
		}
	}
}

// TestSetPropagate checks that SPOP is logged as a deterministic command
// and that replaying that command on the state before gives the state
// after.
func TestSetPropagate(t *testing.T) {
	rnd := hsRand(t)
	for i := 0; i < 200; i++ {
		v := newHSEnv()
		v.rnd = rnd
		size := 1 + rnd.IntN(30)
		args := []string{"SADD", "s"}
		for j := 0; j < size; j++ {
			if rnd.IntN(4) == 0 {
				args = append(args, "m"+strconv.Itoa(j))
			} else {
				args = append(args, strconv.Itoa(j*3))
			}
		}
		v.run(2, args...)
		before := newHSEnv()
		before.run(2, args...)

		cmd := []string{"SPOP", "s"}
		if rnd.IntN(3) > 0 {
			cmd = append(cmd, strconv.Itoa(rnd.IntN(size+3)))
		}
		reply := v.do(cmd...)
		if v.dirty == 0 {
			if v.prop != nil {
				t.Fatalf("%q: no change but propagates %q", cmd, v.prop)
			}
			continue
		}
		if v.prop == nil {
			t.Fatalf("%q: changed the set but propagates nothing", cmd)
		}
		switch strings.ToLower(string(v.prop[0])) {
		case "del":
			if len(v.prop) != 2 || string(v.prop[1]) != "s" || v.entry("s") != nil {
				t.Fatalf("%q: propagates %q", cmd, v.prop)
			}
			before.store.DB(0).Delete([]byte("s"), before.now)
		case "srem":
			// The members removed are the ones replied.
			popped := map[string]bool{}
			for _, m := range v.prop[2:] {
				popped[string(m)] = true
			}
			for m := range popped {
				if !strings.Contains(reply, strconv.Quote(m)) {
					t.Fatalf("%q replied %s but propagates %q", cmd, reply, v.prop)
				}
			}
			before.runBytes(2, v.prop)
		default:
			t.Fatalf("%q: propagates %q", cmd, v.prop)
		}
		got, want := before.members(t, "s"), v.members(t, "s")
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Fatalf("%q: replay gives %q, want %q", cmd, got, want)
		}
	}
}

// TestSetEncoding checks when a set stops being an intset, as in Redis,
// since that decides the order of its replies.
func TestSetEncoding(t *testing.T) {
	v := newHSEnv()
	enc := func(key string) string {
		if s := v.set(t, key); s != nil {
			return s.Encoding()
		}
		return "none"
	}
	for _, c := range []struct {
		members []string
		want    string
	}{
		{[]string{"1", "-5", "9223372036854775807", "-9223372036854775808"}, "intset"},
		{[]string{"1", "a"}, "hashtable"},
		{[]string{"-0"}, "hashtable"},
		{[]string{"007"}, "hashtable"},
		{[]string{"+1"}, "hashtable"},
		{[]string{" 1"}, "hashtable"},
		{[]string{"1.0"}, "hashtable"},
		{[]string{"9223372036854775808"}, "hashtable"},
	} {
		v.run(2, append([]string{"SADD", "k"}, c.members...)...)
		if got := enc("k"); got != c.want {
			t.Errorf("SADD %q: %s, want %s", c.members, got, c.want)
		}
		v.store.DB(0).Delete([]byte("k"), v.now)
	}
	args := []string{"SADD", "big"}
	for i := setMaxIntsetEntries; i > 0; i-- {
		args = append(args, strconv.Itoa(i))
	}
	v.run(2, args...)
	if got := enc("big"); got != "intset" {
		t.Fatalf("512 integers: %s", got)
	}
	if m := v.members(t, "big"); m[0] != "1" || m[511] != "512" {
		t.Fatalf("intset not sorted: %s ... %s", m[0], m[511])
	}
	v.run(2, "SADD", "big", "0")
	if got := enc("big"); got != "hashtable" {
		t.Fatalf("513 integers: %s", got)
	}
	v.run(2, "SREM", "big", "0", "1", "2")
	if got := enc("big"); got != "hashtable" {
		t.Fatalf("after SREM: %s", got)
	}
	if got := v.set(t, "big").Clone().(*Set).Encoding(); got != "hashtable" {
		t.Fatalf("clone: %s", got)
	}
	// Store commands build a new set: small integer results are intsets.
	v.run(2, "SADD", "small", "5", "3", "x")
	v.run(2, "SINTERSTORE", "d", "big", "small")
	if got, m := enc("d"), v.members(t, "d"); got != "intset" || !slices.Equal(m, []string{"3", "5"}) {
		t.Errorf("SINTERSTORE: %s %q", got, m)
	}
	v.run(2, "SUNIONSTORE", "d", "small")
	if got := enc("d"); got != "hashtable" {
		t.Errorf("SUNIONSTORE with a string: %s", got)
	}
	v.run(2, "SDIFFSTORE", "d", "small", "nokey")
	if got := enc("d"); got != "hashtable" {
		t.Errorf("SDIFFSTORE with a string: %s", got)
	}
	// SPOP of nearly everything keeps a rebuilt set (Redis's third case).
	v.run(2, "SPOP", "big", "505")
	if got := enc("big"); got != "intset" || v.set(t, "big").Len() != 5 {
		t.Errorf("after SPOP 505 of 510: %s with %d members", got, v.set(t, "big").Len())
	}
	// SPOP of a few keeps the table.
	v.run(2, "SADD", "t", "a", "1", "2", "3", "4", "5", "6", "7", "8", "9")
	v.run(2, "SPOP", "t", "1")
	if got := enc("t"); got != "hashtable" {
		t.Errorf("after SPOP 1 of 10: %s", got)
	}
	// Decoding recomputes the encoding, as Redis loading a dump does.
	s := NewSet()
	s.Add([]byte("x"))
	s.Add([]byte("2"))
	s.Add([]byte("1"))
	s.Remove([]byte("x"))
	d, err := decodeSet(s.encode(nil))
	if err != nil || d.Encoding() != "intset" {
		t.Errorf("decoded: %v %v", d, err)
	}
}

// TestSetScanBig walks a table set with SSCAN while members come and go:
// every member present for the whole walk is returned.
func TestSetScanBig(t *testing.T) {
	rnd := hsRand(t)
	v := newHSEnv()
	const n = 600
	args := []string{"SADD", "s"}
	for i := 0; i < n; i++ {
		args = append(args, "m"+strconv.Itoa(i))
	}
	v.run(2, args...)
	seen := map[string]bool{}
	cursor := "0"
	for steps := 0; ; steps++ {
		if steps > 10*n {
			t.Fatal("SSCAN does not terminate")
		}
		raw := v.run(2, "SSCAN", "s", cursor, "COUNT", strconv.Itoa(1+rnd.IntN(30)))
		val, _, err := resp.Parse([]byte(raw))
		if err != nil {
			t.Fatal(err)
		}
		cursor = string(val.Elems[0].Str)
		for _, m := range val.Elems[1].Elems {
			seen[string(m.Str)] = true
		}
		v.run(2, "SREM", "s", "m"+strconv.Itoa(2*rnd.IntN(n/2)+1))
		v.run(2, "SADD", "s", "new"+strconv.Itoa(steps))
		if cursor == "0" {
			break
		}
	}
	for i := 0; i < n; i += 2 {
		if !seen["m"+strconv.Itoa(i)] {
			t.Errorf("SSCAN missed m%d", i)
		}
	}
}

// TestSetModel runs random operations on a Set and on a map and compares
// them; while the set is an intset its order must be ascending.
func TestSetModel(t *testing.T) {
	rnd := hsRand(t)
	for round := 0; round < 20; round++ {
		s := NewSet()
		model := map[string]bool{}
		everString := false
		maxLen := 0
		span := 50 + rnd.IntN(1000)
		member := func() []byte {
			if rnd.IntN(200) == 0 {
				return []byte("s" + strconv.Itoa(rnd.IntN(span)))
			}
			return []byte(strconv.Itoa(rnd.IntN(span) - span/2))
		}
		for step := 0; step < 3000; step++ {
			switch op := rnd.IntN(10); {
			case op < 6:
				m := member()
				if s.Add(m) == model[string(m)] {
					t.Fatalf("round %d step %d: Add(%s)", round, step, m)
				}
				model[string(m)] = true
				if _, isInt := ParseInt(m); !isInt {
					everString = true
				}
			case op < 9:
				m := member()
				if s.Remove(m) != model[string(m)] {
					t.Fatalf("round %d step %d: Remove(%s)", round, step, m)
				}
				delete(model, string(m))
			default:
				if s.Len() > 1 {
					k := rnd.IntN(s.Len())
					got := s.randomDistinct(rnd, k)
					seen := map[string]bool{}
					for _, e := range got {
						if seen[e.String()] || !model[e.String()] {
							t.Fatalf("round %d step %d: randomDistinct gave %v", round, step, got)
						}
						seen[e.String()] = true
					}
				}
			}
			maxLen = max(maxLen, s.Len())
			if s.Len() != len(model) {
				t.Fatalf("round %d step %d: Len %d, model %d", round, step, s.Len(), len(model))
			}
			if wantTable := everString || maxLen > setMaxIntsetEntries; s.table != wantTable {
				t.Fatalf("round %d step %d: table=%v, want %v", round, step, s.table, wantTable)
			}
			if step%100 == 0 {
				var got []string
				s.Each(func(m string) bool { got = append(got, m); return true })
				for _, m := range got {
					if !model[m] || !s.Has([]byte(m)) {
						t.Fatalf("round %d step %d: member %s", round, step, m)
					}
				}
				if !s.table && !slices.IsSorted(s.ints) {
					t.Fatalf("round %d step %d: intset out of order", round, step)
				}
				if len(got) != len(model) {
					t.Fatalf("round %d step %d: %d members listed of %d", round, step, len(got), len(model))
				}
			}
		}
	}
}

// TestSetOpsModel compares SINTER, SUNION and SDIFF (and their STORE forms)
// with map arithmetic on random sets.
func TestSetOpsModel(t *testing.T) {
	rnd := hsRand(t)
	for round := 0; round < 300; round++ {
		v := newHSEnv()
		v.rnd = rnd
		models := map[string]map[string]bool{}
		keys := []string{"a", "b", "c", "d"}
		for _, k := range keys[:1+rnd.IntN(len(keys))] {
			args := []string{"SADD", k}
			models[k] = map[string]bool{}
			for j := rnd.IntN(20); j >= 0; j-- {
				m := strconv.Itoa(rnd.IntN(25))
				if rnd.IntN(10) == 0 {
					m = "x" + m
				}
				args = append(args, m)
				models[k][m] = true
			}
			v.run(2, args...)
		}
		n := 1 + rnd.IntN(4)
		var args []string
		for i := 0; i < n; i++ {
			args = append(args, keys[rnd.IntN(len(keys))])
		}
		inter, union, diff := map[string]bool{}, map[string]bool{}, map[string]bool{}
		for m := range models[args[0]] {
			inter[m], diff[m] = true, true
		}
		for _, k := range args {
			for m := range models[k] {
				union[m] = true
			}
		}
		for _, k := range args[1:] {
			for m := range inter {
				if !models[k][m] {
					delete(inter, m)
				}
			}
			for m := range models[k] {
				delete(diff, m)
			}
		}
		for _, c := range []struct {
			cmd  string
			want map[string]bool
		}{{"SINTER", inter}, {"SUNION", union}, {"SDIFF", diff}} {
			raw := v.run(2, append([]string{c.cmd}, args...)...)
			val, _, err := resp.Parse([]byte(raw))
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]bool{}
			var list []string
			for _, e := range val.Elems {
				got[string(e.Str)] = true
				list = append(list, string(e.Str))
			}
			if !maps.Equal(got, c.want) || len(list) != len(got) {
				t.Fatalf("%s %q = %q, want %v", c.cmd, args, list, c.want)
			}
			store := v.do(append([]string{c.cmd + "STORE", "dst"}, args...)...)
			if store != fmt.Sprintf("(integer) %d", len(c.want)) {
				t.Fatalf("%sSTORE %q = %s, want %d", c.cmd, args, store, len(c.want))
			}
			stored := v.members(t, "dst")
			if len(c.want) == 0 && stored != nil {
				t.Fatalf("%sSTORE %q kept an empty destination", c.cmd, args)
			}
			// A store and the plain command list the same order.
			if len(stored) > 0 && c.cmd != "SINTER" && !slices.Equal(stored, list) {
				t.Fatalf("%sSTORE order %q, %s order %q", c.cmd, stored, c.cmd, list)
			}
			if got := v.do(append([]string{"SINTERCARD", strconv.Itoa(n)}, args...)...); c.cmd == "SINTER" && got != fmt.Sprintf("(integer) %d", len(inter)) {
				t.Fatalf("SINTERCARD %q = %s, want %d", args, got, len(inter))
			}
		}
	}
}

func TestSetEncodeRoundTrip(t *testing.T) {
	for _, members := range [][]string{
		{"3", "1", "2"},
		{"a", "", "\x00", "1"},
	} {
		s := NewSet()
		for _, m := range members {
			s.Add([]byte(m))
		}
		e, err := DecodeValue(EncodeValue(nil, &Entry{Kind: KindSet, Coll: s}))
		if err != nil {
			t.Fatal(err)
		}
		d := e.Coll.(*Set)
		var got, want []string
		s.Each(func(m string) bool { want = append(want, m); return true })
		d.Each(func(m string) bool { got = append(got, m); return true })
		if !slices.Equal(got, want) || d.Encoding() != s.Encoding() {
			t.Errorf("round trip: %q (%s), want %q (%s)", got, d.Encoding(), want, s.Encoding())
		}
	}
	for _, bad := range [][]byte{
		{},
		{1},
		{2, 1, 'a', 1, 'a'}, // duplicate
		{1, 1, 'a', 7},
		{0xff, 0xff, 0xff, 0xff, 0x0f},
	} {
		if _, err := decodeSet(bad); err == nil {
			t.Errorf("decodeSet(%q) accepted", bad)
		}
	}
}

func FuzzDecodeSet(f *testing.F) {
	f.Add([]byte{2, 1, '1', 1, 'a'})
	f.Add([]byte{3, 1, '3', 1, '1', 2, '-', '2'})
	f.Add(NewSet().encode(nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := decodeSet(b)
		if err != nil {
			return
		}
		again, err := decodeSet(s.encode(nil))
		if err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		if !bytes.Equal(again.encode(nil), s.encode(nil)) || again.Encoding() != s.Encoding() {
			t.Fatal("encoding not stable")
		}
	})
}

// TestSetClone checks that a clone is independent of its original.
func TestSetClone(t *testing.T) {
	for _, members := range [][]string{{"1", "2"}, {"a", "b"}} {
		s := NewSet()
		for _, m := range members {
			s.Add([]byte(m))
		}
		c := s.Clone().(*Set)
		c.Remove([]byte(members[0]))
		c.Add([]byte("zz"))
		if s.Len() != 2 || !s.Has([]byte(members[0])) || s.Has([]byte("zz")) {
			t.Errorf("original changed with its clone (%q)", members)
		}
	}
}
