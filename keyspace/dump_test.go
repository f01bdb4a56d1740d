package keyspace

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/schemaproxy/schemaproxy/internal/difftest"
	"github.com/schemaproxy/schemaproxy/internal/testutil"
	"github.com/schemaproxy/schemaproxy/proto/rdb"
	"github.com/schemaproxy/schemaproxy/proto/resp"
)

// dumpPeer is one side of a DUMP/RESTORE exchange: redis-server or the
// keyspace.
type dumpPeer interface {
	Do(args ...string) ([]byte, error)
}

// startDumpRedis starts the redis-server the DUMP tests exchange payloads
// with. sanitize-dump-payload makes it check payloads as deeply as RESTORE
// here does, so that both refuse the same corrupt ones; DEBUG is enabled
// for QUICKLIST-PACKED-THRESHOLD.
func startDumpRedis(t *testing.T) *testutil.Conn {
	t.Helper()
	if testing.Short() {
		t.Skip("starts redis-server")
	}
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("no redis-server")
	}
	srv := testutil.StartRedis(t, "--sanitize-dump-payload", "yes", "--enable-debug-command", "yes")
	ref, err := testutil.Dial(srv.Addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ref.Close() })
	return ref
}

func mustDo(t *testing.T, p dumpPeer, args ...string) string {
	t.Helper()
	r, err := p.Do(args...)
	if err != nil {
		t.Fatalf("%q: %v", args, err)
	}
	return string(r)
}

// dumpOf returns the payload DUMP key replies on p.
func dumpOf(t *testing.T, p dumpPeer, key string) string {
	t.Helper()
	r := mustDo(t, p, "DUMP", key)
	v, _, err := resp.Parse([]byte(r))
	if err != nil || v.Kind != resp.KindBulk {
		t.Fatalf("DUMP %s: %q", key, r)
	}
	return string(v.Str)
}

// sameValue requires the value of key a on redis-server and of key b in the
// keyspace to be equal, with the same type and encoding. Elements are
// compared in order wherever Redis's order is defined by the encoding.
func sameValue(t *testing.T, ref dumpPeer, a string, local dumpPeer, b string) {
	t.Helper()
	typ := mustDo(t, ref, "TYPE", a)
	if got := mustDo(t, local, "TYPE", b); got != typ {
		t.Fatalf("TYPE: redis %q, here %q", typ, got)
	}
	// A string's encoding here is read off its value, so it misses Redis's
	// "raw" for a short string APPEND made (see objectEncoding): no
	// concern of DUMP's.
	enc := mustDo(t, ref, "OBJECT", "ENCODING", a)
	if got := mustDo(t, local, "OBJECT", "ENCODING", b); got != enc && typ != "+string\r\n" {
		t.Errorf("OBJECT ENCODING: redis %q, here %q", enc, got)
	}
	mode := difftest.Exact
	var cmd []string
	switch typ {
	case "+string\r\n":
		cmd = []string{"GET"}
	case "+list\r\n":
		cmd = []string{"LRANGE"} // in windows, below
	case "+hash\r\n":
		cmd = []string{"HGETALL"}
		if !strings.Contains(enc, "listpack") {
			mode = difftest.UnorderedPairs
		}
	case "+set\r\n":
		cmd = []string{"SMEMBERS"}
		if !strings.Contains(enc, "intset") {
			mode = difftest.Unordered
		}
	case "+zset\r\n":
		cmd = []string{"ZRANGE", "", "0", "-1", "WITHSCORES"}
	default:
		t.Fatalf("unexpected type %q", typ)
	}
	if typ == "+list\r\n" {
		// In windows: the test client reads a long reply in quadratic time.
		n := mustDo(t, ref, "LLEN", a)
		if got := mustDo(t, local, "LLEN", b); got != n {
			t.Fatalf("LLEN: redis %q, here %q", n, got)
		}
		for i := 0; ; i += 500 {
			lo, hi := strconv.Itoa(i), strconv.Itoa(i+499)
			want, got := mustDo(t, ref, "LRANGE", a, lo, hi), mustDo(t, local, "LRANGE", b, lo, hi)
			if want != got {
				t.Fatalf("LRANGE %s %s: redis %.300q\nhere %.300q", lo, hi, want, got)
			}
			if want == "*0\r\n" {
				return
			}
		}
	}
	args := func(key string) []string {
		return append([]string{cmd[0], key}, cmd[min(2, len(cmd)):]...)
	}
	want, got := mustDo(t, ref, args(a)...), mustDo(t, local, args(b)...)
	if !difftest.Equal(mode, []byte(want), []byte(got)) {
		t.Errorf("%s: redis %.300q\nhere %.300q", cmd[0], want, got)
	}
}

