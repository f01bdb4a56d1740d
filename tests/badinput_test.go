package tests

import (
	"bytes"
	"net"
	"testing"
	"time"

	"github.com/schemaproxy/schemaproxy/internal/testutil"
)

// sendRaw writes in to addr and returns everything read until the server
// closes the connection or stays quiet for a moment, with "<EOF>" or
// "<open>" appended.
func sendRaw(t *testing.T, addr string, in []byte) string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write(in); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	buf := make([]byte, 4096)
	for {
		_ = c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		n, err := c.Read(buf)
		out.Write(buf[:n])
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				return out.String() + "<open>"
			}
			return out.String() + "<EOF>"
		}
	}
}

// TestMalformedRequests: malformed RESP gets Redis's error and, like Redis,
// the connection is closed only where Redis closes it; the server lives on.
func TestMalformedRequests(t *testing.T) {
	redis := testutil.StartRedis(t)
	p := startProxy(t)
	cases := []string{
		"*1\r\n$-5\r\n",
		"*abc\r\n",
		"*2\r\n$3\r\nGET\r\n:1\r\n",
		"*99999999999\r\n",
		"*1\r\n$999999999999\r\n",
		"*0\r\nPING\r\n",
		"*-1\r\nPING\r\n",
		"\"unbalanced\r\n",
		"*1\r\n$4\r\nPINGxx\r\n",
		"PING \"a b\" 'c'\r\n",
		"\r\n\r\nPING\r\n",
		"*3\r\n$3\r\nSET\r\n$1\r\n\x00\r\n$2\r\n\xff\xfe\r\n*2\r\n$3\r\nGET\r\n$1\r\n\x00\r\n",
		"*1\r\n$4\r\nPING\n",
		"*2\r\n$4\r\nPING\r\n",
		"ECHO \"a\\x41b\"\r\n",
		"SET\tk v\r\nGET k\r\n",
		"ECHO a\"b c\" 'it\\'s'\r\n",
		"ECHO 'x'y\r\n",
		"ECHO \"unterminated\r\n",
		"ECHO a\x00b\r\nPING\r\n",
	}
	for _, in := range cases {
		want := sendRaw(t, redis.Addr, []byte(in))
		got := sendRaw(t, p.Addr, []byte(in))
		if want != got {
			t.Errorf("%q:\n  redis: %q\n  got:   %q", in, want, got)
		}
	}
	if got := sendRaw(t, p.Addr, []byte("PING\r\n")); got != "+PONG\r\n<open>" {
		t.Fatalf("server unusable after bad input: %q", got)
	}
}
