// Package resp encodes and decodes the Redis serialization protocol (RESP2
// and RESP3) as pure functions over byte slices.
//
// Writer appends replies for one protocol version, so command code writes a
// reply once and gets the right bytes for either version: maps become flat
// arrays in RESP2, doubles become bulk strings, and nulls take the RESP2 form
// their command used.
package resp

import (
	"math"
	"strconv"
)

// Writer appends RESP replies to a byte buffer. The zero value writes RESP2.
type Writer struct {
	// B is the encoded output. Callers may reset it with B = B[:0].
	B []byte
	// Proto is 2 or 3.
	Proto int
}

// NewWriter returns a writer for protocol version proto (2 or 3).
func NewWriter(proto int) *Writer { return &Writer{Proto: proto} }

// Resp3 reports whether the writer emits RESP3.
func (w *Writer) Resp3() bool { return w.Proto == 3 }

// Reset empties the buffer and keeps its capacity.
func (w *Writer) Reset() { w.B = w.B[:0] }

// Len is the number of bytes written so far.
func (w *Writer) Len() int { return len(w.B) }

// Status appends a simple string (+OK).
func (w *Writer) Status(s string) {
	w.B = append(w.B, '+')
	w.B = append(w.B, s...)
	w.B = append(w.B, '\r', '\n')
}

// OK appends +OK.
func (w *Writer) OK() { w.B = append(w.B, "+OK\r\n"...) }

// Error appends an error reply; msg must carry its code (ERR, WRONGTYPE, ...).
func (w *Writer) Error(msg string) {
	w.B = append(w.B, '-')
	for i := 0; i < len(msg); i++ {
		// Newlines would break the framing; Redis replaces them too.
		if c := msg[i]; c == '\r' || c == '\n' {
			w.B = append(w.B, ' ')
		} else {
			w.B = append(w.B, c)
		}
	}
	w.B = append(w.B, '\r', '\n')
}

// Int appends an integer reply.
func (w *Writer) Int(n int64) {
	w.B = append(w.B, ':')
	w.B = strconv.AppendInt(w.B, n, 10)
	w.B = append(w.B, '\r', '\n')
}

// Bulk appends a bulk string.
func (w *Writer) Bulk(b []byte) {
	w.B = append(w.B, '$')
	w.B = strconv.AppendInt(w.B, int64(len(b)), 10)
	w.B = append(w.B, '\r', '\n')
	w.B = append(w.B, b...)
	w.B = append(w.B, '\r', '\n')
}

// BulkString appends a bulk string.
func (w *Writer) BulkString(s string) {
	w.B = append(w.B, '$')
	w.B = strconv.AppendInt(w.B, int64(len(s)), 10)
	w.B = append(w.B, '\r', '\n')
	w.B = append(w.B, s...)
	w.B = append(w.B, '\r', '\n')
}

// BulkInt appends an integer formatted as a bulk string.
func (w *Writer) BulkInt(n int64) {
	var tmp [24]byte
	w.Bulk(strconv.AppendInt(tmp[:0], n, 10))
}

// Verbatim appends a verbatim string (RESP3 "=") or a bulk string in RESP2.
func (w *Writer) Verbatim(format, s string) {
	if !w.Resp3() {
		w.BulkString(s)
		return
	}
	w.B = append(w.B, '=')
	w.B = strconv.AppendInt(w.B, int64(len(s)+4), 10)
	w.B = append(w.B, '\r', '\n')
	w.B = append(w.B, format...)
	w.B = append(w.B, ':')
	w.B = append(w.B, s...)
	w.B = append(w.B, '\r', '\n')
}

// Null appends the null of a missing bulk string ($-1 in RESP2).
func (w *Writer) Null() {
	if w.Resp3() {
		w.B = append(w.B, "_\r\n"...)
	} else {
		w.B = append(w.B, "$-1\r\n"...)
	}
}

// NullArray appends the null of a missing array (*-1 in RESP2).
func (w *Writer) NullArray() {
	if w.Resp3() {
		w.B = append(w.B, "_\r\n"...)
	} else {
		w.B = append(w.B, "*-1\r\n"...)
	}
}

// Array appends an array header of n elements.
func (w *Writer) Array(n int) { w.header('*', n) }

// Map appends a map header of n pairs (an array of 2n elements in RESP2).
func (w *Writer) Map(n int) {
	if w.Resp3() {
		w.header('%', n)
	} else {
		w.header('*', 2*n)
	}
}

// Set appends a set header (an array in RESP2).
func (w *Writer) Set(n int) {
	if w.Resp3() {
		w.header('~', n)
	} else {
		w.header('*', n)
	}
}

// Push appends a push header (an array in RESP2).
func (w *Writer) Push(n int) {
	if w.Resp3() {
		w.header('>', n)
	} else {
		w.header('*', n)
	}
}

// Bool appends a RESP3 boolean, or 1/0 as an integer in RESP2.
func (w *Writer) Bool(b bool) {
	switch {
	case w.Resp3() && b:
		w.B = append(w.B, "#t\r\n"...)
	case w.Resp3():
		w.B = append(w.B, "#f\r\n"...)
	case b:
		w.Int(1)
	default:
		w.Int(0)
	}
}

// Double appends a double (RESP3 ",") or its text as a bulk string in RESP2,
// formatted as Redis 7.0 does (%.17g, inf/-inf).
func (w *Writer) Double(f float64) {
	var tmp [32]byte
	s := AppendFloat(tmp[:0], f)
	if w.Resp3() {
		w.B = append(w.B, ',')
		w.B = append(w.B, s...)
		w.B = append(w.B, '\r', '\n')
		return
	}
	w.Bulk(s)
}

// Raw appends pre-encoded bytes.
func (w *Writer) Raw(b []byte) { w.B = append(w.B, b...) }

func (w *Writer) header(kind byte, n int) {
	w.B = append(w.B, kind)
	w.B = strconv.AppendInt(w.B, int64(n), 10)
	w.B = append(w.B, '\r', '\n')
}

// AppendFloat formats f as Redis 7.0 replies with doubles: %.17g, and
// "inf"/"-inf"/"nan".
func AppendFloat(b []byte, f float64) []byte {
	switch {
	case math.IsInf(f, 1):
		return append(b, "inf"...)
	case math.IsInf(f, -1):
		return append(b, "-inf"...)
	case math.IsNaN(f):
		return append(b, "nan"...)
	}
	return strconv.AppendFloat(b, f, 'g', 17, 64)
}
