package aof

import (
	"errors"
	"io"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// A crash at any step of Rotate or WriteSnapshot, simulated by copying the
// directory there, must leave a directory that loads every record
// acknowledged by then, and only those; Load then removes what is obsolete
// and the log goes on.
func TestSnapshotCrashPoints(t *testing.T) {
	for _, p := range policies {
		t.Run(p.String(), func(t *testing.T) {
			type crash struct {
				step string
				dir  string
				want int // records acknowledged at the crash
			}
			var (
				crashes []crash
				acked   int
			)
			dir := t.TempDir()
			k := &testingKnobs{
				tick: make(chan time.Time), // no background fsync: copies are taken in step order
				step: func(name string) { crashes = append(crashes, crash{name, copyDir(t, dir), acked}) },
			}
			all := recs(0, 90)
			o := mustLoad(t, dir, p, k)
			for range 3 {
				appendWait(t, o.Log, all[acked:acked+20])
				acked += 20
				gen, err := o.Rotate()
				if err != nil {
					t.Fatal(err)
				}
				state := slices.Clone(all[:acked])
				appendWait(t, o.Log, all[acked:acked+10])
				acked += 10
				if err := o.WriteSnapshot(gen, func(w io.Writer) error { return encodeRecs(w, state) }); err != nil {
					t.Fatal(err)
				}
				var want int64
				for _, r := range all[acked-10 : acked] {
					want += frameHeader + int64(len(r))
				}
				if o.Size() != want {
					t.Errorf("Size after snapshot %d, want %d: the 10 records since", o.Size(), want)
				}
			}
			mustClose(t, o.Log)
			crashes = append(crashes, crash{"after Close", copyDir(t, dir), acked})

			seen := map[string]bool{}
			for i, c := range crashes {
				seen[c.step] = true
				o, err := load(t, c.dir, p, nil)
				if err != nil {
					t.Fatalf("crash %d at %q: %v", i, c.step, err)
				}
				equalRecs(t, o.state, all[:c.want])
				if w := o.warn.get(); len(w) != 0 {
					t.Errorf("crash %d at %q: warnings %q", i, c.step, w)
				}
				checkTidy(t, c.dir)
				appendWait(t, o.Log, [][]byte{[]byte("next")})
				mustClose(t, o.Log)
				o = mustLoad(t, c.dir, p, nil)
				equalRecs(t, o.state, append(slices.Clone(all[:c.want]), []byte("next")))
				mustClose(t, o.Log)
			}
			for _, step := range []string{
				"rotate: old log synced", "rotate: new log synced", "rotate: new log renamed",
				"rotate: directory synced", "snapshot: temp synced", "snapshot: renamed",
				"snapshot: directory synced", "snapshot: removed obsolete",
			} {
				if !seen[step] {
					t.Errorf("no crash point at %q", step)
				}
			}
		})
	}
}

// checkTidy checks that a loaded directory holds no temp file and nothing
// older than its newest snapshot.
func checkTidy(t *testing.T, dir string) {
	t.Helper()
	var snaps, logs []uint64
	for _, f := range files(t, dir) {
		if strings.HasSuffix(f, tmpExt) {
			t.Errorf("%s: temp file %s left", dir, f)
		}
		gen, ext, ok := parseFileName("shard-0", f)
		switch {
		case !ok:
		case ext == snapExt:
			snaps = append(snaps, gen)
		default:
			logs = append(logs, gen)
		}
	}
	if len(snaps) > 1 || len(snaps) == 1 && logs[0] != snaps[0] {
		t.Errorf("%s: obsolete files left: snapshots %v, logs %v", dir, snaps, logs)
	}
}

func TestWriteSnapshotGenerations(t *testing.T) {
	dir := t.TempDir()
	o := mustLoad(t, dir, Always, nil)
	appendWait(t, o.Log, recs(0, 5))
	g1, err := o.Rotate()
	if err != nil {
		t.Fatal(err)
	}
	appendWait(t, o.Log, recs(5, 10))
	g2, err := o.Rotate()
	if err != nil {
		t.Fatal(err)
	}
	appendWait(t, o.Log, recs(10, 15))
	if g1.Number() != 2 || g2.Number() != 3 {
		t.Fatalf("generations %d, %d", g1.Number(), g2.Number())
	}
	// A failed write leaves nothing behind and changes nothing.
	boom := errors.New("boom")
	if err := o.WriteSnapshot(g2, func(w io.Writer) error { w.Write([]byte("half")); return boom }); !errors.Is(err, boom) {
		t.Fatalf("WriteSnapshot = %v", err)
	}
	checkTidy(t, dir)
	// An older token than the current generation is fine...
	if err := o.WriteSnapshot(g1, func(w io.Writer) error { return encodeRecs(w, recs(0, 5)) }); err != nil {
		t.Fatal(err)
	}
	// ...but not one older than the last snapshot, nor a zero token.
	for _, g := range []Generation{g1, {}} {
		if err := o.WriteSnapshot(g, func(io.Writer) error { return nil }); !errors.Is(err, ErrStaleGeneration) {
			t.Errorf("WriteSnapshot(%d) = %v", g.Number(), err)
		}
	}
	if err := o.WriteSnapshot(g2, func(w io.Writer) error { return encodeRecs(w, recs(0, 10)) }); err != nil {
		t.Fatal(err)
	}
	checkTidy(t, dir)
	mustClose(t, o.Log)
	o = mustLoad(t, dir, Always, nil)
	defer mustClose(t, o.Log)
	equalRecs(t, o.state, recs(0, 15))
}

// A Rotate that cannot create the next generation loses nothing: appends
// go on in the current one.
func TestRotateCreateFailure(t *testing.T) {
	dir := t.TempDir()
	o := mustLoad(t, dir, Always, nil)
	appendWait(t, o.Log, recs(0, 5))
	blocker := logPath(dir, 2) + tmpExt
	if err := os.Mkdir(blocker, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := o.Rotate(); err == nil {
		t.Fatal("Rotate succeeded")
	}
	appendWait(t, o.Log, recs(5, 10))
	if err := os.Remove(blocker); err != nil {
		t.Fatal(err)
	}
	if g, err := o.Rotate(); err != nil || g.Number() != 2 {
		t.Fatalf("Rotate = %d, %v", g.Number(), err)
	}
	appendWait(t, o.Log, recs(10, 15))
	mustClose(t, o.Log)
	o = mustLoad(t, dir, Always, nil)
	defer mustClose(t, o.Log)
	equalRecs(t, o.state, recs(0, 15))
}

// TestWriteSnapshotAt: a snapshot cut inside its generation covers the
// records before the cut, and Load replays only those after it; a cut the
// log does not hold durably yet is refused.
func TestWriteSnapshotAt(t *testing.T) {
	for _, p := range policies {
		t.Run(p.String(), func(t *testing.T) {
			dir := t.TempDir()
			o := mustLoad(t, dir, p, nil)
			all := recs(0, 30)
			appendWait(t, o.Log, all[:10])
			gen, err := o.Rotate()
			if err != nil {
				t.Fatal(err)
			}
			appendWait(t, o.Log, all[10:20])
			at := o.End()
			if p != Always {
				if err := o.WriteSnapshotAt(gen, at, func(io.Writer) error { return nil }); err == nil {
					t.Fatal("a snapshot cut beyond what is synced was accepted")
				}
			}
			if err := o.Sync(t.Context()); err != nil {
				t.Fatal(err)
			}
			if err := o.WriteSnapshotAt(gen, at, func(w io.Writer) error { return encodeRecs(w, all[:20]) }); err != nil {
				t.Fatal(err)
			}
			appendWait(t, o.Log, all[20:30])
			if got := o.Size(); got <= 0 {
				t.Fatalf("Size after the cut = %d", got)
			}
			mustClose(t, o.Log)
			o = mustLoad(t, dir, p, nil)
			equalRecs(t, o.state, all)
			mustClose(t, o.Log)
		})
	}
}
