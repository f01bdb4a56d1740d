package memory

import (
	"bufio"
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/schemaproxy/schemaproxy/backends"
	"github.com/schemaproxy/schemaproxy/backends/memory/aof"
	"github.com/schemaproxy/schemaproxy/keyspace"
	"github.com/schemaproxy/schemaproxy/proto/resp"
)

// Options configures the embedded store.
type Options struct {
	// Shards is the number of shards (>= 1).
	Shards int
	// Databases is the number of numbered databases per shard.
	Databases int
	// Dir is the data directory; empty means no persistence.
	Dir string
	// Fsync is the appendfsync policy.
	Fsync aof.Policy
	// SnapshotBytes is the log size (bytes, all shards) past which a
	// snapshot is taken; 0 means 64 MiB.
	SnapshotBytes int64
	// Logf receives warnings; nil discards them.
	Logf func(format string, args ...any)
	// Now returns unix milliseconds; nil means the wall clock.
	Now func() int64
}

// Store is the set of embedded shards and their background work.
type Store struct {
	opts   Options
	shards []*Shard
	logs   []*aof.Log

	stop chan struct{}
	wg   sync.WaitGroup

	snapMu sync.Mutex // serialises snapshots
}

// Open creates the shards, loads their data from Dir and starts the
// background jobs (active expiry, tombstone sweeping, snapshots).
func Open(opts Options, exec *keyspace.Executor) (*Store, error) {
	if opts.Shards < 1 {
		return nil, fmt.Errorf("memory: shards must be at least 1, got %d", opts.Shards)
	}
	if opts.Databases < 1 {
		return nil, fmt.Errorf("memory: databases must be at least 1, got %d", opts.Databases)
	}
	if opts.Now == nil {
		opts.Now = func() int64 { return time.Now().UnixMilli() }
	}
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	if opts.SnapshotBytes == 0 {
		opts.SnapshotBytes = 64 << 20
	}
	st := &Store{opts: opts, stop: make(chan struct{})}
	for i := 0; i < opts.Shards; i++ {
		st.shards = append(st.shards, newShard(i, opts.Databases, exec, opts.Now))
	}
	for _, s := range st.shards {
		s.siblings = st.shards
		s.deps = make([]atomic.Uint64, len(st.shards))
	}
	if opts.Dir != "" {
		if err := st.load(exec); err != nil {
			st.closeLogs()
			return nil, err
		}
	}
	st.wg.Add(1)
	go st.background()
	return st, nil
}

// Shards returns the shards as the coordinator sees them.
func (st *Store) Shards() []backends.Shard {
	out := make([]backends.Shard, len(st.shards))
	for i, s := range st.shards {
		out[i] = s
	}
	return out
}

// load opens every shard's log, replays it, then finishes cross-shard
// transactions whose commit record survived but whose apply record on a
// participant did not.
func (st *Store) load(exec *keyspace.Executor) error {
	logged := make([][]*logRecord, len(st.shards))
	for i, s := range st.shards {
		log, err := aof.Open(aof.Options{
			Dir: st.opts.Dir, Name: fmt.Sprintf("shard-%d", i), Policy: st.opts.Fsync, Logf: st.opts.Logf,
		})
		if err != nil {
			return err
		}
		st.logs = append(st.logs, log)
		collect := func(rec []byte) error {
			r, err := decodeLogRecord(rec)
			if err != nil {
				return err
			}
			logged[i] = append(logged[i], r)
			return nil
		}
		if err := log.Load(s.loadSnapshot, collect); err != nil {
			return fmt.Errorf("shard %d: %w", i, err)
		}
		s.log = log
	}
	plan := planRecovery(st.shards, logged)
	for i, s := range st.shards {
		s.mu.Lock()
		for _, r := range logged[i][:plan.cut[i]] {
			if err := s.replayLocked(r); err != nil {
				s.mu.Unlock()
				return fmt.Errorf("shard %d: replay: %w", i, err)
			}
			s.lsn++
		}
		for _, rec := range plan.rollForward[i] {
			if err := s.applyRecordLocked(rec); err != nil {
				s.mu.Unlock()
				return fmt.Errorf("shard %d: roll transaction %d forward: %w", i, rec.ID, err)
			}
			s.appendLocked(appendCommit(nil, rec))
			st.opts.Logf("recovery: rolled cross-shard transaction %d forward on shard %d", rec.ID, i)
		}
		s.mu.Unlock()
		if dropped := len(logged[i]) - plan.cut[i]; dropped > 0 {
			st.opts.Logf("recovery: shard %d: dropped the last %d log records, which depend on records a crash lost on another shard", i, dropped)
		}
	}
	if plan.changed {
		// The logs still hold what was cut: a snapshot of the recovered
		// state makes them obsolete before anything is appended after it.
		return st.Snapshot(context.Background())
	}
	for _, l := range st.logs {
		if err := l.Sync(context.Background()); err != nil {
			return err
		}
	}
	return nil
}

