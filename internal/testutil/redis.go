// Package testutil starts and stops the real processes that tests run
// against (redis-server, schemaproxy) on free loopback ports, and gives raw
// RESP connections to them.
package testutil

import (
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/schemaproxy/schemaproxy/proto/resp"
)

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Process is a server started by a test; it is killed (by pid) when the test
// ends.
type Process struct {
	Addr string
	Cmd  *exec.Cmd
	done chan struct{}
	out  *SyncBuffer
}

// Kill stops the process with SIGKILL and waits for it.
func (p *Process) Kill() {
	if p.Cmd.Process != nil {
		_ = p.Cmd.Process.Kill()
	}
	<-p.done
}

// Output is what the process printed so far.
func (p *Process) Output() string { return p.out.String() }

// Start runs bin with args, registers its kill in t.Cleanup and waits until
// addr accepts a PING.
func Start(t testing.TB, addr, bin string, args ...string) *Process {
	t.Helper()
	cmd := exec.Command(bin, args...)
	out := &SyncBuffer{}
	cmd.Stdout = out
	cmd.Stderr = out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	p := &Process{Addr: addr, Cmd: cmd, done: make(chan struct{}), out: out}
	go func() { _ = cmd.Wait(); close(p.done) }()
	t.Cleanup(p.Kill)
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := Dial(addr)
		if err == nil {
			reply, err := c.Do("PING")
			c.Close()
			// A server with a password answers NOAUTH: it is up all the same.
			if err == nil && (string(reply) == "+PONG\r\n" || strings.HasPrefix(string(reply), "-NOAUTH")) {
				return p
			}
		}
		select {
		case <-p.done:
			t.Fatalf("%s exited before serving: %s", bin, out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not answer PING on %s: %s", bin, addr, out.String())
		}
		time.Sleep(20 * time.Millisecond) // polling a process we do not control
	}
}

// RedisServer returns the path of redis-server or fails the test with how to
// get it.
func RedisServer(t testing.TB) string {
	t.Helper()
	path, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatal("redis-server not found: install the Debian package redis-server (make test does)")
	}
	return path
}

// StartRedis starts a redis-server with no persistence on a free port.
func StartRedis(t testing.TB, extra ...string) *Process {
	t.Helper()
	port := FreePort(t)
	dir := t.TempDir()
	args := append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", dir, "--daemonize", "no"}, extra...)
	return Start(t, fmt.Sprintf("127.0.0.1:%d", port), RedisServer(t), args...)
}

// Conn is a raw RESP connection that returns replies as bytes.
type Conn struct {
	c    net.Conn
	rd   *resp.Reader
	addr string
}

// Dial connects to addr.
func Dial(addr string) (*Conn, error) {
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return nil, err
	}
	return &Conn{c: c, rd: resp.NewReader(c), addr: addr}, nil
}

// Addr is the address the connection was dialed to.
func (c *Conn) Addr() string { return c.addr }

// Close closes the connection.
func (c *Conn) Close() error { return c.c.Close() }

// Do sends one command and returns its raw reply.
func (c *Conn) Do(args ...string) ([]byte, error) {
	bs := make([][]byte, len(args))
	for i, a := range args {
		bs[i] = []byte(a)
	}
	return c.DoBytes(bs...)
}

// DoBytes sends one command and returns a copy of its raw reply.
func (c *Conn) DoBytes(args ...[]byte) ([]byte, error) {
	_ = c.c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.c.Write(resp.AppendCommand(nil, args...)); err != nil {
		return nil, err
	}
	return c.ReadReply()
}

// WriteRaw sends bytes as they are.
func (c *Conn) WriteRaw(b []byte) error {
	_ = c.c.SetDeadline(time.Now().Add(10 * time.Second))
	_, err := c.c.Write(b)
	return err
}

// ReadReply reads one raw reply.
func (c *Conn) ReadReply() ([]byte, error) {
	_ = c.c.SetDeadline(time.Now().Add(10 * time.Second))
	raw, err := c.rd.ReadRaw()
	if err != nil {
		return nil, err
	}
	return append([]byte(nil), raw...), nil
}

// GoBuild builds the package pkg (an import path) into out.
func GoBuild(out, pkg string, flags ...string) error {
	args := append(append([]string{"build"}, flags...), "-o", out, pkg)
	cmd := exec.Command("go", args...)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %w\n%s", pkg, err, b)
	}
	return nil
}

// Done is closed when the process has exited.
func (p *Process) Done() <-chan struct{} { return p.done }
