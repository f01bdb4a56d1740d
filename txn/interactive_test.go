package txn_test

import (
	"context"
	"testing"
	"time"

	"github.com/schemaproxy/schemaproxy/backends"
	"github.com/schemaproxy/schemaproxy/backends/memory"
	"github.com/schemaproxy/schemaproxy/backends/memory/aof"
	"github.com/schemaproxy/schemaproxy/command"
	"github.com/schemaproxy/schemaproxy/keyspace"
	"github.com/schemaproxy/schemaproxy/proto/resp"
	"github.com/schemaproxy/schemaproxy/txn"
)

// writeBetween runs one write on its shard right after the next call of
// Version or Exec, whichever comes first: another client's write landing
// between a guarded read's two steps, in whatever order they come.
type writeBetween struct {
	backends.Shard
	write []string
}

func (s *writeBetween) after(ctx context.Context) error {
	if s.write == nil {
		return nil
	}
	args := make([][]byte, len(s.write))
	for i, a := range s.write {
		args[i] = []byte(a)
	}
	s.write = nil
	b := &backends.Batch{Ops: []backends.Op{{Cmd: command.Default.Lookup(args[0]), Args: args}}, W: resp.NewWriter(2)}
	return s.Shard.Exec(ctx, b)
}

func (s *writeBetween) Version(ctx context.Context, db int, key []byte) (uint64, bool, error) {
	v, live, err := s.Shard.Version(ctx, db, key)
	if err == nil {
		err = s.after(ctx)
	}
	return v, live, err
}

func (s *writeBetween) Exec(ctx context.Context, b *backends.Batch) error {
	err := s.Shard.Exec(ctx, b)
	if err == nil {
		err = s.after(ctx)
	}
	return err
}

// TestReadGuardedTakesTheGuardFirst: a write between the guard and the
// read fails the guard, so a value read after it is never committed on
// as if it were current; without one, the guard holds and the value is
// the key's, with its expiry.
func TestReadGuardedTakesTheGuardFirst(t *testing.T) {
	exec := keyspace.NewExecutor(command.Default)
	now := func() int64 { return time.Now().UnixMilli() }
	st, err := memory.Open(memory.Options{Shards: 1, Databases: 16, Fsync: aof.No, Now: now}, exec)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	shard := &writeBetween{Shard: st.Shards()[0]}
	coord := txn.New(txn.Config{Shards: []backends.Shard{shard}, Exec: exec, Databases: 16, Now: now})
	ctx := context.Background()
	run := func(multi bool, guards []backends.Guard, args ...string) resp.Value {
		t.Helper()
		w := resp.NewWriter(2)
		r := &txn.Request{Batch: backends.Batch{W: w, Guards: guards}, Multi: multi}
		if len(args) > 0 {
			a := make([][]byte, len(args))
			for i, s := range args {
				a[i] = []byte(s)
			}
			r.Ops = []backends.Op{{Cmd: command.Default.Lookup(a[0]), Args: a}}
		}
		if err := coord.Run(ctx, r); err != nil {
			t.Fatal(err)
		}
		v, _, err := resp.Parse(w.B)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	// guardHolds commits nothing but the guard, as a read-only TXN does.
	guardHolds := func(g backends.Guard) bool { return !run(true, []backends.Guard{g}).Null }

	run(false, nil, "SET", "k", "old", "PX", "100000")
	g, e, err := coord.ReadGuarded(ctx, 0, []byte("k"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if e == nil || string(e.Str) != "old" || e.ExpireAt <= now() || !guardHolds(g) {
		t.Fatalf("quiet read: %+v, guard holds %v", e, guardHolds(g))
	}

	for _, write := range [][]string{{"SET", "k", "new"}, {"DEL", "k"}, {"SET", "missing", "now"}} {
		shard.write = write
		key := write[1]
		g, e, err := coord.ReadGuarded(ctx, 0, []byte(key), nil)
		if err != nil {
			t.Fatal(err)
		}
		cur := run(false, nil, "GET", key)
		read := "<missing>"
		if e != nil {
			read = string(e.Str)
		}
		if guardHolds(g) {
			t.Fatalf("%v between the guard and the read: the guard holds, with %s read and %s current", write, read, cur)
		}
	}

	g, e, err = coord.ReadGuarded(ctx, 0, []byte("never"), nil)
	if err != nil || e != nil || g.Live || !guardHolds(g) {
		t.Fatalf("a missing key: %+v %+v %v", g, e, err)
	}
}
