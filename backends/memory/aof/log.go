package aof

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
	"sync/atomic"
)

var (
	// ErrClosed is returned by calls on a closed Log.
	ErrClosed = errors.New("aof: log closed")
	// ErrCorrupt marks damage that Load refuses to repair because it may
	// hold acknowledged records: anything but the tail of the last log file.
	ErrCorrupt = errors.New("aof: corrupt")
	// ErrStaleGeneration is returned by WriteSnapshot for a generation no
	// newer than the last snapshot written.
	ErrStaleGeneration = errors.New("aof: stale generation")

	errNotLoaded = errors.New("aof: Load has not completed")
)

// state is the life cycle of a Log.
type state int

const (
	stateNew    state = iota // opened; Load not done
	stateLoaded              // Load succeeded: appends allowed
	stateClosed
)

// keepBuffer is the largest buffer kept for reuse after a flush, so that one
// burst (a huge record, a stalled disk) does not pin its memory for ever.
const keepBuffer = 32 << 20

// Log is the append-only log of one shard. See the package comment.
type Log struct {
	opts  Options
	dir   string
	logf  func(format string, args ...any)
	knobs testingKnobs

	// acked is the position up to which Wait may return without the lock:
	// written, or synced under Always. failed mirrors err != nil.
	acked  atomic.Uint64
	failed atomic.Bool

	// snapMu serialises WriteSnapshot.
	snapMu sync.Mutex

	// syncMu keeps the EverySec fsync and the switch of file (Rotate,
	// Close) apart, so the background fsync never hits a closed descriptor.
	// Taken before mu.
	syncMu sync.Mutex

	// mu guards everything below. No I/O happens under it: the goroutine
	// that owns the file (flushing) drops it around write and fsync.
	mu       sync.Mutex
	state    state
	loading  bool
	err      error  // sticky: once set, no Wait succeeds again
	buf      []byte // frames appended and not yet taken by a flush
	spare    []byte // the other buffer; nil while a flush holds it
	appended uint64 // end of the last appended frame
	written  uint64 // frames up to here are in the file (write(2) done)
	synced   uint64 // ... and fsynced
	// flushing is true while one goroutine owns the file for a flush,
	// Rotate or Close; the others wait on flushed, which is made only when
	// someone waits, so an uncontended Wait allocates nothing.
	flushing bool
	flushed  chan struct{}
	file     *os.File
	path     string
	gen      uint64 // generation of file
	snapGen  uint64 // generation of the newest snapshot; 0 for none
	snapPos  uint64 // position where generation snapGen starts

	cancel context.CancelFunc // stops the EverySec goroutine
	bgDone chan struct{}      // closed when it has stopped
}

// Open checks the options, creates the directory and checks that it is
// writable. It reads nothing yet: call Load.
func Open(o Options) (*Log, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("aof: create directory: %w", err)
	}
	// Probe now: an unwritable directory would otherwise show only at the
	// first snapshot, or as a failed write after the server started.
	f, err := os.CreateTemp(o.Dir, o.Name+".probe-*")
	if err != nil {
		return nil, fmt.Errorf("aof: directory %s is not writable: %w", o.Dir, err)
	}
	f.Close()
	os.Remove(f.Name())

	l := &Log{opts: o, dir: o.Dir, logf: o.Logf}
	if l.logf == nil {
		l.logf = func(string, ...any) {}
	}
	if o.knobs != nil {
		l.knobs = *o.knobs
	}
	return l, nil
}

// Append frames rec into the buffer and returns the position just past it,
// to be given to Wait. It makes no system call and, once the buffers have
// grown, no allocation. rec is copied. A record above MaxRecordSize is a
// programming error and panics: the caller must refuse such values first.
// After a failure or Close, records are dropped and Wait reports why.
func (l *Log) Append(rec []byte) uint64 {
	if len(rec) > MaxRecordSize {
		panic(fmt.Sprintf("aof: record of %d bytes exceeds MaxRecordSize", len(rec)))
	}
	l.mu.Lock()
	switch {
	case l.state == stateNew:
		l.mu.Unlock()
		panic("aof: Append before Load")
	case l.state == stateLoaded && l.err == nil:
		l.buf = appendFrame(l.buf, rec)
	}
	l.appended += frameHeader + uint64(len(rec))
	pos := l.appended
	l.mu.Unlock()
	return pos
}

// Wait returns once every record up to pos is written to the file, and
// under Always fsynced. Concurrent waiters share one write (and fsync):
// the first becomes the flusher and the others wait for its round, so a
// burst costs one system call, not one per record. A waiter whose data is
// already written returns without taking the lock. After a write or fsync
// failure every Wait returns that error.
func (l *Log) Wait(ctx context.Context, pos uint64) error {
	if pos <= l.acked.Load() && !l.failed.Load() {
		return nil
	}
	return l.wait(ctx, pos, l.opts.Policy == Always)
}

// Done reports, without waiting or locking, whether Wait(pos) would
// return nil at once.
func (l *Log) Done(pos uint64) bool { return pos <= l.acked.Load() && !l.failed.Load() }

// Sync writes and fsyncs everything appended so far, whatever the policy.
func (l *Log) Sync(ctx context.Context) error {
	l.mu.Lock()
	target := l.appended
	l.mu.Unlock()
	return l.wait(ctx, target, true)
}

