package aof

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		o    Options
	}{
		{"no dir", Options{Name: "s"}},
		{"no name", Options{Dir: dir}},
		{"name with separator", Options{Dir: dir, Name: "a/b"}},
		{"bad policy", Options{Dir: dir, Name: "s", Policy: 9}},
		{"dir under a file", Options{Dir: filepath.Join(file, "sub"), Name: "s"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if l, err := Open(tc.o); err == nil {
				l.Close()
				t.Fatal("Open succeeded")
			}
		})
	}
	// Open creates a missing directory.
	l, err := Open(Options{Dir: filepath.Join(dir, "a", "b"), Name: "s"})
	if err != nil {
		t.Fatal(err)
	}
	mustClose(t, l)
}

func TestRoundTrip(t *testing.T) {
	for _, p := range policies {
		t.Run(p.String(), func(t *testing.T) {
			dir := t.TempDir()
			o := mustLoad(t, dir, p, nil)
			if len(o.state) != 0 || o.Size() != 0 {
				t.Fatalf("fresh log: %d records, size %d", len(o.state), o.Size())
			}
			want := recs(0, 100)
			appendWait(t, o.Log, want)
			size := o.Size()
			mustClose(t, o.Log)

			o = mustLoad(t, dir, p, nil)
			equalRecs(t, o.state, want)
			if o.Size() != size {
				t.Errorf("size after reopen %d, before %d", o.Size(), size)
			}
			// Records appended without Wait are flushed by Close.
			more := recs(100, 150)
			for _, r := range more {
				o.Append(r)
			}
			mustClose(t, o.Log)
			want = append(want, more...)

			o = mustLoad(t, dir, p, nil)
			defer mustClose(t, o.Log)
			equalRecs(t, o.state, want)
			if w := o.warn.get(); len(w) != 0 {
				t.Errorf("warnings: %q", w)
			}
		})
	}
}

// Logs of other shards in the same directory are not ours, even when one
// name is a prefix of the other.
func TestSharedDirectory(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"shard-1", "shard-10", "shard-1.x"} {
		l, err := Open(Options{Dir: dir, Name: name})
		if err != nil {
			t.Fatal(err)
		}
		var n int
		if err := l.Load(func(r io.Reader) error { return nil }, func([]byte) error { n++; return nil }); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Fatalf("%s replayed %d foreign records", name, n)
		}
		appendWait(t, l, [][]byte{[]byte(name)})
		if _, err := l.Rotate(); err != nil {
			t.Fatal(err)
		}
		mustClose(t, l)
	}
}

func TestLifecycleErrors(t *testing.T) {
	dir := t.TempDir()
	l := open(t, dir, Always, nil)
	func() {
		defer func() {
			if recover() == nil {
				t.Error("Append before Load did not panic")
			}
		}()
		l.Append(nil)
	}()
	if err := l.Wait(context.Background(), 1); err == nil {
		t.Error("Wait before Load succeeded")
	}
	if _, err := l.Rotate(); err == nil {
		t.Error("Rotate before Load succeeded")
	}
	nop := func([]byte) error { return nil }
	if err := l.Load(nil, nop); err != nil {
		t.Fatal(err)
	}
	if err := l.Load(nil, nop); err == nil {
		t.Error("second Load succeeded")
	}
	pos := l.Append([]byte("x"))
	if err := l.Wait(context.Background(), pos+1); err == nil {
		t.Error("Wait beyond the end succeeded")
	}
	mustClose(t, l)
	if err := l.Wait(context.Background(), pos); err != nil {
		t.Errorf("Wait for a record Close flushed: %v", err)
	}
	pos = l.Append([]byte("y"))
	if err := l.Wait(context.Background(), pos); !errors.Is(err, ErrClosed) {
		t.Errorf("Wait after Close: %v", err)
	}
	if err := l.Sync(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("Sync after Close: %v", err)
	}
	if _, err := l.Rotate(); !errors.Is(err, ErrClosed) {
		t.Errorf("Rotate after Close: %v", err)
	}
	if err := l.Close(); !errors.Is(err, ErrClosed) {
		t.Errorf("second Close: %v", err)
	}
}

