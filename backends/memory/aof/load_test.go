package aof

import (
	"bytes"
	"flag"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var seedFlag = flag.Uint64("aof.seed", 0, "seed for the random torn-tail offsets (0: from the clock)")

// twoGenerations makes a log of records 0..39, 20 in each of generations 1
// and 2, and returns the directory and the file offsets where each frame of
// generation 2 ends.
func twoGenerations(t *testing.T) (dir string, ends []int64) {
	t.Helper()
	dir = t.TempDir()
	o := mustLoad(t, dir, No, nil)
	appendWait(t, o.Log, recs(0, 20))
	if _, err := o.Rotate(); err != nil {
		t.Fatal(err)
	}
	appendWait(t, o.Log, recs(20, 40))
	mustClose(t, o.Log)
	off := int64(headerSize)
	for _, r := range recs(20, 40) {
		off += frameHeader + int64(len(r))
		ends = append(ends, off)
	}
	return dir, ends
}

// checkCut loads a copy of dir whose last file is cut to n bytes and
// expects the records that end at or before n, a warning iff n is not a
// frame boundary, and a log that goes on working.
func checkCut(t *testing.T, dir string, ends []int64, n int64) {
	t.Helper()
	c := copyDir(t, dir)
	if err := os.Truncate(logPath(c, 2), n); err != nil {
		t.Fatal(err)
	}
	kept, boundary := 20, n == headerSize
	for _, e := range ends {
		if e <= n {
			kept++
		}
		boundary = boundary || e == n
	}
	o, err := load(t, c, No, nil)
	if err != nil {
		t.Fatalf("cut at %d: %v", n, err)
	}
	equalRecs(t, o.state, recs(0, kept))
	if w := o.warn.get(); len(w) != map[bool]int{true: 0, false: 1}[boundary] {
		t.Fatalf("cut at %d: warnings %q", n, w)
	}
	appendWait(t, o.Log, recs(100, 102))
	mustClose(t, o.Log)
	o = mustLoad(t, c, No, nil)
	defer mustClose(t, o.Log)
	equalRecs(t, o.state, append(recs(0, kept), recs(100, 102)...))
	if w := o.warn.get(); len(w) != 0 {
		t.Fatalf("cut at %d, reloaded: warnings %q", n, w)
	}
}

func TestTornTailEveryOffsetOfLastRecord(t *testing.T) {
	dir, ends := twoGenerations(t)
	for n := ends[len(ends)-2]; n <= ends[len(ends)-1]; n++ {
		checkCut(t, dir, ends, n)
	}
}

func TestTornTailRandomOffsets(t *testing.T) {
	seed := *seedFlag
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (rerun with -aof.seed=%d)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	dir, ends := twoGenerations(t)
	size := ends[len(ends)-1]
	for range 30 {
		checkCut(t, dir, ends, headerSize+rng.Int64N(size-headerSize+1))
	}
}

// flip inverts one byte of a file.
func flip(t *testing.T, path string, off int64) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[off] ^= 0x55
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestDamage(t *testing.T) {
	dir, ends := twoGenerations(t)
	last := ends[len(ends)-1]
	// a snapshot at generation 3, for the snapshot cases
	snapDir := func(t *testing.T) string {
		c := copyDir(t, dir)
		o := mustLoad(t, c, No, nil)
		gen, err := o.Rotate()
		if err != nil {
			t.Fatal(err)
		}
		if err := o.WriteSnapshot(gen, func(w io.Writer) error { return encodeRecs(w, o.state) }); err != nil {
			t.Fatal(err)
		}
		appendWait(t, o.Log, recs(40, 45))
		mustClose(t, o.Log)
		return c
	}
	snapPath := func(c string) string { return filepath.Join(c, fileName("shard-0", 3, snapExt)) }

	for _, tc := range []struct {
		name    string
		damage  func(t *testing.T) string // returns the damaged directory
		corrupt bool                      // Load must fail with ErrCorrupt
		want    [][]byte                  // else the records it must load
		warn    int
	}{
		{"bad CRC in last record of last file", func(t *testing.T) string {
			c := copyDir(t, dir)
			flip(t, logPath(c, 2), last-2)
			return c
		}, false, recs(0, 39), 1},
		// Cannot be told apart from unsynced garbage after a power loss.
		{"bad CRC mid last file", func(t *testing.T) string {
			c := copyDir(t, dir)
			flip(t, logPath(c, 2), ends[9]-1)
			return c
		}, false, recs(0, 29), 1},
		{"huge length in last file", func(t *testing.T) string {
			c := copyDir(t, dir)
			flip(t, logPath(c, 2), ends[18]+3)
			return c
		}, false, recs(0, 39), 1},
		{"flipped byte mid older generation", func(t *testing.T) string {
			c := copyDir(t, dir)
			st, _ := os.Stat(logPath(c, 1))
			flip(t, logPath(c, 1), st.Size()/2)
			return c
		}, true, nil, 0},
		{"older generation cut short", func(t *testing.T) string {
			c := copyDir(t, dir)
			st, _ := os.Stat(logPath(c, 1))
			os.Truncate(logPath(c, 1), st.Size()-1)
			return c
		}, true, nil, 0},
		{"header of last file", func(t *testing.T) string {
			c := copyDir(t, dir)
			flip(t, logPath(c, 2), 3)
			return c
		}, true, nil, 0},
		{"generation in header", func(t *testing.T) string {
			c := copyDir(t, dir)
			flip(t, logPath(c, 2), 8)
			return c
		}, true, nil, 0},
		{"last file shorter than header", func(t *testing.T) string {
			c := copyDir(t, dir)
			os.Truncate(logPath(c, 2), headerSize-1)
			return c
		}, true, nil, 0},
		{"first generation missing, no snapshot", func(t *testing.T) string {
			c := copyDir(t, dir)
			os.Remove(logPath(c, 1))
			return c
		}, true, nil, 0},
		{"generation missing in the middle", func(t *testing.T) string {
			c := snapDir(t)
			// the snapshot at 3 must not hide a gap after it
			o := mustLoad(t, c, No, nil)
			for range 2 {
				if _, err := o.Rotate(); err != nil {
					t.Fatal(err)
				}
			}
			mustClose(t, o.Log)
			os.Remove(logPath(c, 4))
			return c
		}, true, nil, 0},
		{"snapshot intact", snapDir, false, recs(0, 45), 0},
		{"snapshot payload", func(t *testing.T) string {
			c := snapDir(t)
			flip(t, snapPath(c), headerSize+5)
			return c
		}, true, nil, 0},
		{"snapshot payload trips the decoder", func(t *testing.T) string {
			c := snapDir(t)
			flip(t, snapPath(c), headerSize)
			return c
		}, true, nil, 0},
		{"snapshot trailer", func(t *testing.T) string {
			c := snapDir(t)
			st, _ := os.Stat(snapPath(c))
			flip(t, snapPath(c), st.Size()-1)
			return c
		}, true, nil, 0},
		{"snapshot's own generation missing", func(t *testing.T) string {
			c := snapDir(t)
			os.Remove(logPath(c, 3))
			return c
		}, true, nil, 0},
		{"leftover temp files", func(t *testing.T) string {
			c := copyDir(t, dir)
			os.WriteFile(logPath(c, 3)+tmpExt, []byte("junk"), 0o644)
			os.WriteFile(filepath.Join(c, fileName("shard-0", 3, snapExt))+tmpExt, []byte("junk"), 0o644)
			return c
		}, false, recs(0, 40), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.damage(t)
			o, err := load(t, c, No, nil)
			if tc.corrupt {
				if !isCorrupt(err) {
					t.Fatalf("Load = %v, want ErrCorrupt", err)
				}
				if !strings.Contains(err.Error(), c) {
					t.Errorf("error %q does not name the file", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer mustClose(t, o.Log)
			equalRecs(t, o.state, tc.want)
			if w := o.warn.get(); len(w) != tc.warn {
				t.Errorf("warnings %q, want %d", w, tc.warn)
			}
			for _, f := range files(t, c) {
				if strings.HasSuffix(f, tmpExt) {
					t.Errorf("temp file %s left", f)
				}
			}
		})
	}
}

// FuzzLoad feeds arbitrary bytes to Load as a log file, behind a valid
// header when the first byte is even. Load must not panic nor allocate
// beyond the file's size; when it succeeds, the file must now be exactly
// the frames of what it replayed, and appends must work after it.
func FuzzLoad(f *testing.F) {
	var valid []byte
	for _, r := range recs(0, 5) {
		valid = appendFrame(valid, r)
	}
	f.Add(append([]byte{0}, valid...))
	f.Add(append([]byte{0}, valid[:len(valid)-3]...))
	f.Add([]byte{0})
	f.Add(append([]byte{1}, appendHeader(nil, logMagic, 1)...))
	f.Add([]byte{0, 0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		file := data[1:]
		if data[0]%2 == 0 {
			file = append(appendHeader(nil, logMagic, 1), file...)
		}
		dir := t.TempDir()
		if err := os.WriteFile(logPath(dir, 1), file, 0o644); err != nil {
			t.Fatal(err)
		}
		o, err := load(t, dir, No, nil)
		if err != nil {
			return
		}
		want := appendHeader(nil, logMagic, 1)
		for _, r := range o.state {
			want = appendFrame(want, r)
		}
		got, err := os.ReadFile(logPath(dir, 1))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("after Load the file is %x, want %x", got, want)
		}
		if !bytes.HasPrefix(file, want) {
			t.Fatalf("Load replayed records that were not in the file")
		}
		appendWait(t, o.Log, [][]byte{[]byte("after")})
		mustClose(t, o.Log)
		o2 := mustLoad(t, dir, No, nil)
		defer mustClose(t, o2.Log)
		equalRecs(t, o2.state, append(o.state, []byte("after")))
	})
}
