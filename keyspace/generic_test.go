package keyspace

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/schemaproxy/schemaproxy/proto/rdb"
	"github.com/schemaproxy/schemaproxy/proto/resp"
)

// genEnv runs commands of every family on a Store with a clock the test
// moves, without the command table (arity is covered by generic.txt).
type genEnv struct {
	store    *Store
	now      int64
	db       int
	handlers map[string]Handler
	rnd      *rand.Rand
}

func newGenEnv() *genEnv {
	v := &genEnv{now: 1_700_000_000_000, handlers: Handlers(), rnd: rand.New(rand.NewPCG(3, 4))}
	v.store = NewStore(16, func() int64 { return v.now })
	return v
}

// run executes one command in protocol proto and returns its reply and
// Dirty count.
func (v *genEnv) run(proto int, args ...[]byte) (string, int) {
	h, ok := v.handlers[strings.ToLower(string(args[0]))]
	if !ok {
		panic("no command " + string(args[0]))
	}
	c := &Ctx{Store: v.store, DBIndex: v.db, DB: v.store.DB(v.db), Args: args,
		W: resp.NewWriter(proto), Now: v.now, Rand: v.rnd}
	h(c)
	return string(c.W.B), c.Dirty
}

func (v *genEnv) do(args ...string) string {
	r, _ := v.run(2, strArgs(args)...)
	return r
}

func strArgs(args []string) [][]byte {
	bs := make([][]byte, len(args))
	for i, a := range args {
		bs[i] = []byte(a)
	}
	return bs
}

func (v *genEnv) version(key string) (uint64, bool) {
	return v.store.DB(v.db).Version([]byte(key), v.now)
}

func respInt(n int64) string { return fmt.Sprintf(":%d\r\n", n) }

type genStep struct {
	args string // split on spaces
	want string
}

func genSteps(t *testing.T, v *genEnv, steps []genStep) {
	t.Helper()
	for _, s := range steps {
		if got := v.do(strings.Split(s.args, " ")...); got != s.want {
			t.Errorf("%s: got %q, want %q", s.args, got, s.want)
		}
	}
}

// TestGenericTTLClock drives TTLs with the injected clock: expiry is lazy,
// relative times count from the command's time, rounding is to nearest.
func TestGenericTTLClock(t *testing.T) {
	v := newGenEnv()
	genSteps(t, v, []genStep{
		{"SET k v", "+OK\r\n"},
		{"PEXPIRE k 1500", ":1\r\n"},
		{"PTTL k", ":1500\r\n"},
		{"TTL k", ":2\r\n"}, // 1.5 s rounds up
		{"PEXPIRETIME k", respInt(v.now + 1500)},
		{"EXPIRETIME k", respInt((v.now + 1500 + 500) / 1000)},
	})
	v.now += 1000
	genSteps(t, v, []genStep{
		{"PTTL k", ":500\r\n"},
		{"TTL k", ":1\r\n"},
	})
	v.now += 499
	genSteps(t, v, []genStep{{"PTTL k", ":1\r\n"}, {"TTL k", ":0\r\n"}})
	v.now++
	genSteps(t, v, []genStep{
		{"PTTL k", ":-2\r\n"},
		{"EXISTS k", ":0\r\n"},
		{"SET k v", "+OK\r\n"},
		{"EXPIREAT k 1700000010", ":1\r\n"},
		{"TTL k", respInt((1700000010000 - v.now + 500) / 1000)},
	})
}

