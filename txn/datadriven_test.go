package txn_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"

	"github.com/schemaproxy/schemaproxy/backends"
	"github.com/schemaproxy/schemaproxy/backends/memory"
	"github.com/schemaproxy/schemaproxy/backends/memory/aof"
	"github.com/schemaproxy/schemaproxy/cluster"
	"github.com/schemaproxy/schemaproxy/command"
	"github.com/schemaproxy/schemaproxy/keyspace"
	"github.com/schemaproxy/schemaproxy/proto/resp"
	"github.com/schemaproxy/schemaproxy/txn"
)

// TestProtocolScripts runs the coordinator's Lock/Commit/Apply protocol
// over embedded shards behind a fault-injecting wrapper (the shards are
// not Holders, so every cross-shard request takes the protocol), driven by
// the scripts in testdata/protocol. Commands:
//
//	exec [watch=k1,k2]       run the input as one request (several lines:
//	                         a MULTI block); prints the reply or error
//	watch key                (prints the guard's liveness) kept for the
//	                         next exec that names it
//	fault op=lock|commit|apply shard=N mode=refuse|lost|unknown
//	                         the next op on shard N fails: refuse: not
//	                         executed; lost: executed, reply lost (unknown
//	                         outcome); unknown: not executed, but the error
//	                         does not say so
//	crash after=lock|commit  the next protocol transaction's coordinator
//	                         dies at that point (its request errors)
//	restart                  close the shards and reopen them from disk
//	dump                     every key of db 0, sorted, by shard
//
// Keys are named by shard: s0.x lives on shard 0 ({s0} hash tags chosen
// to land there), so scripts say where things are.
func TestProtocolScripts(t *testing.T) {
	datadriven.Walk(t, "testdata/protocol", func(t *testing.T, path string) {
		h := newHarness(t)
		datadriven.RunTest(t, path, h.run)
	})
}

type harness struct {
	t      *testing.T
	dir    string
	store  *memory.Store
	shards []*faultShard
	coord  *txn.Coordinator
	crash  string // "lock", "commit" or ""
	guards map[string]backends.Guard
	tags   map[string]string // shard name -> hash tag landing there
}

func newHarness(t *testing.T) *harness {
	h := &harness{t: t, dir: t.TempDir(), guards: map[string]backends.Guard{}, tags: map[string]string{}}
	m := cluster.NewSlotMap(4)
	for _, k := range keysOnShards("tag", 4) {
		h.tags[fmt.Sprintf("s%d", m.ShardOf([]byte(k)))] = k
	}
	h.open()
	t.Cleanup(func() { h.store.Close() })
	return h
}

func (h *harness) open() {
	exec := keyspace.NewExecutor(command.Default)
	st, err := memory.Open(memory.Options{Shards: 4, Databases: 16, Dir: h.dir, Fsync: aof.Always}, exec)
	if err != nil {
		h.t.Fatal(err)
	}
	h.store = st
	h.shards = nil
	var shards []backends.Shard
	for i, s := range st.Shards() {
		fs := &faultShard{Shard: s, index: i}
		h.shards = append(h.shards, fs)
		shards = append(shards, fs)
	}
	h.coord = txn.New(txn.Config{Shards: shards, Exec: exec, Databases: 16, Now: st.Now,
		TxTimeout: 50 * time.Millisecond, Knobs: &txn.TestingKnobs{
			AfterLock:   func(backends.TxID) error { return h.crashAt("lock") },
			AfterCommit: func(backends.TxID) error { return h.crashAt("commit") },
		}})
}

var errCrash = errors.New("coordinator crashed")

func (h *harness) crashAt(step string) error {
	if h.crash == step {
		h.crash = ""
		return errCrash
	}
	return nil
}

// key turns "s2.x" into a key on shard 2.
func (h *harness) key(name string) string {
	if shard, rest, ok := strings.Cut(name, "."); ok {
		if tag, ok := h.tags[shard]; ok {
			return "{" + tag + "}" + rest
		}
	}
	return name
}

func (h *harness) run(t *testing.T, d *datadriven.TestData) string {
	switch d.Cmd {
	case "exec":
		return h.exec(d)
	case "watch":
		var key string
		d.ScanArgs(t, "key", &key)
		g, err := h.coord.Watch(context.Background(), 0, []byte(h.key(key)))
		if err != nil {
			return "error: " + err.Error()
		}
		h.guards[key] = g
		return fmt.Sprintf("watching %s (live=%v)", key, g.Live)
	case "fault":
		var op, mode string
		var shard int
		d.ScanArgs(t, "op", &op)
		d.ScanArgs(t, "shard", &shard)
		d.ScanArgs(t, "mode", &mode)
		h.shards[shard].set(op, mode)
		return "ok"
	case "crash":
		d.ScanArgs(t, "after", &h.crash)
		return "ok"
	case "restart":
		if err := h.store.Close(); err != nil {
			return "error: " + err.Error()
		}
		h.open()
		return "ok"
	case "dump":
		return h.dump()
	}
	t.Fatalf("unknown command %s", d.Cmd)
	return ""
}

