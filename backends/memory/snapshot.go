package memory

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/schemaproxy/schemaproxy/backends"
	"github.com/schemaproxy/schemaproxy/command"
	"github.com/schemaproxy/schemaproxy/keyspace"
)

// errStopped abandons a snapshot when the store closes.
var errStopped = errors.New("memory: store closing")

// Snapshots are copy-on-write, as Redis's fork: a cut taken in a moment,
// then the data as of the cut written while clients go on changing it.
//
//   - The log is rotated first (slow: fsyncs), then the cut is taken with
//     every shard in an Exclusive section (no request, and no cross-shard
//     transaction between its commit and its apply, spans it): the log
//     position P, a new epoch per shard, and each database's key map.
//   - A writer then walks those maps shard by shard, a few hundred keys at
//     a time under the shard's lock, and saves every entry not stamped with
//     the epoch, stamping it. Meanwhile, before anything changes an entry
//     the walk has not saved (a write op's keys, a cross-shard install, an
//     expiry), the shard saves it first; entries created after the cut
//     carry the epoch already. FLUSHDB replaces a map, so the walk still
//     sees the old one; SWAPDB moves a map, so entries are saved under the
//     index their database had at the cut.
//   - The snapshot, one file for every shard, is installed by one rename
//     once the log holds P durably; Load replays the log after P.
//
// The cost is the entries changed during the walk (rdb_last_cow_size) and
// pauses of a few hundred keys' encoding, never the whole data.

// cowSnap is a shard's part of a snapshot in progress.
type cowSnap struct {
	epoch uint16
	// maps are the databases' key maps at the cut, by their index then,
	// and packed their tables of packed strings.
	maps   []map[string]*keyspace.Entry
	packed []keyspace.Packed
	// atCut gives each database's index at the cut (SWAPDB may move it).
	atCut map[*keyspace.DB]int
	// saved holds entries saved before a change, not yet written out.
	saved []byte
	// copied counts the bytes saved before a change.
	copied int64
	val    []byte
}

// saveLocked saves e, key's entry in db, unless the snapshot has it.
func (s *Shard) saveLocked(db *keyspace.DB, key string, e *keyspace.Entry) {
	sn := s.snap
	if e == nil || e.Snap == sn.epoch {
		return
	}
	n := len(sn.saved)
	sn.saved = appendSnapEntry(sn.saved, s.index, sn.atCut[db], key, e, &sn.val)
	sn.copied += int64(len(sn.saved) - n)
	e.Snap = sn.epoch
}

// saveKeysLocked saves what op may change, before it runs.
func (s *Shard) saveKeysLocked(op *backends.Op) {
	if op.Cmd == nil || !op.Cmd.Is(command.Write) {
		return
	}
	s.keyIdx, _ = op.Cmd.KeyIndexes(s.keyIdx[:0], op.Args)
	db := s.store.DB(op.DB)
	for _, i := range s.keyIdx {
		s.saveLocked(db, string(op.Args[i]), db.Peek(string(op.Args[i])))
	}
	if other, ok := op.Cmd.OtherDB(op.Args); ok && other < s.store.NumDBs() {
		db := s.store.DB(other)
		for _, i := range s.keyIdx {
			s.saveLocked(db, string(op.Args[i]), db.Peek(string(op.Args[i])))
		}
	}
}

// appendSnapEntry encodes one key of a snapshot: shard, database, key,
// expiry and value.
func appendSnapEntry(b []byte, shard, db int, key string, e *keyspace.Entry, val *[]byte) []byte {
	b = binary.AppendUvarint(b, uint64(shard))
	b = binary.AppendUvarint(b, uint64(db))
	b = binary.AppendUvarint(b, uint64(len(key)))
	b = append(b, key...)
	b = binary.AppendVarint(b, e.ExpireAt)
	*val = keyspace.EncodeValue((*val)[:0], e)
	b = binary.AppendUvarint(b, uint64(len(*val)))
	return append(b, *val...)
}

