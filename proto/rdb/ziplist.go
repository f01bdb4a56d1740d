package rdb

import (
	"encoding/binary"
	"math"
	"strconv"
)

// A ziplist (before Redis 7.0): total bytes and the offset of the last
// entry (uint32), the entry count (uint16, 65535 once it no longer fits),
// the entries, then 0xFF. An entry is the previous entry's length (1 byte,
// or 0xFE and 4 bytes), an encoding with the data's length, and the data.
const (
	zlHeaderSize = 10
	zlEnd        = 0xff
	zlBigPrevLen = 0xfe
)

// Ziplist encodings (ziplist.c ZIP_*).
const (
	zipStr06 = 0x00
	zipStr14 = 0x40
	zipStr32 = 0x80
	zipInt16 = 0xc0
	zipInt32 = 0xd0
	zipInt64 = 0xe0
	zipInt24 = 0xf0
	zipInt8  = 0xfe
	zipImmLo = 0xf1 // 4-bit immediates 0..12
	zipImmHi = 0xfd
)

// ZiplistEach validates zl as ziplistValidateIntegrity does in deep mode
// and calls fn with every entry in order, an integer entry in its decimal
// form. The slice fn gets is valid only during the call.
func ZiplistEach(zl []byte, fn func(elem []byte) error) error {
	size := len(zl)
	if size < zlHeaderSize+1 || uint64(binary.LittleEndian.Uint32(zl)) != uint64(size) || zl[size-1] != zlEnd {
		return ErrCorrupt
	}
	tail := int(binary.LittleEndian.Uint32(zl[4:]))
	if tail > size-1 {
		return ErrCorrupt
	}
	last := size - 1 // the terminator: entries end at or before it
	var num [20]byte
	count, prevLen, prev := 0, 0, -1
	p := zlHeaderSize
	for zl[p] != zlEnd {
		// The previous entry's length.
		pl, plSize := int(zl[p]), 1
		if zl[p] >= zlBigPrevLen {
			if p+5 > last {
				return ErrCorrupt
			}
			pl, plSize = int(binary.LittleEndian.Uint32(zl[p+1:])), 5
		}
		// The encoding and the data's length.
		q := p + plSize
		if q > last {
			return ErrCorrupt
		}
		enc := zl[q]
		if enc < 0xc0 {
			enc &= 0xc0
		}
		var lenSize, n int
		switch {
		case enc == zipStr06:
			lenSize, n = 1, int(zl[q]&0x3f)
		case enc == zipStr14:
			if q+2 > last {
				return ErrCorrupt
			}
			lenSize, n = 2, int(zl[q]&0x3f)<<8|int(zl[q+1])
		case enc == zipStr32:
			if q+5 > last {
				return ErrCorrupt
			}
			lenSize, n = 5, int(binary.BigEndian.Uint32(zl[q+1:]))
		case enc == zipInt8:
			lenSize, n = 1, 1
		case enc == zipInt16:
			lenSize, n = 1, 2
		case enc == zipInt24:
			lenSize, n = 1, 3
		case enc == zipInt32:
			lenSize, n = 1, 4
		case enc == zipInt64:
			lenSize, n = 1, 8
		case enc >= zipImmLo && enc <= zipImmHi:
			lenSize, n = 1, 0
		default:
			return ErrCorrupt
		}
		data := q + lenSize
		if data > last || n > last-data || pl != prevLen || pl > p-zlHeaderSize {
			return ErrCorrupt
		}
		var elem []byte
		switch {
		case enc < 0xc0:
			elem = zl[data : data+n]
		default:
			elem = strconv.AppendInt(num[:0], zipInt(enc, zl[data:data+n]), 10)
		}
		if err := fn(elem); err != nil {
			return err
		}
		prev, prevLen = p, data+n-p
		p = data + n
		count++
	}
	if p != size-1 || (prev != -1 && prev != tail) {
		return ErrCorrupt
	}
	if hc := int(binary.LittleEndian.Uint16(zl[8:])); hc != 0xffff && hc != count {
		return ErrCorrupt
	}
	return nil
}

// zipInt decodes the integer data d of encoding enc.
func zipInt(enc byte, d []byte) int64 {
	switch enc {
	case zipInt8:
		return int64(int8(d[0]))
	case zipInt16:
		return int64(int16(binary.LittleEndian.Uint16(d)))
	case zipInt24:
		u := uint64(d[0]) | uint64(d[1])<<8 | uint64(d[2])<<16
		return int64(u<<40) >> 40
	case zipInt32:
		return int64(int32(binary.LittleEndian.Uint32(d)))
	case zipInt64:
		return int64(binary.LittleEndian.Uint64(d))
	}
	return int64(enc&0x0f) - 1 // immediate
}

// AppendZiplist appends a ziplist of elems as Redis before 7.0 wrote one:
// an element that is the decimal form of an int64 (and shorter than 32
// bytes) in the narrowest integer encoding. Redis 7.0 never writes one;
// this is for reading tests and for moving data to older servers.
func AppendZiplist(b []byte, elems [][]byte) []byte {
	start := len(b)
	b = append(b, make([]byte, zlHeaderSize)...)
	prevLen, tail := 0, zlHeaderSize
	for _, e := range elems {
		p := len(b)
		tail = p - start
		if prevLen < zlBigPrevLen {
			b = append(b, byte(prevLen))
		} else {
			b = binary.LittleEndian.AppendUint32(append(b, zlBigPrevLen), uint32(prevLen))
		}
		b = appendZipEntry(b, e)
		prevLen = len(b) - p
	}
	b = append(b, zlEnd)
	binary.LittleEndian.PutUint32(b[start:], uint32(len(b)-start))
	binary.LittleEndian.PutUint32(b[start+4:], uint32(tail))
	binary.LittleEndian.PutUint16(b[start+8:], uint16(min(len(elems), 0xffff)))
	return b
}

// appendZipEntry appends an entry's encoding and data (zipTryEncoding,
// zipStoreEntryEncoding).
func appendZipEntry(b, e []byte) []byte {
	if v, ok := ParseInt(e); ok && len(e) < 32 {
		switch {
		case v >= 0 && v <= 12:
			return append(b, zipImmLo+byte(v))
		case v >= math.MinInt8 && v <= math.MaxInt8:
			return append(b, zipInt8, byte(v))
		case v >= math.MinInt16 && v <= math.MaxInt16:
			return binary.LittleEndian.AppendUint16(append(b, zipInt16), uint16(v))
		case v >= -1<<23 && v < 1<<23:
			return append(b, zipInt24, byte(v), byte(v>>8), byte(v>>16))
		case v >= math.MinInt32 && v <= math.MaxInt32:
			return binary.LittleEndian.AppendUint32(append(b, zipInt32), uint32(v))
		}
		return binary.LittleEndian.AppendUint64(append(b, zipInt64), uint64(v))
	}
	switch n := len(e); {
	case n <= 0x3f:
		b = append(b, zipStr06|byte(n))
	case n <= 0x3fff:
		b = append(b, zipStr14|byte(n>>8), byte(n))
	default:
		b = binary.BigEndian.AppendUint32(append(b, zipStr32), uint32(n))
	}
	return append(b, e...)
}
