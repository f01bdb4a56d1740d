package rdb

import (
	"bytes"
	"testing"
)

// FuzzLZF expands arbitrary bytes (never panicking, and never making other
// than the length asked for) and round-trips arbitrary input through the
// compressor.
func FuzzLZF(f *testing.F) {
	f.Add([]byte("\x01aa\xe0\x00\x01aa"), uint16(25))
	f.Add([]byte("\x20\x00"), uint16(3))
	f.Add(bytes.Repeat([]byte("abcab"), 50), uint16(0))
	f.Fuzz(func(t *testing.T, in []byte, n uint16) {
		if out, err := LZFDecompress(in, uint64(n)); err == nil && len(out) != int(n) {
			t.Fatalf("asked for %d bytes, made %d", n, len(out))
		}
		// Incompressible input grows by a control byte per 32 bytes; liblzf
		// wants 3 bytes of slack at the end besides.
		c, ok := LZFCompress(in, len(in)+len(in)/32+4)
		if !ok {
			if len(in) > 0 {
				t.Fatalf("%d bytes did not fit their worst case", len(in))
			}
			return
		}
		out, err := LZFDecompress(c, uint64(len(in)))
		if err != nil || !bytes.Equal(out, in) {
			t.Fatalf("round trip: %v", err)
		}
	})
}

// FuzzReaders feeds arbitrary bytes to every reader: none may panic, and
// what the container readers accept must be what the writers rebuild from
// the elements read.
func FuzzReaders(f *testing.F) {
	f.Add(AppendString(nil, bytes.Repeat([]byte("xy"), 30)))
	f.Add(ListpackAppend(ListpackAppend(NewListpack(), []byte("a")), []byte("-5000")))
	f.Add(AppendZiplist(nil, [][]byte{[]byte("a"), []byte("7"), bytes.Repeat([]byte("b"), 300)}))
	f.Add(AppendZipmap(nil, [][]byte{[]byte("f"), []byte("v")}))
	f.Add(AppendIntset(nil, []int64{-3, 70000}))
	f.Fuzz(func(t *testing.T, p []byte) {
		_, _, _ = ReadString(p)
		_, _, _, _ = ReadLen(p)
		_, _ = Intset(p)
		_, _, _ = ReadBinaryDouble(p)

		var elems [][]byte
		collect := func(e []byte) error { elems = append(elems, bytes.Clone(e)); return nil }
		if ListpackEach(p, collect) == nil {
			lp := NewListpack()
			for _, e := range elems {
				lp = ListpackAppend(lp, e)
			}
			var again [][]byte
			if err := ListpackEach(lp, func(e []byte) error { again = append(again, bytes.Clone(e)); return nil }); err != nil || !equalElems(again, elems) {
				t.Fatalf("listpack %x: rebuilt differs (%v)", p, err)
			}
		}
		elems = nil
		if ZiplistEach(p, collect) == nil {
			var again [][]byte
			if err := ZiplistEach(AppendZiplist(nil, elems), func(e []byte) error { again = append(again, bytes.Clone(e)); return nil }); err != nil || !equalElems(again, elems) {
				t.Fatalf("ziplist %x: rebuilt differs (%v)", p, err)
			}
		}
		_ = ZipmapEach(p, func(_, _ []byte) error { return nil })
	})
}
