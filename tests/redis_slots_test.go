package tests

import (
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/schemaproxy/schemaproxy/cluster"
)

// TestRedisBackendsSlotRanges: with --slots giving uneven, split ranges,
// each key written through the proxy (plain, MSET and MULTI across both
// backends, hash tags) sits on the backend the ranges name, read there
// directly; many of them would sit on the other under the even split.
func TestRedisBackendsSlotRanges(t *testing.T) {
	const slots = "0-999,8000-8999;1000-7999,9000-16383"
	ranges, err := cluster.ParseRanges(slots)
	if err != nil {
		t.Fatal(err)
	}
	m, err := cluster.NewSlotMapRanges(ranges)
	if err != nil {
		t.Fatal(err)
	}
	backends, urls := startBackends(t, 2)
	p := startProxy(t, append(backendArgs(urls), "--slots", slots)...)
	ctx := ctxT(t)
	c := client(t, p.Addr)
	var keys []string
	for i := 0; i < 300; i++ {
		keys = append(keys, fmt.Sprintf("sr:%d", i))
	}
	keys = append(keys, "{sr:0}.tagged", "{sr:1}.tagged")
	for _, k := range keys[:100] {
		if err := c.Set(ctx, k, k, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	var pairs []any
	for _, k := range keys[100:200] {
		pairs = append(pairs, k, k)
	}
	if err := c.MSet(ctx, pairs...).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.TxPipelined(ctx, func(pl redis.Pipeliner) error {
		for _, k := range keys[200:] {
			pl.Set(ctx, k, k, 0)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	even := cluster.NewSlotMap(2)
	want := make([][]string, 2)
	moved := 0
	for _, k := range keys {
		s := m.ShardOf([]byte(k))
		want[s] = append(want[s], k)
		if even.ShardOf([]byte(k)) != s {
			moved++
		}
	}
	if moved < 50 || len(want[0]) < 20 {
		t.Fatalf("the keys do not tell the ranges from the even split: %d on another shard, %d on shard 0", moved, len(want[0]))
	}
	for i, b := range backends {
		bc := redis.NewClient(&redis.Options{Addr: b.Addr})
		got, err := bc.Keys(ctx, "*sr:*").Result()
		bc.Close()
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(got)
		slices.Sort(want[i])
		if !slices.Equal(got, want[i]) {
			t.Fatalf("backend %d holds %d keys %v,\nthe ranges give it %d: %v", i, len(got), got, len(want[i]), want[i])
		}
	}
	// Reads through the proxy find every key where it was put.
	vals, err := c.MGet(ctx, keys...).Result()
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range vals {
		if v != keys[i] {
			t.Fatalf("%s = %v", keys[i], v)
		}
	}
	// Ranges that do not fit the backends stop the start in one line.
	out, err := exec.Command(proxyBinary(t), append(backendArgs(urls), "--listen", "127.0.0.1:0", "--slots", "0-8191;8193-16383")...).CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || strings.TrimSpace(string(out)) != "schemaproxy: slots: slots 8192 belong to no shard" {
		t.Fatalf("a slot left out: %v, %q", err, out)
	}
	t.Logf("%d keys on backend 0, %d on backend 1, %d placed unlike the even split", len(want[0]), len(want[1]), moved)
}