// logRecord is one decoded log record, kept until recovery knows whether
// to replay it.
type logRecord struct {
	now    int64
	ops    []backends.Op      // an ops record
	commit *backends.TxRecord // a cross-shard record
}

func decodeLogRecord(rec []byte) (*logRecord, error) {
	if len(rec) == 0 {
		return nil, errBadRecord
	}
	d := &decoder{b: rec[1:]}
	r := &logRecord{}
	switch rec[0] {
	case recOps:
		r.now = d.varint()
		for len(d.b) > 0 && d.err == nil {
			db, args := d.op()
			r.ops = append(r.ops, backends.Op{DB: db, Args: args})
		}
	case recCommit:
		r.commit = decodeCommit(d)
	default:
		return nil, fmt.Errorf("%w: kind %d", errBadRecord, rec[0])
	}
	return r, d.err
}

func (s *Shard) replayLocked(r *logRecord) error {
	if r.commit != nil {
		return s.applyRecordLocked(r.commit)
	}
	return s.replayOpsLocked(r.now, r.ops)
}

// recoveryPlan says how much of each shard's log to replay (cut) and which
// cross-shard records to install after it (rollForward, in order).
type recoveryPlan struct {
	cut         []int
	rollForward [][]*backends.TxRecord
	changed     bool
}

// planRecovery finds the largest consistent state the logs allow. Each
// shard's log is a prefix of what it wrote. A cross-shard record copied to
// several logs may have survived in only some: it is rolled forward onto a
// participant that lacks it if that participant kept every record it had
// before it (record.Prev); otherwise its values rest on lost state, so it
// is cut from every log that has it, together with what followed it there,
// and the check runs again until nothing changes.
func planRecovery(shards []*Shard, logged [][]*logRecord) recoveryPlan {
	n := len(shards)
	plan := recoveryPlan{cut: make([]int, n), rollForward: make([][]*backends.TxRecord, n)}
	type place struct{ shard, index int }
	where := map[backends.TxID][]place{}
	for i := range logged {
		plan.cut[i] = len(logged[i])
		for j, r := range logged[i] {
			if r.commit != nil {
				where[r.commit.ID] = append(where[r.commit.ID], place{i, j})
			}
		}
	}
	present := func(id backends.TxID, shard int) bool {
		for _, p := range where[id] {
			if p.shard == shard && p.index < plan.cut[shard] {
				return true
			}
		}
		return false
	}
	for {
		// Records kept somewhere, by the participants that lack them.
		missing := make([][]*backends.TxRecord, n)
		seen := map[backends.TxID]bool{}
		for i := range logged {
			for _, r := range logged[i][:plan.cut[i]] {
				rec := r.commit
				if rec == nil || seen[rec.ID] {
					continue
				}
				seen[rec.ID] = true
				for p := range participants(rec) {
					if p < n && !present(rec.ID, p) {
						missing[p] = append(missing[p], rec)
					}
				}
			}
		}
		var invalid []backends.TxID
		for p := range missing {
			list := missing[p]
			if len(list) == 0 || list[0].Prev == nil {
				// Records without positions (the Lock/Commit/Apply
				// protocol) are rolled forward in commit order.
				slices.SortFunc(list, func(a, b *backends.TxRecord) int { return cmp.Compare(a.Seq, b.Seq) })
				plan.rollForward[p] = list
				continue
			}
			slices.SortFunc(list, func(a, b *backends.TxRecord) int { return cmp.Compare(a.Prev[p], b.Prev[p]) })
			next := shards[p].lsn + uint64(plan.cut[p])
			plan.rollForward[p] = plan.rollForward[p][:0]
			for _, rec := range list {
				if rec.Prev != nil && rec.Prev[p] != next {
					invalid = append(invalid, rec.ID)
					continue
				}
				plan.rollForward[p] = append(plan.rollForward[p], rec)
				next++
			}
		}
		if len(invalid) == 0 {
			break
		}
		plan.changed = true
		for _, id := range invalid {
			for _, pl := range where[id] {
				plan.cut[pl.shard] = min(plan.cut[pl.shard], pl.index)
			}
		}
	}
	for p := range plan.rollForward {
		if len(plan.rollForward[p]) > 0 {
			plan.changed = true
		}
	}
	return plan
}