// dumpCase is a value built by the same commands in redis-server and in the
// keyspace (and by redisOnly in redis-server alone); each command's key, its
// second word, is replaced by the case's own. exact: DUMP must give Redis's
// bytes.
type dumpCase struct {
	name      string
	build     [][]string
	redisOnly [][]string
	exact     bool
}

// cmdWith is cmd followed by args.
func cmdWith(cmd []string, args ...string) []string {
	return append(append([]string(nil), cmd...), args...)
}

// dumpCases covers every type in every encoding Redis 7.0 gives it.
func dumpCases() []dumpCase {
	rnd := rand.New(rand.NewPCG(7, 70))
	words := func(n, minLen, maxLen int, alphabet string) []string {
		out := make([]string, n)
		for i := range out {
			b := make([]byte, minLen+rnd.IntN(maxLen-minLen+1))
			for j := range b {
				b[j] = alphabet[rnd.IntN(len(alphabet))]
			}
			out[i] = string(b)
		}
		return out
	}
	ints := func(n int, lo, hi int64) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = strconv.FormatInt(lo+rnd.Int64N(hi-lo+1), 10)
		}
		return out
	}
	binary := string(bytes.Repeat([]byte{0, 0xff, '\r', '\n', 0x80}, 30))
	noise := words(1, 300, 300, "\x00\x01\x02\x03abcdefghijklmnopqrstuvwxyz0123456789")[0]
	text := strings.Repeat("the quick brown fox jumps over the lazy dog ", 300)
	zadd := func(pairs ...string) []string { return cmdWith([]string{"ZADD", "k"}, pairs...) }
	zpairs := func(n int, memberLen int) []string {
		var out []string
		for i, m := range words(n, memberLen, memberLen, "abcdefghij") {
			out = append(out, strconv.Itoa(i%17)+"."+strconv.Itoa(i%5), m+strconv.Itoa(i))
		}
		return out
	}
	hashPairs := func(n, valLen int) []string {
		var out []string
		for i, v := range words(n, valLen, valLen, "xyz") {
			out = append(out, "field"+strconv.Itoa(i), v)
		}
		return out
	}
	mixedList := append(append(append(words(3000, 0, 30, "ab"), ints(2000, -1<<40, 1<<40)...), words(200, 100, 300, "qwertyuiop")...), ints(300, -200, 200)...)
	rnd.Shuffle(len(mixedList), func(i, j int) { mixedList[i], mixedList[j] = mixedList[j], mixedList[i] })

	return []dumpCase{
		{name: "string empty", build: [][]string{{"SET", "k", ""}}, exact: true},
		{name: "string short", build: [][]string{{"SET", "k", "hello"}}, exact: true},
		{name: "string int8", build: [][]string{{"SET", "k", "-100"}}, exact: true},
		{name: "string int16", build: [][]string{{"SET", "k", "30000"}}, exact: true},
		{name: "string int32", build: [][]string{{"SET", "k", "-2000000000"}}, exact: true},
		{name: "string int64", build: [][]string{{"SET", "k", "9223372036854775807"}}, exact: true},
		{name: "string not canonical ints", build: [][]string{{"SET", "k", "007"}}, exact: true},
		{name: "string appended int", build: [][]string{{"SET", "k", "12"}, {"APPEND", "k", "34"}}, exact: true},
		{name: "string 20 bytes", build: [][]string{{"SET", "k", strings.Repeat("a", 20)}}, exact: true},
		{name: "string lzf 21 bytes", build: [][]string{{"SET", "k", strings.Repeat("a", 21)}}, exact: true},
		{name: "string lzf text", build: [][]string{{"SET", "k", text}}, exact: true},
		{name: "string binary", build: [][]string{{"SET", "k", binary}}, exact: true},
		{name: "string incompressible", build: [][]string{{"SET", "k", noise}}, exact: true},
		{name: "string large", build: [][]string{{"SET", "k", strings.Repeat(text+noise, 40)}}, exact: true},

		{name: "list small", build: [][]string{{"RPUSH", "k", "a", "1", "-1", "200", "-5000", "70000", "3000000000",
			"9223372036854775807", "-9223372036854775808", "01", "", binary}}, exact: true},
		{name: "list many nodes", build: [][]string{cmdWith([]string{"RPUSH", "k"}, mixedList...)}, exact: true},
		{name: "list big elements", build: [][]string{cmdWith([]string{"RPUSH", "k"}, words(20, 5000, 12000, "abc")...)}, exact: true},
		// LPUSH fills nodes from the head: the same value, cut elsewhere.
		{name: "list lpush", build: [][]string{cmdWith([]string{"LPUSH", "k"}, words(4000, 1, 10, "xyz")...)}},
		{name: "list plain nodes", build: [][]string{cmdWith([]string{"RPUSH", "k"}, "small", strings.Repeat("P", 150), "7", strings.Repeat("Q", 500))},
			redisOnly: [][]string{{"DEBUG", "QUICKLIST-PACKED-THRESHOLD", "100"}}},

		{name: "hash listpack", build: [][]string{{"HSET", "k", "f", "v", "n", "12", "neg", "-5", "big", "9999999999999", "", "empty"}}, exact: true},
		{name: "hash listpack edited", build: [][]string{cmdWith([]string{"HSET", "k"}, hashPairs(100, 20)...),
			{"HSET", "k", "field3", "new", "field50", "12345"}, {"HDEL", "k", "field7", "field8"}, {"HSET", "k", "field7", "back"}}, exact: true},
		{name: "hash table by count", build: [][]string{cmdWith([]string{"HSET", "k"}, hashPairs(600, 5)...)}},
		{name: "hash table by length", build: [][]string{{"HSET", "k", "a", "1", "long", strings.Repeat("v", 65)}}},

		{name: "set intset 16", build: [][]string{{"SADD", "k", "5", "-3", "32767", "-32768", "0"}}, exact: true},
		{name: "set intset 32", build: [][]string{{"SADD", "k", "5", "100000", "-2147483648"}}, exact: true},
		{name: "set intset 64", build: [][]string{{"SADD", "k", "-1", "10000000000", "9223372036854775807"}}, exact: true},
		{name: "set intset full", build: [][]string{cmdWith([]string{"SADD", "k"}, ints(512, -1000000, 1000000)...)}},
		// Redis keeps the 32-bit width after the member that needed it left.
		{name: "set intset narrowed", build: [][]string{{"SADD", "k", "1", "2", "100000"}, {"SREM", "k", "100000"}}},
		{name: "set table strings", build: [][]string{{"SADD", "k", "a", "b", "1", "c"}}},
		{name: "set table by count", build: [][]string{cmdWith([]string{"SADD", "k"}, ints(600, 0, 1<<50)...)}},

		{name: "zset listpack", build: [][]string{zadd("1", "a", "2.5", "b", "-inf", "c", "inf", "d", "0.1", "e", "-0", "f",
			"1e20", "g", "-1e-300", "h", "4611686018427387904", "i", "4611686018427387905", "j", "3", "x", "3", "y", "3", "")}, exact: true},
		{name: "zset listpack full", build: [][]string{zadd(zpairs(128, 8)...)}, exact: true},
		{name: "zset skiplist by count", build: [][]string{zadd(zpairs(300, 6)...)}, exact: true},
		{name: "zset skiplist by length", build: [][]string{zadd("1", "a", "-0", "z", "2", strings.Repeat("m", 65))}, exact: true},
	}
}

