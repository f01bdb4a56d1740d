package tests

import (
	"testing"

	"github.com/redis/go-redis/v9"
)

// library is a function library whose one function adds its argument to
// its key.
const library = "#!lua name=counters\nredis.register_function('add', function(keys, args) return redis.call('incrby', keys[1], args[1]) end)"

// fcallAdd calls add through c and wants n back.
func fcallAdd(t *testing.T, c *redis.Client, by string, want int64) {
	t.Helper()
	got, err := c.FCall(ctxT(t), "add", []string{"n"}, by).Int64()
	if err != nil || got != want {
		t.Fatalf("FCALL add 1 n %s = %d, %v; want %d", by, got, err, want)
	}
}

// TestFunctionsSurviveRestart: libraries loaded into the embedded store
// are there after a kill -9 and after FLUSHALL, and a deleted one stays
// deleted, as Redis keeps functions in its own persistence.
func TestFunctionsSurviveRestart(t *testing.T) {
	ctx := ctxT(t)
	p := startProxy(t, "--appendfsync", "always")
	c := client(t, p.Addr)
	if err := c.FunctionLoad(ctx, library).Err(); err != nil {
		t.Fatal(err)
	}
	fcallAdd(t, c, "2", 2)
	p.Kill()
	q := startProxyIn(t, p.dataDir, "--appendfsync", "always")
	c = client(t, q.Addr)
	fcallAdd(t, c, "3", 5)
	if err := c.FlushAll(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	fcallAdd(t, c, "1", 1)
	if err := c.FunctionDelete(ctx, "counters").Err(); err != nil {
		t.Fatal(err)
	}
	q.Kill()
	r := startProxyIn(t, p.dataDir, "--appendfsync", "always")
	c = client(t, r.Addr)
	if err := c.FCall(ctx, "add", []string{"n"}, "1").Err(); err == nil || err.Error() != "ERR Function not found" {
		t.Fatalf("FCALL of a deleted library after a restart: %v", err)
	}
}

// TestFunctionsOverRedisBackends: over Redis backends the libraries live
// in the first backend's own function store: a library loaded through
// one proxy is called through another, survives the restart of both and
// FLUSHALL, and redis-cli on the backend lists it.
func TestFunctionsOverRedisBackends(t *testing.T) {
	ctx := ctxT(t)
	backends, urls := startBackends(t, 2)
	a := startProxy(t, backendArgs(urls)...)
	b := startProxy(t, backendArgs(urls)...)
	ca, cb := client(t, a.Addr), client(t, b.Addr)
	if err := ca.FunctionLoad(ctx, library).Err(); err != nil {
		t.Fatal(err)
	}
	fcallAdd(t, cb, "2", 2) // b had not seen it: it looks in the backend
	direct := client(t, backends[0].Addr)
	libs, err := direct.FunctionList(ctx, redis.FunctionListQuery{}).Result()
	if err != nil || len(libs) != 1 || libs[0].Name != "counters" {
		t.Fatalf("FUNCTION LIST on the first backend: %v, %v", libs, err)
	}
	if err := ca.FlushAll(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	a.Kill()
	b.Kill()
	c := client(t, startProxy(t, backendArgs(urls)...).Addr)
	fcallAdd(t, c, "1", 1)
	// A library the backend would not load is refused, and not kept.
	if err := c.FunctionLoad(ctx, "#!lua name=bad\nredis.register_function('bad', function() return 1 end)\nerror('no')").Err(); err == nil {
		t.Fatal("a library that fails to load was accepted")
	}
	if n, err := direct.FunctionList(ctx, redis.FunctionListQuery{}).Result(); err != nil || len(n) != 1 {
		t.Fatalf("FUNCTION LIST on the first backend after a refused load: %v, %v", n, err)
	}
}