// TestGenericDirty checks which commands count as changes: a no-op must not
// be logged, a change must.
func TestGenericDirty(t *testing.T) {
	v := newGenEnv()
	v.do("SET", "k", "v")
	v.do("SET", "t", "v")
	v.do("PEXPIRE", "t", "100000")
	cases := []struct {
		args  string
		dirty bool
	}{
		{"EXISTS k nokey", false},
		{"TYPE k", false},
		{"TTL k", false},
		{"PTTL t", false},
		{"EXPIRETIME t", false},
		{"TOUCH k", false},
		{"KEYS *", false},
		{"SCAN 0", false},
		{"DUMP k", false},
		{"OBJECT ENCODING k", false},
		{"DBSIZE", false},
		{"RANDOMKEY", false},
		{"EXPIRE nokey 10", false},
		{"EXPIRE t 10 NX", false},
		{"EXPIRE k 10 XX", false},
		{"PERSIST k", false},
		{"PERSIST nokey", false},
		{"RENAME k k", false},
		{"RENAMENX k t", false},
		{"COPY nokey x", false},
		{"COPY k t", false},
		{"MOVE nokey 1", false},
		{"DEL nokey", false},
		{"EXPIRE k 10", true},
		{"PERSIST k", true},
		{"EXPIRE k -1", true}, // deletes
		{"SET k v", true},
		{"COPY k k2", true},
		{"COPY k k2 DB 3", true},
		{"RENAME k2 k3", true},
		{"RENAMENX k3 k4", true},
		{"MOVE k4 1", true},
		{"UNLINK k", true},
		{"FLUSHDB", true},
		{"FLUSHDB", true}, // propagated even on an empty database, as Redis does
		{"SWAPDB 0 0", true},
		{"SWAPDB 0 1", true},
		{"FLUSHALL", true},
	}
	for _, c := range cases {
		_, dirty := v.run(2, strArgs(strings.Split(c.args, " "))...)
		if (dirty > 0) != c.dirty {
			t.Errorf("%s: Dirty %d, want dirty=%v", c.args, dirty, c.dirty)
		}
	}
}

// TestGenericVersions checks what WATCH relies on: every change of a key's
// value, TTL or existence changes its (version, live) pair, and reads and
// failed writes do not.
func TestGenericVersions(t *testing.T) {
	v := newGenEnv()
	type state struct {
		ver  uint64
		live bool
	}
	get := func(key string) state {
		ver, live := v.version(key)
		return state{ver, live}
	}
	mustChange := func(key string, args ...string) {
		t.Helper()
		before := get(key)
		v.do(args...)
		if after := get(key); after == before {
			t.Errorf("%v: %s unchanged at %v", args, key, after)
		}
	}
	mustKeep := func(key string, args ...string) {
		t.Helper()
		before := get(key)
		v.do(args...)
		if after := get(key); after != before {
			t.Errorf("%v: %s changed %v -> %v", args, key, before, after)
		}
	}
	mustChange("a", "SET", "a", "1")
	mustKeep("a", "GET", "a")
	mustKeep("a", "EXISTS", "a")
	mustKeep("a", "TTL", "a")
	mustKeep("a", "OBJECT", "ENCODING", "a")
	mustKeep("a", "TOUCH", "a")
	mustKeep("a", "PERSIST", "a")
	mustChange("a", "EXPIRE", "a", "100")
	mustKeep("a", "EXPIRE", "a", "50", "GT")
	mustChange("a", "PERSIST", "a")
	mustChange("a", "DEL", "a")
	mustKeep("a", "DEL", "a")
	mustChange("a", "SET", "a", "again")

	// Expiry keeps the version but flips liveness.
	v.do("PEXPIRE", "a", "10")
	before := get("a")
	v.now += 10
	after := get("a")
	if after.ver != before.ver || !before.live || after.live {
		t.Errorf("expiry: %v -> %v, want same version, live -> not live", before, after)
	}

	// RENAME changes both names; RENAME onto itself neither.
	v.do("SET", "src", "x")
	v.do("SET", "dst", "y")
	s0, d0 := get("src"), get("dst")
	v.do("RENAME", "src", "dst")
	if get("src") == s0 || get("dst") == d0 || get("src").live || !get("dst").live {
		t.Error("RENAME did not change both keys' versions")
	}
	mustKeep("dst", "RENAME", "dst", "dst")

	// MOVE and COPY change the destination database's key.
	v.do("SET", "m", "x")
	v.db = 1
	m1 := get("m")
	v.db = 0
	m0 := get("m")
	v.do("MOVE", "m", "1")
	if get("m") == m0 {
		t.Error("MOVE: source unchanged")
	}
	v.db = 1
	if get("m") == m1 || !get("m").live {
		t.Error("MOVE: destination unchanged")
	}
	v.db = 0

	// FLUSHDB changes live keys only: a key that was missing before and
	// after keeps its version, as Redis leaves its watchers alone.
	v.do("SET", "live", "1")
	l0, m := get("live"), get("never")
	v.do("FLUSHDB")
	if get("live") == l0 || get("live").live {
		t.Error("FLUSHDB: live key unchanged")
	}
	if get("never") != m {
		t.Error("FLUSHDB: missing key changed")
	}

	// SWAPDB: a key whose value differs between the databases changes.
	v.do("SET", "sw", "0")
	s0 = get("sw")
	v.do("SWAPDB", "0", "5")
	if get("sw") == s0 || get("sw").live {
		t.Error("SWAPDB: key unchanged")
	}
}