// TestDumpRedis moves every kind of value both ways between redis-server
// and the keyspace: Redis's DUMP restored here, ours restored there, each
// compared with the original value; and where DUMP can be Redis's own
// bytes, it must be.
func TestDumpRedis(t *testing.T) {
	ref := startDumpRedis(t)
	identical := 0
	cases := dumpCases()
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// Redis's LZF leaves its hash table uncleared (see proto/rdb):
			// a string compressed where an earlier one lay could find a
			// stale match. Keys that are never freed rule that out.
			k := "c" + strconv.Itoa(i)
			mustDo(t, ref, "DEBUG", "QUICKLIST-PACKED-THRESHOLD", "0")
			local := newLocalServer()
			for _, cmd := range c.redisOnly {
				mustDo(t, ref, cmd...)
			}
			for _, cmd := range c.build {
				cmd = append([]string{cmd[0], k}, cmd[2:]...)
				if want, got := mustDo(t, ref, cmd...), mustDo(t, local, cmd...); want != got {
					t.Fatalf("%.40q: redis %q, here %q", cmd, want, got)
				}
			}
			theirs, ours := dumpOf(t, ref, k), dumpOf(t, local, k)

			if got := mustDo(t, local, "RESTORE", "from-redis", "0", theirs); got != "+OK\r\n" {
				t.Fatalf("RESTORE of Redis's DUMP: %q (payload %.200x)", got, theirs)
			}
			sameValue(t, ref, k, local, "from-redis")
			if got := mustDo(t, ref, "RESTORE", k+"-from-here", "0", ours); got != "+OK\r\n" {
				t.Fatalf("redis RESTORE of our DUMP: %q (payload %.200x)", got, ours)
			}
			sameValue(t, ref, k+"-from-here", local, k)
			// DUMP of what each restored gives the payload it was given
			// back wherever the encodings allow.
			if c.exact {
				if ours != theirs {
					t.Errorf("DUMP differs from Redis's:\nredis %x\nhere  %x", theirs, ours)
				}
				if again := dumpOf(t, local, "from-redis"); again != theirs {
					t.Errorf("DUMP of the restored value differs from Redis's:\nredis %x\nhere  %x", theirs, again)
				}
			}
			if ours == theirs {
				identical++
			}
		})
	}
	t.Logf("%d of %d DUMPs byte-identical to Redis's", identical, len(cases))
}

