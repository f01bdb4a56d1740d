package aof

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

var policies = []Policy{Always, EverySec, No}

// rec is the i-th test record: distinct, of varied length, some empty.
func rec(i int) []byte {
	if i%11 == 5 {
		return []byte{}
	}
	return []byte(fmt.Sprintf("r%d-%s", i, strings.Repeat("x", i%37)))
}

func recs(from, to int) [][]byte {
	var out [][]byte
	for i := from; i < to; i++ {
		out = append(out, rec(i))
	}
	return out
}

// warnings collects what the Log reports through Logf.
type warnings struct {
	mu   sync.Mutex
	msgs []string
}

func (w *warnings) logf(format string, args ...any) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.msgs = append(w.msgs, fmt.Sprintf(format, args...))
}

func (w *warnings) get() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.msgs)
}

// opened is a Log with the state a loader would rebuild from it.
type opened struct {
	*Log
	state [][]byte // snapshot records, then replayed records
	warn  *warnings
}

func open(t testing.TB, dir string, p Policy, k *testingKnobs) *Log {
	t.Helper()
	l, err := Open(Options{Dir: dir, Name: "shard-0", Policy: p, knobs: k})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// load opens dir and loads it, the snapshot being encodeRecs output.
func load(t testing.TB, dir string, p Policy, k *testingKnobs) (*opened, error) {
	t.Helper()
	w := &warnings{}
	l, err := Open(Options{Dir: dir, Name: "shard-0", Policy: p, Logf: w.logf, knobs: k})
	if err != nil {
		t.Fatal(err)
	}
	o := &opened{Log: l, warn: w}
	err = l.Load(func(r io.Reader) error {
		s, err := decodeRecs(r)
		o.state = append(o.state, s...)
		return err
	}, func(b []byte) error {
		o.state = append(o.state, slices.Clone(b))
		return nil
	})
	if err != nil {
		l.Close()
		return nil, err
	}
	return o, nil
}

func mustLoad(t testing.TB, dir string, p Policy, k *testingKnobs) *opened {
	t.Helper()
	o, err := load(t, dir, p, k)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func encodeRecs(w io.Writer, rs [][]byte) error {
	bw := bufio.NewWriter(w)
	for _, r := range rs {
		bw.Write(binary.AppendUvarint(nil, uint64(len(r))))
		bw.Write(r)
	}
	return bw.Flush()
}

func decodeRecs(r io.Reader) ([][]byte, error) {
	br := bufio.NewReader(r)
	var out [][]byte
	for {
		n, err := binary.ReadUvarint(br)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		b := make([]byte, n)
		if _, err := io.ReadFull(br, b); err != nil {
			return out, err
		}
		out = append(out, b)
	}
}

func appendWait(t testing.TB, l *Log, rs [][]byte) {
	t.Helper()
	for _, r := range rs {
		if err := l.Wait(context.Background(), l.Append(r)); err != nil {
			t.Fatal(err)
		}
	}
}

func mustClose(t testing.TB, l *Log) {
	t.Helper()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
}

func equalRecs(t testing.TB, got, want [][]byte) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d records, want %d", len(got), len(want))
	}
	for i := range got {
		if string(got[i]) != string(want[i]) {
			t.Fatalf("record %d = %q, want %q", i, got[i], want[i])
		}
	}
}

// copyDir copies the regular files of src into a new directory: what a
// crash at this instant would leave, for everything written(2).
func copyDir(t testing.TB, src string) string {
	t.Helper()
	dst := t.TempDir()
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

func files(t testing.TB, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func logPath(dir string, gen uint64) string {
	return filepath.Join(dir, fileName("shard-0", gen, logExt))
}

func isCorrupt(err error) bool { return errors.Is(err, ErrCorrupt) }
