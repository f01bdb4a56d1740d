package proxy

import (
	"io"
	"net"
	"strconv"
)

// Redis's request limits (proto-max-bulk-len and the fixed ones of
// networking.c).
const (
	maxBulkLen      = 512 << 20
	maxMultibulkLen = 1<<31 - 1
	maxInlineLen    = 64 << 10
)

// framedConn checks the request framing that redcon's reader leaves out, so
// that bad input gets what Redis gives it: the length limits above (redcon
// would wait, buffering, for a 100 GB bulk), empty multibulks (*0, *-1),
// which Redis skips, and the two bytes after a bulk payload, which Redis
// does not check. Valid bytes pass through unchanged; at a violation the
// bytes before it are delivered first, then the error is written and the
// connection ends, as Redis does.
type framedConn struct {
	net.Conn
	in  []byte // raw bytes read, not yet scanned
	out []byte // scanned bytes not yet handed to the reader
	hdr []byte // a header line being collected

	state     frameState
	elems     int64 // bulk strings left in the current multibulk
	remaining int64 // payload bytes left in the current bulk string
	crlf      int   // bytes of the terminator still to normalise
	failure   string
}

type frameState uint8

const (
	frameStart frameState = iota
	frameMultibulkHeader
	frameBulkHeader
	frameBulkData
	frameInline
)

func newFramedConn(c net.Conn) *framedConn {
	return &framedConn{Conn: c, in: make([]byte, 16<<10)}
}

func (f *framedConn) Read(p []byte) (int, error) {
	for len(f.out) == 0 {
		if f.failure != "" {
			_, _ = f.Conn.Write([]byte("-ERR Protocol error: " + f.failure + "\r\n"))
			return 0, io.EOF
		}
		n, err := f.Conn.Read(f.in)
		if n > 0 {
			f.scan(f.in[:n])
		}
		if err != nil && len(f.out) == 0 {
			return 0, err
		}
	}
	n := copy(p, f.out)
	f.out = f.out[n:]
	if len(f.out) == 0 {
		f.out = f.out[:0:0]
	}
	return n, nil
}

func (f *framedConn) fail(msg string) { f.failure = msg }

// scan moves the valid part of b to f.out.
func (f *framedConn) scan(b []byte) {
	for len(b) > 0 && f.failure == "" {
		switch f.state {
		case frameStart:
			if b[0] == '*' {
				f.state = frameMultibulkHeader
				f.hdr = f.hdr[:0]
			} else {
				f.state = frameInline
				f.elems = 0
			}
		case frameInline:
			i := indexByte(b, '\n')
			if i < 0 {
				f.elems += int64(len(b))
				if f.elems > maxInlineLen {
					f.fail("too big inline request")
					return
				}
				f.out = append(f.out, b...)
				return
			}
			f.out = append(f.out, b[:i+1]...)
			b = b[i+1:]
			f.state = frameStart
		case frameMultibulkHeader, frameBulkHeader:
			i := indexByte(b, '\n')
			if i < 0 {
				f.hdr = append(f.hdr, b...)
				if len(f.hdr) > maxInlineLen {
					if f.state == frameMultibulkHeader {
						f.fail("too big mbulk count string")
					} else {
						f.fail("too big bulk count string")
					}
				}
				return
			}
			f.hdr = append(f.hdr, b[:i+1]...)
			b = b[i+1:]
			f.header()
		case frameBulkData:
			if f.remaining > 0 {
				n := min(int64(len(b)), f.remaining)
				f.out = append(f.out, b[:n]...)
				b = b[n:]
				f.remaining -= n
				continue
			}
			// Redis skips the two bytes after the payload unchecked.
			f.out = append(f.out, "\r\n"[2-f.crlf])
			b = b[1:]
			f.crlf--
			if f.crlf == 0 {
				f.elems--
				if f.elems == 0 {
					f.state = frameStart
				} else {
					f.state = frameBulkHeader
					f.hdr = f.hdr[:0]
				}
			}
		}
	}
}

// header checks a complete header line in f.hdr.
func (f *framedConn) header() {
	line := f.hdr
	if len(line) < 2 || line[len(line)-2] != '\r' {
		if f.state == frameMultibulkHeader {
			f.fail("invalid multibulk length")
		} else {
			f.fail("invalid bulk length")
		}
		return
	}
	if f.state == frameMultibulkHeader {
		n, err := strconv.ParseInt(string(line[1:len(line)-2]), 10, 64)
		if err != nil || n > maxMultibulkLen {
			f.fail("invalid multibulk length")
			return
		}
		if n <= 0 {
			// An empty request: Redis ignores it.
			f.state = frameStart
			return
		}
		f.out = append(f.out, line...)
		f.elems = n
		f.state = frameBulkHeader
		f.hdr = f.hdr[:0]
		return
	}
	if line[0] != '$' {
		f.fail("expected '$', got '" + string(line[0]) + "'")
		return
	}
	n, err := strconv.ParseInt(string(line[1:len(line)-2]), 10, 64)
	if err != nil || n < 0 || n > maxBulkLen {
		f.fail("invalid bulk length")
		return
	}
	f.out = append(f.out, line...)
	f.remaining, f.crlf = n, 2
	f.state = frameBulkData
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
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
