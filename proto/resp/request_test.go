package resp

import (
	"bytes"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// scanAll feeds in to a RequestScanner in pieces of chunk bytes and
// returns what it passed and its Reason.
func scanAll(in string, chunk int) (passed, reason string) {
	passed, reason, _ = scanAllEnds(in, chunk)
	return passed, reason
}

// scanAllEnds is scanAll that also says where each whole request ends.
func scanAllEnds(in string, chunk int) (passed, reason string, ends []int) {
	var s RequestScanner
	var out []byte
	for b := []byte(in); len(b) > 0 && s.Reason() == ""; {
		n := min(chunk, len(b))
		out, ends = s.ScanEnds(out, b[:n], ends)
		b = b[n:]
	}
	return string(out), s.Reason(), ends
}

func TestRequestScanner(t *testing.T) {
	cases := []struct {
		name, in, passed, reason string
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
		{"too big inline", strings.Repeat("a", MaxInlineLen+10), "", "too big inline request"},
	}
	for _, c := range cases {
		for _, chunk := range []int{1, 3, 1 << 20} {
			passed, reason := scanAll(c.in, chunk)
			if passed != c.passed || reason != c.reason {
				t.Errorf("%s chunk %d: passed %q reason %q; want %q, %q", c.name, chunk, passed, reason, c.passed, c.reason)
			}
		}
	}
}

// FuzzRequestScanner: whatever comes in, what goes out is a sequence of
// well-formed multibulk requests (the last possibly incomplete), and a
// stream that ends does so for one of Redis's reasons; the scanner never
// panics.
func FuzzRequestScanner(f *testing.F) {
	f.Add([]byte("*1\r\n$4\r\nPING\r\n"), uint8(3))
	f.Add([]byte("*0\r\nPING\r\n*2\r\n$1\r\n"), uint8(1))
	f.Add([]byte("ECHO \"a\\x41\" 'b'\r\n"), uint8(2))
	f.Fuzz(func(t *testing.T, in []byte, chunk uint8) {
		passed, reason, ends := scanAllEnds(string(in), int(chunk)%16+1)
		b := []byte(passed)
		var offs []int // where the requests parsed end
		huge := false
		for len(b) > 0 {
			v, n, err := Parse(b)
			if errors.Is(err, ErrIncomplete) || (err != nil && hugeButValidCount(b)) {
				huge = !errors.Is(err, ErrIncomplete)
				break // the rest of this request has not arrived
			}
			offs = append(offs, len(passed)-len(b)+n)
			if err != nil || v.Kind != KindArray || len(v.Elems) == 0 {
				t.Fatalf("passed malformed request %q (%v) from %q", b, err, in)
			}
			for _, e := range v.Elems {
				if e.Kind != KindBulk || e.Null {
					t.Fatalf("passed a non-bulk argument in %q", b[:n])
				}
			}
			b = b[n:]
		}
		if len(ends) < len(offs) || !slices.Equal(ends[:len(offs)], offs) || !huge && len(ends) != len(offs) {
			t.Fatalf("request ends %v, parsed %v, in %q", ends, offs, passed)
		}
		switch {
		case reason == "", strings.HasPrefix(reason, "expected '$', got '"):
		case reason == "invalid multibulk length", reason == "invalid bulk length",
			reason == "too big inline request", reason == "too big mbulk count string",
			reason == "too big bulk count string", reason == "unbalanced quotes in request":
		default:
			t.Fatalf("reason %q", reason)
		}
	})
}

// hugeButValidCount reports whether b starts with a multibulk header whose
// count Redis accepts but Parse's own, smaller limit refuses.
func hugeButValidCount(b []byte) bool {
	i := bytes.IndexByte(b, '\r')
	if len(b) == 0 || b[0] != '*' || i < 0 {
		return false
	}
	n, err := strconv.ParseInt(string(b[1:i]), 10, 64)
	return err == nil && n > 0 && n <= MaxRequestArgs
}
