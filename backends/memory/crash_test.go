package memory

import (
	"context"
	"encoding/binary"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/schemaproxy/schemaproxy/backends"
	"github.com/schemaproxy/schemaproxy/backends/memory/aof"
	"github.com/schemaproxy/schemaproxy/command"
	"github.com/schemaproxy/schemaproxy/keyspace"
	"github.com/schemaproxy/schemaproxy/proto/resp"
	"github.com/schemaproxy/schemaproxy/txn"
)

// The crash-point test. A scripted workload (cross-shard MULTI, COPY,
// RENAME, LMOVE, *STORE, MSET, expiry read and active, WATCH, whole-database
// commands alone and inside MULTI, SWAPDB, MOVE, snapshots) runs one
// request at a time; after each, the test notes the log position and the
// state. Then it builds the on-disk state of a crash at every point the
// disk can be found in: every frame boundary of every log generation (the
// prefix a write or an fsync leaves, with a torn frame after it too), and
// every durable step of each snapshot. Each one must recover to exactly
// the state after the last request whose records it holds: a serial
// prefix that holds every acknowledged request (under appendfsync always a
// request is acknowledged once its records are synced), and none of the
// next. The store has one log, so there is no order between shards'
// disks to enumerate: every crash leaves a prefix of one sequence.

const crashShards = 4

// crashEnv runs the workload.
type crashEnv struct {
	t     *testing.T
	dir   string
	wall  atomic.Int64
	st    *Store
	coord *txn.Coordinator
	// after each request: the log position and the state.
	points []crashPoint
	// gens records, per log generation, the stream position it starts at
	// and its complete content (taken when the next one begins).
	gen      uint64 // the generation appended to
	genStart map[uint64]uint64
	genLog   map[uint64][]byte
	genSnap  map[uint64][]byte
	genCut   map[uint64]uint64 // stream position of each snapshot's cut
	// stepDirs are copies taken at each durable step of a snapshot, with
	// the index of the last request acknowledged then.
	stepDirs []stepDir
}

type crashPoint struct {
	name  string
	pos   uint64
	now   int64
	state map[string]string
}

type stepDir struct {
	step string
	dir  string
	last int
}

func TestCrashPoints(t *testing.T) {
	for _, protocol := range []bool{false, true} {
		t.Run(fmt.Sprintf("protocol=%v", protocol), func(t *testing.T) {
			e := runCrashWorkload(t, protocol)
			e.checkGenerations()
			e.checkSnapshotSteps()
		})
	}
}

func keyOn4(shard int, prefix string) string { return keyOn(crashShards, shard, prefix) }