// payloadOf frames an object (type byte and body) as a DUMP payload of RDB
// version ver.
func payloadOf(ver uint16, parts ...[]byte) string {
	b := bytes.Join(parts, nil)
	b = append(b, byte(ver), byte(ver>>8))
	return string(binary.LittleEndian.AppendUint64(b, rdb.CRC64(0, b)))
}

// Pieces of hand-made payloads.
func rdbStr(s string) []byte  { return rdb.AppendString(nil, []byte(s)) }
func rdbLen(n int) []byte     { return rdb.AppendLen(nil, uint64(n)) }
func rdbDbl(f float64) []byte { return rdb.AppendBinaryDouble(nil, f) }
func rdbType(t byte) []byte   { return []byte{t} }
func bs(s ...string) [][]byte {
	out := make([][]byte, len(s))
	for i := range s {
		out[i] = []byte(s[i])
	}
	return out
}
func rdbListpack(elems ...string) []byte {
	lp := rdb.NewListpack()
	for _, e := range bs(elems...) {
		lp = rdb.ListpackAppend(lp, e)
	}
	return lp
}

// TestRestoreOldEncodingsRedis restores payloads Redis 7.0 reads but no
// longer writes (plain lists, ziplists, quicklists of ziplists, zipmaps,
// text scores), and unusual ones it accepts, in redis-server and here: both
// must take them and hold the same value, in the same encoding.
func TestRestoreOldEncodingsRedis(t *testing.T) {
	ref := startDumpRedis(t)
	long := strings.Repeat("L", 100)
	text := strings.Repeat("compress me ", 20)
	zlist := rdb.AppendZiplist(nil, bs("a", "1", "300", "-70000", "5000000000", long, ""))
	pairs := func(n int, prefix string) []string {
		var out []string
		for i := range n {
			out = append(out, prefix+strconv.Itoa(i), strconv.Itoa(i*7))
		}
		return out
	}
	intset600 := make([]int64, 600)
	for i := range intset600 {
		intset600[i] = int64(i * 3)
	}
	for _, c := range []struct {
		name    string
		payload string
	}{
		{"plain list", payloadOf(10, rdbType(rdb.TypeList), rdbLen(4), rdbStr("a"), rdbStr("12"), rdbStr(text), rdbStr(""))},
		{"list ziplist", payloadOf(10, rdbType(rdb.TypeListZiplist), rdbStr(string(zlist)))},
		{"quicklist of ziplists", payloadOf(10, rdbType(rdb.TypeListQuicklist), rdbLen(3), rdbStr(string(zlist)),
			rdbStr(string(rdb.AppendZiplist(nil, nil))), rdbStr(string(rdb.AppendZiplist(nil, bs("z", "-1")))))},
		{"quicklist with a plain node", payloadOf(10, rdbType(rdb.TypeListQuicklist2), rdbLen(3),
			rdbLen(2), rdbStr(string(rdbListpack("a", "2"))), rdbLen(1), rdbStr(text), rdbLen(2), rdbStr(string(rdbListpack("b"))))},
		{"quicklist with an empty node", payloadOf(10, rdbType(rdb.TypeListQuicklist2), rdbLen(2),
			rdbLen(2), rdbStr(string(rdbListpack())), rdbLen(2), rdbStr(string(rdbListpack("only"))))},
		{"plain set of ints", payloadOf(10, rdbType(rdb.TypeSet), rdbLen(3), rdbStr("3"), rdbStr("-1"), rdbStr("20000000000"))},
		{"plain set of strings", payloadOf(10, rdbType(rdb.TypeSet), rdbLen(3), rdbStr("3"), rdbStr("x"), rdbStr(long))},
		{"intset past 512", payloadOf(10, rdbType(rdb.TypeSetIntset), rdbStr(string(rdb.AppendIntset(nil, intset600))))},
		{"zset text scores", payloadOf(10, rdbType(rdb.TypeZSet), rdbLen(5), rdbStr("a"), []byte("\x032.5"), rdbStr("b"), []byte{254},
			rdbStr("c"), []byte{255}, rdbStr("d"), []byte("\x05 -1e3"), rdbStr("e"), []byte("\x041.5x"))},
		{"zset unsorted", payloadOf(10, rdbType(rdb.TypeZSet2), rdbLen(4), rdbStr("b"), rdbDbl(2), rdbStr("a"), rdbDbl(1),
			rdbStr("c"), rdbDbl(1), rdbStr("n"), rdbDbl(-1e300))},
		{"zset skiplist that fits a listpack", payloadOf(10, rdbType(rdb.TypeZSet2), rdbLen(2), rdbStr("z"), rdbDbl(0.5), rdbStr("y"), rdbDbl(math.Copysign(0, -1)))},
		{"zset ziplist", payloadOf(10, rdbType(rdb.TypeZSetZiplist), rdbStr(string(rdb.AppendZiplist(nil, bs("a", "1", "b", "2.5", "c", "inf")))))},
		{"zset listpack past 128", payloadOf(10, rdbType(rdb.TypeZSetListpack), rdbStr(string(rdbListpack(pairs(200, "m")...))))},
		{"hash ziplist", payloadOf(10, rdbType(rdb.TypeHashZiplist), rdbStr(string(rdb.AppendZiplist(nil, bs("f", "v", "n", "1")))))},
		{"hash ziplist of long values", payloadOf(10, rdbType(rdb.TypeHashZiplist), rdbStr(string(rdb.AppendZiplist(nil, bs("f", long)))))},
		{"hash listpack of long values", payloadOf(10, rdbType(rdb.TypeHashListpack), rdbStr(string(rdbListpack("f", long, "g", "1"))))},
		{"hash listpack past 512", payloadOf(10, rdbType(rdb.TypeHashListpack), rdbStr(string(rdbListpack(pairs(600, "f")...))))},
		{"hash zipmap", payloadOf(10, rdbType(rdb.TypeHashZipmap), rdbStr(string(rdb.AppendZipmap(nil, bs("f", "v", "n", "12")))))},
		{"hash zipmap of long values", payloadOf(10, rdbType(rdb.TypeHashZipmap), rdbStr(string(rdb.AppendZipmap(nil, bs("f", long)))))},
		{"plain hash", payloadOf(10, rdbType(rdb.TypeHash), rdbLen(2), rdbStr("f"), rdbStr("1"), rdbStr("g"), rdbStr(text))},
		{"rdb version 9", payloadOf(9, rdbType(rdb.TypeString), rdbStr("v9"))},
		{"rdb version 0", payloadOf(0, rdbType(rdb.TypeString), rdbStr("v0"))},
		{"bytes left unread", payloadOf(10, rdbType(rdb.TypeString), rdbStr("v"), []byte("ignored"))},
		// Redis reads the object from the whole payload: here a string of
		// 8 bytes made of the footer's version and most of its checksum.
		{"object reaching into the footer", payloadOf(10, rdbType(rdb.TypeString), []byte{8})},
	} {
		t.Run(c.name, func(t *testing.T) {
			mustDo(t, ref, "FLUSHALL")
			local := newLocalServer()
			want, got := mustDo(t, ref, "RESTORE", "k", "0", c.payload), mustDo(t, local, "RESTORE", "k", "0", c.payload)
			if want != "+OK\r\n" || got != want {
				t.Fatalf("RESTORE: redis %q, here %q", want, got)
			}
			sameValue(t, ref, "k", local, "k")
		})
	}
}

