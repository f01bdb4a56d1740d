package resp

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// Limits that keep a hostile peer from making the reader allocate without
// bound; they match redis-server's defaults.
const (
	MaxBulkLen      = 512 << 20 // proto-max-bulk-len
	MaxMultiBulkLen = 1 << 20   // elements of one aggregate we accept
	maxDepth        = 64        // nesting of aggregates
)

// Errors returned by the parser.
var (
	// ErrIncomplete means the buffer holds only part of a value.
	ErrIncomplete = errors.New("resp: incomplete value")
	// ErrProtocol wraps every malformed-input error.
	ErrProtocol = errors.New("resp: protocol error")
)

func protoErr(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrProtocol}, args...)...)
}

// Kind is the type byte of a RESP value.
type Kind byte

// The RESP2 and RESP3 value kinds.
const (
	KindStatus    Kind = '+'
	KindError     Kind = '-'
	KindInt       Kind = ':'
	KindBulk      Kind = '$'
	KindArray     Kind = '*'
	KindNull      Kind = '_'
	KindBool      Kind = '#'
	KindDouble    Kind = ','
	KindBigNumber Kind = '('
	KindBulkError Kind = '!'
	KindVerbatim  Kind = '='
	KindMap       Kind = '%'
	KindSet       Kind = '~'
	KindAttribute Kind = '|'
	KindPush      Kind = '>'
)

// Value is one decoded reply. Str holds the payload of string-like kinds,
// Int of integers, booleans (1/0) and lengths; Elems the children of
// aggregates (maps flattened key, value, ...). Null is set for $-1, *-1 and _.
type Value struct {
	Kind  Kind
	Str   []byte
	Int   int64
	Elems []Value
	Null  bool
}

// String renders v for test failure messages.
func (v Value) String() string {
	switch {
	case v.Null:
		return "(nil)"
	case v.Kind == KindInt:
		return "(integer) " + strconv.FormatInt(v.Int, 10)
	case v.Kind == KindError:
		return "(error) " + string(v.Str)
	case v.Kind == KindArray || v.Kind == KindMap || v.Kind == KindSet || v.Kind == KindPush:
		s := "["
		for i, e := range v.Elems {
			if i > 0 {
				s += " "
			}
			s += e.String()
		}
		return s + "]"
	}
	return strconv.Quote(string(v.Str))
}

// Parse decodes one value from the start of b and returns it with the number
// of bytes it used. It returns ErrIncomplete when b ends inside the value.
func Parse(b []byte) (Value, int, error) {
	return parse(b, 0)
}

// Skip returns the length of the first complete value in b without
// decoding it, or ErrIncomplete.
func Skip(b []byte) (int, error) {
	return skip(b, 0)
}

// skip is parse without the decoding: it checks what parse checks and
// allocates nothing.
func skip(b []byte, depth int) (int, error) {
	if depth > maxDepth {
		return 0, protoErr("nesting too deep")
	}
	if len(b) == 0 {
		return 0, ErrIncomplete
	}
	kind := Kind(b[0])
	line, n, err := readLine(b[1:])
	if err != nil {
		return 0, err
	}
	n++ // the type byte
	switch kind {
	case KindBulk, KindVerbatim, KindBulkError, KindArray, KindMap, KindSet, KindAttribute, KindPush:
	default:
		// Scalars are checked, and sized, by parse, without allocating.
		_, n, err := parse(b, depth)
		return n, err
	}
	size, err := parseInt(line)
	if err != nil {
		return 0, err
	}
	switch kind {
	case KindBulk, KindVerbatim, KindBulkError:
		if size == -1 && kind == KindBulk {
			return n, nil
		}
		if size < 0 || size > MaxBulkLen {
			return 0, protoErr("invalid bulk length %d", size)
		}
		if int64(len(b)-n) < size+2 {
			return 0, ErrIncomplete
		}
		end := n + int(size)
		if b[end] != '\r' || b[end+1] != '\n' {
			return 0, protoErr("bulk string not terminated by CRLF")
		}
		return end + 2, nil
	}
	if size == -1 && kind == KindArray {
		return n, nil
	}
	if size < 0 || size > MaxMultiBulkLen {
		return 0, protoErr("invalid multibulk length %d", size)
	}
	if kind == KindMap || kind == KindAttribute {
		size *= 2
	}
	if kind == KindAttribute {
		size++ // the value the attributes annotate
	}
	for i := int64(0); i < size; i++ {
		m, err := skip(b[n:], depth+1)
		if err != nil {
			return 0, err
		}
		n += m
	}
	return n, nil
}

func readLine(b []byte) ([]byte, int, error) {
	for i := 0; i+1 < len(b); i++ {
		if b[i] == '\r' {
			if b[i+1] != '\n' {
				return nil, 0, protoErr("expected LF after CR")
			}
			return b[:i], i + 2, nil
		}
	}
	return nil, 0, ErrIncomplete
}

func parseInt(line []byte) (int64, error) {
	n, err := strconv.ParseInt(string(line), 10, 64)
	if err != nil {
		return 0, protoErr("invalid integer %q", line)
	}
	return n, nil
}

