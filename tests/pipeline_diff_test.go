package tests

import (
	"sort"
	"strings"
	"testing"

	"github.com/schemaproxy/schemaproxy/internal/difftest"
	"github.com/schemaproxy/schemaproxy/internal/testutil"
	"github.com/schemaproxy/schemaproxy/proto/resp"
)

// TestDifferentialPipelined sends each corpus group as one pipeline (one
// write) to a real redis-server and to schemaproxy, on the embedded store
// and over three redis-servers, and requires the same replies: the
// proxy's batching of a pipeline's commands per shard must not show.
// Groups that compare loosely, use several clients or end the connection
// are left to the sequential runs.
func TestDifferentialPipelined(t *testing.T) {
	corpora := loadCorpora(t)
	names := make([]string, 0, len(corpora))
	for n := range corpora {
		names = append(names, n)
	}
	sort.Strings(names)
	_, urls := startBackends(t, 3)
	for _, setup := range []struct {
		name string
		args []string
	}{{"embedded", nil}, {"redis-backends", backendArgs(urls)}} {
		t.Run(setup.name, func(t *testing.T) {
			ref, got := referencePair(t, setup.args...)
			compared := 0
			for _, name := range names {
				if name == "notifications.txt" && setup.args != nil {
					continue // keyspace notifications: embedded store only
				}
				for _, g := range corpora[name] {
					if !pipelinable(g) {
						continue
					}
					for _, c := range []*testutil.Conn{ref, got} {
						for _, cmd := range [][]string{{"FLUSHALL"}, {"CONFIG", "SET", "notify-keyspace-events", ""}, {"SELECT", "0"}, {"HELLO", "2"}} {
							if _, err := c.Do(cmd...); err != nil {
								t.Fatal(err)
							}
						}
					}
					var out []byte
					for _, cs := range g {
						args := make([][]byte, len(cs.Args))
						for i, a := range cs.Args {
							args[i] = []byte(a)
						}
						out = resp.AppendCommand(out, args...)
					}
					want, err := pipeline(ref, out, len(g))
					if err != nil {
						t.Fatalf("%s: redis-server: %v", g[0].Pos, err)
					}
					have, err := pipeline(got, out, len(g))
					if err != nil {
						t.Fatalf("%s: schemaproxy: %v", g[0].Pos, err)
					}
					for i := range g {
						if string(want[i]) != string(have[i]) {
							t.Fatalf("%s (pipelined from %s): %q\n  redis: %q\n  got:   %q", g[i].Pos, g[0].Pos, g[i].Args, want[i], have[i])
						}
					}
					compared += len(g)
				}
			}
			if compared < 1000 {
				t.Fatalf("only %d commands compared", compared)
			}
			t.Logf("%d commands compared, a pipeline per group", compared)
		})
	}
}

func pipelinable(g difftest.Group) bool {
	for _, c := range g {
		if c.Mode != difftest.Exact || c.Client > 1 || c.Read || len(c.Args) == 0 {
			return false
		}
		for _, skip := range []string{"quit", "reset", "shutdown", "subscribe", "psubscribe", "ssubscribe",
			"hello", "debug", "client", "eval", "evalsha", "script"} {
			if strings.EqualFold(c.Args[0], skip) {
				return false
			}
		}
	}
	return true
}

// pipeline writes out and reads n replies.
func pipeline(c *testutil.Conn, out []byte, n int) ([][]byte, error) {
	if err := c.WriteRaw(out); err != nil {
		return nil, err
	}
	replies := make([][]byte, n)
	for i := range replies {
		r, err := c.ReadReply()
		if err != nil {
			return nil, err
		}
		replies[i] = r
	}
	return replies, nil
}