// A failed write or fsync must fail every later Wait: a later record
// acknowledged after a lost one would be replayed without it.
func TestStickyErrors(t *testing.T) {
	boom := errors.New("boom")
	for _, tc := range []struct {
		name  string
		knobs func(fail *atomic.Bool) *testingKnobs
	}{
		{"write", func(fail *atomic.Bool) *testingKnobs {
			return &testingKnobs{beforeWrite: func([]byte) error {
				if fail.Load() {
					return boom
				}
				return nil
			}}
		}},
		{"fsync", func(fail *atomic.Bool) *testingKnobs {
			return &testingKnobs{beforeSync: func() error {
				if fail.Load() {
					return boom
				}
				return nil
			}}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var fail atomic.Bool
			dir := t.TempDir()
			o := mustLoad(t, dir, Always, tc.knobs(&fail))
			ctx := context.Background()
			good := o.Append([]byte("good"))
			if err := o.Wait(ctx, good); err != nil {
				t.Fatal(err)
			}
			fail.Store(true)
			err := o.Wait(ctx, o.Append([]byte("lost")))
			if !errors.Is(err, boom) {
				t.Fatalf("Wait = %v, want %v", err, boom)
			}
			if want := logPath(dir, 1); !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not name %s", err, want)
			}
			fail.Store(false)
			for _, e := range []error{
				o.Wait(ctx, o.Append([]byte("after"))),
				o.Wait(ctx, good),
				o.Sync(ctx),
				o.Close(),
			} {
				if !errors.Is(e, boom) {
					t.Errorf("later call = %v, want the sticky %v", e, boom)
				}
			}
			if _, err := o.Rotate(); !errors.Is(err, boom) {
				t.Errorf("Rotate = %v", err)
			}
		})
	}
}

// gate blocks the n-th fsync (1-based) until released, and counts them all.
type gate struct {
	n       int64
	count   atomic.Int64
	entered chan struct{}
	release chan struct{}
}

func newGate(n int64) *gate {
	return &gate{n: n, entered: make(chan struct{}), release: make(chan struct{})}
}

func (g *gate) beforeSync() error {
	if g.count.Add(1) == g.n {
		close(g.entered)
		<-g.release
	}
	return nil
}

func TestWaitHonoursContext(t *testing.T) {
	g := newGate(1)
	o := mustLoad(t, t.TempDir(), Always, &testingKnobs{beforeSync: g.beforeSync})
	done := make(chan error)
	go func() { done <- o.Wait(context.Background(), o.Append([]byte("a"))) }()
	<-g.entered
	ctx, cancel := context.WithCancel(context.Background())
	pos := o.Append([]byte("b"))
	waited := make(chan error)
	go func() { waited <- o.Wait(ctx, pos) }()
	cancel()
	if err := <-waited; !errors.Is(err, context.Canceled) {
		t.Errorf("Wait with a cancelled context = %v", err)
	}
	close(g.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := o.Wait(context.Background(), pos); err != nil {
		t.Fatal(err)
	}
	mustClose(t, o.Log)
}

// One flush is held in its fsync while 49 more records are appended: they
// must all go out in one more write and fsync, however their Waits
// interleave.
func TestGroupCommit(t *testing.T) {
	const writers = 50
	g := newGate(1)
	var writes atomic.Int64
	k := &testingKnobs{beforeSync: g.beforeSync, beforeWrite: func([]byte) error { writes.Add(1); return nil }}
	dir := t.TempDir()
	o := mustLoad(t, dir, Always, k)
	errs := make(chan error, writers)
	go func() { errs <- o.Wait(context.Background(), o.Append(rec(0))) }()
	<-g.entered
	var appended sync.WaitGroup
	appended.Add(writers - 1)
	for i := 1; i < writers; i++ {
		go func() {
			pos := o.Append(rec(i))
			appended.Done()
			errs <- o.Wait(context.Background(), pos)
		}()
	}
	appended.Wait()
	close(g.release)
	for range writers {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if n, w := g.count.Load(), writes.Load(); n != 2 || w != 2 {
		t.Errorf("%d waits took %d fsyncs and %d writes, want 2 and 2", writers, n, w)
	}
	mustClose(t, o.Log)
	o = mustLoad(t, dir, Always, nil)
	defer mustClose(t, o.Log)
	if len(o.state) != writers {
		t.Errorf("reloaded %d records, want %d", len(o.state), writers)
	}
}

// Many goroutines append under a shard lock and wait outside it, as the
// store does, while another snapshots now and then. Every acknowledged
// record, and in fact every record, must be there after reopening, in the
// order of the appends.
func TestConcurrentAppendWait(t *testing.T) {
	const writers, each = 50, 100
	for _, p := range policies {
		t.Run(p.String(), func(t *testing.T) {
			var syncs, waits atomic.Int64
			tick := make(chan time.Time)
			k := &testingKnobs{beforeSync: func() error { syncs.Add(1); return nil }, tick: tick}
			dir := t.TempDir()
			o := mustLoad(t, dir, p, k)
			var (
				shardMu sync.Mutex
				model   [][]byte // guarded by shardMu
				wg      sync.WaitGroup
				stop    = make(chan struct{})
				snapNow = make(chan struct{}, 1)
			)
			for w := range writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range each {
						r := rec(w*each + i)
						shardMu.Lock()
						pos := o.Append(r)
						model = append(model, r)
						if len(model)%500 == 0 {
							select {
							case snapNow <- struct{}{}:
							default:
							}
						}
						shardMu.Unlock()
						if err := o.Wait(context.Background(), pos); err != nil {
							t.Error(err)
							return
						}
						waits.Add(1)
					}
				}()
			}
			// Snapshot after every 500 appends; tick EverySec as fast as it
			// takes ticks.
			var bg sync.WaitGroup
			bg.Add(2)
			go func() {
				defer bg.Done()
				for {
					select {
					case <-stop:
						return
					case tick <- time.Time{}:
					}
				}
			}()
			go func() {
				defer bg.Done()
				for {
					select {
					case <-stop:
						return
					case <-snapNow:
					}
					shardMu.Lock()
					gen, err := o.Rotate()
					state := append([][]byte(nil), model...)
					shardMu.Unlock()
					if err == nil {
						err = o.WriteSnapshot(gen, func(w io.Writer) error { return encodeRecs(w, state) })
					}
					if err != nil {
						t.Error(err)
						return
					}
				}
			}()
			wg.Wait()
			close(stop)
			bg.Wait()
			mustClose(t, o.Log)
			t.Logf("%d waits, %d fsyncs", waits.Load(), syncs.Load())

			o = mustLoad(t, dir, p, nil)
			defer mustClose(t, o.Log)
			equalRecs(t, o.state, model)
		})
	}
}

