package keyspace

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
)

func TestStreamIDParse(t *testing.T) {
	c := &Ctx{W: nil}
	for _, tc := range []struct {
		in              string
		strict, autoSeq bool
		want            streamID
		seqGiven, ok    bool
	}{
		{"1-2", true, false, streamID{1, 2}, true, true},
		{"5", true, false, streamID{5, 0}, true, true},
		{"-", false, false, streamID{}, true, true},
		{"+", false, false, maxStreamID, true, true},
		{"-", true, false, streamID{}, false, false},
		{"7-*", true, true, streamID{7, 0}, false, true},
		{"7-*", true, false, streamID{}, false, false},
		{"18446744073709551615-18446744073709551615", true, false, maxStreamID, true, true},
		{"18446744073709551616", true, false, streamID{}, false, false},
		{"+5", true, false, streamID{5, 0}, true, true},  // strtoull takes a sign
		{" 5", true, false, streamID{5, 0}, true, true},  // and leading space
		{"-1", true, false, streamID{}, false, false},    // '-' splits ms from seq
		{"1-2-3", true, false, streamID{}, false, false}, // seq "2-3"
		{"1-", true, false, streamID{}, false, false},    // empty seq
		{strings.Repeat("1", 128), true, false, streamID{}, false, false},
	} {
		id, seqGiven, ok := c.parseStreamID([]byte(tc.in), 0, tc.strict, tc.autoSeq, true)
		if ok != tc.ok || ok && (id != tc.want || seqGiven != tc.seqGiven) {
			t.Errorf("%q: %v %v %v, want %v %v %v", tc.in, id, seqGiven, ok, tc.want, tc.seqGiven, tc.ok)
		}
	}
	if id, ok := (streamID{1, math.MaxUint64}).incr(); !ok || id != (streamID{2, 0}) {
		t.Errorf("incr: %v", id)
	}
	if _, ok := maxStreamID.incr(); ok {
		t.Error("incr of the last ID")
	}
	if id, ok := (streamID{2, 0}).decr(); !ok || id != (streamID{1, math.MaxUint64}) {
		t.Errorf("decr: %v", id)
	}
}

func streamWith(n int, fields int) *Stream {
	s := NewStream()
	for i := 1; i <= n; i++ {
		var kv [][]byte
		for f := 0; f < fields; f++ {
			kv = append(kv, []byte("f"+strconv.Itoa(f)), []byte(strconv.Itoa(i)))
		}
		s.appendEntry(streamID{uint64(i), 0}, kv)
	}
	return s
}

// TestStreamNodesAndTrim checks the node cuts (100 entries, or 4096
// listpack bytes) and trimming by whole nodes against a simple model.
func TestStreamNodesAndTrim(t *testing.T) {
	s := streamWith(350, 1)
	if len(s.nodes) != 4 || s.nodes[0].live != 100 || s.nodes[3].live != 50 {
		t.Fatalf("nodes: %d", len(s.nodes))
	}
	for _, n := range s.nodes {
		if got := len(nodeListpack(n)); got != n.bytes() {
			t.Fatalf("node bytes %d, listpack %d", n.bytes(), got)
		}
	}
	// ~ drops whole nodes only.
	if n := s.trim(&trimArgs{strategy: trimMaxLen, approx: true, maxlen: 240, limit: streamTrimDefaultLimit}); n != 100 || s.length != 250 {
		t.Fatalf("MAXLEN ~ 240: %d, length %d", n, s.length)
	}
	if n := s.trim(&trimArgs{strategy: trimMaxLen, maxlen: 245}); n != 5 || s.length != 245 || s.firstID != (streamID{106, 0}) {
		t.Fatalf("MAXLEN 245: %d, length %d, first %v", n, s.length, s.firstID)
	}
	// The node with tombstones still counts 100 toward the next cut.
	if s.nodes[0].live != 95 || s.nodes[0].deleted != 5 {
		t.Fatalf("head node %d/%d", s.nodes[0].live, s.nodes[0].deleted)
	}
	if n := s.trim(&trimArgs{strategy: trimMinID, minid: streamID{300, 0}}); n != 194 || s.firstID != (streamID{300, 0}) {
		t.Fatalf("MINID 300: %d, first %v", n, s.firstID)
	}
	// Big values cut nodes by bytes.
	b := NewStream()
	for i := 1; i <= 20; i++ {
		b.appendEntry(streamID{uint64(i), 0}, [][]byte{[]byte("f"), []byte(strings.Repeat("x", 1000))})
	}
	for _, n := range b.nodes {
		if n.bytes() >= streamNodeMaxBytes+1000 || n.live > 4 {
			t.Fatalf("node of %d bytes, %d entries", n.bytes(), n.live)
		}
		if got := len(nodeListpack(n)); got != n.bytes() {
			t.Fatalf("node bytes %d, listpack %d", n.bytes(), got)
		}
	}
	// XDEL of a node's last live entry drops the node.
	d := streamWith(3, 2)
	if d.xdel([]streamID{{2, 0}, {1, 0}, {3, 0}}) != 3 || len(d.nodes) != 0 || d.maxDeleted != (streamID{3, 0}) || !d.firstID.isZero() {
		t.Fatalf("xdel: %d nodes, max %v", len(d.nodes), d.maxDeleted)
	}
}

// TestStreamRaxNodes: XINFO's radix-tree-nodes as Redis counts them.
func TestStreamRaxNodes(t *testing.T) {
	if n := NewStream().raxNodes(); n != 1 {
		t.Errorf("empty: %d", n)
	}
	if n := streamWith(1, 1).raxNodes(); n != 2 {
		t.Errorf("one key: %d", n)
	}
}

