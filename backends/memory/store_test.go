package memory

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
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

// TestRollForwardFromParticipantCopy: the primary's log lost its commit
// record (its tail was cut), but a participant's copy survived: recovery
// installs the transaction on the primary too.
func TestRollForwardFromParticipantCopy(t *testing.T) {
	dir := t.TempDir()
	st := openStore(t, dir)
	ctx := context.Background()
	m := cluster.NewSlotMap(3)
	keyOn := func(shard int) string {
		for i := 0; ; i++ {
			k := "k" + string(rune('a'+i%26)) + string(rune('a'+i/26))
			if m.ShardOf([]byte(k)) == shard {
				return k
			}
		}
	}
	k0, k1 := keyOn(0), keyOn(1)
	primaryLog := filepath.Join(dir, "shard-0.0000000000000001.log")
	before, err := os.Stat(primaryLog)
	if err != nil {
		t.Fatal(err)
	}
	tx := backends.TxID(42)
	ref0 := []backends.KeyRef{{DB: 0, Key: k0}}
	ref1 := []backends.KeyRef{{DB: 0, Key: k1}}
	if _, err := st.shards[0].Lock(ctx, tx, ref0, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := st.shards[1].Lock(ctx, tx, ref1, nil); err != nil {
		t.Fatal(err)
	}
	e := func(v string) *keyspace.Entry { return &keyspace.Entry{Kind: keyspace.KindString, Str: []byte(v)} }
	rec := &backends.TxRecord{ID: tx, Writes: map[int][]backends.KeyState{
		0: {{KeyRef: ref0[0], Entry: e("zero")}},
		1: {{KeyRef: ref1[0], Entry: e("one")}},
	}}
	if err := st.shards[0].Commit(ctx, tx, rec.Writes[0], rec); err != nil {
		t.Fatal(err)
	}
	if err := st.shards[1].Apply(ctx, tx, rec.Writes[1], rec); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(primaryLog, before.Size()); err != nil {
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

// TestLockBlocksOthers: a key locked by a transaction is waited for by
// plain commands, which then see the committed value.
func TestLockBlocksOthers(t *testing.T) {
	st := openStore(t, "")
	ctx := context.Background()
	ref := []backends.KeyRef{{DB: 0, Key: "x"}}
	shard := st.shards[cluster.NewSlotMap(3).ShardOf([]byte("x"))]
	if _, err := shard.Lock(ctx, 1, ref, nil); err != nil {
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
	if err := shard.Commit(ctx, 1, rec.Writes[0], rec); err != nil {
		t.Fatal(err)
	}
	if r := <-got; r != "$3\r\nnew\r\n" {
		t.Fatalf("GET after commit = %q", r)
	}
}

// TestRollForwardInOrder: when a shard's log lost several transactions that
// other shards still hold, recovery replays them in the order they ran.
func TestRollForwardInOrder(t *testing.T) {
	dir := t.TempDir()
	st := openStore(t, dir)
	m := cluster.NewSlotMap(3)
	keyOn := func(shard int, prefix string) string {
		for i := 0; ; i++ {
			k := fmt.Sprintf("%s%d", prefix, i)
			if m.ShardOf([]byte(k)) == shard {
				return k
			}
		}
	}
	k0, k1 := keyOn(0, "a"), keyOn(1, "b")
	log0 := filepath.Join(dir, "shard-0.0000000000000001.log")
	before, err := os.Stat(log0)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 20; i++ {
		v := &keyspace.Entry{Kind: keyspace.KindString, Str: []byte(fmt.Sprint(i))}
		rec := &backends.TxRecord{ID: backends.TxID(1000 + i), Seq: uint64(i), Writes: map[int][]backends.KeyState{
			0: {{KeyRef: backends.KeyRef{Key: k0}, Entry: v}},
			1: {{KeyRef: backends.KeyRef{Key: k1}, Entry: v}},
		}}
		for shard := 0; shard < 2; shard++ {
			if ok, _ := st.shards[shard].TryHold(nil); !ok {
				t.Fatal("shard busy")
			}
			st.shards[shard].Held().Install(rec.ID, rec.Writes[shard], rec)
			st.shards[shard].Unhold()
		}
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(log0, before.Size()); err != nil {
		t.Fatal(err)
	}
	st2 := openStore(t, dir)
	if got := exec(t, st2, 0, "GET", k0); got != "$2\r\n20\r\n" {
		t.Fatalf("after recovery %s = %q, want the last transaction's value", k0, got)
	}
}

// TestRecoveryCutsDependentTransaction: T2 ran after T1 on shard 0, so its
// values there include T1's. A crash loses T1 everywhere and T2 everywhere
// but shard 2. Rolling T2 forward would bring back half of T1, so recovery
// cuts T2 from shard 2 instead: neither transaction is there.
func TestRecoveryCutsDependentTransaction(t *testing.T) {
	dir := t.TempDir()
	st := openStore(t, dir)
	m := cluster.NewSlotMap(3)
	keyOn := func(shard int) string {
		for i := 0; ; i++ {
			k := fmt.Sprintf("d%d", i)
			if m.ShardOf([]byte(k)) == shard {
				return k
			}
		}
	}
	k := []string{keyOn(0), keyOn(1), keyOn(2)}
	for i := range k {
		exec(t, st, 0, "SET", k[i], "old")
	}
	sizes := map[int]int64{}
	for shard := 0; shard < 2; shard++ {
		fi, err := os.Stat(filepath.Join(dir, fmt.Sprintf("shard-%d.0000000000000001.log", shard)))
		if err != nil {
			t.Fatal(err)
		}
		sizes[shard] = fi.Size()
	}
	val := func(v string) *keyspace.Entry { return &keyspace.Entry{Kind: keyspace.KindString, Str: []byte(v)} }
	run := func(id backends.TxID, writes map[int][]backends.KeyState) {
		rec := &backends.TxRecord{ID: id, Seq: uint64(id), Writes: writes, Prev: map[int]uint64{}}
		for shard := range writes {
			if ok, _ := st.shards[shard].TryHold(nil); !ok {
				t.Fatal("shard busy")
			}
		}
		for shard := range writes {
			rec.Prev[shard] = st.shards[shard].Held().LSN()
		}
		for shard, w := range writes {
			st.shards[shard].Held().Install(id, w, rec)
			st.shards[shard].Unhold()
		}
	}
	run(1, map[int][]backends.KeyState{
		0: {{KeyRef: backends.KeyRef{Key: k[0]}, Entry: val("t1")}},
		1: {{KeyRef: backends.KeyRef{Key: k[1]}, Entry: val("t1")}},
	})
	run(2, map[int][]backends.KeyState{
		0: {{KeyRef: backends.KeyRef{Key: k[0]}, Entry: val("t1+t2")}},
		2: {{KeyRef: backends.KeyRef{Key: k[2]}, Entry: val("t2")}},
	})
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	for shard, size := range sizes {
		if err := os.Truncate(filepath.Join(dir, fmt.Sprintf("shard-%d.0000000000000001.log", shard)), size); err != nil {
			t.Fatal(err)
		}
	}
	st2 := openStore(t, dir)
	for i := range k {
		if got := exec(t, st2, 0, "GET", k[i]); got != "$3\r\nold\r\n" {
			t.Errorf("%s after recovery = %q, want the value before both transactions", k[i], got)
		}
	}
	// The cut is permanent: a second restart agrees, and new writes stay.
	exec(t, st2, 0, "SET", k[2], "new")
	if err := st2.Close(); err != nil {
		t.Fatal(err)
	}
	st3 := openStore(t, dir)
	if got := exec(t, st3, 0, "GET", k[2]); got != "$3\r\nnew\r\n" {
		t.Fatalf("after a second restart %s = %q", k[2], got)
	}
}