func runCrashWorkload(t *testing.T, protocol bool) *crashEnv {
	e := &crashEnv{t: t, dir: t.TempDir(), gen: 1, genStart: map[uint64]uint64{1: 0},
		genLog: map[uint64][]byte{}, genSnap: map[uint64][]byte{}, genCut: map[uint64]uint64{}}
	e.wall.Store(1_000_000)
	exec := keyspace.NewExecutor(command.Default)
	var saving bool
	st, err := Open(Options{Shards: crashShards, Databases: 4, Dir: e.dir, Fsync: aof.Always, Now: e.wall.Load,
		ExpireEvery: time.Hour, Knobs: &Knobs{LogStep: func(name string) {
			if name == "rotate: old log synced" {
				// The finished generation is complete now.
				e.genLog[e.gen] = e.read(logFile(e.gen))
			}
			if saving {
				e.stepDirs = append(e.stepDirs, stepDir{name, copyDir(t, e.dir), len(e.points) - 1})
			}
		}}}, exec)
	if err != nil {
		t.Fatal(err)
	}
	e.st = st
	e.coord = txn.New(txn.Config{Shards: st.Shards(), Exec: exec, Databases: 4, Now: st.Now, ForceProtocol: protocol})

	a, b, c, d := keyOn4(0, "a"), keyOn4(1, "b"), keyOn4(2, "c"), keyOn4(3, "d")
	k, l, m, u := keyOn4(1, "k"), keyOn4(0, "l"), keyOn4(2, "m"), keyOn4(3, "u")
	s1, s2, x, tt := keyOn4(1, "s"), keyOn4(2, "s"), keyOn4(3, "x"), keyOn4(0, "t")
	e.do("seed a", 0, nil, []string{"SET", a, "100"})
	e.do("seed b", 0, nil, []string{"SET", b, "100"})
	e.do("transfer", 0, nil, []string{"MULTI"}, []string{"INCRBY", a, "10"}, []string{"DECRBY", b, "10"})
	e.do("copy reads a", 0, nil, []string{"COPY", a, c})
	e.do("mset", 0, nil, []string{"MSET", a, "1", b, "2", c, "3", d, "4"})
	e.do("set with ttl", 0, nil, []string{"SET", k, "5", "PX", "100"})
	e.wall.Add(200)
	e.do("read expires", 0, nil, []string{"GET", k})
	e.wall.Add(-150) // the wall clock steps back; the store's does not
	e.do("incr after expiry", 0, nil, []string{"INCR", k})
	e.do("multi with dbsize", 0, nil, []string{"MULTI"}, []string{"SET", a, "7"}, []string{"SET", c, "8"}, []string{"DBSIZE"})
	z1, z2, zu := keyOn4(1, "z"), keyOn4(2, "z"), keyOn4(3, "z")
	e.do("zadd both", 0, nil, []string{"MULTI"}, []string{"ZADD", z1, "1", "a", "2.5", "b"}, []string{"ZADD", z2, "3", "c"})
	e.wall.Add(1001)                                     // strings unchanged for a second get packed too
	e.activeExpire("cron packs sorted sets and strings") // the snapshot saves them packed
	e.activeExpire("cron packs what was new at the last tick")
	if e.st.shards[0].store.DB(0).Packed().Len()+e.st.shards[1].store.DB(0).Packed().Len() == 0 {
		t.Fatal("no string packed")
	}
	saving = true
	e.save()
	saving = false
	e.do("rename across shards", 0, nil, []string{"RENAME", a, x})
	e.do("rpush", 0, nil, []string{"RPUSH", l, "p", "q", "r"})
	e.do("lmove across shards", 0, nil, []string{"LMOVE", l, m, "LEFT", "RIGHT"})
	e.do("sadd both", 0, nil, []string{"MULTI"}, []string{"SADD", s1, "1", "2", "3"}, []string{"SADD", s2, "3", "4"})
	e.do("sunionstore", 0, nil, []string{"SUNIONSTORE", u, s1, s2})
	e.do("zunionstore", 0, nil, []string{"ZUNIONSTORE", zu, "2", z1, z2})
	e.do("zadd expands", 0, nil, []string{"ZADD", z1, "4", "d"})
	e.do("db 1 write", 1, nil, []string{"SET", d, "one"})
	e.do("swapdb", 0, nil, []string{"SWAPDB", "0", "1"})
	e.do("db 2 write", 2, nil, []string{"HSET", b, "f", "v"})
	e.do("flushdb 2", 2, nil, []string{"FLUSHDB"})
	e.do("short ttl", 1, nil, []string{"SET", tt, "v", "PX", "50"})
	e.wall.Add(200)
	e.activeExpire("active expiry")
	missing := e.watch(1, keyOn4(2, "w"))
	e.do("watch missing key", 1, []backends.Guard{missing}, []string{"MULTI"}, []string{"SET", keyOn4(2, "w"), "1"}, []string{"SET", keyOn4(0, "w"), "2"})
	stale := e.watch(1, c)
	e.do("break watch", 1, nil, []string{"INCR", c})
	e.do("watch fails", 1, []backends.Guard{stale}, []string{"MULTI"}, []string{"SET", c, "0"}, []string{"SET", b, "0"})
	e.do("move", 1, nil, []string{"MOVE", d, "3"})
	saving = true
	e.save()
	saving = false
	e.do("after save", 1, nil, []string{"MULTI"}, []string{"INCR", b}, []string{"DEL", c}, []string{"HSET", d, "f", "v"})
	e.do("flushdb in multi", 3, nil, []string{"MULTI"}, []string{"SET", a, "x"}, []string{"FLUSHDB"}, []string{"SET", b, "y"})
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	e.genLog[e.gen] = e.read(logFile(e.gen))
	return e
}