// TestStreamDumpRedis moves streams both ways between redis-server and the
// keyspace: the same commands build them on both; each side restores the
// other's DUMP and reads the same; a stream without consumers (no clock in
// it) DUMPs to Redis's own bytes.
func TestStreamDumpRedis(t *testing.T) {
	ref := startDumpRedis(t)
	// evalAdd adds n entries i-1 with field f = i and the extra pairs.
	evalAdd := func(n int, extra ...string) [][]string {
		var cmds [][]string
		for i := 1; i <= n; i++ {
			cmds = append(cmds, append([]string{"XADD", "k", fmt.Sprintf("%d-1", i), "f", strconv.Itoa(i)}, extra...))
		}
		return cmds
	}
	cat := func(parts ...[][]string) [][]string {
		var out [][]string
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	cases := []struct {
		name  string
		build [][]string
		exact bool
	}{
		{"one", [][]string{{"XADD", "k", "1-1", "a", "1"}}, true},
		{"fields", [][]string{{"XADD", "k", "1-1", "a", "1", "b", "x"}, {"XADD", "k", "1-2", "a", "2", "b", "y"},
			{"XADD", "k", "2-0", "c", "-7", "d", "123456789012"}, {"XADD", "k", "3-0", "", strings.Repeat("v", 300)}}, true},
		{"nodes", evalAdd(350), true},
		{"trimmed", cat(evalAdd(350), [][]string{{"XTRIM", "k", "MAXLEN", "230"}, {"XDEL", "k", "200-1", "201-1", "350-1"}}), true},
		{"bytes", evalAdd(40, "g", strings.Repeat("z", 500)), true},
		{"empty", [][]string{{"XADD", "k", "1-1", "a", "1"}, {"XDEL", "k", "1-1"}}, true},
		{"groups", cat(evalAdd(20), [][]string{{"XGROUP", "CREATE", "k", "g1", "0"}, {"XGROUP", "CREATE", "k", "g", "5-1", "ENTRIESREAD", "5"}}), true},
		{"pending", cat(evalAdd(20), [][]string{{"XGROUP", "CREATE", "k", "g", "0"},
			{"XREADGROUP", "GROUP", "g", "alice", "COUNT", "5", "STREAMS", "k", ">"},
			{"XREADGROUP", "GROUP", "g", "bob", "COUNT", "3", "STREAMS", "k", ">"},
			{"XACK", "k", "g", "2-1"}, {"XGROUP", "CREATECONSUMER", "k", "g", "carol"}}), false},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			k := "s" + strconv.Itoa(i)
			local := newLocalServer()
			for _, cmd := range c.build {
				cmd = append([]string(nil), cmd...)
				for j, a := range cmd {
					if a == "k" {
						cmd[j] = k
					}
				}
				want, got := mustDo(t, ref, cmd...), mustDo(t, local, cmd...)
				if cmd[0] != "XREADGROUP" && want != got {
					t.Fatalf("%.60q: redis %q, here %q", cmd, want, got)
				}
			}
			theirs, ours := dumpOf(t, ref, k), dumpOf(t, local, k)
			if got := mustDo(t, local, "RESTORE", "from-redis", "0", theirs); got != "+OK\r\n" {
				t.Fatalf("RESTORE of Redis's DUMP: %q (payload %.200x)", got, theirs)
			}
			if got := mustDo(t, ref, "RESTORE", k+"-from-here", "0", ours); got != "+OK\r\n" {
				t.Fatalf("redis RESTORE of our DUMP: %q (payload %.200x)", got, ours)
			}
			for _, q := range [][]string{{"XRANGE", "", "-", "+"}, {"XLEN", ""}, {"XINFO", "STREAM", ""}, {"XINFO", "GROUPS", ""},
				{"XPENDING", "", "g"}, {"TYPE", ""}} {
				arg := func(key string) []string {
					out := append([]string(nil), q...)
					for j := range out {
						if out[j] == "" {
							out[j] = key
						}
					}
					return out
				}
				want := mustDo(t, ref, arg(k)...)
				if strings.HasPrefix(want, "-NOGROUP") {
					continue // names the key
				}
				for _, got := range []string{mustDo(t, local, arg("from-redis")...), mustDo(t, ref, arg(k+"-from-here")...)} {
					if got != want {
						t.Errorf("%q: redis %.300q\nhere %.300q", q, want, got)
					}
				}
			}
			if c.exact && ours != theirs {
				t.Errorf("DUMP differs from Redis's:\nredis %x\nhere  %x", theirs, ours)
			}
		})
	}
}

// TestStreamEncodeRoundTrip: the store's own encoding (snapshots, log)
// keeps a stream with groups whole.
func TestStreamEncodeRoundTrip(t *testing.T) {
	local := newLocalServer()
	for _, cmd := range [][]string{
		{"XADD", "k", "1-1", "a", "1"}, {"XADD", "k", "2-1", "a", "2", "b", "3"}, {"XADD", "k", "3-1", "a", "3"},
		{"XGROUP", "CREATE", "k", "g", "0"}, {"XREADGROUP", "GROUP", "g", "c", "STREAMS", "k", ">"},
		{"XACK", "k", "g", "1-1"}, {"XDEL", "k", "3-1"},
	} {
		mustDo(t, local, cmd...)
	}
	e := local.store.DB(0).Peek("k")
	d, err := DecodeValue(EncodeValue(nil, e))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := dumpPayload(d), dumpPayload(e); string(got) != string(want) {
		t.Errorf("round trip changed the stream:\n%x\n%x", want, got)
	}
	c := e.Clone()
	if string(dumpPayload(c)) != string(dumpPayload(e)) {
		t.Error("clone differs")
	}
	mustDo(t, local, "XACK", "k", "g", "2-1")
	if string(dumpPayload(c)) == string(dumpPayload(e)) {
		t.Error("clone shares the PEL")
	}
}
