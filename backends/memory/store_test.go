package memory

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/schemaproxy/schemaproxy/backends"
	"github.com/schemaproxy/schemaproxy/backends/memory/aof"
	"github.com/schemaproxy/schemaproxy/cluster"
	"github.com/schemaproxy/schemaproxy/command"
	"github.com/schemaproxy/schemaproxy/keyspace"
	"github.com/schemaproxy/schemaproxy/proto/resp"
)

func openStore(t *testing.T, dir string) *Store {
	t.Helper()
	st, err := Open(Options{Shards: 3, Databases: 4, Dir: dir, Fsync: aof.Always}, keyspace.NewExecutor(command.Default))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// exec runs one command on the shard that owns its first key.
func exec(t *testing.T, st *Store, db int, args ...string) string {
	t.Helper()
	bs := make([][]byte, len(args))
	for i, a := range args {
		bs[i] = []byte(a)
	}
	w := resp.NewWriter(2)
	shard := cluster.NewSlotMap(len(st.shards)).ShardOf(bs[1])
	b := &backends.Batch{Ops: []backends.Op{{Cmd: command.Default.Lookup(bs[0]), Args: bs, DB: db}}, W: w}
	if err := st.shards[shard].Exec(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	return string(w.B)
}

// TestSnapshotAndRestart: data written before and after a snapshot, with
// TTLs and in several databases, is all there after a restart.
func TestSnapshotAndRestart(t *testing.T) {
	dir := t.TempDir()
	st := openStore(t, dir)
	exec(t, st, 0, "SET", "a", "1")
	exec(t, st, 1, "RPUSH", "l", "x", "y")
	exec(t, st, 2, "SET", "t", "v", "EX", "1000")
	if err := st.Snapshot(context.Background()); err != nil {
		t.Fatal(err)
	}
	exec(t, st, 0, "INCR", "a")
	exec(t, st, 3, "HSET", "h", "f", "v")
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st2 := openStore(t, dir)
	checks := []struct {
		db   int
		args []string
		want string
	}{
		{0, []string{"GET", "a"}, "$1\r\n2\r\n"},
		{1, []string{"LRANGE", "l", "0", "-1"}, "*2\r\n$1\r\nx\r\n$1\r\ny\r\n"},
		{3, []string{"HGET", "h", "f"}, "$1\r\nv\r\n"},
		{0, []string{"GET", "l"}, "$-1\r\n"},
	}
	for _, c := range checks {
		if got := exec(t, st2, c.db, c.args...); got != c.want {
			t.Errorf("db %d %v = %q, want %q", c.db, c.args, got, c.want)
		}
	}
	if got := exec(t, st2, 2, "TTL", "t"); got == ":-1\r\n" || got == ":-2\r\n" {
		t.Errorf("TTL lost over snapshot: %q", got)
	}
}

// TestLockBlocksOthers: a key locked by a transaction is waited for by
// plain commands, which then see the committed value.
func TestLockBlocksOthers(t *testing.T) {
	st := openStore(t, "")
	ctx := context.Background()
	ref := []backends.KeyRef{{DB: 0, Key: "x"}}
	shard := st.shards[cluster.NewSlotMap(3).ShardOf([]byte("x"))]
	tx := backends.TxMeta{ID: 1, Primary: shard.index, Deadline: 1 << 62, Participants: []int{shard.index}}
	if _, err := shard.Lock(ctx, tx, ref, nil); err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 1)
	go func() { got <- exec(t, st, 0, "GET", "x") }()
	select {
	case r := <-got:
		t.Fatalf("GET ran under a lock: %q", r)
	case <-time.After(50 * time.Millisecond): // proving a negative: it must still be blocked
	}
	rec := &backends.TxRecord{ID: 1, Writes: map[int][]backends.KeyState{0: {{KeyRef: ref[0],
		Entry: &keyspace.Entry{Kind: keyspace.KindString, Str: []byte("new")}}}}}
	if err := shard.Commit(ctx, tx, rec.Writes[0], rec); err != nil {
		t.Fatal(err)
	}
	if r := <-got; r != "$3\r\nnew\r\n" {
		t.Fatalf("GET after commit = %q", r)
	}
}

// TestCommitReplayedOnEveryParticipant: the primary's Commit logs the whole
// transaction; a crash before Apply reached the other participant still
// restarts with the transaction on both.
func TestCommitReplayedOnEveryParticipant(t *testing.T) {
	dir := t.TempDir()
	st := openStore(t, dir)
	ctx := context.Background()
	k0, k1 := keyOn(3, 0, "k"), keyOn(3, 1, "k")
	tx := backends.TxMeta{ID: 42, Primary: 0, Deadline: 1 << 62, Participants: []int{0, 1}}
	ref0 := []backends.KeyRef{{DB: 0, Key: k0}}
	ref1 := []backends.KeyRef{{DB: 0, Key: k1}}
	if _, err := st.shards[0].Lock(ctx, tx, ref0, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := st.shards[1].Lock(ctx, tx, ref1, nil); err != nil {
		t.Fatal(err)
	}
	e := func(v string) *keyspace.Entry { return &keyspace.Entry{Kind: keyspace.KindString, Str: []byte(v)} }
	rec := &backends.TxRecord{ID: tx.ID, Writes: map[int][]backends.KeyState{
		0: {{KeyRef: ref0[0], Entry: e("zero")}},
		1: {{KeyRef: ref1[0], Entry: e("one")}},
	}}
	if err := st.shards[0].Commit(ctx, tx, rec.Writes[0], rec); err != nil {
		t.Fatal(err)
	}
	// The coordinator dies here: no Apply on shard 1.
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st2 := openStore(t, dir)
	if got := exec(t, st2, 0, "GET", k0); got != "$4\r\nzero\r\n" {
		t.Fatalf("primary after recovery: %q", got)
	}
	if got := exec(t, st2, 0, "GET", k1); got != "$3\r\none\r\n" {
		t.Fatalf("participant after recovery: %q", got)
	}
}

// keyOn returns a key with prefix that lives on shard of n.
func keyOn(n, shard int, prefix string) string {
	m := cluster.NewSlotMap(n)
	for i := 0; ; i++ {
		k := fmt.Sprintf("%s%d", prefix, i)
		if m.ShardOf([]byte(k)) == shard {
			return k
		}
	}
}

// TestExpiryLoggedUnderMonotonicTime: a key expired by a read is logged as
// deleted, and a command that starts after that expiry runs no earlier
// than it even if the wall clock steps back; a restart (with the clock
// still behind) replays to the same state: the acknowledged INCR is there.
func TestExpiryLoggedUnderMonotonicTime(t *testing.T) {
	dir := t.TempDir()
	var wall atomic.Int64
	wall.Store(1_000_000)
	open := func() *Store {
		st, err := Open(Options{Shards: 3, Databases: 4, Dir: dir, Fsync: aof.Always, Now: wall.Load,
			ExpireEvery: time.Hour}, keyspace.NewExecutor(command.Default))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	st := open()
	exec(t, st, 0, "SET", "k", "5", "PX", "100")
	wall.Add(200)
	if got := exec(t, st, 0, "GET", "k"); got != "$-1\r\n" {
		t.Fatalf("GET after expiry = %q", got)
	}
	wall.Add(-150) // the wall clock steps back
	if got := exec(t, st, 0, "INCR", "k"); got != ":1\r\n" {
		t.Fatalf("INCR after expiry = %q", got)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st2 := open()
	if got := exec(t, st2, 0, "GET", "k"); got != "$1\r\n1\r\n" {
		t.Fatalf("GET after restart = %q, want the acknowledged INCR's 1", got)
	}
	if err := st2.Close(); err != nil {
		t.Fatal(err)
	}

	// Active expiry is logged too: with the clock far behind at restart,
	// the key stays gone.
	st3 := open()
	exec(t, st3, 1, "SET", "gone", "v", "PX", "10")
	wall.Add(1000)
	for _, s := range st3.shards {
		s.activeExpire()
	}
	if err := st3.Close(); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "store.0000000000000001.log"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), "DEL\x04gone") {
		t.Fatalf("the active expiry of gone is not in the log")
	}
	wall.Store(0)
	st4 := open()
	if got := exec(t, st4, 1, "EXISTS", "gone"); got != ":0\r\n" {
		t.Fatalf("EXISTS gone after restart with the clock behind = %q", got)
	}
}

// TestFailedGuardWaitsForDurability: an EXEC whose WATCH failed reveals the
// write that broke it, so its reply waits for that write's record.
func TestFailedGuardWaitsForDurability(t *testing.T) {
	st := openStore(t, t.TempDir())
	ctx := context.Background()
	s := st.shards[0]
	key := keyOn(3, 0, "w")
	v, live, err := s.Version(ctx, 0, []byte(key))
	if err != nil {
		t.Fatal(err)
	}
	set := &backends.Batch{Ops: []backends.Op{{Cmd: command.Default.Lookup([]byte("SET")),
		Args: [][]byte{[]byte("SET"), []byte(key), []byte("x")}}}, W: resp.NewWriter(2), Defer: true}
	if err := s.Exec(ctx, set); err != nil {
		t.Fatal(err)
	}
	b := &backends.Batch{Guards: []backends.Guard{{Key: key, Version: v, Live: live}}, W: resp.NewWriter(2), Defer: true}
	if err := s.Exec(ctx, b); !errors.Is(err, backends.ErrGuard) {
		t.Fatalf("Exec with a broken guard: %v", err)
	}
	if b.Pos < set.Pos || set.Pos == 0 {
		t.Fatalf("failed EXEC waits for position %d, the write that broke it is at %d", b.Pos, set.Pos)
	}
}

// TestClosedShardReleasesHolders: holding a closed shard fails at once
// instead of waiting for a change that never comes.
func TestClosedShardReleasesHolders(t *testing.T) {
	st := openStore(t, "")
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	held, changed := st.shards[1].TryHold(nil)
	if held || changed != nil {
		t.Fatalf("TryHold on a closed shard = %v, %v; want false and no channel", held, changed)
	}
}

// TestWatchOfMissingKeySurvivesSweep: sweeping other keys' old tombstones
// does not fail the EXEC of a WATCHed key that never existed.
func TestWatchOfMissingKeySurvivesSweep(t *testing.T) {
	st := openStore(t, "")
	ctx := context.Background()
	s := st.shards[0]
	other, watched := keyOn(3, 0, "o"), keyOn(3, 0, "never")
	exec(t, st, 0, "SET", other, "1")
	exec(t, st, 0, "DEL", other)
	v, live, err := s.Version(ctx, 0, []byte(watched))
	if err != nil {
		t.Fatal(err)
	}
	s.sweepTombstones(^uint64(0))
	b := &backends.Batch{Guards: []backends.Guard{{Key: watched, Version: v, Live: live}}, W: resp.NewWriter(2)}
	if err := s.Exec(ctx, b); err != nil {
		t.Fatalf("EXEC after a sweep: %v", err)
	}
	// A key deleted after the WATCH still fails it, swept or not.
	exec(t, st, 0, "SET", watched, "1")
	exec(t, st, 0, "DEL", watched)
	s.sweepTombstones(^uint64(0))
	if err := s.Exec(ctx, b); !errors.Is(err, backends.ErrGuard) {
		t.Fatalf("EXEC after the key was created and deleted: %v", err)
	}
}
