package resp

import (
	"bytes"
	"strconv"
)

// Redis's limits on a client's request, besides MaxBulkLen (the fixed ones
// of networking.c).
const (
	// MaxRequestArgs bounds the elements of one multibulk request.
	MaxRequestArgs = 1<<31 - 1
	// MaxInlineLen bounds an inline request, and a header line.
	MaxInlineLen = 64 << 10
)

// RequestScanner checks a client's request stream for the framing that a
// lenient reader (redcon's) leaves out, so that bad input gets what Redis
// gives it: the length limits above (such a reader would wait, buffering,
// for a 100 GB bulk), empty multibulks (*0, *-1), which Redis skips, and
// the two bytes after a bulk payload, which Redis does not check. It is
// fed the stream in pieces of any size; the zero value is ready. At the
// first violation it stops, and Reason says why: Redis then replies
// "-ERR Protocol error: <reason>" and closes the connection.
type RequestScanner struct {
	hdr []byte // a header line being collected

	state     scanState
	elems     int64 // bulk strings left in the current multibulk
	remaining int64 // payload bytes left in the current bulk string
	crlf      int   // bytes of the terminator still to normalise
	reason    string
}

type scanState uint8

const (
	frameStart scanState = iota
	frameMultibulkHeader
	frameBulkHeader
	frameBulkData
	frameInline
	frameInlineNUL // an inline request with a NUL byte: never completes
)

// Reason is Redis's words for the violation that ended the stream
// ("invalid bulk length"), or "" while the stream is valid.
func (s *RequestScanner) Reason() string { return s.reason }

func (s *RequestScanner) fail(reason string) { s.reason = reason }

// Scan appends to dst the valid part of b, the stream's next bytes, and
// returns it: the requests as they came, inline ones turned into multibulk
// ones, empty ones left out. Once Reason is set it appends nothing more.
func (s *RequestScanner) Scan(dst, b []byte) []byte {
	dst, _ = s.ScanEnds(dst, b, nil)
	return dst
}

// ScanEnds is Scan that also appends to ends, and returns, where in dst
// each request it completed ends: so a reader can be handed whole requests.
func (s *RequestScanner) ScanEnds(dst, b []byte, ends []int) ([]byte, []int) {
	for len(b) > 0 && s.reason == "" {
		switch s.state {
		case frameStart:
			if b[0] == '*' {
				s.state = frameMultibulkHeader
				s.hdr = s.hdr[:0]
			} else {
				s.state = frameInline
				s.hdr = s.hdr[:0]
				s.elems = 0
			}
		case frameInline:
			// Inline commands (telnet, nc) are split here as Redis's
			// sdssplitargs does and passed on as a multibulk request.
			i := bytes.IndexByte(b, '\n')
			if i < 0 {
				s.hdr = append(s.hdr, b...)
				if len(s.hdr) > MaxInlineLen {
					s.fail("too big inline request")
				}
				return dst, ends
			}
			s.hdr = append(s.hdr, b[:i]...)
			if bytes.IndexByte(s.hdr, 0) >= 0 {
				// Redis looks for the newline with strchr, which stops at
				// a NUL: it never finds one and waits until the request
				// is too big.
				s.state = frameInlineNUL
				continue
			}
			b = b[i+1:]
			s.state = frameStart
			args, ok := SplitArgs(bytes.TrimSuffix(s.hdr, []byte("\r")))
			s.hdr = s.hdr[:0]
			if !ok {
				s.fail("unbalanced quotes in request")
				return dst, ends
			}
			if len(args) > 0 {
				dst = AppendCommand(dst, args...)
				ends = append(ends, len(dst))
			}
		case frameInlineNUL:
			s.elems += int64(len(b))
			if s.elems+int64(len(s.hdr)) > MaxInlineLen {
				s.fail("too big inline request")
			}
			return dst, ends
		case frameMultibulkHeader, frameBulkHeader:
			i := bytes.IndexByte(b, '\n')
			if i < 0 {
				s.hdr = append(s.hdr, b...)
				if len(s.hdr) > MaxInlineLen {
					if s.state == frameMultibulkHeader {
						s.fail("too big mbulk count string")
					} else {
						s.fail("too big bulk count string")
					}
				}
				return dst, ends
			}
			s.hdr = append(s.hdr, b[:i+1]...)
			b = b[i+1:]
			dst = s.header(dst)
		case frameBulkData:
			if s.remaining > 0 {
				n := min(int64(len(b)), s.remaining)
				dst = append(dst, b[:n]...)
				b = b[n:]
				s.remaining -= n
				continue
			}
			// Redis skips the two bytes after the payload unchecked.
			dst = append(dst, "\r\n"[2-s.crlf])
			b = b[1:]
			s.crlf--
			if s.crlf == 0 {
				s.elems--
				if s.elems == 0 {
					s.state = frameStart
					ends = append(ends, len(dst))
				} else {
					s.state = frameBulkHeader
					s.hdr = s.hdr[:0]
				}
			}
		}
	}
	return dst, ends
}

// header checks a complete header line in s.hdr and appends it to dst
// if it is valid.
func (s *RequestScanner) header(dst []byte) []byte {
	line := s.hdr
	if len(line) < 2 || line[len(line)-2] != '\r' {
		if s.state == frameMultibulkHeader {
			s.fail("invalid multibulk length")
		} else {
			s.fail("invalid bulk length")
		}
		return dst
	}
	if s.state == frameMultibulkHeader {
		n, err := strconv.ParseInt(string(line[1:len(line)-2]), 10, 64)
		if err != nil || n > MaxRequestArgs {
			s.fail("invalid multibulk length")
			return dst
		}
		if n <= 0 {
			// An empty request: Redis ignores it.
			s.state = frameStart
			return dst
		}
		dst = append(dst, line...)
		s.elems = n
		s.state = frameBulkHeader
		s.hdr = s.hdr[:0]
		return dst
	}
	if line[0] != '$' {
		s.fail("expected '$', got '" + string(line[0]) + "'")
		return dst
	}
	n, err := strconv.ParseInt(string(line[1:len(line)-2]), 10, 64)
	if err != nil || n < 0 || n > MaxBulkLen {
		s.fail("invalid bulk length")
		return dst
	}
	dst = append(dst, line...)
	s.remaining, s.crlf = n, 2
	s.state = frameBulkData
	return dst
}

// SplitArgs splits an inline request line exactly as Redis's sdssplitargs
// (which also reads back what MONITOR and sdscatrepr quote):
// blanks separate arguments; "double quotes" take \xHH and \n \r \t \b \a
// escapes; 'single quotes' take \'; a closing quote must end the argument.
func SplitArgs(line []byte) ([][]byte, bool) {
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