// Size is the number of bytes appended to the log generations that the
// newest snapshot does not cover; the caller snapshots when it grows large.
func (l *Log) Size() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return int64(l.appended - l.snapPos)
}

// wait is Wait and Sync: it returns when pos is written, and fsynced if
// sync is set, flushing itself when no one else is.
func (l *Log) wait(ctx context.Context, pos uint64, sync bool) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for {
		if l.err != nil {
			return l.err
		}
		if pos <= l.synced || (!sync && pos <= l.written) {
			return nil
		}
		if l.state != stateLoaded {
			return l.stateErrLocked()
		}
		if pos > l.appended {
			return fmt.Errorf("aof: wait for position %d beyond the end %d", pos, l.appended)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if !l.flushing {
			l.flushing = true
			l.flushLocked(sync)
			l.releaseLocked()
			continue
		}
		ch := l.flushedLocked()
		l.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
		}
		l.mu.Lock()
	}
}

// flushLocked writes the buffer, and fsyncs if sync is set. The caller owns
// the file (flushing) and holds mu, which is dropped during the I/O so that
// appends go on into the other buffer: they form the next group.
func (l *Log) flushLocked(sync bool) {
	data, end, f, path := l.buf, l.appended, l.file, l.path
	l.buf, l.spare = l.spare[:0], nil
	l.mu.Unlock()
	err := l.write(f, path, data)
	if err == nil && sync {
		err = l.fsync(f, path)
	}
	l.mu.Lock()
	l.spare = recycle(data)
	if err != nil {
		l.failLocked(err)
		return
	}
	l.written = max(l.written, end)
	if sync {
		l.synced = max(l.synced, end)
	}
	l.publishLocked()
}

// acquireLocked waits, without a deadline, until the caller owns the file.
func (l *Log) acquireLocked() {
	for l.flushing {
		ch := l.flushedLocked()
		l.mu.Unlock()
		<-ch
		l.mu.Lock()
	}
	l.flushing = true
}

// releaseLocked gives up ownership of the file and wakes the waiters.
func (l *Log) releaseLocked() {
	l.flushing = false
	if l.flushed != nil {
		close(l.flushed)
		l.flushed = nil
	}
}

func (l *Log) flushedLocked() chan struct{} {
	if l.flushed == nil {
		l.flushed = make(chan struct{})
	}
	return l.flushed
}

// publishLocked lets Wait's fast path see the new positions.
func (l *Log) publishLocked() {
	if l.opts.Policy == Always {
		l.acked.Store(l.synced)
	} else {
		l.acked.Store(l.written)
	}
}

// failLocked makes err sticky: a log that may have lost a write must never
// acknowledge a later one, whose predecessor might be missing on replay.
func (l *Log) failLocked(err error) {
	if l.err == nil {
		l.err = err
		l.failed.Store(true)
		l.buf = l.buf[:0]
	}
}

func (l *Log) stateErrLocked() error {
	switch {
	case l.err != nil:
		return l.err
	case l.state == stateNew:
		return errNotLoaded
	case l.state == stateClosed:
		return ErrClosed
	}
	return nil
}

// write and fsync are the only I/O on the log file after Load; the knobs
// let tests count and fail them.
func (l *Log) write(f *os.File, path string, p []byte) error {
	if len(p) == 0 {
		return nil
	}
	var err error
	if l.knobs.beforeWrite != nil {
		err = l.knobs.beforeWrite(p)
	}
	if err == nil {
		_, err = f.Write(p)
	}
	return ioErr("write", path, err)
}

func (l *Log) fsync(f *os.File, path string) error {
	var err error
	if l.knobs.beforeSync != nil {
		err = l.knobs.beforeSync()
	}
	if err == nil {
		err = f.Sync()
	}
	return ioErr("fsync", path, err)
}

// Close writes and fsyncs what is buffered, stops the EverySec goroutine
// and closes the file. Waiters whose records made it return nil.
func (l *Log) Close() error {
	l.mu.Lock()
	switch l.state {
	case stateClosed:
		l.mu.Unlock()
		return ErrClosed
	case stateNew:
		l.state = stateClosed
		l.mu.Unlock()
		return nil
	}
	cancel := l.cancel
	l.mu.Unlock()
	if cancel != nil {
		cancel()
		<-l.bgDone
	}

	l.mu.Lock()
	l.acquireLocked()
	if l.state == stateClosed { // a concurrent Close won
		l.releaseLocked()
		l.mu.Unlock()
		return ErrClosed
	}
	if l.err == nil {
		l.flushLocked(true)
	}
	err := l.err
	f, path := l.file, l.path
	l.state, l.file = stateClosed, nil
	l.releaseLocked()
	l.mu.Unlock()
	if cerr := f.Close(); err == nil {
		err = ioErr("close", path, cerr)
	}
	return err
}

// ioErr adds the operation and path; an *fs.PathError is unwrapped first so
// that the path is not said twice. errors.Is still finds the errno.
func ioErr(op, path string, err error) error {
	if err == nil {
		return nil
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return fmt.Errorf("aof: %s %s: %w", op, path, err)
}

func recycle(b []byte) []byte {
	if cap(b) > keepBuffer {
		return nil
	}
	return b[:0]
}

// End is the position just past the last record appended.
func (l *Log) End() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.appended
}
