package proxy

import (
	"bytes"
	"errors"
	"io"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/schemaproxy/schemaproxy/proto/resp"
)

// pipeConn is a net.Conn reading from a fixed input in chunks and recording
// what is written to it.
type pipeConn struct {
	net.Conn
	in      []byte
	chunk   int
	written bytes.Buffer
}

func (c *pipeConn) Read(p []byte) (int, error) {
	if len(c.in) == 0 {
		return 0, io.EOF
	}
	n := min(len(p), c.chunk, len(c.in))
	copy(p, c.in[:n])
	c.in = c.in[n:]
	return n, nil
}

func (c *pipeConn) Write(p []byte) (int, error)     { return c.written.Write(p) }
func (c *pipeConn) SetReadDeadline(time.Time) error { return nil }

func readAll(t *testing.T, in string, chunk int) (passed, written string) {
	t.Helper()
	pc := &pipeConn{in: []byte(in), chunk: chunk}
	f := newFramedConn(pc)
	var out bytes.Buffer
	buf := make([]byte, 7)
	for {
		n, err := f.Read(buf)
		out.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return out.String(), pc.written.String()
}

func TestFramedConn(t *testing.T) {
	cases := []struct {
		name, in, passed, err string
	}{
		{"valid pipeline", "*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n$1\r\na\r\n", "*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n$1\r\na\r\n", ""},
		{"inline", "PING\r\nECHO x\n", "*1\r\n$4\r\nPING\r\n*2\r\n$4\r\nECHO\r\n$1\r\nx\r\n", ""},
		{"inline quoting", "SET\t\"a b\" 'c\\'d' \"\\x41\"\r\n", "*4\r\n$3\r\nSET\r\n$3\r\na b\r\n$3\r\nc'd\r\n$1\r\nA\r\n", ""},
		{"inline unbalanced", "ECHO \"a\r\n", "", "unbalanced quotes in request"},
		{"inline NUL waits", "ECHO a\x00b\r\nPING\r\n", "", ""},
		{"empty multibulks skipped", "*0\r\n*-1\r\n*1\r\n$4\r\nPING\r\n", "*1\r\n$4\r\nPING\r\n", ""},
		{"terminator normalised", "*1\r\n$4\r\nPINGxx", "*1\r\n$4\r\nPING\r\n", ""},
		{"binary payload with newlines", "*1\r\n$3\r\n\n\r\n\r\n", "*1\r\n$3\r\n\n\r\n\r\n", ""},
		{"huge multibulk", "*1\r\n$4\r\nPING\r\n*99999999999\r\n", "*1\r\n$4\r\nPING\r\n", "invalid multibulk length"},
		{"huge bulk", "*1\r\n$999999999999\r\n", "*1\r\n", "invalid bulk length"},
		{"negative bulk", "*1\r\n$-5\r\n", "*1\r\n", "invalid bulk length"},
		{"not a bulk", "*2\r\n$3\r\nGET\r\n:1\r\n", "*2\r\n$3\r\nGET\r\n", "expected '$', got ':'"},
		{"bad count", "*abc\r\n", "", "invalid multibulk length"},
		{"too big inline", string(bytes.Repeat([]byte("a"), maxInlineLen+10)), "", "too big inline request"},
	}
	for _, c := range cases {
		for _, chunk := range []int{1, 3, 1 << 20} {
			passed, written := readAll(t, c.in, chunk)
			wantErr := ""
			if c.err != "" {
				wantErr = "-ERR Protocol error: " + c.err + "\r\n"
			}
			if c.name == "too big inline" {
				if written != wantErr {
					t.Errorf("%s chunk %d: wrote %q", c.name, chunk, written)
				}
				continue
			}
			if passed != c.passed || written != wantErr {
				t.Errorf("%s chunk %d: passed %q wrote %q; want %q, %q", c.name, chunk, passed, written, c.passed, wantErr)
			}
		}
	}
}

// FuzzFramedConn: whatever comes in, what goes out is a sequence of
// well-formed multibulk requests (the last possibly incomplete), and any
// error written is a protocol error; the scanner never panics.
func FuzzFramedConn(f *testing.F) {
	f.Add([]byte("*1\r\n$4\r\nPING\r\n"), uint8(3))
	f.Add([]byte("*0\r\nPING\r\n*2\r\n$1\r\n"), uint8(1))
	f.Add([]byte("ECHO \"a\\x41\" 'b'\r\n"), uint8(2))
	f.Fuzz(func(t *testing.T, in []byte, chunk uint8) {
		passed, written := readAll(t, string(in), int(chunk)%16+1)
		b := []byte(passed)
		for len(b) > 0 {
			v, n, err := resp.Parse(b)
			if errors.Is(err, resp.ErrIncomplete) || (err != nil && hugeButValidCount(b)) {
				break // the rest of this request has not arrived
			}
			if err != nil || v.Kind != resp.KindArray || len(v.Elems) == 0 {
				t.Fatalf("passed malformed request %q (%v) from %q", b, err, in)
			}
			for _, e := range v.Elems {
				if e.Kind != resp.KindBulk || e.Null {
					t.Fatalf("passed a non-bulk argument in %q", b[:n])
				}
			}
			b = b[n:]
		}
		if written != "" && !bytes.HasPrefix([]byte(written), []byte("-ERR Protocol error: ")) {
			t.Fatalf("wrote %q", written)
		}
	})
}

// hugeButValidCount reports whether b starts with a multibulk header whose
// count Redis accepts but resp.Parse's own, smaller limit refuses.
func hugeButValidCount(b []byte) bool {
	i := bytes.IndexByte(b, '\r')
	if len(b) == 0 || b[0] != '*' || i < 0 {
		return false
	}
	n, err := strconv.ParseInt(string(b[1:i]), 10, 64)
	return err == nil && n > 0 && n <= maxMultibulkLen
}