func parse(b []byte, depth int) (Value, int, error) {
	if depth > maxDepth {
		return Value{}, 0, protoErr("nesting too deep")
	}
	if len(b) == 0 {
		return Value{}, 0, ErrIncomplete
	}
	kind := Kind(b[0])
	line, n, err := readLine(b[1:])
	if err != nil {
		return Value{}, 0, err
	}
	n++ // the type byte
	v := Value{Kind: kind}
	switch kind {
	case KindStatus, KindError, KindDouble, KindBigNumber:
		v.Str = line
		return v, n, nil
	case KindInt:
		v.Int, err = parseInt(line)
		return v, n, err
	case KindNull:
		if len(line) != 0 {
			return Value{}, 0, protoErr("invalid null")
		}
		v.Null = true
		return v, n, nil
	case KindBool:
		switch string(line) {
		case "t":
			v.Int = 1
		case "f":
		default:
			return Value{}, 0, protoErr("invalid boolean %q", line)
		}
		return v, n, nil
	case KindBulk, KindVerbatim, KindBulkError:
		size, err := parseInt(line)
		if err != nil {
			return Value{}, 0, err
		}
		if size == -1 && kind == KindBulk {
			v.Null = true
			return v, n, nil
		}
		if size < 0 || size > MaxBulkLen {
			return Value{}, 0, protoErr("invalid bulk length %d", size)
		}
		if int64(len(b)-n) < size+2 {
			return Value{}, 0, ErrIncomplete
		}
		end := n + int(size)
		if b[end] != '\r' || b[end+1] != '\n' {
			return Value{}, 0, protoErr("bulk string not terminated by CRLF")
		}
		v.Str = b[n:end]
		return v, end + 2, nil
	case KindArray, KindMap, KindSet, KindAttribute, KindPush:
		count, err := parseInt(line)
		if err != nil {
			return Value{}, 0, err
		}
		if count == -1 && kind == KindArray {
			v.Null = true
			return v, n, nil
		}
		if count < 0 || count > MaxMultiBulkLen {
			return Value{}, 0, protoErr("invalid multibulk length %d", count)
		}
		if kind == KindMap || kind == KindAttribute {
			count *= 2
		}
		v.Int = count
		// Each element takes at least 3 bytes; don't preallocate past that.
		v.Elems = make([]Value, 0, min(int(count), (len(b)-n)/3+1))
		for i := int64(0); i < count; i++ {
			e, m, err := parse(b[n:], depth+1)
			if err != nil {
				return Value{}, 0, err
			}
			v.Elems = append(v.Elems, e)
			n += m
		}
		if kind == KindAttribute {
			// Attributes annotate the value that follows; return that value.
			next, m, err := parse(b[n:], depth+1)
			if err != nil {
				return Value{}, 0, err
			}
			return next, n + m, nil
		}
		return v, n, nil
	}
	return Value{}, 0, protoErr("unknown type byte %q", b[0])
}

// Reader reads whole values from a stream.
type Reader struct {
	rd  *bufio.Reader
	buf []byte
}

// NewReader returns a reader over r.
func NewReader(r io.Reader) *Reader { return &Reader{rd: bufio.NewReaderSize(r, 16<<10)} }

// ReadRaw returns the bytes of the next complete value. The slice is valid
// until the next call.
func (r *Reader) ReadRaw() ([]byte, error) {
	r.buf = r.buf[:0]
	// Values still to read: one, and the elements of every aggregate
	// header met, read line by line without parsing the buffer again.
	remaining := 1
	for remaining > 0 {
		start := len(r.buf)
		for {
			// A header ends at CRLF; a bare LF before it is part of it
			// (parse then judges the line).
			line, err := r.rd.ReadSlice('\n')
			r.buf = append(r.buf, line...)
			if err == nil && len(r.buf)-start >= 3 && r.buf[len(r.buf)-2] == '\r' {
				break
			}
			if err != nil && err != bufio.ErrBufferFull {
				return nil, err
			}
		}
		remaining--
		line := r.buf[start:]
		kind, body := Kind(line[0]), line[1:len(line)-2]
		switch kind {
		case KindBulk, KindVerbatim, KindBulkError:
			size, err := parseInt(body)
			if err != nil {
				return nil, err
			}
			if size == -1 && kind == KindBulk {
				continue
			}
			if size < 0 || size > MaxBulkLen {
				return nil, protoErr("invalid bulk length %d", size)
			}
			from := len(r.buf)
			r.buf = append(r.buf, make([]byte, size+2)...)
			if _, err := io.ReadFull(r.rd, r.buf[from:]); err != nil {
				return nil, err
			}
			if r.buf[len(r.buf)-2] != '\r' || r.buf[len(r.buf)-1] != '\n' {
				return nil, protoErr("bulk string not terminated by CRLF")
			}
		case KindArray, KindMap, KindSet, KindAttribute, KindPush:
			count, err := parseInt(body)
			if err != nil {
				return nil, err
			}
			if count == -1 && kind == KindArray {
				continue
			}
			if count < 0 || count > MaxMultiBulkLen {
				return nil, protoErr("invalid multibulk length %d", count)
			}
			if kind == KindMap || kind == KindAttribute {
				count *= 2
			}
			if kind == KindAttribute {
				count++ // the value the attributes annotate
			}
			remaining += int(count)
		default:
			if _, _, err := parse(line, 0); err != nil {
				return nil, err
			}
		}
	}
	return r.buf, nil
}

// Read returns the next decoded value. Its byte slices are valid until the
// next call.
func (r *Reader) Read() (Value, error) {
	raw, err := r.ReadRaw()
	if err != nil {
		return Value{}, err
	}
	v, _, err := Parse(raw)
	return v, err
}

// AppendCommand encodes args as a RESP array of bulk strings, the form
// clients send commands in.
func AppendCommand(b []byte, args ...[]byte) []byte {
	b = append(b, '*')
	b = strconv.AppendInt(b, int64(len(args)), 10)
	b = append(b, '\r', '\n')
	for _, a := range args {
		b = append(b, '$')
		b = strconv.AppendInt(b, int64(len(a)), 10)
		b = append(b, '\r', '\n')
		b = append(b, a...)
		b = append(b, '\r', '\n')
	}
	return b
}