// TestRestoreRejectsAsRedis sends payloads that redis-server (checking them
// deeply, see startDumpRedis) refuses: RESTORE here must refuse them with
// the same reply and create nothing.
func TestRestoreRejectsAsRedis(t *testing.T) {
	ref := startDumpRedis(t)
	good := payloadOf(10, rdbType(rdb.TypeString), rdbStr("v"))
	flipped := []byte(good)
	flipped[1] ^= 1
	lp := rdbListpack("a", "b")
	badTotal := append([]byte(nil), lp...)
	badTotal[0]++
	str := func(b []byte) []byte { return rdbStr(string(b)) }
	for _, c := range []struct {
		name    string
		payload string
	}{
		{"empty", ""},
		{"shorter than a footer", "012345678"},
		{"bad checksum", string(flipped)},
		{"later rdb version", payloadOf(11, rdbType(rdb.TypeString), rdbStr("v"))},
		{"footer only", payloadOf(10)},
		{"type 8", payloadOf(10, rdbType(8), rdbStr("v"))},
		{"type 20", payloadOf(10, rdbType(20), rdbStr("v"))},
		{"module", payloadOf(10, rdbType(rdb.TypeModule2), rdbLen(12345))},
		{"string cut short", payloadOf(10, rdbType(rdb.TypeString), []byte{60, 'a'})},
		{"string of a bad encoding", payloadOf(10, rdbType(rdb.TypeString), []byte{0xc5})},
		{"string of bad lzf", payloadOf(10, rdbType(rdb.TypeString), []byte{0xc3, 2, 9, 0x20, 0})},
		{"empty plain list", payloadOf(10, rdbType(rdb.TypeList), rdbLen(0))},
		{"quicklist of no nodes", payloadOf(10, rdbType(rdb.TypeListQuicklist2), rdbLen(0))},
		{"quicklist of an empty listpack", payloadOf(10, rdbType(rdb.TypeListQuicklist2), rdbLen(1), rdbLen(2), str(rdbListpack()))},
		{"quicklist container 3", payloadOf(10, rdbType(rdb.TypeListQuicklist2), rdbLen(1), rdbLen(3), str(lp))},
		{"quicklist empty node", payloadOf(10, rdbType(rdb.TypeListQuicklist2), rdbLen(1), rdbLen(1), rdbStr(""))},
		{"quicklist bad listpack", payloadOf(10, rdbType(rdb.TypeListQuicklist2), rdbLen(1), rdbLen(2), str(badTotal))},
		{"ziplist list bad", payloadOf(10, rdbType(rdb.TypeListZiplist), str(lp))},
		{"empty ziplist list", payloadOf(10, rdbType(rdb.TypeListZiplist), str(rdb.AppendZiplist(nil, nil)))},
		{"empty set", payloadOf(10, rdbType(rdb.TypeSet), rdbLen(0))},
		{"set duplicate ints", payloadOf(10, rdbType(rdb.TypeSet), rdbLen(2), rdbStr("1"), rdbStr("1"))},
		{"set duplicate strings", payloadOf(10, rdbType(rdb.TypeSet), rdbLen(2), rdbStr("a"), rdbStr("a"))},
		{"intset of width 3", payloadOf(10, rdbType(rdb.TypeSetIntset), rdbStr("\x03\x00\x00\x00\x01\x00\x00\x00abc"))},
		{"intset empty", payloadOf(10, rdbType(rdb.TypeSetIntset), rdbStr("\x02\x00\x00\x00\x00\x00\x00\x00"))},
		{"intset unsorted", payloadOf(10, rdbType(rdb.TypeSetIntset), rdbStr("\x02\x00\x00\x00\x02\x00\x00\x00\x05\x00\x01\x00"))},
		{"empty zset", payloadOf(10, rdbType(rdb.TypeZSet2), rdbLen(0))},
		{"zset nan", payloadOf(10, rdbType(rdb.TypeZSet2), rdbLen(1), rdbStr("a"), rdbDbl(math.NaN()))},
		{"zset text nan", payloadOf(10, rdbType(rdb.TypeZSet), rdbLen(1), rdbStr("a"), []byte{253})},
		{"zset duplicate", payloadOf(10, rdbType(rdb.TypeZSet2), rdbLen(2), rdbStr("a"), rdbDbl(1), rdbStr("a"), rdbDbl(2))},
		{"zset listpack odd", payloadOf(10, rdbType(rdb.TypeZSetListpack), str(rdbListpack("a", "1", "b")))},
		{"zset listpack empty", payloadOf(10, rdbType(rdb.TypeZSetListpack), str(rdbListpack()))},
		{"zset listpack duplicate", payloadOf(10, rdbType(rdb.TypeZSetListpack), str(rdbListpack("a", "1", "a", "2")))},
		{"empty hash", payloadOf(10, rdbType(rdb.TypeHash), rdbLen(0))},
		{"hash duplicate", payloadOf(10, rdbType(rdb.TypeHash), rdbLen(2), rdbStr("f"), rdbStr("1"), rdbStr("f"), rdbStr("2"))},
		{"hash listpack odd", payloadOf(10, rdbType(rdb.TypeHashListpack), str(rdbListpack("f", "1", "g")))},
		{"hash listpack duplicate", payloadOf(10, rdbType(rdb.TypeHashListpack), str(rdbListpack("f", "1", "f", "2")))},
		{"hash listpack bad", payloadOf(10, rdbType(rdb.TypeHashListpack), str(badTotal))},
		{"hash ziplist duplicate", payloadOf(10, rdbType(rdb.TypeHashZiplist), str(rdb.AppendZiplist(nil, bs("f", "1", "f", "2"))))},
		{"hash zipmap empty", payloadOf(10, rdbType(rdb.TypeHashZipmap), rdbStr("\x00\xff"))},
		{"hash zipmap duplicate", payloadOf(10, rdbType(rdb.TypeHashZipmap), str(rdb.AppendZipmap(nil, bs("f", "1", "f", "2"))))},
	} {
		t.Run(c.name, func(t *testing.T) {
			mustDo(t, ref, "FLUSHALL")
			local := newLocalServer()
			want, got := mustDo(t, ref, "RESTORE", "k", "0", c.payload), mustDo(t, local, "RESTORE", "k", "0", c.payload)
			if !strings.HasPrefix(want, "-") || got != want {
				t.Errorf("RESTORE: redis %q, here %q", want, got)
			}
			if got := mustDo(t, local, "EXISTS", "k"); got != ":0\r\n" {
				t.Errorf("refused payload created the key")
			}
		})
	}
}

