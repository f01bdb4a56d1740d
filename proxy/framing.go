package proxy

import (
	"bytes"
	"io"
	"net"
	"strconv"

	"github.com/schemaproxy/schemaproxy/proto/resp"
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
	frameInlineNUL // an inline request with a NUL byte: never completes
)

func newFramedConn(c net.Conn) *framedConn {
	return &framedConn{Conn: c, in: make([]byte, 16<<10)}
}

func (f *framedConn) Read(p []byte) (int, error) {
	for len(f.out) == 0 {
		if f.failure != "" {
			_, _ = f.Conn.Write([]byte("-" + errProtocol(f.failure) + "\r\n"))
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
				f.hdr = f.hdr[:0]
				f.elems = 0
			}
		case frameInline:
			// Inline commands (telnet, nc) are split here as Redis's
			// sdssplitargs does and passed on as a multibulk request.
			i := indexByte(b, '\n')
			if i < 0 {
				f.hdr = append(f.hdr, b...)
				if len(f.hdr) > maxInlineLen {
					f.fail("too big inline request")
				}
				return
			}
			f.hdr = append(f.hdr, b[:i]...)
			if bytes.IndexByte(f.hdr, 0) >= 0 {
				// Redis looks for the newline with strchr, which stops at
				// a NUL: it never finds one and waits until the request
				// is too big.
				f.state = frameInlineNUL
				continue
			}
			b = b[i+1:]
			f.state = frameStart
			args, ok := splitArgs(bytes.TrimSuffix(f.hdr, []byte("\r")))
			f.hdr = f.hdr[:0]
			if !ok {
				f.fail("unbalanced quotes in request")
				return
			}
			if len(args) > 0 {
				f.out = resp.AppendCommand(f.out, args...)
			}
		case frameInlineNUL:
			f.elems += int64(len(b))
			if f.elems+int64(len(f.hdr)) > maxInlineLen {
				f.fail("too big inline request")
			}
			return
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

// splitArgs splits an inline request line exactly as Redis's sdssplitargs:
// blanks separate arguments; "double quotes" take \xHH and \n \r \t \b \a
// escapes; 'single quotes' take \'; a closing quote must end the argument.
func splitArgs(line []byte) ([][]byte, bool) {
	if i := bytes.IndexByte(line, 0); i >= 0 {
		line = line[:i] // Redis parses the line as a C string
	}
	var args [][]byte
	i := 0
	for {
		for i < len(line) && isSpace(line[i]) {
			i++
		}
		if i >= len(line) {
			return args, true
		}
		arg := []byte{}
		inDouble, inSingle := false, false
		for done := false; !done; {
			switch {
			case inDouble:
				if i >= len(line) {
					return nil, false
				}
				c := line[i]
				switch {
				case c == '\\' && i+3 < len(line) && line[i+1] == 'x' && isHex(line[i+2]) && isHex(line[i+3]):
					arg = append(arg, unhex(line[i+2])<<4|unhex(line[i+3]))
					i += 3
				case c == '\\' && i+1 < len(line):
					i++
					switch line[i] {
					case 'n':
						arg = append(arg, '\n')
					case 'r':
						arg = append(arg, '\r')
					case 't':
						arg = append(arg, '\t')
					case 'b':
						arg = append(arg, '\b')
					case 'a':
						arg = append(arg, '\a')
					default:
						arg = append(arg, line[i])
					}
				case c == '"':
					if i+1 < len(line) && !isSpace(line[i+1]) {
						return nil, false
					}
					done = true
				default:
					arg = append(arg, c)
				}
			case inSingle:
				if i >= len(line) {
					return nil, false
				}
				c := line[i]
				switch {
				case c == '\\' && i+1 < len(line) && line[i+1] == '\'':
					i++
					arg = append(arg, '\'')
				case c == '\'':
					if i+1 < len(line) && !isSpace(line[i+1]) {
						return nil, false
					}
					done = true
				default:
					arg = append(arg, c)
				}
			default:
				if i >= len(line) {
					done = true
					break
				}
				switch c := line[i]; {
				case c == ' ' || c == '\n' || c == '\r' || c == '\t':
					done = true
				case c == '"':
					inDouble = true
				case c == '\'':
					inSingle = true
				default:
					arg = append(arg, c)
				}
			}
			if !done || inDouble || inSingle {
				i++
			}
		}
		args = append(args, arg)
	}
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}
