package txn_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/schemaproxy/schemaproxy/backends"
	"github.com/schemaproxy/schemaproxy/backends/memory"
	"github.com/schemaproxy/schemaproxy/backends/memory/aof"
	"github.com/schemaproxy/schemaproxy/command"
	"github.com/schemaproxy/schemaproxy/keyspace"
	"github.com/schemaproxy/schemaproxy/txn"
)

// TestProtocolWatchedKeyExpiresAfterLock: with the Lock/Commit/Apply
// protocol, a WATCHed key that Lock finds live but that has expired by the
// time the transaction runs fails the EXEC, as Redis's EXEC fails when a
// WATCHed key expired since the WATCH; run on the expired copy instead, the
// transaction would answer and commit as if the key had been missing.
func TestProtocolWatchedKeyExpiresAfterLock(t *testing.T) {
	var clock atomic.Int64
	clock.Store(1_700_000_000_000)
	now := func() int64 { return clock.Load() }
	exec := keyspace.NewExecutor(command.Default)
	st, err := memory.Open(memory.Options{Shards: 4, Databases: 16, Fsync: aof.No, Now: now}, exec)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	var advance atomic.Int64 // added to the clock once locked
	e := &env{store: st, coord: txn.New(txn.Config{Shards: st.Shards(), Exec: exec, Databases: 16, Now: now,
		ForceProtocol: true, Knobs: &txn.TestingKnobs{AfterLock: func(backends.TxID) error {
			clock.Add(advance.Load())
			return nil
		}}})}
	k := keysOnShards("we", 2)
	for _, step := range []struct {
		advance int64
		want    string
	}{
		{advance: 0, want: `[(integer) 1 "OK"]`}, // the key lives on: EXEC runs
		{advance: 200, want: "(nil)"},            // it expired after Lock: EXEC fails
	} {
		for _, cmd := range [][]string{{"DEL", k[0]}, {"SET", k[1], "v", "PX", "100"}} {
			if _, err := e.do(false, nil, cmd); err != nil {
				t.Fatal(err)
			}
		}
		g, err := e.coord.Watch(context.Background(), 0, []byte(k[1]))
		if err != nil || !g.Live {
			t.Fatalf("WATCH %s: %+v %v", k[1], g, err)
		}
		advance.Store(step.advance)
		v, err := e.do(true, []backends.Guard{g}, []string{"INCR", k[0]}, []string{"SET", k[1], "w"})
		advance.Store(0)
		if err != nil {
			t.Fatal(err)
		}
		if got := v.String(); got != step.want {
			t.Fatalf("clock moved %d ms after Lock: EXEC = %s, want %s", step.advance, got, step.want)
		}
		if step.want == "(nil)" {
			if v, err := e.do(false, nil, []string{"EXISTS", k[0], k[1]}); err != nil || v.String() != "(integer) 0" {
				t.Fatalf("the failed EXEC left keys: EXISTS %v %v", v, err)
			}
		}
	}
}