func logFile(gen uint64) string  { return fmt.Sprintf("%s.%016x.log", logName, gen) }
func snapFile(gen uint64) string { return fmt.Sprintf("%s.%016x.snap", logName, gen) }

func (e *crashEnv) read(name string) []byte {
	b, err := os.ReadFile(filepath.Join(e.dir, name))
	if err != nil {
		e.t.Fatal(err)
	}
	return b
}

// do runs one request (a MULTI block when the first command is MULTI) in
// db and notes the position and state after it.
func (e *crashEnv) do(name string, db int, guards []backends.Guard, cmds ...[]string) {
	e.t.Helper()
	w := resp.NewWriter(2)
	r := &txn.Request{Batch: backends.Batch{W: w, Guards: guards}}
	if cmds[0][0] == "MULTI" {
		r.Multi, cmds = true, cmds[1:]
	}
	for _, c := range cmds {
		args := make([][]byte, len(c))
		for i, a := range c {
			args[i] = []byte(a)
		}
		r.Ops = append(r.Ops, backends.Op{Cmd: command.Default.Lookup(args[0]), Args: args, DB: db})
	}
	if err := e.coord.Run(context.Background(), r); err != nil {
		e.t.Fatalf("%s: %v", name, err)
	}
	if strings.HasPrefix(string(w.B), "-") {
		e.t.Fatalf("%s: %q", name, w.B)
	}
	e.note(name)
}

func (e *crashEnv) note(name string) {
	e.points = append(e.points, crashPoint{name: name, pos: e.st.log.aof.End(), now: e.st.clock.now(), state: dumpState(e.st.shards)})
}

func (e *crashEnv) watch(db int, key string) backends.Guard {
	g, err := e.coord.Watch(context.Background(), db, []byte(key))
	if err != nil {
		e.t.Fatal(err)
	}
	return g
}

func (e *crashEnv) activeExpire(name string) {
	for _, s := range e.st.shards {
		s.activeExpire()
	}
	e.note(name)
}

func (e *crashEnv) save() {
	next := e.gen + 1
	e.genStart[next] = e.st.log.aof.End()
	if err := e.st.Snapshot(context.Background()); err != nil {
		e.t.Fatal(err)
	}
	e.gen = next
	e.genCut[next] = e.st.log.aof.End()
	e.genSnap[next] = e.read(snapFile(next))
	e.note("save")
}

// dumpState returns every key of every shard as "shard/db/key" -> expiry
// and encoded value; expired keys are filtered when states are compared.
func dumpState(shards []*Shard) map[string]string {
	out := map[string]string{}
	for i, s := range shards {
		s.mu.Lock()
		for db := 0; db < s.store.NumDBs(); db++ {
			s.store.DB(db).Range(-1<<63, func(key string, en *keyspace.Entry) bool {
				out[fmt.Sprintf("%d/%d/%s", i, db, key)] = fmt.Sprintf("%d|%x", en.ExpireAt, keyspace.EncodeValue(nil, en))
				return true
			})
		}
		s.mu.Unlock()
	}
	return out
}

// live drops the keys expired at now.
func live(state map[string]string, now int64) map[string]string {
	out := map[string]string{}
	for k, v := range state {
		var at int64
		fmt.Sscanf(v, "%d|", &at)
		if at == 0 || at > now {
			out[k] = v
		}
	}
	return out
}

// expect is the state a crash that kept the log up to stream position pos
// must recover: the one after the last request all of whose records are
// within pos, seen at the time the next request ran (a request may log
// expired keys before its own record, and a crash between the two keeps
// only the expiries, which change nothing visible at that time).
func (e *crashEnv) expect(pos uint64) (map[string]string, int64, string) {
	j := -1
	for i, p := range e.points {
		if p.pos <= pos {
			j = i
		}
	}
	if j+1 < len(e.points) {
		next := e.points[j+1]
		if j < 0 {
			return map[string]string{}, next.now, "nothing"
		}
		return e.points[j].state, next.now, e.points[j].name
	}
	return e.points[j].state, e.points[j].now, e.points[j].name
}

