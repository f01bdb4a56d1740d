package proxy

import (
	"io"
	"net"

	"github.com/schemaproxy/schemaproxy/proto/resp"
)

// framedConn passes a client's bytes through a resp.RequestScanner before
// redcon's reader sees them, so that bad input gets what Redis gives it
// (the scanner says what it checks). Valid requests pass through unchanged,
// and whole: redcon's reader doubles its buffer whenever a read ends inside
// a request and keeps it as long as the connection lives, so a long
// pipeline handed over in arbitrary pieces would leave megabytes behind
// per connection. At a violation the requests before it are delivered
// first, then the error is written and the connection ends, as Redis does.
type framedConn struct {
	net.Conn
	scan resp.RequestScanner
	in   []byte // raw bytes read, not yet scanned
	// buf holds scanned bytes; those before off have been handed to the
	// reader. ends are where in buf each whole request not handed ends.
	buf  []byte
	off  int
	ends []int
	// err ended the connection while a blocked session watched it
	// (watch, blocking.go); Read returns it once the requests are handed.
	err error
}

func newFramedConn(c net.Conn) *framedConn {
	return &framedConn{Conn: c, in: make([]byte, 16<<10)}
}

// scanIn scans b, the stream's next bytes, into buf.
func (f *framedConn) scanIn(b []byte) {
	if f.off == len(f.buf) {
		if cap(f.buf) > 64<<10 {
			f.buf = nil // a large request's buffer goes
		}
		f.buf, f.off, f.ends = f.buf[:0], 0, f.ends[:0]
	} else if f.off > 0 && len(f.buf)+len(b) > cap(f.buf) {
		// Room by moving what is left (a request's start) to the front
		// rather than by growing.
		n := copy(f.buf, f.buf[f.off:])
		for i := range f.ends {
			f.ends[i] -= f.off
		}
		f.buf, f.off = f.buf[:n], 0
	}
	f.buf, f.ends = f.scan.ScanEnds(f.buf, b, f.ends)
}

func (f *framedConn) Read(p []byte) (int, error) {
	for len(f.ends) == 0 {
		if reason := f.scan.Reason(); reason != "" {
			_, _ = f.Conn.Write([]byte("-" + errProtocol(reason) + "\r\n"))
			return 0, io.EOF
		}
		if f.err != nil {
			return 0, f.err
		}
		n, err := f.Conn.Read(f.in)
		if n > 0 {
			f.scanIn(f.in[:n])
		}
		if err != nil && len(f.ends) == 0 {
			return 0, err
		}
	}
	// The whole requests that fit in p, or part of the first if it alone
	// does not.
	k := 0
	for k < len(f.ends) && f.ends[k]-f.off <= len(p) {
		k++
	}
	end := f.off + len(p)
	if k > 0 {
		end, f.ends = f.ends[k-1], f.ends[k:]
	}
	n := copy(p, f.buf[f.off:end])
	f.off += n
	return n, nil
}

// framedListener wraps every accepted connection in a framedConn.
type framedListener struct{ net.Listener }

func (l framedListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return newFramedConn(c), nil
}
