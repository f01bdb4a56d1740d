// Package redis keeps shards in real Redis servers: user data in native
// Redis types under the users' own key names, with the versions, locks and
// transaction records of the protocol in DESIGN.md under a reserved prefix
// (scripts.go), every client's requests sharing one pipelined connection
// per backend (conn.go). This file holds what a deployment is checked
// against before any data moves: each backend's address (redis:// or
// rediss:// URLs, as go-redis parses them) and the settings that would let
// a committed transaction be lost or half applied.
package redis

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	goredis "github.com/redis/go-redis/v9"
)

// Facts are what a backend says of itself, as far as safety goes.
type Facts struct {
	// Addr is how the backend was reached (host:port).
	Addr string
	// Version is redis_version, e.g. 7.0.15.
	Version string
	// RunID identifies the server process (INFO server run_id).
	RunID string
	// Role is master or slave.
	Role string
	// MaxmemoryPolicy, AppendOnly and AppendFsync are the CONFIG values.
	MaxmemoryPolicy string
	AppendOnly      string
	AppendFsync     string
	// Databases is the CONFIG value: how many numbered databases it has.
	Databases int
}

// Gather reads a backend's facts with INFO and CONFIG GET.
func Gather(ctx context.Context, c *goredis.Client) (Facts, error) {
	f := Facts{Addr: c.Options().Addr}
	info, err := c.Info(ctx, "server", "replication").Result()
	if err != nil {
		return f, fmt.Errorf("backend %s: INFO: %w", f.Addr, err)
	}
	fields := parseInfo(info)
	f.Version, f.RunID, f.Role = fields["redis_version"], fields["run_id"], fields["role"]
	cfg, err := c.ConfigGet(ctx, "*").Result()
	if err != nil {
		return f, fmt.Errorf("backend %s: CONFIG GET: %w", f.Addr, err)
	}
	f.MaxmemoryPolicy, f.AppendOnly, f.AppendFsync = cfg["maxmemory-policy"], cfg["appendonly"], cfg["appendfsync"]
	f.Databases, _ = strconv.Atoi(cfg["databases"])
	return f, nil
}

func parseInfo(info string) map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(info, "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), ":"); ok {
			out[k] = v
		}
	}
	return out
}

// ErrUnsafe marks a backend setting that could lose or tear a committed
// transaction.
var ErrUnsafe = errors.New("unsafe backend")

// Check returns, in one line each, why the backends could lose or tear a
// committed transaction:
//   - a maxmemory-policy other than noeviction evicts locks and records;
//   - persistence must make a commit durable before it is acknowledged:
//     appendonly yes with appendfsync always. (Redis 7.2's WAITAOF would
//     do with everysec, but it holds the connection it is sent on until
//     the next fsync, up to a second, and every client's requests share
//     that connection.)
//   - a replica cannot take writes, and its data lags its master's;
//   - two backends that are one server (same run_id) would hold each
//     other's keys.
func Check(backends []Facts) []error {
	var errs []error
	seen := map[string]string{}
	for _, f := range backends {
		unsafe := func(format string, args ...any) {
			errs = append(errs, fmt.Errorf("%w: backend %s: %s", ErrUnsafe, f.Addr, fmt.Sprintf(format, args...)))
		}
		if f.MaxmemoryPolicy != "noeviction" {
			unsafe("maxmemory-policy is %s; it must be noeviction, or eviction may drop transaction locks and records", f.MaxmemoryPolicy)
		}
		switch {
		case f.AppendOnly != "yes":
			unsafe("appendonly is %s; it must be yes, or a restart loses committed transactions", f.AppendOnly)
		case f.AppendFsync != "always":
			unsafe("appendfsync is %s; it must be always, or a crash loses committed transactions", f.AppendFsync)
		}
		if f.Role != "master" {
			unsafe("it is a %s; backends must be masters", f.Role)
		}
		if other, dup := seen[f.RunID]; dup && f.RunID != "" {
			unsafe("it is the same server as backend %s (run_id %s)", other, f.RunID)
		}
		seen[f.RunID] = f.Addr
	}
	return errs
}

// CheckDatabases refuses backends with fewer numbered databases than the
// proxy serves: database n of a client is database n of every backend.
// Unlike Check's findings this cannot be overridden.
func CheckDatabases(backends []Facts, databases int) error {
	for _, f := range backends {
		if f.Databases < databases {
			return fmt.Errorf("backend %s: has %d databases and the proxy serves %d; start it with --databases %d or more, or the proxy with --databases %d",
				f.Addr, f.Databases, databases, databases, f.Databases)
		}
	}
	return nil
}

// Options parses a backend URL: redis://[user:pass@]host:port[/db] or
// rediss:// for TLS. The database is the client's: a URL naming one is
// refused, as database n of a client is database n of every backend.
func Options(url string) (*goredis.Options, error) {
	o, err := goredis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("backend %q: %w", url, err)
	}
	if o.DB != 0 {
		return nil, fmt.Errorf("backend %q: names database %d; backends take the client's database, so give none", url, o.DB)
	}
	return o, nil
}