// participants are the shards a record installs something on.
func participants(rec *backends.TxRecord) map[int]bool {
	out := map[int]bool{}
	for s, w := range rec.Writes {
		if len(w) > 0 {
			out[s] = true
		}
	}
	for s, ops := range rec.Ops {
		if len(ops) > 0 && (rec.Prev == nil || hasKey(rec.Prev, s)) {
			out[s] = true
		}
	}
	return out
}

func hasKey(m map[int]uint64, k int) bool {
	_, ok := m[k]
	return ok
}

// replayOpsLocked runs logged commands again at the time they first ran.
func (s *Shard) replayOpsLocked(now int64, ops []backends.Op) error {
	w := resp.NewWriter(2)
	c := &keyspace.Ctx{Store: s.store, W: w, Now: now, Rand: s.rnd}
	for _, op := range ops {
		if op.DB < 0 || op.DB >= s.store.NumDBs() {
			return fmt.Errorf("%w: database %d", errBadRecord, op.DB)
		}
		cmd := s.exec.Table().Lookup(op.Args[0])
		if cmd == nil {
			return fmt.Errorf("%w: unknown command %q", errBadRecord, op.Args[0])
		}
		w.Reset()
		c.DBIndex, c.DB, c.Args = op.DB, s.store.DB(op.DB), op.Args
		s.exec.Run(c, cmd)
	}
	return nil
}

// applyRecordLocked installs this shard's part of a transaction record.
func (s *Shard) applyRecordLocked(record *backends.TxRecord) error {
	s.installLocked(record.Writes[s.index], s.now())
	return s.replayOpsLocked(record.Now, record.Ops[s.index])
}

// Snapshot format: the shard's record count (lsn), then per database a
// count of keys and each key with its expiry and encoded value.

func (s *Shard) loadSnapshot(r io.Reader) error {
	br := bufio.NewReader(r)
	readU := func() (uint64, error) { return binary.ReadUvarint(br) }
	lsn, err := readU()
	if err != nil {
		return err
	}
	s.lsn = lsn
	ndb, err := readU()
	if err != nil {
		return err
	}
	for i := uint64(0); i < ndb; i++ {
		n, err := readU()
		if err != nil {
			return err
		}
		if int(i) >= s.store.NumDBs() {
			if n > 0 {
				return fmt.Errorf("memory: snapshot has keys in database %d, only %d configured", i, s.store.NumDBs())
			}
			continue
		}
		db := s.store.DB(int(i))
		for j := uint64(0); j < n; j++ {
			klen, err := readU()
			if err != nil {
				return err
			}
			key := make([]byte, klen)
			if _, err := io.ReadFull(br, key); err != nil {
				return err
			}
			expire, err := binary.ReadVarint(br)
			if err != nil {
				return err
			}
			vlen, err := readU()
			if err != nil {
				return err
			}
			val := make([]byte, vlen)
			if _, err := io.ReadFull(br, val); err != nil {
				return err
			}
			e, err := keyspace.DecodeValue(val)
			if err != nil {
				return err
			}
			e.ExpireAt = expire
			db.Put(string(key), e)
		}
	}
	return nil
}

// writeSnapshotLocked serialises the shard's data; s.mu is held.
func (s *Shard) encodeSnapshotLocked() []byte {
	now := s.now()
	b := binary.AppendUvarint(nil, s.lsn)
	b = binary.AppendUvarint(b, uint64(s.store.NumDBs()))
	for i := 0; i < s.store.NumDBs(); i++ {
		db := s.store.DB(i)
		var body []byte
		n := 0
		db.Range(now, func(key string, e *keyspace.Entry) bool {
			body = binary.AppendUvarint(body, uint64(len(key)))
			body = append(body, key...)
			body = binary.AppendVarint(body, e.ExpireAt)
			v := keyspace.EncodeValue(nil, e)
			body = binary.AppendUvarint(body, uint64(len(v)))
			body = append(body, v...)
			n++
			return true
		})
		b = binary.AppendUvarint(b, uint64(n))
		b = append(b, body...)
	}
	return b
}