// TestGenericDumpRestore round-trips every kind through DUMP and RESTORE
// with the TTL and IDLETIME options, and rejects damaged payloads.
func TestGenericDumpRestore(t *testing.T) {
	v := newGenEnv()
	v.do("SET", "str", "a\x00b")
	v.do("RPUSH", "list", "a", "b", "c")
	v.do("HSET", "hash", "f1", "v1", "f2", "v2")
	v.do("SADD", "set", "x", "1", "y")
	v.do("ZADD", "zset", "1", "a", "2.5", "b")
	show := map[string][]string{
		"str":  {"GET", "str"},
		"list": {"LRANGE", "list", "0", "-1"},
		"hash": {"HGETALL", "hash"},
		"set":  {"SCARD", "set"},
		"zset": {"ZRANGE", "zset", "0", "-1", "WITHSCORES"},
	}
	for key, cmd := range show {
		dump := v.do("DUMP", key)
		val, _, err := resp.Parse([]byte(dump))
		if err != nil || val.Kind != resp.KindBulk {
			t.Fatalf("DUMP %s: %q", key, dump)
		}
		payload := string(val.Str)
		want := v.do(cmd...)
		if got := v.do("RESTORE", key, "0", payload); got != "-"+ErrBusyKey+"\r\n" {
			t.Errorf("RESTORE over %s: %q", key, got)
		}
		if got := v.do("RESTORE", key+"2", "0", payload); got != "+OK\r\n" {
			t.Fatalf("RESTORE %s: %q", key, got)
		}
		if got := v.do("TYPE", key+"2"); got != v.do("TYPE", key) {
			t.Errorf("RESTORE %s: type %q", key, got)
		}
		cmd2 := append([]string{cmd[0], key + "2"}, cmd[2:]...)
		if got := v.do(cmd2...); got != want {
			t.Errorf("RESTORE %s: %q, want %q", key, got, want)
		}
		if key == "set" {
			for _, m := range []string{"x", "1", "y"} {
				if v.do("SISMEMBER", "set2", m) != ":1\r\n" {
					t.Errorf("RESTORE set: %s missing", m)
				}
			}
		}
		// The restored value is a copy.
		if e1, e2 := v.store.DB(0).Get([]byte(key), v.now), v.store.DB(0).Get([]byte(key+"2"), v.now); e1.Coll != nil && e1.Coll == e2.Coll {
			t.Errorf("RESTORE %s shares the collection", key)
		}
	}

	payload := func(key string) string {
		val, _, _ := resp.Parse([]byte(v.do("DUMP", key)))
		return string(val.Str)
	}
	p := payload("str")
	steps := []struct {
		args []string
		want string
	}{
		{[]string{"RESTORE", "t1", "5000", p}, "+OK\r\n"},
		{[]string{"PTTL", "t1"}, ":5000\r\n"},
		{[]string{"RESTORE", "t1", "0", p, "REPLACE"}, "+OK\r\n"},
		{[]string{"PTTL", "t1"}, ":-1\r\n"},
		{[]string{"RESTORE", "t2", fmt.Sprint(v.now + 7000), p, "ABSTTL"}, "+OK\r\n"},
		{[]string{"PTTL", "t2"}, ":7000\r\n"},
		{[]string{"RESTORE", "t3", fmt.Sprint(v.now - 1), p, "ABSTTL"}, "+OK\r\n"},
		{[]string{"EXISTS", "t3"}, ":0\r\n"},
		{[]string{"RESTORE", "t2", fmt.Sprint(v.now), p, "ABSTTL", "REPLACE"}, "+OK\r\n"},
		{[]string{"EXISTS", "t2"}, ":0\r\n"}, // replaced by nothing: deleted
		{[]string{"RESTORE", "t4", "9223372036854775807", p}, "+OK\r\n"},
		{[]string{"EXISTS", "t4"}, ":0\r\n"}, // now+ttl wraps and counts as past, as in Redis
		{[]string{"RESTORE", "t5", "0", p, "IDLETIME", "1000"}, "+OK\r\n"},
		{[]string{"OBJECT", "IDLETIME", "t5"}, ":1000\r\n"},
		{[]string{"RESTORE", "t6", "0", p, "FREQ", "100"}, "+OK\r\n"},
		{[]string{"GET", "t6"}, "$3\r\na\x00b\r\n"},
	}
	for _, s := range steps {
		if got := v.do(s.args...); got != s.want {
			t.Errorf("%q: got %q, want %q", s.args[:2], got, s.want)
		}
	}

	// A flipped bit fails the checksum; a payload whose checksum is right
	// but whose body does not parse is "Bad data format".
	bad := []byte(payload("list"))
	bad[len(bad)/2] ^= 1
	if got := v.do("RESTORE", "bad", "0", string(bad)); got != "-"+ErrDumpPayload+"\r\n" {
		t.Errorf("flipped bit: %q", got)
	}
	forged := rdb.AppendFooter([]byte{rdb.TypeList, 0}, 0) // an empty list
	if got := v.do("RESTORE", "bad", "0", string(forged)); got != "-"+ErrBadDataFormat+"\r\n" {
		t.Errorf("forged payload: %q", got)
	}
	if got := v.do("EXISTS", "bad"); got != ":0\r\n" {
		t.Errorf("bad payload created the key: %q", got)
	}
}

