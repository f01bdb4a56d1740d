package rdb

import (
	"encoding/binary"
	"math"
)

// An intset: the width of every value in bytes (2, 4 or 8) and the count,
// both uint32 little endian, then the values ascending, little endian.
const intsetHeaderSize = 8

// AppendIntset appends the intset of vals (ascending, distinct) in the
// narrowest width that holds them all, the width a set built without
// removals has.
func AppendIntset(b []byte, vals []int64) []byte {
	width := 2
	for _, v := range vals {
		switch {
		case v < math.MinInt32 || v > math.MaxInt32:
			width = 8
		case (v < math.MinInt16 || v > math.MaxInt16) && width < 4:
			width = 4
		}
	}
	b = binary.LittleEndian.AppendUint32(b, uint32(width))
	b = binary.LittleEndian.AppendUint32(b, uint32(len(vals)))
	for _, v := range vals {
		switch width {
		case 2:
			b = binary.LittleEndian.AppendUint16(b, uint16(v))
		case 4:
			b = binary.LittleEndian.AppendUint32(b, uint32(v))
		default:
			b = binary.LittleEndian.AppendUint64(b, uint64(v))
		}
	}
	return b
}

// Intset validates an intset as intsetValidateIntegrity does in deep mode
// (a known width, a size that matches the count, not empty, strictly
// ascending) and returns its values.
func Intset(is []byte) ([]int64, error) {
	if len(is) < intsetHeaderSize {
		return nil, ErrCorrupt
	}
	width := binary.LittleEndian.Uint32(is)
	if width != 2 && width != 4 && width != 8 {
		return nil, ErrCorrupt
	}
	n := uint64(binary.LittleEndian.Uint32(is[4:]))
	if n == 0 || intsetHeaderSize+n*uint64(width) != uint64(len(is)) {
		return nil, ErrCorrupt
	}
	vals := make([]int64, n)
	p := is[intsetHeaderSize:]
	for i := range vals {
		switch width {
		case 2:
			vals[i] = int64(int16(binary.LittleEndian.Uint16(p[2*i:])))
		case 4:
			vals[i] = int64(int32(binary.LittleEndian.Uint32(p[4*i:])))
		default:
			vals[i] = int64(binary.LittleEndian.Uint64(p[8*i:]))
		}
		if i > 0 && vals[i] <= vals[i-1] {
			return nil, ErrCorrupt
		}
	}
	return vals, nil
}
