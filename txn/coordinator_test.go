package txn_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/schemaproxy/schemaproxy/backends"
	"github.com/schemaproxy/schemaproxy/backends/memory"
	"github.com/schemaproxy/schemaproxy/backends/memory/aof"
	"github.com/schemaproxy/schemaproxy/cluster"
	"github.com/schemaproxy/schemaproxy/command"
	"github.com/schemaproxy/schemaproxy/keyspace"
	"github.com/schemaproxy/schemaproxy/proto/resp"
	"github.com/schemaproxy/schemaproxy/txn"
)

type env struct {
	store *memory.Store
	coord *txn.Coordinator
}

func newEnv(t *testing.T, dir string, knobs *txn.TestingKnobs) *env {
	return newEnvMode(t, dir, knobs, knobs != nil)
}

// modes runs f with cross-shard requests on held shards and with the
// Lock/Commit/Apply protocol.
func modes(t *testing.T, f func(t *testing.T, e *env)) {
	for _, protocol := range []bool{false, true} {
		t.Run(fmt.Sprintf("protocol=%v", protocol), func(t *testing.T) {
			f(t, newEnvMode(t, "", nil, protocol))
		})
	}
}

func newEnvMode(t *testing.T, dir string, knobs *txn.TestingKnobs, protocol bool) *env {
	t.Helper()
	exec := keyspace.NewExecutor(command.Default)
	now := func() int64 { return time.Now().UnixMilli() }
	st, err := memory.Open(memory.Options{Shards: 4, Databases: 16, Dir: dir, Fsync: aof.Always, Now: now}, exec)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return &env{store: st, coord: txn.New(txn.Config{Shards: st.Shards(), Exec: exec, Databases: 16, Now: now,
		Knobs: knobs, ForceProtocol: protocol})}
}

// do runs one command (or, with multi, a transaction of several) and
// returns the decoded reply. It reports every failure as its error, never
// through a testing.T: the load tests call it from their goroutines.
func (e *env) do(multi bool, guards []backends.Guard, cmds ...[]string) (resp.Value, error) {
	w := resp.NewWriter(2)
	r := &txn.Request{Batch: backends.Batch{W: w, Guards: guards}, Multi: multi}
	for _, c := range cmds {
		args := make([][]byte, len(c))
		for i, a := range c {
			args[i] = []byte(a)
		}
		cmd := command.Default.Lookup(args[0])
		if cmd == nil {
			return resp.Value{}, fmt.Errorf("unknown command %q", c[0])
		}
		r.Ops = append(r.Ops, backends.Op{Cmd: cmd, Args: args})
	}
	if err := e.coord.Run(context.Background(), r); err != nil {
		return resp.Value{}, err
	}
	v, _, err := resp.Parse(w.B)
	if err != nil {
		return resp.Value{}, fmt.Errorf("bad reply %q: %w", w.B, err)
	}
	return v, nil
}

// keysOnShards returns n keys, each on a different shard.
func keysOnShards(prefix string, n int) []string {
	m := cluster.NewSlotMap(4)
	seen := map[int]bool{}
	var out []string
	for i := 0; len(out) < n; i++ {
		k := fmt.Sprintf("%s%d", prefix, i)
		if s := m.ShardOf([]byte(k)); !seen[s] {
			seen[s] = true
			out = append(out, k)
		}
	}
	return out
}

// TestCrossShardAtomicVisibility: writers append to two lists on different
// shards in one transaction; readers reading both lengths in one
// transaction must always see them equal.
func TestCrossShardAtomicVisibility(t *testing.T) { modes(t, testCrossShardAtomicVisibility) }