// checkGenerations recovers every prefix of every log generation, with the
// snapshot that generation starts from.
func (e *crashEnv) checkGenerations() {
	t := e.t
	gens := slices.Sorted(maps.Keys(e.genLog))
	checked := 0
	for _, g := range gens {
		content := e.genLog[g]
		for _, cut := range frameCuts(t, content) {
			dir := t.TempDir()
			snap, ok := e.genSnap[g]
			if pos := e.genStart[g] + uint64(cut.size-16); ok && pos < e.genCut[g] {
				// The snapshot is installed only once the log holds its
				// cut: before that, the previous generation is there.
				ok = false
				writeFile(t, filepath.Join(dir, logFile(g-1)), e.genLog[g-1])
				if prev, has := e.genSnap[g-1]; has {
					writeFile(t, filepath.Join(dir, snapFile(g-1)), prev)
				}
			}
			if ok {
				writeFile(t, filepath.Join(dir, snapFile(g)), snap)
			}
			writeFile(t, filepath.Join(dir, logFile(g)), content[:cut.size])
			want, now, after := e.expect(e.genStart[g] + uint64(cut.boundary-16))
			got := recoverState(t, dir)
			if diff := stateDiff(live(got, now), live(want, now)); diff != "" {
				t.Fatalf("generation %d cut at byte %d (frame boundary %d): recovered state is not the one after %q:\n%s",
					g, cut.size, cut.boundary, after, diff)
			}
			checked++
		}
	}
	if checked < 2*len(e.points) {
		t.Fatalf("only %d crash states for %d requests", checked, len(e.points))
	}
	t.Logf("%d crash states of %d log generations recovered to a serial prefix", checked, len(gens))
}

// checkSnapshotSteps recovers the directory as each durable step of a
// snapshot left it.
func (e *crashEnv) checkSnapshotSteps() {
	t := e.t
	steps := map[string]bool{}
	for _, sd := range e.stepDirs {
		steps[sd.step] = true
		p := e.points[sd.last]
		got := recoverState(t, sd.dir)
		if diff := stateDiff(live(got, p.now), live(p.state, p.now)); diff != "" {
			t.Fatalf("crash at snapshot step %q: recovered state is not the one after %q:\n%s", sd.step, p.name, diff)
		}
	}
	for _, want := range []string{"rotate: old log synced", "rotate: directory synced", "snapshot: temp synced",
		"snapshot: renamed", "snapshot: directory synced", "snapshot: removed obsolete"} {
		if !steps[want] {
			t.Errorf("no crash at snapshot step %q", want)
		}
	}
}

type frameCut struct{ boundary, size int }

// frameCuts lists the sizes a crash can leave a log file at: every frame
// boundary, and one byte into the next frame (a torn write).
func frameCuts(t *testing.T, content []byte) []frameCut {
	var cuts []frameCut
	off := 16
	for {
		cuts = append(cuts, frameCut{off, off})
		if off == len(content) {
			return cuts
		}
		if off+8 > len(content) {
			t.Fatalf("log ends inside a frame header at %d", off)
		}
		n := int(binary.LittleEndian.Uint32(content[off:]))
		cuts = append(cuts, frameCut{off, off + 5}, frameCut{off, off + 8 + n - 1})
		off += 8 + n
	}
}

func recoverState(t *testing.T, dir string) map[string]string {
	t.Helper()
	st, err := Open(Options{Shards: crashShards, Databases: 4, Dir: dir, Fsync: aof.Always, ExpireEvery: time.Hour},
		keyspace.NewExecutor(command.Default))
	if err != nil {
		t.Fatalf("recover %s: %v", dir, err)
	}
	state := dumpState(st.shards)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	return state
}

func stateDiff(got, want map[string]string) string {
	var lines []string
	for k, v := range want {
		if g, ok := got[k]; !ok {
			lines = append(lines, "missing "+k)
		} else if g != v {
			lines = append(lines, fmt.Sprintf("%s = %s, want %s", k, g, v))
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			lines = append(lines, "extra "+k)
		}
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

func writeFile(t *testing.T, path string, b []byte) {
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func copyDir(t *testing.T, dir string) string {
	out := t.TempDir()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, en := range entries {
		b, err := os.ReadFile(filepath.Join(dir, en.Name()))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(out, en.Name()), b)
	}
	return out
}
