package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/schemaproxy/schemaproxy/internal/testutil"
)

func TestPingEchoSelect(t *testing.T) {
	p := startProxy(t)
	c := client(t, p.Addr)
	ctx := ctxT(t)
	if got, err := c.Ping(ctx).Result(); err != nil || got != "PONG" {
		t.Fatalf("PING = %q, %v", got, err)
	}
	if got, err := c.Echo(ctx, "héllo\x00").Result(); err != nil || got != "héllo\x00" {
		t.Fatalf("ECHO = %q, %v", got, err)
	}
	if err := c.Do(ctx, "SELECT", "16").Err(); err == nil || err.Error() != "ERR DB index is out of range" {
		t.Fatalf("SELECT 16: %v", err)
	}
}

// TestURLDatabase: a client that takes the database from its URL sees only
// that database's keys.
func TestURLDatabase(t *testing.T) {
	p := startProxy(t)
	ctx := ctxT(t)
	opt, err := redis.ParseURL("redis://" + p.Addr + "/5")
	if err != nil {
		t.Fatal(err)
	}
	c5 := redis.NewClient(opt)
	defer c5.Close()
	c0 := client(t, p.Addr)
	if err := c0.RPush(ctx, "k", "db0").Err(); err != nil {
		t.Fatal(err)
	}
	if err := c5.RPush(ctx, "k", "db5").Err(); err != nil {
		t.Fatal(err)
	}
	got, err := c5.LRange(ctx, "k", 0, -1).Result()
	if err != nil || len(got) != 1 || got[0] != "db5" {
		t.Fatalf("db5 sees %v, %v", got, err)
	}
	if n, err := c5.DBSize(ctx).Result(); err != nil || n != 1 {
		t.Fatalf("DBSIZE in db5 = %d, %v", n, err)
	}
}

// TestStartupErrors: a busy port or an unusable data directory is a
// one-line error and exit status 1.
func TestStartupErrors(t *testing.T) {
	bin := proxyBinary(t)
	busy := startProxy(t)
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"busy port", []string{"--listen", busy.Addr, "--data-dir", t.TempDir()}, "listen on"},
		{"data dir is a file", []string{"--listen", "127.0.0.1:0", "--data-dir", filepath.Join(file, "sub")}, "data directory"},
		{"bad fsync", []string{"--appendfsync", "sometimes"}, "appendfsync"},
		{"bad shards", []string{"--shards", "0"}, "shards"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, err := exec.Command(bin, c.args...).CombinedOutput()
			ee, ok := err.(*exec.ExitError)
			if !ok || ee.ExitCode() != 1 {
				t.Fatalf("exit: %v, output %q", err, out)
			}
			lines := strings.Split(strings.TrimSpace(string(out)), "\n")
			if len(lines) != 1 || !strings.Contains(lines[0], c.want) {
				t.Fatalf("want one line mentioning %q, got %q", c.want, out)
			}
		})
	}
}

func TestVersionFlag(t *testing.T) {
	out, err := exec.Command(proxyBinary(t), "--version").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "schemaproxy ") {
		t.Fatalf("--version: %q, %v", out, err)
	}
}

var _ = testutil.FreePort

// TestShutdownCommand: SHUTDOWN stops the server cleanly, and what was
// written is there after a restart.
func TestShutdownCommand(t *testing.T) {
	p := startProxy(t, "--appendfsync", "everysec")
	ctx := ctxT(t)
	c := client(t, p.Addr)
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.Do(ctx, "SHUTDOWN", "BOGUS").Err(); err == nil || err.Error() != "ERR syntax error" {
		t.Fatalf("SHUTDOWN BOGUS: %v", err)
	}
	_ = c.Shutdown(ctx).Err() // the connection closes instead of a reply
	select {
	case <-p.Done():
	case <-time.After(30 * time.Second):
		t.Fatal("server still running 30 s after SHUTDOWN")
	}
	if code := p.Cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("exit status %d after SHUTDOWN:\n%s", code, p.Output())
	}
	q := startProxyIn(t, p.dataDir)
	if v, err := client(t, q.Addr).Get(ctx, "k").Result(); err != nil || v != "v" {
		t.Fatalf("after SHUTDOWN and restart: %q, %v", v, err)
	}
}