// FuzzRestore feeds RESTORE's decoder arbitrary objects, framed with a
// valid footer so that the fuzzer gets past the checksum: it must not
// panic, and a value it accepts must DUMP to a payload that restores to
// the same DUMP.
func FuzzRestore(f *testing.F) {
	for _, c := range dumpCases() {
		if len(c.redisOnly) > 0 {
			continue
		}
		local := newLocalServer()
		for _, cmd := range c.build {
			if _, err := local.Do(cmd...); err != nil {
				f.Fatal(err)
			}
		}
		e := local.store.DB(0).Peek("k")
		p := dumpPayload(e)
		if len(p) < 2000 {
			f.Add(p[:len(p)-10])
		}
	}
	f.Add([]byte{rdb.TypeListZiplist})
	f.Add(append([]byte{rdb.TypeHashZipmap}, rdbStr("\x01\x01f\x01\x00v\xff")...))
	f.Fuzz(func(t *testing.T, obj []byte) {
		e, err := restorePayload([]byte(payloadOf(10, obj)))
		if err != nil {
			return
		}
		p := dumpPayload(e)
		e2, err := restorePayload(p)
		if err != nil {
			t.Fatalf("DUMP of a restored value does not restore: %v", err)
		}
		if p2 := dumpPayload(e2); !bytes.Equal(p2, p) {
			t.Fatalf("DUMP not stable:\n%x\n%x", p, p2)
		}
	})
}

