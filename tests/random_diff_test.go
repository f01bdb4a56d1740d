package tests

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/schemaproxy/schemaproxy/internal/difftest"
	"github.com/schemaproxy/schemaproxy/internal/testutil"
)

var (
	randomSeed = flag.Uint64("random.seed", 0, "seed of TestRandomDifferential (0: from the clock)")
	randomOps  = flag.Int("random.ops", 3000, "commands per TestRandomDifferential run")
)

// Templates of commands whose replies are deterministic on both servers
// for small values: {k} a key (spread over shards), {v} a short value,
// {i} a small integer, {f} a hash field. A leading '?' compares only the
// reply's type.
var randomTemplates = []string{
	"SET {k} {v}", "SET {k} {i} NX", "SET {k} {v} XX GET", "GET {k}", "GETDEL {k}", "APPEND {k} {v}",
	"INCR {k}", "DECRBY {k} {i}", "INCRBYFLOAT {k} 1.5", "STRLEN {k}", "MSET {k} {v} {k} {i}",
	"MGET {k} {k} {k}", "MSETNX {k} {v} {k} {v}", "GETRANGE {k} 0 {i}", "SETRANGE {k} {i} {v}",
	"DEL {k} {k}", "EXISTS {k} {k} {k}", "TYPE {k}", "RENAME {k} {k}", "RENAMENX {k} {k}",
	"COPY {k} {k}", "COPY {k} {k} REPLACE", "EXPIRE {k} 1000", "PERSIST {k}", "?TTL {k}",
	"LPUSH {k} {v} {i}", "RPUSH {k} {v}", "LPOP {k}", "RPOP {k} 2", "LRANGE {k} 0 -1", "LLEN {k}",
	"LMOVE {k} {k} LEFT RIGHT", "RPOPLPUSH {k} {k}", "LINDEX {k} {i}", "LREM {k} 0 {v}",
	"HSET {k} {f} {v}", "HGETALL {k}", "HDEL {k} {f}", "HINCRBY {k} {f} {i}", "HLEN {k}", "HMGET {k} {f} {f}",
	"SADD {k} {i} {i}", "SREM {k} {i}", "SMEMBERS {k}", "SCARD {k}", "SISMEMBER {k} {i}",
	"SMOVE {k} {k} {i}", "SUNIONSTORE {k} {k} {k}", "SINTERSTORE {k} {k} {k}", "SDIFF {k} {k}",
	"ZADD {k} {i} {v}", "ZINCRBY {k} {i} {v}", "ZRANGE {k} 0 -1 WITHSCORES", "ZREM {k} {v}",
	"ZCARD {k}", "ZSCORE {k} {v}", "ZUNIONSTORE {k} 2 {k} {k}", "ZRANGEBYSCORE {k} -inf +inf",
	"ZPOPMIN {k}", "ZRANK {k} {v}",
}

func expandTemplate(rnd *rand.Rand, tmpl string) []string {
	fields := strings.Fields(tmpl)
	for i, f := range fields {
		switch f {
		case "{k}":
			fields[i] = fmt.Sprintf("k%d", rnd.IntN(8))
		case "{v}":
			fields[i] = []string{"a", "b", "ccc", "", "x y", "7"}[rnd.IntN(6)]
		case "{i}":
			fields[i] = fmt.Sprint(rnd.IntN(10))
		case "{f}":
			fields[i] = fmt.Sprintf("f%d", rnd.IntN(4))
		}
	}
	return fields
}

// TestRandomDifferential sends the same random command sequence (single
// commands and MULTI/EXEC blocks over a small key space spread across
// shards) to redis-server and schemaproxy and requires identical replies.
// It prints its seed; rerun with -random.seed to reproduce.
func TestRandomDifferential(t *testing.T) {
	seed := *randomSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (rerun with -random.seed=%d)", seed, seed)
	rnd := rand.New(rand.NewPCG(seed, seed>>7))
	ref, got := referencePair(t)
	var group difftest.Group
	add := func(args []string, mode difftest.Mode) {
		group = append(group, difftest.Case{Pos: fmt.Sprintf("op %d", len(group)), Args: args, Mode: mode})
	}
	for len(group) < *randomOps {
		if rnd.IntN(10) == 0 {
			add([]string{"MULTI"}, difftest.Exact)
			for n := rnd.IntN(4) + 1; n > 0; {
				tmpl := randomTemplates[rnd.IntN(len(randomTemplates))]
				if strings.HasPrefix(tmpl, "?") {
					continue // inexact replies would make EXEC's differ
				}
				add(expandTemplate(rnd, tmpl), difftest.Exact)
				n--
			}
			add([]string{"EXEC"}, difftest.Exact)
			continue
		}
		tmpl := randomTemplates[rnd.IntN(len(randomTemplates))]
		mode := difftest.Exact
		if strings.HasPrefix(tmpl, "?") {
			mode, tmpl = difftest.TypeOnly, tmpl[1:]
		}
		add(expandTemplate(rnd, tmpl), mode)
	}
	// After the run, every key's final state must match too.
	for i := 0; i < 8; i++ {
		k := fmt.Sprintf("k%d", i)
		add([]string{"TYPE", k}, difftest.Exact)
		add([]string{"DUMP", k}, difftest.TypeOnly)
	}
	n := difftest.Run(t, []difftest.Group{group}, ref, got, func() {
		for _, c := range []*testutil.Conn{ref, got} {
			if _, err := c.Do("FLUSHALL"); err != nil {
				t.Fatal(err)
			}
		}
	})
	if t.Failed() {
		t.Logf("seed %d reproduces the failures above", seed)
	}
	t.Logf("%d commands compared", n)
}