// Snapshot writes a snapshot of every shard at one cut: no cross-shard
// transaction is in flight and every log is synced, so a commit record and
// its apply records are either all before the cut or all after it.
func (st *Store) Snapshot(ctx context.Context) error {
	if st.logs == nil {
		return nil
	}
	st.snapMu.Lock()
	defer st.snapMu.Unlock()
	images := make([][]byte, len(st.shards))
	gens := make([]aof.Generation, len(st.shards))
	err := st.exclusiveAll(ctx, 0, func() error {
		for i, s := range st.shards {
			if err := st.logs[i].Sync(ctx); err != nil {
				return err
			}
			s.mu.Lock()
			gen, err := st.logs[i].Rotate()
			if err == nil {
				images[i] = s.encodeSnapshotLocked()
			}
			s.mu.Unlock()
			if err != nil {
				return err
			}
			gens[i] = gen
		}
		return nil
	})
	if err != nil {
		return err
	}
	for i, img := range images {
		if err := st.logs[i].WriteSnapshot(gens[i], func(w io.Writer) error {
			_, err := w.Write(img)
			return err
		}); err != nil {
			return fmt.Errorf("shard %d snapshot: %w", i, err)
		}
	}
	return nil
}

func (st *Store) exclusiveAll(ctx context.Context, i int, fn func() error) error {
	if i == len(st.shards) {
		return fn()
	}
	return st.shards[i].Exclusive(ctx, func(backends.Locked) error {
		return st.exclusiveAll(ctx, i+1, fn)
	})
}

func (st *Store) logSize() int64 {
	var n int64
	for _, l := range st.logs {
		n += l.Size()
	}
	return n
}

// background runs active expiry every 100 ms, sweeps tombstones older than
// a minute every 10 s, and snapshots when the logs have grown.
func (st *Store) background() {
	defer st.wg.Done()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	n := 0
	for {
		select {
		case <-st.stop:
			return
		case <-tick.C:
		}
		n++
		for _, s := range st.shards {
			s.activeExpire()
		}
		if n%100 == 0 {
			before := uint64(st.opts.Now()-60_000) * 1024
			for _, s := range st.shards {
				s.sweepTombstones(before)
			}
		}
		if st.logs != nil && st.logSize() > st.opts.SnapshotBytes {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			if err := st.Snapshot(ctx); err != nil {
				st.opts.Logf("snapshot failed: %v", err)
			}
			cancel()
		}
	}
}

// Close stops background work, refuses new requests and closes the logs
// after syncing them.
func (st *Store) Close() error {
	select {
	case <-st.stop:
		return nil
	default:
	}
	close(st.stop)
	st.wg.Wait()
	for _, s := range st.shards {
		s.mu.Lock()
		s.closed = true
		s.broadcastLocked()
		s.mu.Unlock()
	}
	return st.closeLogs()
}

func (st *Store) closeLogs() error {
	var errs []error
	for _, l := range st.logs {
		errs = append(errs, l.Close())
	}
	return errors.Join(errs...)
}

// Info returns INFO fields for section: "persistence" or "keyspace".
func (st *Store) Info(section string) [][2]string {
	switch section {
	case "persistence":
		enabled := "0"
		if st.logs != nil {
			enabled = "1"
		}
		return [][2]string{
			{"loading", "0"},
			{"aof_enabled", enabled},
			{"aof_current_size", fmt.Sprint(st.logSize())},
			{"appendfsync", st.opts.Fsync.String()},
		}
	case "keyspace":
		var out [][2]string
		for db := 0; db < st.opts.Databases; db++ {
			keys, expires := 0, 0
			for _, s := range st.shards {
				s.mu.Lock()
				keys += s.store.DB(db).Len()
				expires += s.store.DB(db).Expires()
				s.mu.Unlock()
			}
			if keys > 0 {
				out = append(out, [2]string{fmt.Sprintf("db%d", db),
					fmt.Sprintf("keys=%d,expires=%d,avg_ttl=0", keys, expires)})
			}
		}
		return out
	}
	return nil
}
