// Package tests holds end-to-end tests: real schemaproxy processes and real
// redis-servers on free loopback ports, driven with go-redis and raw RESP,
// every process stopped by pid when its test ends.
package tests

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/schemaproxy/schemaproxy/internal/testutil"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// proxyBinary builds cmd/schemaproxy once per test run.
func proxyBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "schemaproxy-e2e")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "schemaproxy")
		var flags []string
		if raceEnabled {
			flags = append(flags, "-race")
		}
		buildErr = testutil.GoBuild(binPath, "github.com/schemaproxy/schemaproxy/cmd/schemaproxy", flags...)
	})
	if buildErr != nil {
		t.Fatalf("build schemaproxy: %v", buildErr)
	}
	return binPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// proxy is a running schemaproxy.
type proxy struct {
	*testutil.Process
	dataDir string
	args    []string
}

// startProxy runs schemaproxy on a free port with a fresh data directory
// (unless args name one) and waits until it answers.
func startProxy(t testing.TB, args ...string) *proxy {
	t.Helper()
	dir := t.TempDir()
	return startProxyIn(t, dir, args...)
}

// startProxyAuth runs schemaproxy with a password; it answers PING only
// after AUTH, so readiness is checked with an authenticated PING.
func startProxyAuth(t testing.TB, pass string) *proxy {
	t.Helper()
	return startProxyIn(t, t.TempDir(), "--requirepass", pass)
}

func startProxyIn(t testing.TB, dir string, args ...string) *proxy {
	t.Helper()
	port := testutil.FreePort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	full := append([]string{"--listen", addr, "--data-dir", dir}, args...)
	p := testutil.Start(t, addr, proxyBinary(t), full...)
	t.Cleanup(func() {
		if out := p.Output(); strings.Contains(out, "DATA RACE") || strings.Contains(out, "panic:") {
			t.Errorf("schemaproxy reported a data race or panic:\n%s", out)
		}
	})
	return &proxy{Process: p, dataDir: dir, args: args}
}

// client returns a go-redis client for addr, closed when the test ends.
func client(t testing.TB, addr string, opts ...func(*redis.Options)) *redis.Client {
	t.Helper()
	o := &redis.Options{Addr: addr, Protocol: 2, MaxRetries: -1, PoolSize: 64,
		ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second}
	for _, f := range opts {
		f(o)
	}
	c := redis.NewClient(o)
	t.Cleanup(func() { c.Close() })
	return c
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// referencePair starts a redis-server and a schemaproxy and returns a raw
// connection to each, closed when the test ends: the two sides of a
// differential test.
func referencePair(t testing.TB, proxyArgs ...string) (ref, got *testutil.Conn) {
	t.Helper()
	redis := testutil.StartRedis(t)
	p := startProxy(t, proxyArgs...)
	var err error
	if ref, err = testutil.Dial(redis.Addr); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ref.Close() })
	if got, err = testutil.Dial(p.Addr); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { got.Close() })
	return ref, got
}
