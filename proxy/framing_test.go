package proxy

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"strings"
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

// TestFramedConn: the wrapper hands the reader the whole requests
// resp.RequestScanner passes (its own cases are in proto/resp), and at a
// violation delivers the requests before it, then writes Redis's protocol
// error and ends.
func TestFramedConn(t *testing.T) {
	cases := []struct {
		name, in, passed, written string
	}{
		{"valid pipeline", "*1\r\n$4\r\nPING\r\nECHO x\n", "*1\r\n$4\r\nPING\r\n*2\r\n$4\r\nECHO\r\n$1\r\nx\r\n", ""},
		{"huge multibulk", "*1\r\n$4\r\nPING\r\n*99999999999\r\n", "*1\r\n$4\r\nPING\r\n", "-ERR Protocol error: invalid multibulk length\r\n"},
		{"not a bulk", "*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n:1\r\n", "*1\r\n$4\r\nPING\r\n", "-ERR Protocol error: expected '$', got ':'\r\n"},
	}
	for _, c := range cases {
		for _, chunk := range []int{1, 3, 1 << 20} {
			pc := &pipeConn{in: []byte(c.in), chunk: chunk}
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
			if out.String() != c.passed || pc.written.String() != c.written {
				t.Errorf("%s chunk %d: passed %q wrote %q; want %q, %q", c.name, chunk, out.String(), pc.written.String(), c.passed, c.written)
			}
		}
	}
}

// TestFramedConnHandsWholeRequests: a long pipeline arriving in pieces of
// any size reaches the reader as whole requests whenever they fit its
// buffer, and the wrapper's own buffer stays small however long the
// pipeline is.
func TestFramedConnHandsWholeRequests(t *testing.T) {
	var in, want bytes.Buffer
	for i := range 20_000 {
		req := fmt.Sprintf("*3\r\n$5\r\nRPUSH\r\n$4\r\nlist\r\n$%d\r\n%s\r\n", 10+i%40, strings.Repeat("x", 10+i%40))
		in.WriteString(req)
	}
	want.Write(in.Bytes())
	for _, chunk := range []int{1, 37, 4096, 1 << 20} {
		pc := &pipeConn{in: bytes.Clone(in.Bytes()), chunk: chunk}
		f := newFramedConn(pc)
		var out bytes.Buffer
		buf := make([]byte, 4096)
		var scan resp.RequestScanner
		maxBuf := 0
		for {
			n, err := f.Read(buf)
			out.Write(buf[:n])
			if n > 0 {
				// What was handed ends at a request's end.
				if _, ends := scan.ScanEnds(nil, buf[:n], nil); len(ends) == 0 || ends[len(ends)-1] != n {
					t.Fatalf("chunk %d: a read of %d bytes ends inside a request", chunk, n)
				}
			}
			maxBuf = max(maxBuf, cap(f.buf))
			if err != nil {
				break
			}
		}
		if !bytes.Equal(out.Bytes(), want.Bytes()) {
			t.Fatalf("chunk %d: the requests changed on the way", chunk)
		}
		if maxBuf > 128<<10 { // about two reads of the connection
			t.Fatalf("chunk %d: the buffer grew to %d bytes", chunk, maxBuf)
		}
	}
}