func (h *harness) exec(d *datadriven.TestData) string {
	w := resp.NewWriter(2)
	r := &txn.Request{Batch: backends.Batch{W: w}}
	for _, arg := range d.CmdArgs {
		if arg.Key == "watch" {
			for _, k := range arg.Vals {
				r.Guards = append(r.Guards, h.guards[k])
			}
		}
	}
	lines := strings.Split(strings.TrimSpace(d.Input), "\n")
	r.Multi = len(lines) > 1
	for _, line := range lines {
		f := strings.Fields(line)
		args := make([][]byte, len(f))
		for i, a := range f {
			args[i] = []byte(a)
			if i > 0 {
				args[i] = []byte(h.key(a))
			}
		}
		r.Ops = append(r.Ops, backends.Op{Cmd: command.Default.Lookup(args[0]), Args: args})
	}
	if err := h.coord.Run(context.Background(), r); err != nil {
		switch {
		case errors.Is(err, txn.ErrUnknownOutcome):
			return "error: unknown outcome"
		case errors.Is(err, backends.ErrNotExecuted):
			return "error: not executed"
		}
		return "error: " + err.Error()
	}
	v, _, err := resp.Parse(w.B)
	if err != nil {
		return fmt.Sprintf("bad reply %q: %v", w.B, err)
	}
	return v.String()
}

// dump lists db 0's keys and values through the coordinator (a read on
// a locked key resolves it, as any command meeting a lock does).
func (h *harness) dump() string {
	var out []string
	for name, tag := range h.tags {
		w := resp.NewWriter(2)
		args := [][]byte{[]byte("KEYS"), []byte("{" + tag + "}*")}
		r := &txn.Request{Batch: backends.Batch{W: w, Ops: []backends.Op{{Cmd: command.Default.Lookup(args[0]), Args: args}}}}
		if err := h.coord.Run(context.Background(), r); err != nil {
			return "error: " + err.Error()
		}
		v, _, _ := resp.Parse(w.B)
		for _, k := range v.Elems {
			gw := resp.NewWriter(2)
			g := [][]byte{[]byte("GET"), k.Str}
			gr := &txn.Request{Batch: backends.Batch{W: gw, Ops: []backends.Op{{Cmd: command.Default.Lookup(g[0]), Args: g}}}}
			if err := h.coord.Run(context.Background(), gr); err != nil {
				return "error: " + err.Error()
			}
			gv, _, _ := resp.Parse(gw.B)
			out = append(out, name+"."+strings.TrimPrefix(string(k.Str), "{"+tag+"}")+"="+gv.String())
		}
	}
	sort.Strings(out)
	if len(out) == 0 {
		return "(empty)"
	}
	return strings.Join(out, "\n")
}

// faultShard wraps a shard, hiding its in-process Holder interface (so the
// coordinator runs the protocol) and failing the next Lock, Commit or
// Apply as told.
type faultShard struct {
	backends.Shard
	index int
	mu    sync.Mutex
	fault map[string]string // op -> mode
}

func (f *faultShard) set(op, mode string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fault == nil {
		f.fault = map[string]string{}
	}
	f.fault[op] = mode
}

func (f *faultShard) take(op string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	mode := f.fault[op]
	delete(f.fault, op)
	return mode
}

// inject runs do unless the fault says otherwise.
func (f *faultShard) inject(op string, do func() error) error {
	switch f.take(op) {
	case "refuse":
		return fmt.Errorf("shard %d refuses %s: %w", f.index, op, backends.ErrNotExecuted)
	case "unknown":
		return fmt.Errorf("shard %d: %s timed out", f.index, op)
	case "lost":
		if err := do(); err != nil {
			return err
		}
		return fmt.Errorf("shard %d: the reply to %s was lost", f.index, op)
	}
	return do()
}

func (f *faultShard) Lock(ctx context.Context, tx backends.TxMeta, keys []backends.KeyRef, guards []backends.Guard) ([]backends.KeyState, error) {
	var states []backends.KeyState
	err := f.inject("lock", func() (err error) {
		states, err = f.Shard.Lock(ctx, tx, keys, guards)
		return err
	})
	return states, err
}

func (f *faultShard) Commit(ctx context.Context, tx backends.TxMeta, writes []backends.KeyState, record *backends.TxRecord) error {
	return f.inject("commit", func() error { return f.Shard.Commit(ctx, tx, writes, record) })
}

// Exclusive lets requests over whole databases run as they would.
func (f *faultShard) Exclusive(ctx context.Context, fn func(backends.Section) error) error {
	return f.Shard.(backends.Exclusiver).Exclusive(ctx, fn)
}

func (f *faultShard) Apply(ctx context.Context, tx backends.TxMeta, writes []backends.KeyState, record *backends.TxRecord) error {
	return f.inject("apply", func() error { return f.Shard.Apply(ctx, tx, writes, record) })
}
