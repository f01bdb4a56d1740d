package rdb

import (
	"encoding/binary"
	"strconv"
)

// A listpack: total bytes (uint32) and element count (uint16, 65535 once
// it no longer fits) little endian, the entries, then 0xFF. An entry is an
// encoding byte, its data, then the length of the two written backwards
// (the backlen) so that the list can be walked from either end.
const (
	lpHeaderSize   = 6
	lpEOF          = 0xff
	lpCountUnknown = 0xffff
)

// Entry encodings (listpack.c LP_ENCODING_*).
const (
	lpStr32 = 0xf0 // then the length in 4 bytes
	lpInt16 = 0xf1
	lpInt24 = 0xf2
	lpInt32 = 0xf3
	lpInt64 = 0xf4
)

// NewListpack returns an empty listpack (lpNew).
func NewListpack() []byte { return []byte{lpHeaderSize + 1, 0, 0, 0, 0, 0, lpEOF} }

// ListpackAppend appends elem to lp as lpAppend: as an integer entry when
// elem is the canonical decimal form of an int64, as a string otherwise.
func ListpackAppend(lp, elem []byte) []byte {
	if v, ok := ParseInt(elem); ok {
		return ListpackAppendInt(lp, v)
	}
	lp = lp[:len(lp)-1]
	start := len(lp)
	switch n := len(elem); {
	case n < 64:
		lp = append(lp, 0x80|byte(n))
	case n < 4096:
		lp = append(lp, 0xe0|byte(n>>8), byte(n))
	default:
		lp = binary.LittleEndian.AppendUint32(append(lp, lpStr32), uint32(n))
	}
	lp = append(lp, elem...)
	return lpFinish(lp, start)
}

// ListpackAppendInt appends v as an integer entry in the narrowest
// encoding (lpEncodeIntegerGetType).
func ListpackAppendInt(lp []byte, v int64) []byte {
	lp = lp[:len(lp)-1]
	start := len(lp)
	switch {
	case v >= 0 && v <= 127:
		lp = append(lp, byte(v))
	case v >= -4096 && v <= 4095:
		u := uint64(v) & (1<<13 - 1)
		lp = append(lp, 0xc0|byte(u>>8), byte(u))
	case v >= -32768 && v <= 32767:
		lp = binary.LittleEndian.AppendUint16(append(lp, lpInt16), uint16(v))
	case v >= -8388608 && v <= 8388607:
		lp = append(lp, lpInt24, byte(v), byte(v>>8), byte(v>>16))
	case v >= -2147483648 && v <= 2147483647:
		lp = binary.LittleEndian.AppendUint32(append(lp, lpInt32), uint32(v))
	default:
		lp = binary.LittleEndian.AppendUint64(append(lp, lpInt64), uint64(v))
	}
	return lpFinish(lp, start)
}

// lpFinish appends the backlen of the entry at lp[start:], the terminator,
// and updates the header.
func lpFinish(lp []byte, start int) []byte {
	lp = appendBacklen(lp, uint64(len(lp)-start))
	lp = append(lp, lpEOF)
	binary.LittleEndian.PutUint32(lp, uint32(len(lp)))
	if n := binary.LittleEndian.Uint16(lp[4:]); n != lpCountUnknown {
		binary.LittleEndian.PutUint16(lp[4:], n+1)
	}
	return lp
}

// backlenSize is the size of the backlen of an entry of l bytes
// (lpEncodeBacklen; its bounds are one below the powers of 128, as there).
func backlenSize(l uint64) int {
	switch {
	case l <= 127:
		return 1
	case l < 16383:
		return 2
	case l < 2097151:
		return 3
	case l < 268435455:
		return 4
	}
	return 5
}

// appendBacklen appends l in 7-bit groups, most significant first, every
// group but the first with the high bit set, so it reads from the end.
func appendBacklen(b []byte, l uint64) []byte {
	n := backlenSize(l)
	for i := n - 1; i >= 0; i-- {
		g := byte(l>>(7*uint(i))) & 127
		if i < n-1 {
			g |= 128
		}
		b = append(b, g)
	}
	return b
}

// ListpackLen is the number of entries in a listpack that ListpackEach
// accepted.
func ListpackLen(lp []byte) int {
	if n := binary.LittleEndian.Uint16(lp[4:]); n != lpCountUnknown {
		return int(n)
	}
	n := 0
	_ = ListpackEach(lp, func([]byte) error { n++; return nil })
	return n
}

