// Command membench measures what keys cost in memory: it loads one data set
// into fresh servers (schemaproxy's embedded store and a redis-server,
// started by scripts/bench-memory.sh) with pipelining, and prints RSS and
// used_memory per key for each, after 5 s idle, after a SAVE, and their
// ratios. SAVE growth is the RSS after SAVE over the idle RSS.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// dataset is one load: n keys, each written by the commands of add.
type dataset struct {
	keys int
	add  func(p redis.Pipeliner, ctx context.Context, i int)
}

var datasets = map[string]dataset{
	"strings": {1_000_000, func(p redis.Pipeliner, ctx context.Context, i int) {
		p.Set(ctx, "key:"+strconv.Itoa(i), value32(i), 0)
	}},
	"hashes": {100_000, func(p redis.Pipeliner, ctx context.Context, i int) {
		args := make([]any, 0, 20)
		for j := 0; j < 10; j++ {
			args = append(args, "field:"+strconv.Itoa(j), "value:"+strconv.Itoa(i+j))
		}
		p.HSet(ctx, "hash:"+strconv.Itoa(i), args...)
	}},
	"sets": {100_000, func(p redis.Pipeliner, ctx context.Context, i int) {
		args := make([]any, 0, 10)
		for j := 0; j < 10; j++ {
			args = append(args, "member:"+strconv.Itoa(i+j))
		}
		p.SAdd(ctx, "set:"+strconv.Itoa(i), args...)
	}},
	"zsets": {100_000, func(p redis.Pipeliner, ctx context.Context, i int) {
		zs := make([]redis.Z, 10)
		for j := range zs {
			zs[j] = redis.Z{Score: float64(j), Member: "member:" + strconv.Itoa(i+j)}
		}
		p.ZAdd(ctx, "zset:"+strconv.Itoa(i), zs...)
	}},
	"lists": {1_000, func(p redis.Pipeliner, ctx context.Context, i int) {
		for chunk := 0; chunk < 10; chunk++ {
			args := make([]any, 100)
			for j := range args {
				args[j] = "element:" + strconv.Itoa(chunk*100+j)
			}
			p.RPush(ctx, "list:"+strconv.Itoa(i), args...)
		}
	}},
}

func value32(i int) string {
	s := strconv.Itoa(i)
	return strings.Repeat("x", 32-len(s)) + s
}

type server struct {
	name string
	addr string
	pid  int
}

type result struct {
	rss, used, rssIdle, rssSaved int64
}

// settle is how long a server is left idle before RSS is read again: both
// return freed memory to the system in the background (jemalloc's decay,
// schemaproxy's idle release).
const settle = 5 * time.Second

func main() {
	set := flag.String("dataset", "strings", "strings, hashes, sets, zsets or lists")
	servers := []server{{name: "redis"}, {name: "schemaproxy"}}
	addrs, pids := make([]*string, len(servers)), make([]*int, len(servers))
	for i, s := range servers {
		addrs[i] = flag.String(s.name+"-addr", "", s.name+" address")
		pids[i] = flag.Int(s.name+"-pid", 0, s.name+" pid, for RSS")
	}
	header := flag.Bool("header", false, "print the table's header first")
	flag.Parse()
	ds, ok := datasets[*set]
	if !ok {
		fmt.Fprintln(os.Stderr, "membench: unknown data set", *set)
		os.Exit(2)
	}
	if *header {
		fmt.Printf("%-9s %9s  %-12s %9s %9s %9s %10s %9s\n", "data set", "keys", "server", "RSS/key", "used/key", "RSS/key", "RSS/key", "SAVE")
		fmt.Printf("%-9s %9s  %-12s %9s %9s %9s %10s %9s\n", "", "", "", "", "", "idle 5 s", "after SAVE", "growth")
	}
	res := map[string]result{}
	for i := range servers {
		s := &servers[i]
		s.addr, s.pid = *addrs[i], *pids[i]
		r, err := measure(*s, ds)
		if err != nil {
			fmt.Fprintf(os.Stderr, "membench: %s: %v\n", s.name, err)
			os.Exit(1)
		}
		res[s.name] = r
		n := int64(ds.keys)
		fmt.Printf("%-9s %9d  %-12s %9d %9d %9d %10d %8.1f%%\n", *set, ds.keys, s.name, r.rss/n, r.used/n, r.rssIdle/n, r.rssSaved/n,
			100*float64(r.rssSaved-r.rssIdle)/float64(max(r.rssIdle, 1)))
	}
	a, b := res["schemaproxy"], res["redis"]
	fmt.Printf("%-9s %9s  %-12s %8.2fx %8.2fx %8.2fx %9.2fx\n", *set, "", "ratio", ratio(a.rss, b.rss), ratio(a.used, b.used),
		ratio(a.rssIdle, b.rssIdle), ratio(a.rssSaved, b.rssSaved))
}

func ratio(a, b int64) float64 { return float64(a) / float64(max(b, 1)) }

// measure loads ds into s and returns the growth of RSS and used_memory
// over the empty server, and of RSS after a SAVE.
func measure(s server, ds dataset) (result, error) {
	ctx := context.Background()
	c := redis.NewClient(&redis.Options{Addr: s.addr, PoolSize: 1, ReadTimeout: -1, WriteTimeout: -1})
	defer c.Close()
	rss0, used0 := rss(s.pid), usedMemory(ctx, c)
	const batch = 1000
	for i := 0; i < ds.keys; i += batch {
		p := c.Pipeline()
		for j := i; j < min(i+batch, ds.keys); j++ {
			ds.add(p, ctx, j)
		}
		if _, err := p.Exec(ctx); err != nil {
			return result{}, err
		}
	}
	if n, err := c.DBSize(ctx).Result(); err != nil || n != int64(ds.keys) {
		return result{}, fmt.Errorf("DBSIZE %d after loading %d keys (%v)", n, ds.keys, err)
	}
	r := result{rss: rss(s.pid) - rss0, used: usedMemory(ctx, c) - used0}
	time.Sleep(settle) // the idle period itself is what is measured
	r.rssIdle = rss(s.pid) - rss0
	if err := c.Save(ctx).Err(); err != nil {
		return result{}, err
	}
	r.rssSaved = rss(s.pid) - rss0
	return r, nil
}

func usedMemory(ctx context.Context, c *redis.Client) int64 {
	info, err := c.Info(ctx, "memory").Result()
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, "used_memory:"); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	return 0
}

// rss is pid's resident set in bytes, from /proc.
func rss(pid int) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}
