package aof

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// dirState is what Load and WriteSnapshot find in the directory for one log.
type dirState struct {
	logs, snaps []uint64 // generations, ascending
	tmps        []string // leftovers of an interrupted Rotate or WriteSnapshot
}

func (l *Log) scan() (dirState, error) {
	var ds dirState
	entries, err := os.ReadDir(l.dir)
	if err != nil {
		return ds, fmt.Errorf("aof: read directory: %w", err)
	}
	for _, e := range entries {
		file := e.Name()
		if base, ok := strings.CutSuffix(file, tmpExt); ok {
			if _, _, ours := parseFileName(l.opts.Name, base); ours {
				ds.tmps = append(ds.tmps, file)
			}
			continue
		}
		gen, ext, ok := parseFileName(l.opts.Name, file)
		switch {
		case !ok:
		case ext == logExt:
			ds.logs = append(ds.logs, gen)
		case ext == snapExt:
			ds.snaps = append(ds.snaps, gen)
		}
	}
	// ReadDir sorts by name, and names sort by generation.
	return ds, nil
}

func (l *Log) filePath(gen uint64, ext string) string {
	return filepath.Join(l.dir, fileName(l.opts.Name, gen, ext))
}

// Load reads the newest snapshot, if any, into snapshot, then passes every
// record of the log generations it does not cover, in order, to replay; rec
// is valid only during the call. A torn or corrupt tail of the last log file
// is cut away with one warning, and appends continue after it. Damage
// anywhere else, a missing generation or a bad snapshot is an error wrapping
// ErrCorrupt: Load never drops data that may have been acknowledged. Load
// must be called once, before Append; it also removes files a crash left
// behind (temp files, generations a durable snapshot made obsolete).
func (l *Log) Load(snapshot func(r io.Reader) error, replay func(rec []byte) error) error {
	l.mu.Lock()
	if l.state != stateNew || l.loading {
		l.mu.Unlock()
		return errors.New("aof: Load called twice or after Close")
	}
	l.loading = true
	l.mu.Unlock()

	ds, err := l.scan()
	if err != nil {
		return err
	}
	for _, t := range ds.tmps {
		if err := os.Remove(filepath.Join(l.dir, t)); err != nil {
			return fmt.Errorf("aof: remove leftover: %w", err)
		}
	}

	// base is the first generation to replay: the newest snapshot's, or 1.
	base := uint64(1)
	if n := len(ds.snaps); n > 0 {
		base = ds.snaps[n-1]
	}
	i, _ := slices.BinarySearch(ds.logs, base)
	live := ds.logs[i:]
	switch {
	case len(ds.snaps) > 0 && (len(live) == 0 || live[0] != base):
		return fmt.Errorf("aof: %s: log generation %d is missing: %w", l.filePath(base, snapExt), base, ErrCorrupt)
	case len(ds.snaps) == 0 && len(live) > 0 && live[0] != base:
		return fmt.Errorf("aof: %s: no snapshot covers generations before %d: %w", l.filePath(live[0], logExt), live[0], ErrCorrupt)
	}
	for j, g := range live {
		if g != base+uint64(j) {
			return fmt.Errorf("aof: %s: log generation %d is missing: %w", l.filePath(g, logExt), base+uint64(j), ErrCorrupt)
		}
	}

	var skip uint64
	if len(ds.snaps) > 0 {
		if skip, err = readSnapshot(l.filePath(base, snapExt), base, snapshot); err != nil {
			return err
		}
	}
	var (
		total uint64
		last  *os.File
		gen   = base
	)
	for j, g := range live {
		var from uint64
		if j == 0 {
			from = skip
		}
		f, n, err := l.replayLog(g, j == len(live)-1, from, replay)
		if err != nil {
			return err
		}
		total += n
		last, gen = f, g
	}
	if last == nil {
		if last, _, err = l.createLog(gen); err != nil {
			return err
		}
	}

	// The generations below base are obsolete: a crash came between a
	// snapshot's rename and the removal of what it replaced.
	for _, g := range ds.logs[:i] {
		l.removeObsolete(l.filePath(g, logExt))
	}
	for _, g := range ds.snaps[:max(len(ds.snaps)-1, 0)] {
		l.removeObsolete(l.filePath(g, snapExt))
	}

	l.mu.Lock()
	l.file, l.path, l.gen = last, l.filePath(gen, logExt), gen
	if len(ds.snaps) > 0 {
		l.snapGen = base
	}
	l.appended, l.written, l.synced = total, total, total
	l.publishLocked()
	l.state, l.loading = stateLoaded, false
	if l.opts.Policy == EverySec {
		l.startEverySecLocked()
	}
	l.mu.Unlock()
	return nil
}