// ListpackEach validates lp as lpValidateIntegrity does in deep mode and
// calls fn with every entry in order, an integer entry in its decimal form.
// The slice fn gets is valid only during the call. It stops at fn's first
// error and returns it.
func ListpackEach(lp []byte, fn func(elem []byte) error) error {
	size := len(lp)
	if size < lpHeaderSize+1 || int(binary.LittleEndian.Uint32(lp)) != size || lp[size-1] != lpEOF {
		return ErrCorrupt
	}
	var num [20]byte
	count := 0
	p := lpHeaderSize
	for lp[p] != lpEOF {
		hdr, data, ok := lpEntrySize(lp[p : size-1])
		if !ok {
			return ErrCorrupt
		}
		l := hdr + data
		end := p + l + backlenSize(uint64(l))
		if end > size-1 {
			return ErrCorrupt
		}
		// Read as Redis reads it, from the end, even past the backlen's
		// own bytes when their high bits say so.
		if back, ok := readBacklen(lp[:end]); !ok || back != uint64(l) {
			return ErrCorrupt
		}
		var elem []byte
		if v, isInt := lpInt(lp[p:]); isInt {
			elem = strconv.AppendInt(num[:0], v, 10)
		} else {
			elem = lp[p+hdr : p+l]
		}
		if err := fn(elem); err != nil {
			return err
		}
		count++
		p = end
	}
	if p != size-1 {
		return ErrCorrupt
	}
	if n := int(binary.LittleEndian.Uint16(lp[4:])); n != lpCountUnknown && n != count {
		return ErrCorrupt
	}
	return nil
}

// lpEntrySize returns the size of the entry at the start of p (which ends
// before the terminator): the encoding bytes and the data that follow.
func lpEntrySize(p []byte) (hdr, data int, ok bool) {
	b := p[0]
	switch {
	case b&0x80 == 0: // 7-bit unsigned
		return 1, 0, true
	case b&0xc0 == 0x80: // string of up to 63 bytes
		return 1, int(b & 0x3f), true
	case b&0xe0 == 0xc0: // 13-bit int
		return 1, 1, true
	case b&0xf0 == 0xe0: // string of up to 4095 bytes
		if len(p) < 2 {
			return 0, 0, false
		}
		return 2, int(b&0x0f)<<8 | int(p[1]), true
	case b == lpInt16:
		return 1, 2, true
	case b == lpInt24:
		return 1, 3, true
	case b == lpInt32:
		return 1, 4, true
	case b == lpInt64:
		return 1, 8, true
	case b == lpStr32:
		if len(p) < 5 {
			return 0, 0, false
		}
		n := binary.LittleEndian.Uint32(p[1:])
		if uint64(n) > uint64(len(p)) {
			return 0, 0, false
		}
		return 5, int(n), true
	}
	return 0, 0, false
}

// lpInt decodes an integer entry (the bytes are known to be there).
func lpInt(p []byte) (int64, bool) {
	b := p[0]
	switch {
	case b&0x80 == 0:
		return int64(b), true
	case b&0xe0 == 0xc0:
		u := uint64(b&0x1f)<<8 | uint64(p[1])
		return int64(u<<51) >> 51, true // sign-extend 13 bits
	case b == lpInt16:
		return int64(int16(binary.LittleEndian.Uint16(p[1:]))), true
	case b == lpInt24:
		u := uint64(p[1]) | uint64(p[2])<<8 | uint64(p[3])<<16
		return int64(u<<40) >> 40, true
	case b == lpInt32:
		return int64(int32(binary.LittleEndian.Uint32(p[1:]))), true
	case b == lpInt64:
		return int64(binary.LittleEndian.Uint64(p[1:])), true
	}
	return 0, false
}

// readBacklen decodes the backlen that ends b, reading backwards as
// lpDecodeBacklen does (at most 5 bytes).
func readBacklen(b []byte) (uint64, bool) {
	var v uint64
	shift := uint(0)
	for i := len(b) - 1; i >= 0; i-- {
		v |= uint64(b[i]&127) << shift
		if b[i]&128 == 0 {
			return v, true
		}
		shift += 7
		if shift > 28 {
			return 0, false
		}
	}
	return 0, false
}
