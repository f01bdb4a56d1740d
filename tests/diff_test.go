package tests

import (
	"fmt"
	"sort"
	"testing"

	"github.com/schemaproxy/schemaproxy/internal/difftest"
	"github.com/schemaproxy/schemaproxy/internal/testutil"
)

// TestDifferential replays every corpus (the data-type corpora of the
// keyspace package and the connection/transaction corpora here) against a
// real redis-server and against schemaproxy, requiring identical replies.
func TestDifferential(t *testing.T) { runDifferential(t, 2) }

// TestDifferentialRESP3 replays the same corpora after HELLO 3, so maps,
// sets, doubles and nulls are compared in their RESP3 forms too.
func TestDifferentialRESP3(t *testing.T) { runDifferential(t, 3) }

func runDifferential(t *testing.T, proto int) {
	corpora := map[string][]difftest.Group{}
	for _, dir := range []string{"../keyspace/testdata/diff", "testdata/diff"} {
		c, err := difftest.ParseDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range c {
			corpora[k] = v
		}
	}
	ref, got := referencePair(t)
	names := make([]string, 0, len(corpora))
	for n := range corpora {
		names = append(names, n)
	}
	sort.Strings(names)
	total := 0
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			total += difftest.Run(t, corpora[name], ref, got, func() {
				for _, c := range []*testutil.Conn{ref, got} {
					for _, cmd := range [][]string{{"FLUSHALL"}, {"SELECT", "0"}, {"HELLO", fmt.Sprint(proto)}} {
						if _, err := c.Do(cmd...); err != nil {
							t.Fatal(err)
						}
					}
				}
			})
		})
	}
	t.Logf("%d commands compared across %d corpora", total, len(names))
}