func (l *Log) removeObsolete(path string) {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		l.logf("aof: remove obsolete %s: %v", path, err)
	}
}

// replayLog replays one log file, but for the frames in its first skip
// bytes (a snapshot holds them), and returns the number of frame bytes
// kept. The last file is returned open for appending, cut after its last
// good frame if need be.
func (l *Log) replayLog(gen uint64, last bool, skip uint64, replay func([]byte) error) (_ *os.File, kept uint64, err error) {
	path := l.filePath(gen, logExt)
	flag := os.O_RDONLY
	if last {
		flag = os.O_RDWR | os.O_APPEND
	}
	f, err := os.OpenFile(path, flag, 0)
	if err != nil {
		return nil, 0, fmt.Errorf("aof: open log: %w", err)
	}
	defer func() {
		if err != nil || !last {
			f.Close()
		}
	}()
	st, err := f.Stat()
	if err != nil {
		return nil, 0, fmt.Errorf("aof: stat log: %w", err)
	}
	size := st.Size()
	// The header is written and fsynced before the file gets its name, so
	// even the last file has a whole one.
	var h [headerSize]byte
	if size < headerSize {
		return nil, 0, fmt.Errorf("aof: %s: %d bytes, shorter than a header: %w", path, size, ErrCorrupt)
	}
	if _, err := io.ReadFull(f, h[:]); err != nil {
		return nil, 0, ioErr("read", path, unexpected(err))
	}
	if err := checkHeader(h[:], logMagic, gen, path); err != nil {
		return nil, 0, err
	}
	fr := frameReader{r: bufio.NewReaderSize(f, 64<<10), remain: size - headerSize}
	for {
		rec, err := fr.next()
		off := headerSize + int64(kept)
		if kept < skip && (err != nil || kept+frameHeader+uint64(len(rec)) > skip) {
			// The snapshot was installed only after the log held its cut.
			return nil, 0, fmt.Errorf("aof: %s: offset %d: the snapshot's cut at %d is not at a frame boundary: %w", path, off, headerSize+skip, ErrCorrupt)
		}
		if err == io.EOF {
			return f, kept, nil
		}
		if errors.Is(err, errTorn) || errors.Is(err, errBadFrame) {
			if !last {
				return nil, 0, fmt.Errorf("aof: %s: offset %d: %v: %w", path, off, err, ErrCorrupt)
			}
			// A crash during a write leaves a short frame; a power loss may
			// leave garbage after the last fsync. Neither was acknowledged
			// under the policy in force, and a frame damaged later cannot be
			// told apart from them, so the rest of the file goes.
			l.logf("aof: %s: torn tail at offset %d (%v): cutting %d bytes", path, off, err, size-off)
			if err := f.Truncate(off); err != nil {
				return nil, 0, ioErr("truncate", path, err)
			}
			if err := f.Sync(); err != nil {
				return nil, 0, ioErr("fsync", path, err)
			}
			return f, kept, nil
		}
		if err != nil {
			return nil, 0, ioErr("read", path, err)
		}
		if kept >= skip {
			if err := replay(rec); err != nil {
				return nil, 0, fmt.Errorf("aof: replay %s at offset %d: %w", path, off, err)
			}
		}
		kept += frameHeader + uint64(len(rec))
	}
}

