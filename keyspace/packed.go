package keyspace

import (
	"encoding/binary"
	"unsafe"
)

// A packed buffer holds a small collection's strings one after another in
// one allocation, each as its length (a uvarint) and its bytes, as Redis's
// listpack holds a small hash, sorted set or list: a collection of ten
// short fields costs one small object instead of ten string headers and
// twenty allocations. It is searched in order, as a listpack is.
//
// Strings read from a packed buffer are not copies: they point into it.
// So bytes once written are never changed. New strings are appended past
// the buffer's length (never over bytes a string may point to); any other
// change builds a new buffer, and a buffer cut short loses its spare
// capacity so that an append cannot overwrite what was cut.

// packedNext reads the string at lp[i:] and returns it and the offset past
// it.
func packedNext(lp []byte, i int) ([]byte, int) {
	n := int(lp[i])
	i++
	if n >= 0x80 {
		v, w := binary.Uvarint(lp[i-1:])
		n, i = int(v), i-1+w
	}
	return lp[i : i+n : i+n], i + n
}

// packedString is b as a string without copying: b is in a packed buffer,
// whose bytes never change.
func packedString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// packedSize is what appending xs costs.
func packedSize(xs ...[]byte) int {
	n := 0
	for _, x := range xs {
		n += uvarintLen(len(x)) + len(x)
	}
	return n
}

func uvarintLen(n int) int {
	w := 1
	for n >= 0x80 {
		n >>= 7
		w++
	}
	return w
}

// packedAppend appends xs to lp, growing it by a quarter (not Go's
// doubling, which would leave a small collection's buffer half empty).
func packedAppend(lp []byte, xs ...[]byte) []byte {
	need := packedSize(xs...)
	if len(lp)+need > cap(lp) {
		lp = packedGrow(lp, need)
	}
	for _, x := range xs {
		lp = binary.AppendUvarint(lp, uint64(len(x)))
		lp = append(lp, x...)
	}
	return lp
}

// packedGrow returns a copy of lp with room for need more bytes.
func packedGrow(lp []byte, need int) []byte {
	n := len(lp) + need
	c := allocSize(n + n/4)
	if n <= 32768 {
		c = allocSize(n + min(n/4, 256))
	}
	out := make([]byte, len(lp), c)
	copy(out, lp)
	return out
}

// packedReplace returns a new buffer: lp with lp[from:to] replaced by xs.
func packedReplace(lp []byte, from, to int, xs ...[]byte) []byte {
	n := len(lp) - (to - from) + packedSize(xs...)
	out := make([]byte, 0, allocSize(n))
	out = append(out, lp[:from]...)
	for _, x := range xs {
		out = binary.AppendUvarint(out, uint64(len(x)))
		out = append(out, x...)
	}
	return append(out, lp[to:]...)
}

// packedCut returns lp without lp[from:to]: a new buffer, or lp cut short
// (without spare capacity) when to is its end.
func packedCut(lp []byte, from, to int) []byte {
	if to == len(lp) {
		if from == 0 {
			return nil
		}
		return lp[:from:from]
	}
	return packedReplace(lp, from, to)
}

// packedClone is a copy of lp in a buffer of its own.
func packedClone(lp []byte) []byte {
	if len(lp) == 0 {
		return nil
	}
	return append(make([]byte, 0, allocSize(len(lp))), lp...)
}

// bytesOf is s's bytes without copying, for reading only.
func bytesOf(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }
