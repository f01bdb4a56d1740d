package proxy

import (
	"io"
	"net"

	"github.com/schemaproxy/schemaproxy/proto/resp"
)

// framedConn passes a client's bytes through a resp.RequestScanner before
// redcon's reader sees them, so that bad input gets what Redis gives it
// (the scanner says what it checks). Valid bytes pass through unchanged;
// at a violation the bytes before it are delivered first, then the error
// is written and the connection ends, as Redis does.
type framedConn struct {
	net.Conn
	scan resp.RequestScanner
	in   []byte // raw bytes read, not yet scanned
	out  []byte // scanned bytes not yet handed to the reader
	// buf is out's backing array, reused once out is drained (unless a
	// large request grew it).
	buf []byte
	// err ended the connection while a blocked session watched it
	// (watch, blocking.go); Read returns it once out is drained.
	err error
}

func newFramedConn(c net.Conn) *framedConn {
	return &framedConn{Conn: c, in: make([]byte, 16<<10)}
}

func (f *framedConn) Read(p []byte) (int, error) {
	for len(f.out) == 0 {
		if reason := f.scan.Reason(); reason != "" {
			_, _ = f.Conn.Write([]byte("-" + errProtocol(reason) + "\r\n"))
			return 0, io.EOF
		}
		if f.err != nil {
			return 0, f.err
		}
		n, err := f.Conn.Read(f.in)
		if n > 0 {
			f.out = f.scan.Scan(f.buf[:0], f.in[:n])
			f.buf = f.out
		}
		if err != nil && len(f.out) == 0 {
			return 0, err
		}
	}
	n := copy(p, f.out)
	f.out = f.out[n:]
	if len(f.out) == 0 && cap(f.buf) > 64<<10 {
		f.buf = nil // a large request's buffer goes
	}
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
