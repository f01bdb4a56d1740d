package keyspace

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/schemaproxy/schemaproxy/command"
	"github.com/schemaproxy/schemaproxy/internal/difftest"
	"github.com/schemaproxy/schemaproxy/internal/testutil"
	"github.com/schemaproxy/schemaproxy/proto/resp"
)

var diffFile = flag.String("difffile", "", "run only this corpus file of testdata/diff")

// localServer runs corpus commands straight on a Store, without a proxy: the
// keyspace half of the differential tests.
type localServer struct {
	store *Store
	exec  *Executor
	db    int
	rnd   *rand.Rand
	// packAll packs every string after each command, so that commands
	// meet them packed (strtable.go).
	packAll bool
}

func newLocalServer() *localServer {
	return &localServer{
		store: NewStore(16, func() int64 { return time.Now().UnixMilli() }),
		exec:  NewExecutor(command.Default),
		rnd:   rand.New(rand.NewPCG(1, 2)),
	}
}

func (s *localServer) Do(args ...string) ([]byte, error) {
	bs := make([][]byte, len(args))
	for i, a := range args {
		bs[i] = []byte(a)
	}
	w := resp.NewWriter(2)
	cmd := command.Default.Lookup(bs[0])
	switch {
	case cmd == nil || cmd.Is(command.Unsupported):
		w.Error(ErrUnknownCommand(bs))
	case !cmd.CheckArity(len(bs)):
		w.Error(ErrArity(cmd.Name))
	case cmd.Name == "select":
		n, ok := ParseInt(bs[1])
		if !ok {
			w.Error(ErrNotInt)
		} else if n < 0 || n >= int64(s.store.NumDBs()) {
			w.Error(ErrDBIndexRange)
		} else {
			s.db = int(n)
			w.OK()
		}
	default:
		c := &Ctx{Store: s.store, DBIndex: s.db, DB: s.store.DB(s.db), Args: bs, W: w,
			Now: s.store.Now(), Rand: s.rnd}
		s.exec.Run(c, cmd)
	}
	if s.packAll {
		s.store.packIdle = -1 << 40
		s.store.PackZSets(1 << 30)
		s.store.PackStrings(s.store.Now(), 1<<30)
		for i := range s.store.NumDBs() {
			db := s.store.DB(i)
			for k, e := range db.keys {
				if db.packCandidate(k, e) {
					return nil, fmt.Errorf("%s %q not packed", e.Kind, k)
				}
			}
		}
	}
	return w.B, nil
}

// TestDiff replays every corpus in testdata/diff against a real
// redis-server and against the keyspace, requiring identical replies.
func TestDiff(t *testing.T) {
	corpora, err := difftest.ParseDir("testdata/diff")
	if err != nil {
		t.Fatal(err)
	}
	if len(corpora) == 0 {
		t.Skip("no corpus files")
	}
	redis := testutil.StartRedis(t)
	ref, err := testutil.Dial(redis.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer ref.Close()
	names := make([]string, 0, len(corpora))
	for name := range corpora {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if *diffFile != "" && filepath.Base(*diffFile) != name {
			continue
		}
		for _, packed := range []bool{false, true} {
			runDiffCorpus(t, name, corpora[name], ref, packed)
		}
	}
}

// runDiffCorpus replays one corpus; packed has every string packed between
// commands.
func runDiffCorpus(t *testing.T, name string, corpus []difftest.Group, ref *testutil.Conn, packed bool) {
	if packed {
		name += "/packed"
	}
	t.Run(name, func(t *testing.T) {
		var local *localServer
		n := difftest.Run(t, corpus, ref, serverFunc(func(args ...string) ([]byte, error) {
			return local.Do(args...)
		}), func() {
			if _, err := ref.Do("FLUSHALL"); err != nil {
				t.Fatal(err)
			}
			if _, err := ref.Do("SELECT", "0"); err != nil {
				t.Fatal(err)
			}
			local = newLocalServer()
			local.packAll = packed
		})
		t.Logf("%d commands compared", n)
	})
}

type serverFunc func(args ...string) ([]byte, error)

func (f serverFunc) Do(args ...string) ([]byte, error) { return f(args...) }
