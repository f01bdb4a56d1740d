package memory

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/schemaproxy/schemaproxy/backends"
	"github.com/schemaproxy/schemaproxy/backends/memory/aof"
	"github.com/schemaproxy/schemaproxy/keyspace"
	"github.com/schemaproxy/schemaproxy/proto/resp"
)

// logName names the store's log files: store.<gen>.log, store.<gen>.snap.
const logName = "store"

// load opens the log, loads the newest snapshot and replays every record
// after it. The log is one serial order of every shard's records and a
// crash leaves a prefix of it, so replaying what is there is the whole of
// recovery.
func (st *Store) load() error {
	if err := refuseOldLayout(st.opts.Dir); err != nil {
		return err
	}
	var step func(string)
	if st.opts.Knobs != nil {
		step = st.opts.Knobs.LogStep
	}
	l, err := aof.Open(aof.Options{Dir: st.opts.Dir, Name: logName, Policy: st.opts.Fsync, Logf: st.opts.Logf, Step: step})
	if err != nil {
		return err
	}
	st.log = &storeLog{aof: l, shards: len(st.shards)}
	r := replayer{shards: st.shards, clock: st.clock}
	if err := l.Load(r.snapshot, r.record); err != nil {
		return err
	}
	for _, s := range st.shards {
		s.persist(st.log)
	}
	st.log.append(appendMeta(nil, len(st.shards), st.opts.Databases))
	return nil
}

// refuseOldLayout stops a start on a directory written by the per-shard
// logs of an earlier version, which this one cannot read: starting empty
// there would look like data loss.
func refuseOldLayout(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil // a new directory; aof.Open reports real problems
	}
	for _, e := range entries {
		if n := e.Name(); strings.HasPrefix(n, "shard-") && (strings.HasSuffix(n, ".log") || strings.HasSuffix(n, ".snap")) {
			return fmt.Errorf("memory: %s holds per-shard logs (%s) of an earlier on-disk format that this version cannot read; move them away to start empty", dir, n)
		}
	}
	return nil
}

// replayer rebuilds the shards from a snapshot and log records.
type replayer struct {
	shards []*Shard
	clock  *clock
}

func (r *replayer) record(rec []byte) error {
	lr, err := decodeLogRecord(rec)
	if err != nil {
		return err
	}
	return r.apply(lr, true)
}

func (r *replayer) apply(lr *logRecord, top bool) error {
	switch lr.kind {
	case recOps:
		s, err := r.shard(lr.shard)
		if err != nil {
			return err
		}
		r.clock.observe(lr.now)
		return s.replayOps(lr.now, lr.ops)
	case recTx:
		tx := lr.tx
		r.clock.observe(tx.Now)
		for shard, writes := range tx.Writes {
			s, err := r.shard(shard)
			if err != nil {
				return err
			}
			if err := s.checkStates(writes); err != nil {
				return err
			}
			s.installLocked(writes, tx.Now)
		}
		for shard, ops := range tx.Ops {
			s, err := r.shard(shard)
			if err != nil {
				return err
			}
			if err := s.replayOps(tx.Now, ops); err != nil {
				return err
			}
		}
	case recGroup:
		if !top {
			return fmt.Errorf("%w: nested group", errBadRecord)
		}
		for _, part := range lr.parts {
			p, err := decodeLogRecord(part)
			if err != nil {
				return err
			}
			if err := r.apply(p, false); err != nil {
				return err
			}
		}
	case recMeta:
		if lr.meta[0] != len(r.shards) {
			return fmt.Errorf("memory: the data was written by %d shards, and %d are configured: start with --shards %d", lr.meta[0], len(r.shards), lr.meta[0])
		}
	}
	return nil
}

func (r *replayer) shard(i int) (*Shard, error) {
	if i < 0 || i >= len(r.shards) {
		return nil, fmt.Errorf("%w: shard %d of %d", errBadRecord, i, len(r.shards))
	}
	return r.shards[i], nil
}

func (s *Shard) checkStates(states []backends.KeyState) error {
	for _, w := range states {
		if w.DB < 0 || w.DB >= s.store.NumDBs() {
			return fmt.Errorf("%w: database %d", errBadRecord, w.DB)
		}
	}
	return nil
}

// replayOps runs logged commands again at the time they first ran.
func (s *Shard) replayOps(now int64, ops []backends.Op) error {
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

// snapshot loads what writeCOW wrote.
func (r *replayer) snapshot(rd io.Reader) error {
	br := bufio.NewReader(rd)
	readU := func() (uint64, error) { return binary.ReadUvarint(br) }
	nshards, err := readU()
	if err != nil {
		return err
	}
	if int(nshards) != len(r.shards) {
		return fmt.Errorf("memory: the snapshot was written by %d shards, and %d are configured: start with --shards %d", nshards, len(r.shards), nshards)
	}
	if _, err := readU(); err != nil { // databases
		return err
	}
	for {
		shard, err := readU()
		if err != nil {
			return err
		}
		if shard == nshards {
			return nil
		}
		if shard > nshards {
			return fmt.Errorf("%w: shard %d in snapshot", aof.ErrCorrupt, shard)
		}
		s := r.shards[shard]
		db, err := readU()
		if err != nil {
			return err
		}
		if db >= uint64(s.store.NumDBs()) {
			return fmt.Errorf("memory: the snapshot has keys in database %d, and only %d are configured", db, s.store.NumDBs())
		}
		key, err := readBytes(br)
		if err != nil {
			return err
		}
		expire, err := binary.ReadVarint(br)
		if err != nil {
			return err
		}
		val, err := readBytes(br)
		if err != nil {
			return err
		}
		e, err := keyspace.DecodeValue(val)
		if err != nil {
			return err
		}
		e.ExpireAt = expire
		s.store.DB(int(db)).Put(string(key), e)
	}
}

// readBytes reads a length-prefixed string; the length is checked against
// the largest record the log accepts before anything is allocated (the
// snapshot's CRC is only known at its end).
func readBytes(br *bufio.Reader) ([]byte, error) {
	n, err := binary.ReadUvarint(br)
	if err != nil {
		return nil, err
	}
	if n > aof.MaxRecordSize {
		return nil, fmt.Errorf("%w: length %d in snapshot", aof.ErrCorrupt, n)
	}
	b := make([]byte, n)
	_, err = io.ReadFull(br, b)
	return b, err
}