// TestGenericObjectIdletime follows the access clock: reads reset it,
// TYPE/TTL/EXISTS/OBJECT do not (Redis's LOOKUP_NOTOUCH).
func TestGenericObjectIdletime(t *testing.T) {
	v := newGenEnv()
	v.do("SET", "k", "v")
	v.now += 10_000
	genSteps(t, v, []genStep{
		{"OBJECT IDLETIME k", ":10\r\n"},
		{"TYPE k", "+string\r\n"},
		{"TTL k", ":-1\r\n"},
		{"EXISTS k", ":1\r\n"},
		{"OBJECT IDLETIME k", ":10\r\n"},
		{"GET k", "$1\r\nv\r\n"},
		{"OBJECT IDLETIME k", ":0\r\n"},
	})
	v.now += 3_000
	genSteps(t, v, []genStep{
		{"TOUCH k", ":1\r\n"},
		{"OBJECT IDLETIME k", ":0\r\n"},
	})
}

// TestGenericResp3 checks the replies whose RESP3 form differs.
func TestGenericResp3(t *testing.T) {
	v := newGenEnv()
	for _, args := range []string{"OBJECT ENCODING nokey", "RANDOMKEY", "DUMP nokey"} {
		if got, _ := v.run(3, strArgs(strings.Split(args, " "))...); got != "_\r\n" {
			t.Errorf("%s: %q", args, got)
		}
	}
	if got, _ := v.run(3, strArgs([]string{"SCAN", "0"})...); got != "*2\r\n$1\r\n0\r\n*0\r\n" {
		t.Errorf("SCAN: %q", got)
	}
}

