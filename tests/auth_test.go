package tests

import (
	"testing"

	"github.com/schemaproxy/schemaproxy/internal/testutil"
)

// TestRequirePass compares authentication replies with a redis-server that
// has the same requirepass.
func TestRequirePass(t *testing.T) {
	redis := testutil.StartRedis(t, "--requirepass", "s3cret")
	p := startProxyAuth(t, "s3cret")
	script := [][]string{
		{"GET", "k"},
		{"SET", "k", "v"},
		{"MULTI"},
		{"AUTH", "wrong"},
		{"AUTH", "default", "wrong"},
		{"AUTH", "nobody", "s3cret"},
		{"HELLO", "2", "AUTH", "default", "wrong"},
		{"AUTH", "s3cret"},
		{"SET", "k", "v"},
		{"GET", "k"},
		{"AUTH", "default", "s3cret"},
		{"RESET"},
		{"GET", "k"},
		{"HELLO", "2", "AUTH", "default", "s3cret", "SETNAME", "me"},
		{"CLIENT", "GETNAME"},
		{"GET", "k"},
	}
	run := func(addr string) []string {
		c, err := testutil.Dial(addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		var out []string
		for _, cmd := range script {
			r, err := c.Do(cmd...)
			if err != nil {
				t.Fatal(err)
			}
			if cmd[0] == "HELLO" && r[0] != '-' {
				r = []byte("(hello map)") // carries the server's version and client id
			}
			out = append(out, string(r))
		}
		return out
	}
	want, got := run(redis.Addr), run(p.Addr)
	for i := range want {
		if want[i] != got[i] {
			t.Errorf("%v: redis %q, schemaproxy %q", script[i], want[i], got[i])
		}
	}
}

// TestClientVanishesMidTransaction: a client that queues commands and
// disconnects before EXEC leaves nothing behind, and the server goes on.
func TestClientVanishesMidTransaction(t *testing.T) {
	p := startProxy(t)
	c, err := testutil.Dial(p.Addr)
	if err != nil {
		t.Fatal(err)
	}
	for _, cmd := range [][]string{{"WATCH", "w"}, {"MULTI"}, {"SET", "a", "1"}, {"SET", "b", "2"}} {
		if _, err := c.Do(cmd...); err != nil {
			t.Fatal(err)
		}
	}
	c.Close()
	c2, err := testutil.Dial(p.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if r, err := c2.Do("MGET", "a", "b"); err != nil || string(r) != "*2\r\n$-1\r\n$-1\r\n" {
		t.Fatalf("MGET after the client vanished: %q, %v", r, err)
	}
}