// Snapshot writes a snapshot of every shard at one cut and drops the log
// before it (SAVE); clients go on meanwhile (see above).
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
	// Under lifeMu, so that Close never waits before this Add.
	st.lifeMu.Lock()
	defer st.lifeMu.Unlock()
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
	var at uint64
	snaps := make([]*cowSnap, len(st.shards))
	err = st.exclusiveAll(ctx, 0, func() error {
		for _, s := range st.shards {
			s.mu.Lock()
		}
		at = st.log.aof.End()
		for i, s := range st.shards {
			s.store.SnapEpoch++
			sn := &cowSnap{epoch: s.store.SnapEpoch, atCut: map[*keyspace.DB]int{}}
			for d := 0; d < s.store.NumDBs(); d++ {
				db := s.store.DB(d)
				sn.maps = append(sn.maps, db.Entries())
				sn.packed = append(sn.packed, db.Packed())
				sn.atCut[db] = d
			}
			s.snap, snaps[i] = sn, sn
		}
		for i := len(st.shards) - 1; i >= 0; i-- {
			st.shards[i].mu.Unlock()
		}
		return nil
	})
	if err != nil {
		return err
	}
	defer st.endCOW()
	// The snapshot may say "skip the log up to the cut" only once the log
	// holds the cut durably.
	if err := st.log.aof.Sync(ctx); err != nil {
		return err
	}
	if err := st.log.aof.WriteSnapshotAt(gen, at, func(w io.Writer) error { return st.writeCOW(ctx, w, snaps) }); err != nil {
		return err
	}
	var copied int64
	for _, sn := range snaps {
		copied += sn.copied
	}
	st.lastCost.Store(copied)
	return nil
}

// endCOW stops saving entries before changes (after a snapshot, or when
// one is abandoned).
func (st *Store) endCOW() {
	for _, s := range st.shards {
		s.mu.Lock()
		s.snap = nil
		s.mu.Unlock()
	}
}

func (st *Store) exclusiveAll(ctx context.Context, i int, fn func() error) error {
	if i == len(st.shards) {
		return fn()
	}
	return st.shards[i].Exclusive(ctx, func(backends.Section) error {
		return st.exclusiveAll(ctx, i+1, fn)
	})
}

// snapChunk is how many keys the walk saves per hold of a shard's lock:
// small enough that a client waits microseconds, large enough that the
// lock is not the cost.
const snapChunk = 64

// snapChunkBytes also ends a chunk: large values fill the buffer, which
// would otherwise grow (and stay in the heap) to 64 of them.
const snapChunkBytes = 64 << 10

// writeCOW writes the snapshot of the cut: every shard's maps as of the
// cut, plus what was saved before changes. Format: the number of shards
// and databases, then entries (appendSnapEntry), then the number of shards
// again as the end.
func (st *Store) writeCOW(ctx context.Context, w io.Writer, snaps []*cowSnap) error {
	var buf, val []byte
	buf = binary.AppendUvarint(buf, uint64(len(st.shards)))
	buf = binary.AppendUvarint(buf, uint64(st.opts.Databases))
	chunkStart := time.Now()
	flush := func() error {
		_, err := w.Write(buf)
		buf = buf[:0]
		if err != nil {
			return err
		}
		// Give the cores back to clients between chunks: the walk takes
		// at most about half of one, so a loaded machine still serves.
		time.Sleep(time.Since(chunkStart))
		chunkStart = time.Now()
		if k := st.opts.Knobs; k != nil && k.SnapshotChunk != nil {
			k.SnapshotChunk()
		}
		select {
		case <-st.stop:
			return errStopped
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		return nil
	}
	for i, s := range st.shards {
		sn := snaps[i]
		for d, m := range sn.maps {
			s.mu.Lock()
			n := 0
			var err error
			// chunk writes what the walk and changes saved, releasing the
			// lock meanwhile.
			chunk := func() bool {
				buf = append(buf, sn.saved...)
				sn.saved = sn.saved[:0]
				s.mu.Unlock()
				err = flush()
				s.mu.Lock()
				return err == nil
			}
			// The map changes while the lock is released between chunks:
			// entries added then carry the epoch; entries deleted before
			// the walk reached them were saved first.
			for key, e := range m {
				if e.Snap != sn.epoch {
					buf = appendSnapEntry(buf, i, d, key, e, &val)
					e.Snap = sn.epoch
				}
				if n++; n%snapChunk == 0 || len(buf) >= snapChunkBytes {
					if !chunk() {
						break
					}
				}
			}
			// Then the packed strings: those taken out of the table since
			// the cut were saved first (OnThaw).
			for cur, done := uint64(0), false; err == nil && !done; {
				n = 0
				cur, done = sn.packed[d].Save(cur, sn.epoch, func(key string, e *keyspace.Entry) bool {
					buf = appendSnapEntry(buf, i, d, key, e, &val)
					n++
					return n < snapChunk && len(buf) < snapChunkBytes
				})
				if !done {
					chunk()
				}
			}
			buf = append(buf, sn.saved...)
			sn.saved = sn.saved[:0]
			if d == len(sn.maps)-1 && err == nil {
				// Every entry of the shard is saved: changes need no
				// saving any more.
				s.snap = nil
			}
			s.mu.Unlock()
			if err == nil {
				err = flush()
			}
			if err != nil {
				return err
			}
		}
	}
	buf = binary.AppendUvarint(buf, uint64(len(st.shards)))
	_, err := w.Write(buf)
	if err != nil {
		return fmt.Errorf("write snapshot: %w", err)
	}
	return nil
}
