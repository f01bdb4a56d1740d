package memory

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"runtime/metrics"
	"time"

	"github.com/schemaproxy/schemaproxy/backends"
)

// errStopped abandons a snapshot when the store closes.
var errStopped = errors.New("memory: store closing")

// Snapshot writes a snapshot of every shard at one cut and drops the log
// before it (SAVE). It never stops the shards: the cut is a log rotation,
// and the state at the cut is rebuilt from the files (the previous
// snapshot and the log up to the cut) into a private copy, which is then
// encoded, as Redis's fork lets a child write what the parent goes on
// changing. The cost is a second copy of the data while it runs (reported
// as rdb_last_cow_size) and CPU, given up to clients often. One file holds
// every shard, installed by one rename: no crash leaves a mixed set.
func (st *Store) Snapshot(ctx context.Context) error {
	if st.log == nil {
		return nil
	}
	st.snapMu.Lock()
	defer st.snapMu.Unlock()
	began := time.Now()
	err := st.snapshot(ctx)
	st.lastOK.Store(err == nil)
	st.lastTook.Store(time.Since(began).Milliseconds())
	if err == nil {
		st.lastSave.Store(time.Now().Unix())
	}
	return err
}

// BGSave starts Snapshot in the background (BGSAVE) unless one is
// running (backends.ErrSaveInProgress).
func (st *Store) BGSave() error {
	if st.log == nil {
		return nil
	}
	if !st.bgRunning.CompareAndSwap(false, true) {
		return backends.ErrSaveInProgress
	}
	select {
	case <-st.stop:
		st.bgRunning.Store(false)
		return errStopped
	default:
	}
	st.wg.Add(1)
	go func() {
		defer st.wg.Done()
		defer st.bgRunning.Store(false)
		if err := st.Snapshot(context.Background()); err != nil && !errors.Is(err, errStopped) {
			st.opts.Logf("background snapshot failed: %v", err)
		}
	}()
	return nil
}

func (st *Store) snapshot(ctx context.Context) error {
	gen, err := st.log.aof.Rotate()
	if err != nil {
		return err
	}
	st.log.append(appendMeta(nil, len(st.shards), st.opts.Databases))
	n := 0
	yield := func() error {
		if n++; n%256 == 0 {
			// Give the cores back to clients often: a rebuild may take
			// seconds and must not stall them.
			runtime.Gosched()
			select {
			case <-st.stop:
				return errStopped
			case <-ctx.Done():
				return ctx.Err()
			default:
			}
		}
		return nil
	}
	heapBefore := heapBytes()
	shards := newShards(len(st.shards), st.opts.Databases, st.shards[0].exec, &clock{wall: st.opts.Now})
	r := replayer{shards: shards, clock: &clock{wall: st.opts.Now}, yield: yield}
	if err := st.log.aof.ReadBefore(gen, r.snapshot, r.record); err != nil {
		return fmt.Errorf("snapshot: rebuild the state at the cut: %w", err)
	}
	st.lastCost.Store(max(int64(heapBytes())-int64(heapBefore), 0))
	return st.log.aof.WriteSnapshot(gen, func(w io.Writer) error { return encodeSnapshot(w, shards, yield) })
}

func heapBytes() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}
