package tests

import (
	"fmt"
	"testing"

	"github.com/schemaproxy/schemaproxy/internal/testutil"
)

// TestStreamsSurviveKill9: a stream with consumer groups, part of it in a
// snapshot and the rest in the log, comes back after kill -9 exactly as it
// was: entries, tombstones, node layout, groups, PELs with their delivery
// times and counts, consumers with their seen-times.
func TestStreamsSurviveKill9(t *testing.T) {
	p := startProxy(t, "--appendfsync", "always")
	c, err := testutil.Dial(p.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	do := func(c *testutil.Conn, args ...string) string {
		t.Helper()
		r, err := c.Do(args...)
		if err != nil {
			t.Fatalf("%q: %v", args, err)
		}
		return string(r)
	}
	for i := 0; i < 250; i++ {
		do(c, "XADD", "s", "*", "n", fmt.Sprint(i))
	}
	do(c, "XGROUP", "CREATE", "s", "g", "0")
	do(c, "XGROUP", "CREATE", "s", "h", "$", "ENTRIESREAD", "250")
	do(c, "XREADGROUP", "GROUP", "g", "alice", "COUNT", "30", "STREAMS", "s", ">")
	if r := do(c, "SAVE"); r != "+OK\r\n" {
		t.Fatalf("SAVE: %q", r)
	}
	do(c, "XREADGROUP", "GROUP", "g", "bob", "COUNT", "20", "STREAMS", "s", ">")
	do(c, "XTRIM", "s", "MAXLEN", "~", "120")
	do(c, "XADD", "s", "MAXLEN", "=", "200", "*", "n", "last")
	do(c, "XDEL", "s", "0-1")
	do(c, "XAUTOCLAIM", "s", "g", "carol", "0", "0", "COUNT", "5")
	do(c, "XGROUP", "CREATECONSUMER", "s", "h", "dave")
	do(c, "XADD", "t", "1-1", "f", "v")
	do(c, "XGROUP", "CREATE", "t", "g", "0", "MKSTREAM")
	do(c, "XDEL", "t", "1-1")
	queries := [][]string{
		{"XINFO", "STREAM", "s", "FULL", "COUNT", "0"}, {"XINFO", "STREAM", "s"}, {"XINFO", "GROUPS", "s"},
		{"XPENDING", "s", "g"}, {"XRANGE", "s", "-", "+"}, {"XINFO", "STREAM", "t", "FULL"}, {"DUMP", "t"},
	}
	var before []string
	for _, q := range queries {
		before = append(before, do(c, q...))
	}
	p.Kill()
	q := startProxyIn(t, p.dataDir, "--appendfsync", "always")
	c2, err := testutil.Dial(q.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	for i, qq := range queries {
		if got := do(c2, qq...); got != before[i] {
			t.Errorf("%q after restart:\n%.400q\nbefore:\n%.400q", qq, got, before[i])
		}
	}
}