// TestGenericCopyIsDeep checks that COPY's value is independent.
func TestGenericCopyIsDeep(t *testing.T) {
	v := newGenEnv()
	v.do("SET", "s", "abc")
	v.do("COPY", "s", "s2")
	v.store.DB(0).Get([]byte("s"), v.now).Str[0] = 'X'
	if got := v.do("GET", "s2"); got != "$3\r\nabc\r\n" {
		t.Errorf("COPY shares the string: %q", got)
	}
}

// TestGenericRandomKey checks RANDOMKEY never returns an expired key and
// reaches every key.
func TestGenericRandomKey(t *testing.T) {
	v := newGenEnv()
	for i := 0; i < 20; i++ {
		v.do("SET", fmt.Sprint("k", i), "v")
	}
	v.do("SET", "dead", "v")
	v.do("PEXPIRE", "dead", "1")
	v.now++
	seen := map[string]bool{}
	for i := 0; i < 2000; i++ {
		val, _, _ := resp.Parse([]byte(v.do("RANDOMKEY")))
		seen[string(val.Str)] = true
	}
	if seen["dead"] || len(seen) != 20 {
		t.Errorf("RANDOMKEY saw %d keys (dead: %v)", len(seen), seen["dead"])
	}
}

// TestActiveExpire checks that ActiveExpire removes expired keys only, a
// bounded number per call, keeping their versions.
func TestActiveExpire(t *testing.T) {
	v := newGenEnv()
	db := v.store.DB(0)
	for i := 0; i < 100; i++ {
		v.do("SET", fmt.Sprint("live", i), "v")
		v.do("SET", fmt.Sprint("dead", i), "v")
		v.do("PEXPIRE", fmt.Sprint("dead", i), "10")
	}
	ver, _ := v.version("dead0")
	if n := db.ActiveExpire(v.now, 1000); n != 0 {
		t.Fatalf("removed %d keys before their time", n)
	}
	v.now += 10
	if n := db.ActiveExpire(v.now, 20); n > 20 {
		t.Fatalf("removed %d keys with limit 20", n)
	}
	for round := 0; round < 100 && db.Len() > 100; round++ {
		db.ActiveExpire(v.now, 20)
	}
	if db.Len() != 100 || db.Expires() != 0 {
		t.Fatalf("after active expiry: %d keys, %d with TTL", db.Len(), db.Expires())
	}
	if got, live := v.version("dead0"); got != ver || live {
		t.Errorf("dead0: version %d live %v, want %d false", got, live, ver)
	}
	if got := v.do("DBSIZE"); got != ":100\r\n" {
		t.Errorf("DBSIZE %q", got)
	}
}

// TestExpiresCount keeps DB.Expires honest through the commands that set,
// move and drop TTLs.
func TestExpiresCount(t *testing.T) {
	v := newGenEnv()
	db := v.store.DB(0)
	check := func(step string, want int) {
		t.Helper()
		if db.Expires() != want {
			t.Errorf("after %s: Expires %d, want %d", step, db.Expires(), want)
		}
	}
	v.do("SET", "a", "1")
	v.do("EXPIRE", "a", "100")
	check("EXPIRE", 1)
	v.do("EXPIRE", "a", "200")
	check("EXPIRE again", 1)
	v.do("COPY", "a", "b")
	check("COPY", 2)
	v.do("RENAME", "a", "b")
	check("RENAME over a volatile key", 1)
	v.do("SET", "c", "1")
	v.do("RENAME", "b", "c")
	check("RENAME over a plain key", 1)
	v.do("MOVE", "c", "1")
	check("MOVE", 0)
	if v.store.DB(1).Expires() != 1 {
		t.Errorf("MOVE: target Expires %d", v.store.DB(1).Expires())
	}
	v.do("SET", "d", "1")
	v.do("PEXPIRE", "d", "5")
	v.do("PERSIST", "d")
	check("PERSIST", 0)
	v.do("PEXPIRE", "d", "5")
	v.do("EXPIRE", "d", "-1")
	check("EXPIRE in the past", 0)
	v.do("SET", "e", "1")
	v.do("PEXPIRE", "e", "5")
	v.do("FLUSHALL")
	check("FLUSHALL", 0)
}

