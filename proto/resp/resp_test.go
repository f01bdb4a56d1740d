package resp

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"
)

func TestWriterEncodings(t *testing.T) {
	cases := []struct {
		name  string
		write func(w *Writer)
		resp2 string
		resp3 string
	}{
		{"null", func(w *Writer) { w.Null() }, "$-1\r\n", "_\r\n"},
		{"nullarray", func(w *Writer) { w.NullArray() }, "*-1\r\n", "_\r\n"},
		{"map", func(w *Writer) { w.Map(2) }, "*4\r\n", "%2\r\n"},
		{"set", func(w *Writer) { w.Set(3) }, "*3\r\n", "~3\r\n"},
		{"double", func(w *Writer) { w.Double(1.1) }, "$18\r\n1.1000000000000001\r\n", ",1.1000000000000001\r\n"},
		{"inf", func(w *Writer) { w.Double(math.Inf(-1)) }, "$4\r\n-inf\r\n", ",-inf\r\n"},
		{"bool", func(w *Writer) { w.Bool(true) }, ":1\r\n", "#t\r\n"},
		{"error newline", func(w *Writer) { w.Error("ERR a\r\nb") }, "-ERR a  b\r\n", "-ERR a  b\r\n"},
		{"verbatim", func(w *Writer) { w.Verbatim("txt", "hi") }, "$2\r\nhi\r\n", "=6\r\ntxt:hi\r\n"},
	}
	for _, c := range cases {
		for proto, want := range map[int]string{2: c.resp2, 3: c.resp3} {
			w := NewWriter(proto)
			c.write(w)
			if string(w.B) != want {
				t.Errorf("%s resp%d: got %q want %q", c.name, proto, w.B, want)
			}
		}
	}
}

func TestParse(t *testing.T) {
	cases := []struct {
		in   string
		want string
		err  error
	}{
		{"+OK\r\n", `"OK"`, nil},
		{":-12\r\n", "(integer) -12", nil},
		{"$3\r\na\nb\r\n", `"a\nb"`, nil},
		{"$-1\r\n", "(nil)", nil},
		{"*2\r\n$1\r\na\r\n:1\r\n", `["a" (integer) 1]`, nil},
		{"%1\r\n+k\r\n+v\r\n", `["k" "v"]`, nil},
		{"$3\r\nab", "", ErrIncomplete},
		{"*2\r\n:1\r\n", "", ErrIncomplete},
		{"$-5\r\n", "", ErrProtocol},
		{"*-2\r\n", "", ErrProtocol},
		{"$99999999999\r\n", "", ErrProtocol},
		{"?x\r\n", "", ErrProtocol},
		{"$1\r\nabc\r\n", "", ErrProtocol},
	}
	for _, c := range cases {
		v, n, err := Parse([]byte(c.in))
		if c.err != nil {
			if !errors.Is(err, c.err) {
				t.Errorf("%q: err %v, want %v", c.in, err, c.err)
			}
			continue
		}
		if err != nil || n != len(c.in) || v.String() != c.want {
			t.Errorf("%q: got %s n=%d err=%v, want %s", c.in, v, n, err, c.want)
		}
	}
}

func TestReaderStream(t *testing.T) {
	in := "+OK\r\n$5\r\n$1\r\nx\r\n*2\r\n$3\r\na\nb\r\n:7\r\n"
	r := NewReader(strings.NewReader(in))
	var got []string
	for {
		raw, err := r.ReadRaw()
		if err != nil {
			break
		}
		got = append(got, string(raw))
	}
	want := []string{"+OK\r\n", "$5\r\n$1\r\nx\r\n", "*2\r\n$3\r\na\nb\r\n:7\r\n"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("got %q want %q", got, want)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"+OK\r\n", "*2\r\n$1\r\na\r\n:1\r\n", "%1\r\n+k\r\n_\r\n", "$-1\r\n", "|1\r\n+a\r\n+b\r\n:1\r\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		v, n, err := Parse(b)
		// Skip sizes exactly what Parse decodes, and refuses what it refuses.
		if m, serr := Skip(b); (serr == nil) != (err == nil) || m != n ||
			serr != nil && errors.Is(serr, ErrIncomplete) != errors.Is(err, ErrIncomplete) {
			t.Fatalf("Skip(%q) = %d, %v; Parse: %d, %v", b, m, serr, n, err)
		}
		if err != nil {
			return
		}
		if n <= 0 || n > len(b) {
			t.Fatalf("consumed %d of %d", n, len(b))
		}
		// A parsed value must be readable from a stream too.
		raw, err := NewReader(bytes.NewReader(b[:n])).ReadRaw()
		if err != nil || !bytes.Equal(raw, b[:n]) {
			t.Fatalf("stream read of %q: %q %v (value %s)", b[:n], raw, err, v)
		}
	})
}

func FuzzCommandRoundTrip(f *testing.F) {
	f.Add([]byte("SET"), []byte("k\r\n"), []byte(""))
	f.Fuzz(func(t *testing.T, a, b, c []byte) {
		enc := AppendCommand(nil, a, b, c)
		v, n, err := Parse(enc)
		if err != nil || n != len(enc) || len(v.Elems) != 3 {
			t.Fatalf("round trip failed: %v", err)
		}
		for i, want := range [][]byte{a, b, c} {
			if !bytes.Equal(v.Elems[i].Str, want) {
				t.Fatalf("arg %d: %q != %q", i, v.Elems[i].Str, want)
			}
		}
	})
}
