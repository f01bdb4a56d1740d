package aof

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"os"
)

// Generation is the token Rotate returns for WriteSnapshot: the log
// generation a snapshot taken now starts, and where in the stream it starts.
type Generation struct {
	gen uint64
	pos uint64
}

// Number is the generation number, as in the file names.
func (g Generation) Number() uint64 { return g.gen }

// Rotate starts a new log generation: records appended after it go to a new
// file. The caller holds its own lock across Rotate and the capture of its
// state, so that the state matches exactly the records before the cut, then
// passes the token to WriteSnapshot. The finished generation is written and
// fsynced first, whatever the policy: every generation but the last is then
// complete, which is what lets Load treat damage in it as corruption.
func (l *Log) Rotate() (Generation, error) {
	l.mu.Lock()
	if err := l.stateErrLocked(); err != nil {
		l.mu.Unlock()
		return Generation{}, err
	}
	l.acquireLocked()
	if err := l.stateErrLocked(); err != nil {
		l.releaseLocked()
		l.mu.Unlock()
		return Generation{}, err
	}
	old, oldPath, next := l.file, l.path, l.gen+1
	data, end := l.buf, l.appended
	l.buf, l.spare = l.spare[:0], nil
	l.mu.Unlock()

	err := l.write(old, oldPath, data)
	if err == nil {
		err = l.fsync(old, oldPath)
	}
	var (
		nf    *os.File
		named bool
		cerr  error
	)
	if err == nil {
		l.step("rotate: old log synced")
		nf, named, cerr = l.createLog(next)
	}

	l.syncMu.Lock()
	l.mu.Lock()
	l.spare = recycle(data)
	switch {
	case err != nil:
		l.failLocked(err)
	case named:
		err = cerr
		l.failLocked(err)
	case cerr != nil:
		// Nothing is lost: appends continue in the old generation.
		err = cerr
	default:
		l.file, l.path, l.gen = nf, l.filePath(next, logExt), next
	}
	if l.err == nil {
		l.written, l.synced = max(l.written, end), max(l.synced, end)
		l.publishLocked()
	}
	l.releaseLocked()
	l.mu.Unlock()
	l.syncMu.Unlock()
	if err != nil {
		return Generation{}, err
	}
	if err := old.Close(); err != nil {
		l.logf("aof: close %s: %v", oldPath, err)
	}
	return Generation{gen: next, pos: end}, nil
}

// WriteSnapshot writes the caller's state as of gen's Rotate: to a temp
// file, fsynced, renamed over its final name, directory fsynced. Only then
// are the log generations and snapshots it makes obsolete removed. A crash
// at any step leaves either the old snapshot with every log after it or
// the new snapshot with every log after it; Load finishes the clean-up.
func (l *Log) WriteSnapshot(gen Generation, write func(w io.Writer) error) error {
	return l.WriteSnapshotAt(gen, gen.pos, write)
}

// WriteSnapshotAt is WriteSnapshot of the state at stream position at, a
// record boundary in generation gen: Load replays gen's records after it
// only. A caller can then rotate first (slow: fsyncs) and take its cut
// later, in a moment. The log must hold everything before at durably
// (Sync) before this is called: the snapshot is what says it may be
// skipped.
func (l *Log) WriteSnapshotAt(gen Generation, at uint64, write func(w io.Writer) error) error {
	l.snapMu.Lock()
	defer l.snapMu.Unlock()
	l.mu.Lock()
	err := l.stateErrLocked()
	if err == nil && (gen.gen <= l.snapGen || gen.gen > l.gen) {
		err = fmt.Errorf("aof: snapshot of generation %d (last snapshot %d, current %d): %w", gen.gen, l.snapGen, l.gen, ErrStaleGeneration)
	}
	if err == nil && (at < gen.pos || at > l.synced || (gen.gen < l.gen && at != gen.pos)) {
		err = fmt.Errorf("aof: snapshot at position %d: outside generation %d from %d, or not synced (%d)", at, gen.gen, gen.pos, l.synced)
	}
	l.mu.Unlock()
	if err != nil {
		return err
	}

	path := l.filePath(gen.gen, snapExt)
	tmp := path + tmpExt
	if err := writeSnapshotFile(tmp, gen.gen, at-gen.pos, write); err != nil {
		os.Remove(tmp)
		return err
	}
	l.step("snapshot: temp synced")
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("aof: install snapshot: %w", err)
	}
	l.step("snapshot: renamed")
	if err := syncDir(l.dir); err != nil {
		// The rename may not be durable, so the old files must stay.
		return err
	}
	l.step("snapshot: directory synced")

	l.mu.Lock()
	l.snapGen, l.snapPos = gen.gen, at
	l.mu.Unlock()

	ds, err := l.scan()
	if err != nil {
		l.logf("%v (obsolete files stay until the next start)", err)
		return nil
	}
	for _, g := range ds.snaps {
		if g < gen.gen {
			l.removeObsolete(l.filePath(g, snapExt))
			l.step("snapshot: removed obsolete")
		}
	}
	for _, g := range ds.logs {
		if g < gen.gen {
			l.removeObsolete(l.filePath(g, logExt))
			l.step("snapshot: removed obsolete")
		}
	}
	return nil
}

func writeSnapshotFile(path string, gen, skip uint64, write func(io.Writer) error) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("aof: create snapshot: %w", err)
	}
	defer f.Close()
	bw := bufio.NewWriterSize(f, 256<<10)
	bw.Write(appendHeader(nil, snapMagic, gen))
	sw := &snapWriter{w: bw}
	sw.Write(binary.LittleEndian.AppendUint64(nil, skip))
	if err := write(sw); err != nil {
		return fmt.Errorf("aof: write snapshot %s: %w", path, err)
	}
	if sw.err != nil {
		return ioErr("write", path, sw.err)
	}
	t := binary.LittleEndian.AppendUint64(nil, sw.n)
	t = binary.LittleEndian.AppendUint32(t, sw.crc)
	bw.Write(append(t, trailerMagic[:]...))
	if err := bw.Flush(); err != nil {
		return ioErr("write", path, err)
	}
	if err := f.Sync(); err != nil {
		return ioErr("fsync", path, err)
	}
	return ioErr("close", path, f.Close())
}

// snapWriter counts and checksums the payload on its way to the file.
type snapWriter struct {
	w   *bufio.Writer
	n   uint64
	crc uint32
	err error
}

func (s *snapWriter) Write(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	n, err := s.w.Write(p)
	s.n += uint64(n)
	s.crc = crc32.Update(s.crc, castagnoli, p[:n])
	s.err = err
	return n, err
}