// EverySec fsyncs on its tick, not on Wait, and only when there is
// something to sync; records nobody waits for are written by the tick.
func TestEverySec(t *testing.T) {
	var syncs atomic.Int64
	tick := make(chan time.Time)
	ticked := make(chan struct{})
	k := &testingKnobs{
		beforeSync: func() error { syncs.Add(1); return nil },
		tick:       tick,
		afterTick:  func() { ticked <- struct{}{} },
	}
	dir := t.TempDir()
	o := mustLoad(t, dir, EverySec, k)
	step := func() { tick <- time.Time{}; <-ticked }

	appendWait(t, o.Log, recs(0, 10))
	if n := syncs.Load(); n != 0 {
		t.Fatalf("%d fsyncs before the tick", n)
	}
	step()
	if n := syncs.Load(); n != 1 {
		t.Fatalf("%d fsyncs after one tick, want 1", n)
	}
	step()
	if n := syncs.Load(); n != 1 {
		t.Fatalf("%d fsyncs after an idle tick, want 1", n)
	}
	st, _ := os.Stat(logPath(dir, 1))
	o.Append([]byte("unwaited"))
	step()
	st2, _ := os.Stat(logPath(dir, 1))
	if n := syncs.Load(); n != 2 || st2.Size() <= st.Size() {
		t.Fatalf("after a tick with an unwaited record: %d fsyncs, size %d -> %d", n, st.Size(), st2.Size())
	}
	// Sync fsyncs at once whatever the policy.
	o.Append([]byte("synced"))
	if err := o.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := syncs.Load(); n != 3 {
		t.Fatalf("%d fsyncs after Sync, want 3", n)
	}
	mustClose(t, o.Log)
	select {
	case <-o.bgDone:
	default:
		t.Error("the EverySec goroutine outlived Close")
	}
}

// Under No only Close (and Rotate) fsync.
func TestNoPolicyNeverSyncsOnWait(t *testing.T) {
	var syncs atomic.Int64
	o := mustLoad(t, t.TempDir(), No, &testingKnobs{beforeSync: func() error { syncs.Add(1); return nil }})
	appendWait(t, o.Log, recs(0, 100))
	if n := syncs.Load(); n != 0 {
		t.Errorf("%d fsyncs under No", n)
	}
	mustClose(t, o.Log)
	if n := syncs.Load(); n != 1 {
		t.Errorf("%d fsyncs after Close, want 1", n)
	}
}

func TestAppendWaitDoesNotAllocate(t *testing.T) {
	for _, p := range policies {
		t.Run(p.String(), func(t *testing.T) {
			o := mustLoad(t, t.TempDir(), p, &testingKnobs{tick: make(chan time.Time)})
			defer mustClose(t, o.Log)
			r := make([]byte, 100)
			appendWait(t, o.Log, [][]byte{r, r, r}) // grow both buffers
			ctx := context.Background()
			if n := testing.AllocsPerRun(200, func() {
				if err := o.Wait(ctx, o.Append(r)); err != nil {
					t.Fatal(err)
				}
			}); n != 0 {
				t.Errorf("Append+Wait: %v allocations per call", n)
			}
		})
	}
}
