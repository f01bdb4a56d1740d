package redis

import (
	"context"
	"errors"
	"strings"
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"github.com/schemaproxy/schemaproxy/internal/testutil"
)

func TestCheck(t *testing.T) {
	safe := Facts{Addr: "a:1", Version: "7.0.15", RunID: "r1", Role: "master",
		MaxmemoryPolicy: "noeviction", AppendOnly: "yes", AppendFsync: "always"}
	with := func(f func(*Facts)) Facts { c := safe; f(&c); return c }
	cases := []struct {
		name  string
		facts []Facts
		want  []string // a word each error must hold, in order
	}{
		{"safe", []Facts{safe}, nil},
		{"eviction", []Facts{with(func(f *Facts) { f.MaxmemoryPolicy = "allkeys-lru" })}, []string{"maxmemory-policy"}},
		{"no aof", []Facts{with(func(f *Facts) { f.AppendOnly = "no" })}, []string{"appendonly"}},
		{"everysec on 7.0", []Facts{with(func(f *Facts) { f.AppendFsync = "everysec" })}, []string{"appendfsync"}},
		{"everysec on 7.2", []Facts{with(func(f *Facts) { f.AppendFsync = "everysec"; f.Version = "7.2.4" })}, []string{"appendfsync"}},
		{"no fsync on 8.0", []Facts{with(func(f *Facts) { f.AppendFsync = "no"; f.Version = "8.0.1" })}, []string{"appendfsync"}},
		{"replica", []Facts{with(func(f *Facts) { f.Role = "slave" })}, []string{"slave"}},
		{"same server twice", []Facts{safe, with(func(f *Facts) { f.Addr = "b:2" })}, []string{"same server"}},
		{"two problems", []Facts{with(func(f *Facts) { f.Role = "slave"; f.MaxmemoryPolicy = "volatile-lru" })},
			[]string{"maxmemory-policy", "slave"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			errs := Check(c.facts)
			if len(errs) != len(c.want) {
				t.Fatalf("Check = %v, want %d errors", errs, len(c.want))
			}
			for i, err := range errs {
				if !errors.Is(err, ErrUnsafe) || !strings.Contains(err.Error(), c.want[i]) {
					t.Errorf("error %d = %v, want one about %q", i, err, c.want[i])
				}
			}
		})
	}
}

// TestGatherFromRedis reads the facts of real redis-servers: one set up
// safely, one not, and the same one twice.
func TestGatherFromRedis(t *testing.T) {
	ctx := context.Background()
	safe := testutil.StartRedis(t, "--appendonly", "yes", "--appendfsync", "always")
	unsafe := testutil.StartRedis(t, "--maxmemory-policy", "allkeys-lru")
	gather := func(addr string) Facts {
		c := goredis.NewClient(&goredis.Options{Addr: addr})
		defer c.Close()
		f, err := Gather(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	s, u := gather(safe.Addr), gather(unsafe.Addr)
	if errs := Check([]Facts{s}); len(errs) != 0 {
		t.Fatalf("a safe redis-server refused: %v", errs)
	}
	if errs := Check([]Facts{u}); len(errs) != 2 {
		t.Fatalf("redis-server with allkeys-lru and no AOF: %v", errs)
	}
	if errs := Check([]Facts{s, gather(safe.Addr)}); len(errs) != 1 || !strings.Contains(errs[0].Error(), "same server") {
		t.Fatalf("one server named twice: %v", errs)
	}
}

func TestOptions(t *testing.T) {
	for _, c := range []struct {
		url, addr, user, pass string
		tls, bad              bool
	}{
		{url: "redis://127.0.0.1:7000", addr: "127.0.0.1:7000"},
		{url: "redis://u:p@10.0.0.1:7001", addr: "10.0.0.1:7001", user: "u", pass: "p"},
		{url: "rediss://h:6380", addr: "h:6380", tls: true},
		{url: "redis://h:1/3", bad: true},
		{url: "http://h:1", bad: true},
	} {
		o, err := Options(c.url)
		if c.bad {
			if err == nil {
				t.Errorf("%s accepted", c.url)
			}
			continue
		}
		if err != nil || o.Addr != c.addr || o.Username != c.user || o.Password != c.pass || (o.TLSConfig != nil) != c.tls {
			t.Errorf("%s = %+v, %v", c.url, o, err)
		}
	}
}

func TestCheckDatabases(t *testing.T) {
	facts := []Facts{{Addr: "a:1", Databases: 16}, {Addr: "b:2", Databases: 4}}
	if err := CheckDatabases(facts, 4); err != nil {
		t.Fatalf("4 databases on backends of 16 and 4: %v", err)
	}
	err := CheckDatabases(facts, 16)
	if err == nil || !strings.Contains(err.Error(), "b:2") {
		t.Fatalf("16 databases on a backend of 4: %v", err)
	}
}
