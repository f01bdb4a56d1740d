package memory

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/schemaproxy/schemaproxy/backends"
	"github.com/schemaproxy/schemaproxy/backends/memory/aof"
	"github.com/schemaproxy/schemaproxy/command"
	"github.com/schemaproxy/schemaproxy/keyspace"
	"github.com/schemaproxy/schemaproxy/proto/resp"
	"github.com/schemaproxy/schemaproxy/txn"
)

// TestCopyOnWriteSnapshot stops a snapshot after its first chunk and
// changes the data every way there is (writes to saved and unsaved keys,
// deletes, new keys, expiry lazy and active, cross-shard installs and
// native splits, FLUSHDB, SWAPDB, MOVE, COPY ... DB): the snapshot alone
// must hold the data as of its cut, and a restart (snapshot then the log
// after the cut) the data as of the end.
func TestCopyOnWriteSnapshot(t *testing.T) {
	for _, protocol := range []bool{false, true} {
		t.Run(fmt.Sprintf("protocol=%v", protocol), func(t *testing.T) { testCopyOnWrite(t, protocol) })
	}
}

func testCopyOnWrite(t *testing.T, protocol bool) {
	dir := t.TempDir()
	var wall atomic.Int64
	wall.Store(1_000_000)
	paused, resume := make(chan struct{}), make(chan struct{})
	var once sync.Once
	exec := keyspace.NewExecutor(command.Default)
	st, err := Open(Options{Shards: 3, Databases: 4, Dir: dir, Fsync: aof.EverySec, Now: wall.Load, ExpireEvery: time.Hour,
		Knobs: &Knobs{SnapshotChunk: func() {
			once.Do(func() {
				close(paused)
				<-resume
			})
		}}}, exec)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	coord := txn.New(txn.Config{Shards: st.Shards(), Exec: exec, Databases: 4, Now: st.Now, ForceProtocol: protocol})
	do := func(db int, args ...string) {
		t.Helper()
		bs := make([][]byte, len(args))
		for i, a := range args {
			bs[i] = []byte(a)
		}
		w := resp.NewWriter(2)
		r := &txn.Request{Batch: backends.Batch{W: w, Ops: []backends.Op{{Cmd: command.Default.Lookup(bs[0]), Args: bs, DB: db}}}}
		if err := coord.Run(context.Background(), r); err != nil || len(w.B) > 0 && w.B[0] == '-' {
			t.Fatalf("%v: %q %v", args, w.B, err)
		}
	}
	const n = 3000
	for i := 0; i < n; i++ {
		do(0, "SET", fmt.Sprint("k", i), fmt.Sprint("v", i))
		if i%10 == 0 {
			do(0, "SET", fmt.Sprint("ttl", i), "t", "PX", "2000")
		}
		if i%5 == 0 {
			do(1, "RPUSH", fmt.Sprint("l", i), "a", "b")
			do(1, "SET", fmt.Sprint("s", i), "flushed later")
			do(2, "HSET", fmt.Sprint("h", i), "f", "v")
			do(2, "SET", fmt.Sprint("s", i), "swapped later")
		}
		if i%20 == 0 { // small sorted sets, packed by the cron below
			do(2, "ZADD", fmt.Sprint("z", i), "1", "a", "2.5", "b")
		}
		if i%300 == 0 { // values that end a chunk by its bytes
			do(0, "SET", fmt.Sprint("big", i), strings.Repeat(fmt.Sprint(i), 20000))
		}
	}
	wall.Add(1001) // strings unchanged for a second are packed
	for _, s := range st.shards {
		s.activeExpire() // packs the sorted sets and strings
		s.activeExpire() // and those new at the last tick
		if s.store.DB(0).Packed().Len() == 0 || s.store.DB(1).Packed().Len() == 0 {
			t.Fatalf("shard %d packed no strings", s.index)
		}
	}
	atCut := dumpState(st.shards)
	saved := make(chan error, 1)
	go func() { saved <- st.Snapshot(context.Background()) }()
	select {
	case <-paused:
	case err := <-saved:
		t.Fatalf("the snapshot ended before its first chunk: %v", err)
	}
	// The walk is stopped after its first chunk of shard 0.
	wall.Add(1500) // every ttl key has expired
	for i := 0; i < n; i += 3 {
		do(0, "SET", fmt.Sprint("k", i), "changed")
	}
	for i := 1; i < n; i += 7 {
		do(0, "DEL", fmt.Sprint("k", i))
	}
	for i := 5; i < n; i += 11 { // packed strings read (taken out of their table), not changed
		do(0, "GETRANGE", fmt.Sprint("k", i), "0", "-1")
	}
	for i := 0; i < 300; i++ {
		do(0, "SET", fmt.Sprint("new", i), "x")
	}
	do(0, "GET", "ttl0")
	for i := 0; i < n; i += 40 { // expanded again, changed, packed again
		do(2, "ZADD", fmt.Sprint("z", i), "3", "c")
		do(2, "ZREM", fmt.Sprint("z", i+20), "a")
	}
	for i := 0; i < n; i += 600 {
		do(0, "APPEND", fmt.Sprint("big", i), "tail")
	}
	for _, s := range st.shards {
		s.activeExpire()
	}
	do(0, "RENAME", "k2", "renamed")
	do(0, "MSET", "k4", "m", "k5", "m", "k8", "m")
	do(0, "COPY", "k10", "k10", "DB", "3")
	do(0, "MOVE", "k11", "3")
	do(1, "FLUSHDB")
	do(1, "SET", "after-flush", "1")
	do(0, "SWAPDB", "2", "3")
	do(3, "HSET", "h0", "g", "w")
	final := dumpState(st.shards)
	close(resume)
	if err := <-saved; err != nil {
		t.Fatal(err)
	}
	if c := st.lastCost.Load(); c == 0 {
		t.Errorf("nothing was saved before a change")
	}

	// The snapshot alone is the cut.
	snaps, _ := filepath.Glob(filepath.Join(dir, "store.*.snap"))
	if len(snaps) != 1 {
		t.Fatalf("snapshots: %v", snaps)
	}
	only := t.TempDir()
	raw, err := os.ReadFile(snaps[0])
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(only, filepath.Base(snaps[0])), raw)
	// The log generation up to the cut (its first record, the meta
	// record logged after the rotation): nothing after the cut.
	log2, _ := os.ReadFile(filepath.Join(dir, logFile(2)))
	cuts := frameCuts(t, log2)
	if len(cuts) < 4 {
		t.Fatalf("log generation 2 holds no record")
	}
	writeFile(t, filepath.Join(only, logFile(2)), log2[:cuts[3].size])
	shards := newShards(3, 4, exec, &clock{wall: wall.Load})
	r := replayer{shards: shards, clock: &clock{wall: wall.Load}}
	l, err := aof.Open(aof.Options{Dir: only, Name: logName, Policy: aof.Always})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Load(r.snapshot, func([]byte) error { return nil }); err != nil {
		t.Fatal(err)
	}
	l.Close()
	if diff := stateDiff(dumpState(shards), atCut); diff != "" {
		t.Fatalf("the snapshot is not the data at its cut:\n%s", diff)
	}

	// Snapshot and log: the end.
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	got := recoverStateShards(t, dir, 3)
	if diff := stateDiff(live(got, wall.Load()), live(final, wall.Load())); diff != "" {
		t.Fatalf("after restart:\n%s", diff)
	}
}

func recoverStateShards(t *testing.T, dir string, shards int) map[string]string {
	t.Helper()
	st, err := Open(Options{Shards: shards, Databases: 4, Dir: dir, Fsync: aof.Always, ExpireEvery: time.Hour},
		keyspace.NewExecutor(command.Default))
	if err != nil {
		t.Fatalf("recover %s: %v", dir, err)
	}
	defer st.Close()
	return dumpState(st.shards)
}