// TestGenericArgs spot-checks argument handling the corpus cannot reach.
func TestGenericArgs(t *testing.T) {
	v := newGenEnv()
	v.do("SET", "k", "v")
	long := strings.Repeat("x", 200)
	if got := v.do("OBJECT", long); got != "-ERR unknown subcommand '"+long[:128]+"'. Try OBJECT HELP.\r\n" {
		t.Errorf("long subcommand: %q", got)
	}
	if got := v.do("COPY", "k", "k2", "DB", "15"); got != ":1\r\n" {
		t.Errorf("COPY DB 15: %q", got)
	}
	if got := v.do("SCAN", "0", "COUNT", "9223372036854775807"); !strings.HasPrefix(got, "*2\r\n$1\r\n0\r\n") {
		t.Errorf("SCAN huge COUNT: %q", got)
	}
	if !bytes.Contains([]byte(v.do("OBJECT", "HELP")), []byte("+HELP\r\n")) {
		t.Error("OBJECT HELP")
	}
}

// TestRandomKeyMostlyExpired: one live key among many expired ones must
// still be found.
func TestRandomKeyMostlyExpired(t *testing.T) {
	v := newGenEnv()
	for i := 0; i < 1000; i++ {
		k := fmt.Sprint("dead", i)
		v.do("SET", k, "v")
		v.do("PEXPIRE", k, "1")
	}
	v.do("SET", "live", "v")
	v.now++
	if got := v.do("RANDOMKEY"); got != "$4\r\nlive\r\n" {
		t.Fatalf("RANDOMKEY %q", got)
	}
	v.do("DEL", "live")
	if got := v.do("RANDOMKEY"); got != "$-1\r\n" {
		t.Fatalf("RANDOMKEY on expired keys only: %q", got)
	}
}

// FuzzDecodeValue feeds DecodeValue arbitrary payloads: it must not panic,
// and whatever it accepts must encode back to a payload that decodes to the
// same encoding. With seal set the input gets a valid header and checksum,
// so that the fuzzer explores the kinds' decoders rather than the CRC.
func FuzzDecodeValue(f *testing.F) {
	v := newGenEnv()
	v.do("SET", "s", "str\x00")
	v.do("RPUSH", "l", "a", "b")
	v.do("HSET", "h", "f", "v")
	v.do("SADD", "i", "1", "2")
	v.do("SADD", "t", "x", "y")
	v.do("ZADD", "z", "1", "a", "-inf", "b")
	for _, k := range []string{"s", "l", "h", "i", "t", "z"} {
		enc := EncodeValue(nil, v.store.DB(0).Get([]byte(k), v.now))
		f.Add(enc, false)
		f.Add(enc[3:len(enc)-dumpTrailer], true) // kind and body
	}
	f.Add([]byte("SP"), false)
	f.Fuzz(func(t *testing.T, b []byte, seal bool) {
		if seal {
			body := append([]byte{dumpMagic0, dumpMagic1, dumpVersion}, b...)
			b = binary.LittleEndian.AppendUint32(body, crc32.Checksum(body, crcTable))
		}
		e, err := DecodeValue(b)
		if err != nil {
			return
		}
		enc := EncodeValue(nil, e)
		e2, err := DecodeValue(enc)
		if err != nil {
			t.Fatalf("re-encoded value does not decode: %v", err)
		}
		if !bytes.Equal(EncodeValue(nil, e2), enc) {
			t.Fatal("encoding is not stable")
		}
	})
}
