package tests

import (
	"testing"
	"time"

	"github.com/schemaproxy/schemaproxy/internal/testutil"
)

// TestWatchExpiringKeys: a watched key that expires before EXEC aborts the
// transaction, and one that had already expired when watched does not, on
// redis-server and schemaproxy alike.
func TestWatchExpiringKeys(t *testing.T) {
	redis := testutil.StartRedis(t)
	p := startProxy(t)
	run := func(addr string) []string {
		c, err := testutil.Dial(addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		var out []string
		do := func(args ...string) string {
			r, err := c.Do(args...)
			if err != nil {
				t.Fatal(err)
			}
			return string(r)
		}
		// waitGone polls until key has expired (its TTL passing is the
		// event awaited, not a synchronisation with another goroutine).
		waitGone := func(key string) {
			deadline := time.Now().Add(5 * time.Second)
			for do("PTTL", key) != ":-2\r\n" {
				if time.Now().After(deadline) {
					t.Fatalf("%s did not expire", key)
				}
				time.Sleep(5 * time.Millisecond)
			}
		}
		out = append(out, do("SET", "k", "v", "PX", "50"), do("WATCH", "k"))
		waitGone("k")
		out = append(out, do("MULTI"), do("SET", "k", "2"), do("EXEC"), do("GET", "k"))
		out = append(out, do("SET", "e", "v", "PX", "20"))
		waitGone("e")
		out = append(out, do("WATCH", "e"), do("MULTI"), do("SET", "e", "2"), do("EXEC"), do("GET", "e"))
		return out
	}
	want, got := run(redis.Addr), run(p.Addr)
	if want[4] != "*-1\r\n" || want[10] == "*-1\r\n" {
		t.Fatalf("unexpected reference behaviour: %q", want)
	}
	for i := range want {
		if want[i] != got[i] {
			t.Errorf("reply %d: redis %q, schemaproxy %q", i, want[i], got[i])
		}
	}
}
