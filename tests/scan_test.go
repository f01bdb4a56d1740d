package tests

import (
	"fmt"
	"testing"

	"github.com/redis/go-redis/v9"
)

// TestScanAcrossShards: a full SCAN with a small COUNT returns every key of
// the database (spread over all shards) and only those, with MATCH and
// TYPE filters applied, while other databases stay out.
func TestScanAcrossShards(t *testing.T) {
	p := startProxy(t)
	ctx := ctxT(t)
	c := client(t, p.Addr)
	other := client(t, p.Addr, func(o *redis.Options) { o.DB = 2 })
	want := map[string]bool{}
	for i := 0; i < 500; i++ {
		k := fmt.Sprintf("key:%d", i)
		want[k] = true
		if err := c.Set(ctx, k, i, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 50; i++ {
		if err := c.RPush(ctx, fmt.Sprintf("list:%d", i), "x").Err(); err != nil {
			t.Fatal(err)
		}
		if err := other.Set(ctx, fmt.Sprintf("key:other%d", i), 1, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]bool{}
	var cursor uint64
	calls := 0
	for {
		keys, next, err := c.ScanType(ctx, cursor, "key:*", 7, "string").Result()
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			if !want[k] {
				t.Fatalf("SCAN returned %q", k)
			}
			seen[k] = true
		}
		calls++
		if next == 0 {
			break
		}
		if calls > 10000 {
			t.Fatal("SCAN does not finish")
		}
		cursor = next
	}
	if len(seen) != len(want) {
		t.Fatalf("SCAN returned %d of %d keys in %d calls", len(seen), len(want), calls)
	}
}
