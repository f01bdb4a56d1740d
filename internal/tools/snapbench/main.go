// Command snapbench measures what a background snapshot costs clients: it
// loads a server with string keys, runs a loop of GETs, starts BGSAVE and
// reports the longest GET and the 99th percentile while the snapshot ran,
// how long it ran and the server's peak RSS meanwhile. scripts/bench-snapshot.sh
// runs it against schemaproxy and redis-server in one run.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:6379", "server address")
	name := flag.String("name", "server", "label for the report")
	pid := flag.Int("pid", 0, "server pid, for RSS (0: not reported)")
	keys := flag.Int("keys", 1_000_000, "keys to load")
	flag.Parse()
	if err := run(*addr, *name, *pid, *keys); err != nil {
		fmt.Fprintln(os.Stderr, "snapbench:", err)
		os.Exit(1)
	}
}

func run(addr, name string, pid, keys int) error {
	ctx := context.Background()
	c := redis.NewClient(&redis.Options{Addr: addr, PoolSize: 4})
	defer c.Close()
	if err := load(ctx, c, keys); err != nil {
		return err
	}
	before := rssKB(pid)

	stop := make(chan struct{})
	lat := make(chan []time.Duration)
	go func() {
		var ds []time.Duration
		i := 0
		for {
			select {
			case <-stop:
				lat <- ds
				return
			default:
			}
			t := time.Now()
			c.Get(ctx, "key:"+strconv.Itoa(i%keys))
			ds = append(ds, time.Since(t))
			i += 7919
		}
	}()
	began := time.Now()
	if err := c.BgSave(ctx).Err(); err != nil {
		return fmt.Errorf("BGSAVE: %w", err)
	}
	peak := before
	for {
		peak = max(peak, rssKB(pid)+childRSS(pid))
		info, err := c.Info(ctx, "persistence").Result()
		if err != nil {
			return err
		}
		if strings.Contains(info, "rdb_bgsave_in_progress:0") && time.Since(began) > 50*time.Millisecond {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	took := time.Since(began)
	close(stop)
	ds := <-lat
	slices.Sort(ds)
	p99 := ds[len(ds)*99/100]
	info, _ := c.Info(ctx, "persistence").Result()
	cow := field(info, "rdb_last_cow_size")
	fmt.Printf("%-12s keys=%d bgsave=%v gets=%d max_get=%v p99_get=%v rss_before=%dMB rss_peak=%dMB cow=%sMB\n",
		name, keys, took.Round(time.Millisecond), len(ds), ds[len(ds)-1].Round(10*time.Microsecond),
		p99.Round(time.Microsecond), before/1024, peak/1024, mb(cow))
	return nil
}

func load(ctx context.Context, c *redis.Client, keys int) error {
	val := strings.Repeat("v", 32)
	const batch = 1000
	for i := 0; i < keys; i += batch {
		p := c.Pipeline()
		for j := i; j < min(i+batch, keys); j++ {
			p.Set(ctx, "key:"+strconv.Itoa(j), val, 0)
		}
		if _, err := p.Exec(ctx); err != nil {
			return fmt.Errorf("load: %w", err)
		}
	}
	return nil
}

func field(info, name string) string {
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), name+":"); ok {
			return v
		}
	}
	return ""
}

func mb(s string) string {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return "?"
	}
	return strconv.FormatInt(n>>20, 10)
}

// rssKB reads VmRSS of pid from /proc (0 when pid is 0 or gone).
func rssKB(pid int) int {
	if pid == 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return n
		}
	}
	return 0
}

// childRSS adds the RSS of pid's children: redis-server's snapshot is a
// forked child, whose pages are shared with the parent until written.
func childRSS(pid int) int {
	if pid == 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	if err != nil {
		return 0
	}
	n := 0
	for _, f := range strings.Fields(string(b)) {
		if c, err := strconv.Atoi(f); err == nil {
			n += rssKB(c)
		}
	}
	return n
}