// TestDumpLZFRedis DUMPs random strings (seed printed) of every size and
// degree of repetition in redis-server and here: the LZF compressor must
// make Redis's bytes, or both leave the string verbatim.
func TestDumpLZFRedis(t *testing.T) {
	ref := startDumpRedis(t)
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	rnd := rand.New(rand.NewPCG(seed, 1))
	local := newLocalServer()
	same := 0
	for i := range 400 {
		n := 15 + rnd.IntN(200)
		if i%10 == 0 {
			n = rnd.IntN(20000)
		}
		b := make([]byte, n)
		alphabet := 1 + rnd.IntN(40)
		for j := range b {
			if j > 4 && rnd.IntN(3) == 0 {
				b[j] = b[j-1-rnd.IntN(min(j, 1+rnd.IntN(9000)))]
			} else {
				b[j] = byte('a' + rnd.IntN(alphabet))
			}
		}
		key := "s" + strconv.Itoa(i)
		mustDo(t, ref, "SET", key, string(b))
		mustDo(t, local, "SET", key, string(b))
		if theirs, ours := dumpOf(t, ref, key), dumpOf(t, local, key); theirs != ours {
			t.Errorf("seed %d, string %d (%d bytes): DUMP differs\nredis %.120x\nhere  %.120x", seed, i, n, theirs, ours)
		} else {
			same++
		}
	}
	t.Logf("%d of 400 identical", same)
}