// readSnapshot checks the header and trailer of a snapshot and streams its
// payload to fn; the CRC is checked as fn reads, and fn sees an error
// instead of io.EOF if it does not match. It returns how many bytes of its
// generation's log the snapshot covers.
func readSnapshot(path string, gen uint64, fn func(io.Reader) error) (skip uint64, _ error) {
	if fn == nil {
		return 0, fmt.Errorf("aof: %s exists but Load got no snapshot loader", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("aof: open snapshot: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, fmt.Errorf("aof: stat snapshot: %w", err)
	}
	size := st.Size()
	if size < headerSize+trailerSize {
		return 0, fmt.Errorf("aof: %s: %d bytes, too short for a snapshot: %w", path, size, ErrCorrupt)
	}
	var h [headerSize]byte
	if _, err := f.ReadAt(h[:], 0); err != nil {
		return 0, ioErr("read", path, err)
	}
	if err := checkHeader(h[:], snapMagic, gen, path); err != nil {
		return 0, err
	}
	var t [trailerSize]byte
	if _, err := f.ReadAt(t[:], size-trailerSize); err != nil {
		return 0, ioErr("read", path, err)
	}
	n := binary.LittleEndian.Uint64(t[:8])
	if [4]byte(t[12:]) != trailerMagic || n != uint64(size-headerSize-trailerSize) {
		return 0, fmt.Errorf("aof: %s: bad trailer: %w", path, ErrCorrupt)
	}
	cr := &crcReader{
		r:    bufio.NewReaderSize(io.NewSectionReader(f, headerSize, int64(n)), 256<<10),
		h:    crc32.New(castagnoli),
		want: binary.LittleEndian.Uint32(t[8:12]),
		path: path,
	}
	var sk [8]byte
	if _, err := io.ReadFull(cr, sk[:]); err != nil {
		return 0, fmt.Errorf("aof: %s: no cut position: %w", path, ErrCorrupt)
	}
	skip = binary.LittleEndian.Uint64(sk[:])
	if err := fn(cr); err != nil {
		// A damaged payload often trips the caller's decoder before the end;
		// say it is damaged rather than blame the decoder.
		if _, cerr := io.Copy(io.Discard, cr); errors.Is(cerr, ErrCorrupt) {
			return 0, fmt.Errorf("%w (the loader said: %v)", cerr, err)
		}
		return 0, fmt.Errorf("aof: load snapshot %s: %w", path, err)
	}
	// fn may stop early; the CRC must still cover the whole payload.
	if _, err := io.Copy(io.Discard, cr); err != nil {
		return 0, err
	}
	return skip, nil
}

type crcReader struct {
	r    io.Reader
	h    hash.Hash32
	want uint32
	path string
}

func (c *crcReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.h.Write(p[:n])
	if err == io.EOF {
		if got := c.h.Sum32(); got != c.want {
			return n, fmt.Errorf("aof: %s: snapshot CRC %08x, want %08x: %w", c.path, got, c.want, ErrCorrupt)
		}
	} else if err != nil {
		err = ioErr("read", c.path, err)
	}
	return n, err
}

// createLog makes the file of generation gen: header written and fsynced
// under a temp name, then renamed and the directory fsynced, so a log file
// under its final name always has a whole header and is there after a
// crash. It is returned open for appending. named reports a failure after
// the rename: the file may then reappear after a crash, behind a previous
// generation that goes on taking appends, so the caller must stop the log.
func (l *Log) createLog(gen uint64) (_ *os.File, named bool, _ error) {
	path := l.filePath(gen, logExt)
	tmp := path + tmpExt
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC|os.O_APPEND, 0o644)
	if err != nil {
		return nil, false, fmt.Errorf("aof: create log: %w", err)
	}
	fail := func(op string, err error) (*os.File, bool, error) {
		f.Close()
		os.Remove(tmp)
		return nil, false, ioErr(op, tmp, err)
	}
	if _, err := f.Write(appendHeader(nil, logMagic, gen)); err != nil {
		return fail("write", err)
	}
	if err := f.Sync(); err != nil {
		return fail("fsync", err)
	}
	l.step("rotate: new log synced")
	if err := os.Rename(tmp, path); err != nil {
		return fail("rename", err)
	}
	l.step("rotate: new log renamed")
	if err := syncDir(l.dir); err != nil {
		f.Close()
		os.Remove(path)
		return nil, true, err
	}
	l.step("rotate: directory synced")
	return f, false, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("aof: open directory: %w", err)
	}
	err = d.Sync()
	d.Close()
	return ioErr("fsync", dir, err)
}

func (l *Log) step(name string) {
	if l.knobs.step != nil {
		l.knobs.step(name)
	}
	if l.opts.Step != nil {
		l.opts.Step(name)
	}
}

// startEverySecLocked starts the goroutine that fsyncs once a second. The
// Log owns it; Close stops it.
func (l *Log) startEverySecLocked() {
	ctx, cancel := context.WithCancel(context.Background())
	l.cancel, l.bgDone = cancel, make(chan struct{})
	tick := l.knobs.tick
	var stop func()
	if tick == nil {
		t := time.NewTicker(time.Second)
		tick, stop = t.C, t.Stop
	}
	go l.runEverySec(ctx, tick, stop)
}