func testCrossShardAtomicVisibility(t *testing.T, e *env) {
	k := keysOnShards("l", 2)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				if _, err := e.do(true, nil, []string{"RPUSH", k[0], "x"}, []string{"RPUSH", k[1], "x"}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for r := 0; r < 2; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 300; i++ {
				v, err := e.do(true, nil, []string{"LLEN", k[0]}, []string{"LLEN", k[1]})
				if err != nil {
					errs <- err
					return
				}
				if v.Elems[0].Int != v.Elems[1].Int {
					errs <- fmt.Errorf("torn read: %d vs %d", v.Elems[0].Int, v.Elems[1].Int)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// TestOpposingOrderNoDeadlock: transactions over the same keys in opposite
// orders all finish (locks are taken in shard order).
func TestOpposingOrderNoDeadlock(t *testing.T) { modes(t, testOpposingOrderNoDeadlock) }

func testOpposingOrderNoDeadlock(t *testing.T, e *env) {
	k := keysOnShards("d", 3)
	var wg sync.WaitGroup
	for w := 0; w < 6; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 100; i++ {
				a, b, c := k[w%3], k[(w+1)%3], k[(w+2)%3]
				if w%2 == 1 {
					a, c = c, a
				}
				if _, err := e.do(true, nil, []string{"RPUSH", a, "x"}, []string{"RPOPLPUSH", b, c}, []string{"LLEN", a}); err != nil {
					t.Error(err)
					return
				}
			}
		}(w)
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("transactions did not finish: deadlock")
	}
}

// TestWatchAcrossShards: a guard on one shard that changed aborts a
// transaction writing another shard, and nothing is written.
func TestWatchAcrossShards(t *testing.T) { modes(t, testWatchAcrossShards) }

func testWatchAcrossShards(t *testing.T, e *env) {
	k := keysOnShards("w", 2)
	g, err := e.coord.Watch(context.Background(), 0, []byte(k[0]))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.do(false, nil, []string{"RPUSH", k[0], "changed"}); err != nil {
		t.Fatal(err)
	}
	v, err := e.do(true, []backends.Guard{g}, []string{"RPUSH", k[1], "x"})
	if err != nil || !v.Null {
		t.Fatalf("EXEC after a watched change: %v %v, want null", v, err)
	}
	if v, err := e.do(false, nil, []string{"LLEN", k[1]}); err != nil || v.Int != 0 {
		t.Fatalf("aborted transaction wrote %d elements (%v)", v.Int, err)
	}
	// Unchanged guard: runs.
	g, _ = e.coord.Watch(context.Background(), 0, []byte(k[0]))
	v, err = e.do(true, []backends.Guard{g}, []string{"RPUSH", k[1], "x"})
	if err != nil || len(v.Elems) != 1 {
		t.Fatalf("EXEC with unchanged watch: %v %v", v, err)
	}
}

// TestRollForwardAfterCommit: the coordinator stops right after the
// primary's commit (as if it died); after a restart every participant has
// the transaction's writes.
func TestRollForwardAfterCommit(t *testing.T) {
	dir := t.TempDir()
	stop := errors.New("coordinator died")
	e := newEnv(t, dir, &txn.TestingKnobs{AfterCommit: func(backends.TxID) error { return stop }})
	k := keysOnShards("r", 3)
	_, err := e.do(true, nil, []string{"RPUSH", k[0], "a"}, []string{"RPUSH", k[1], "b"}, []string{"RPUSH", k[2], "c"})
	if !errors.Is(err, txn.ErrUnknownOutcome) {
		t.Fatalf("want unknown outcome, got %v", err)
	}
	if err := e.store.Close(); err != nil {
		t.Fatal(err)
	}
	e2 := newEnv(t, dir, nil)
	for i, key := range k {
		v, err := e2.do(false, nil, []string{"LRANGE", key, "0", "-1"})
		if err != nil || len(v.Elems) != 1 || string(v.Elems[0].Str) != string(rune('a'+i)) {
			t.Fatalf("%s after recovery: %v %v", key, v, err)
		}
	}
}

// frozen returns a knob that stops the coordinator until release is
// closed, and a channel closed when it has stopped.
func frozen() (knob func(backends.TxID) error, stopped chan struct{}, release chan struct{}) {
	stopped, release = make(chan struct{}), make(chan struct{})
	var once sync.Once
	return func(backends.TxID) error {
		once.Do(func() { close(stopped) })
		<-release
		return nil
	}, stopped, release
}

// TestFrozenBeforeCommitIsResolvedAsAborted: a coordinator freezes with
// every lock taken and nothing committed. Another request on the same keys
// waits only until the frozen transaction's deadline, then resolves it as
// aborted and runs; the frozen one, thawed, cannot commit any more, so it
// runs again from the start, after the other.
func TestFrozenBeforeCommitIsResolvedAsAborted(t *testing.T) {
	knob, stopped, release := frozen()
	a := newEnvMode(t, "", &txn.TestingKnobs{AfterLock: knob}, true)
	b := txn.New(txn.Config{Shards: a.store.Shards(), Exec: keyspace.NewExecutor(command.Default), Databases: 16,
		Now: a.store.Now, ForceProtocol: true, TxTimeout: 100 * time.Millisecond})
	a.coord = txn.New(txn.Config{Shards: a.store.Shards(), Exec: keyspace.NewExecutor(command.Default), Databases: 16,
		Now: a.store.Now, ForceProtocol: true, TxTimeout: 100 * time.Millisecond, Knobs: &txn.TestingKnobs{AfterLock: knob}})
	k := keysOnShards("f", 2)
	done := make(chan error, 1)
	go func() {
		_, err := a.do(true, nil, []string{"SET", k[0], "a"}, []string{"SET", k[1], "a"})
		done <- err
	}()
	<-stopped
	other := &env{store: a.store, coord: b}
	if _, err := other.do(true, nil, []string{"SET", k[0], "b"}, []string{"SET", k[1], "b"}); err != nil {
		t.Fatalf("the request behind the frozen transaction: %v", err)
	}
	for _, key := range k {
		if v, err := other.do(false, nil, []string{"GET", key}); err != nil || string(v.Str) != "b" {
			t.Fatalf("%s = %q, %v; want b", key, v.Str, err)
		}
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("the thawed transaction: %v", err)
	}
	for _, key := range k {
		if v, err := other.do(false, nil, []string{"GET", key}); err != nil || string(v.Str) != "a" {
			t.Fatalf("%s = %q, %v; want a, from the retried transaction", key, v.Str, err)
		}
	}
}

// TestFrozenAfterCommitIsRolledForward: a coordinator freezes after its
// commit, before applying the other participant. A reader of that
// participant waits until the deadline, then finishes the transaction from
// the primary's record and reads its writes; the thawed coordinator's
// apply changes nothing more, and a restart agrees.
func TestFrozenAfterCommitIsRolledForward(t *testing.T) {
	dir := t.TempDir()
	knob, stopped, release := frozen()
	a := newEnvMode(t, dir, nil, true)
	a.coord = txn.New(txn.Config{Shards: a.store.Shards(), Exec: keyspace.NewExecutor(command.Default), Databases: 16,
		Now: a.store.Now, ForceProtocol: true, TxTimeout: 100 * time.Millisecond, Knobs: &txn.TestingKnobs{AfterCommit: knob}})
	b := &env{store: a.store, coord: txn.New(txn.Config{Shards: a.store.Shards(), Exec: keyspace.NewExecutor(command.Default),
		Databases: 16, Now: a.store.Now, ForceProtocol: true, TxTimeout: 100 * time.Millisecond})}
	k := keysOnShards("g", 2)
	done := make(chan error, 1)
	go func() {
		_, err := a.do(true, nil, []string{"RPUSH", k[0], "x"}, []string{"RPUSH", k[1], "y"})
		done <- err
	}()
	<-stopped
	v, err := b.do(true, nil, []string{"LRANGE", k[0], "0", "-1"}, []string{"LRANGE", k[1], "0", "-1"})
	if err != nil || len(v.Elems) != 2 || len(v.Elems[0].Elems) != 1 || len(v.Elems[1].Elems) != 1 {
		t.Fatalf("reader behind the frozen commit: %v %v", v, err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("the thawed transaction: %v", err)
	}
	check := func(e *env) {
		t.Helper()
		for i, key := range k {
			v, err := e.do(false, nil, []string{"LRANGE", key, "0", "-1"})
			if err != nil || len(v.Elems) != 1 || string(v.Elems[0].Str) != []string{"x", "y"}[i] {
				t.Fatalf("%s = %v, %v: applied once, by the resolver", key, v, err)
			}
		}
	}
	check(b)
	if err := a.store.Close(); err != nil {
		t.Fatal(err)
	}
	check(newEnvMode(t, dir, nil, true))
}
