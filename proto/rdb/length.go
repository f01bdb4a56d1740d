package rdb

import (
	"encoding/binary"
	"math"
)

// Length encodings: the top two bits of the first byte (rdb.h RDB_*LEN).
const (
	len6Bit  = 0    // 00xxxxxx
	len14Bit = 1    // 01xxxxxx xxxxxxxx
	len32Bit = 0x80 // then 4 bytes, big endian
	len64Bit = 0x81 // then 8 bytes, big endian
	lenEnc   = 3    // 11xxxxxx: a special string encoding follows
)

// Special string encodings: the low six bits after lenEnc (RDB_ENC_*).
const (
	encInt8  = 0
	encInt16 = 1
	encInt32 = 2
	encLZF   = 3
)

// AppendLen appends n in the shortest length encoding, as rdbSaveLen.
func AppendLen(b []byte, n uint64) []byte {
	switch {
	case n < 1<<6:
		return append(b, byte(n)|len6Bit<<6)
	case n < 1<<14:
		return append(b, byte(n>>8)|len14Bit<<6, byte(n))
	case n <= math.MaxUint32:
		return binary.BigEndian.AppendUint32(append(b, len32Bit), uint32(n))
	}
	return binary.BigEndian.AppendUint64(append(b, len64Bit), n)
}

// ReadLen reads a length as rdbLoadLenByRef. When encoded is set, n is the
// special string encoding instead (encInt8...encLZF). Callers that read a
// count rather than a string ignore encoded, as Redis does: a count byte
// 0xC5 means 5.
func ReadLen(p []byte) (n uint64, encoded bool, rest []byte, err error) {
	if len(p) == 0 {
		return 0, false, nil, ErrCorrupt
	}
	b := p[0]
	switch {
	case b>>6 == lenEnc:
		return uint64(b & 0x3f), true, p[1:], nil
	case b>>6 == len6Bit:
		return uint64(b & 0x3f), false, p[1:], nil
	case b>>6 == len14Bit:
		if len(p) < 2 {
			return 0, false, nil, ErrCorrupt
		}
		return uint64(b&0x3f)<<8 | uint64(p[1]), false, p[2:], nil
	case b == len32Bit:
		if len(p) < 5 {
			return 0, false, nil, ErrCorrupt
		}
		return uint64(binary.BigEndian.Uint32(p[1:])), false, p[5:], nil
	case b == len64Bit:
		if len(p) < 9 {
			return 0, false, nil, ErrCorrupt
		}
		n = binary.BigEndian.Uint64(p[1:])
		if n == math.MaxUint64 { // RDB_LENERR: Redis cannot tell it from an error
			return 0, false, nil, ErrCorrupt
		}
		return n, false, p[9:], nil
	}
	return 0, false, nil, ErrCorrupt
}

// ReadCount reads an element count (rdbLoadLen with no encoding flag). It
// refuses a count larger than the bytes left, since every element takes at
// least one byte, so a caller may allocate for count elements.
func ReadCount(p []byte) (int, []byte, error) {
	n, _, rest, err := ReadLen(p)
	if err != nil {
		return 0, nil, err
	}
	if n > uint64(len(rest)) {
		return 0, nil, ErrCorrupt
	}
	return int(n), rest, nil
}
