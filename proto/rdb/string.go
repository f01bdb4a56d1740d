package rdb

import (
	"encoding/binary"
	"math"
	"strconv"
)

// MaxStringLen bounds a compressed string's original length. Redis's
// strings stop at proto-max-bulk-len (512 MiB by default) and so do this
// store's; the bound keeps a small payload from asking for more (LZF
// expands up to 88 times).
const MaxStringLen = 512 << 20

// AppendString appends s as rdbSaveRawString does: as an integer when it
// is the canonical decimal form of an int32 (at most 11 bytes), LZF
// compressed when it is over 20 bytes and compresses (rdbcompression yes,
// the default), verbatim otherwise.
func AppendString(b, s []byte) []byte {
	if len(s) <= 11 {
		if v, ok := ParseInt(s); ok && v >= math.MinInt32 && v <= math.MaxInt32 {
			return appendIntString(b, v)
		}
	}
	if len(s) > 20 {
		// Redis gives LZF len-4 bytes of room: compression must save at
		// least four bytes to be kept.
		if c, ok := LZFCompress(s, len(s)-4); ok {
			b = append(b, lenEnc<<6|encLZF)
			b = AppendLen(b, uint64(len(c)))
			b = AppendLen(b, uint64(len(s)))
			return append(b, c...)
		}
	}
	b = AppendLen(b, uint64(len(s)))
	return append(b, s...)
}

// appendIntString appends v (an int32) in the shortest integer encoding.
func appendIntString(b []byte, v int64) []byte {
	switch {
	case v >= math.MinInt8 && v <= math.MaxInt8:
		return append(b, lenEnc<<6|encInt8, byte(v))
	case v >= math.MinInt16 && v <= math.MaxInt16:
		return binary.LittleEndian.AppendUint16(append(b, lenEnc<<6|encInt16), uint16(v))
	}
	return binary.LittleEndian.AppendUint32(append(b, lenEnc<<6|encInt32), uint32(v))
}

// ReadString reads a string in any of its encodings. A verbatim string
// aliases p; integer and LZF forms are decoded into new memory.
func ReadString(p []byte) (s, rest []byte, err error) {
	n, encoded, p, err := ReadLen(p)
	if err != nil {
		return nil, nil, err
	}
	if !encoded {
		if n > uint64(len(p)) {
			return nil, nil, ErrCorrupt
		}
		return p[:n:n], p[n:], nil
	}
	var v int64
	switch n {
	case encInt8:
		if len(p) < 1 {
			return nil, nil, ErrCorrupt
		}
		v, p = int64(int8(p[0])), p[1:]
	case encInt16:
		if len(p) < 2 {
			return nil, nil, ErrCorrupt
		}
		v, p = int64(int16(binary.LittleEndian.Uint16(p))), p[2:]
	case encInt32:
		if len(p) < 4 {
			return nil, nil, ErrCorrupt
		}
		v, p = int64(int32(binary.LittleEndian.Uint32(p))), p[4:]
	case encLZF:
		return readLZFString(p)
	default:
		return nil, nil, ErrCorrupt
	}
	return strconv.AppendInt(nil, v, 10), p, nil
}

// readLZFString reads the compressed and the original length, then the
// compressed bytes (rdbLoadLzfStringObject).
func readLZFString(p []byte) (s, rest []byte, err error) {
	clen, _, p, err := ReadLen(p)
	if err != nil {
		return nil, nil, err
	}
	n, _, p, err := ReadLen(p)
	if err != nil {
		return nil, nil, err
	}
	if clen > uint64(len(p)) || n > MaxStringLen {
		return nil, nil, ErrCorrupt
	}
	s, err = LZFDecompress(p[:clen], n)
	if err != nil {
		return nil, nil, err
	}
	return s, p[clen:], nil
}

// AppendBinaryDouble appends f as the 8 little-endian bytes of its IEEE 754
// form (the scores of TypeZSet2).
func AppendBinaryDouble(b []byte, f float64) []byte {
	return binary.LittleEndian.AppendUint64(b, math.Float64bits(f))
}

// ReadBinaryDouble reads what AppendBinaryDouble wrote.
func ReadBinaryDouble(p []byte) (float64, []byte, error) {
	if len(p) < 8 {
		return 0, nil, ErrCorrupt
	}
	return math.Float64frombits(binary.LittleEndian.Uint64(p)), p[8:], nil
}

// ReadTextDouble reads a score of TypeZSet: a length byte, 253, 254 and 255
// standing for NaN, +inf and -inf, then that many bytes of text, which
// parse turns into a number (Redis uses sscanf's %lg, a C strtod).
func ReadTextDouble(p []byte, parse func(text []byte) (float64, bool)) (float64, []byte, error) {
	if len(p) == 0 {
		return 0, nil, ErrCorrupt
	}
	n := int(p[0])
	p = p[1:]
	switch n {
	case 253:
		return math.NaN(), p, nil
	case 254:
		return math.Inf(1), p, nil
	case 255:
		return math.Inf(-1), p, nil
	}
	if n > len(p) {
		return 0, nil, ErrCorrupt
	}
	f, ok := parse(p[:n])
	if !ok {
		return 0, nil, ErrCorrupt
	}
	return f, p[n:], nil
}

// ParseInt parses s as Redis's string2ll and lpStringToInt64: an optional
// '-', no '+', no leading zeros or spaces, within int64, at most 20 bytes.
// Only such strings are stored as integers, since only they read back the
// same.
func ParseInt(s []byte) (int64, bool) {
	if len(s) == 0 || len(s) > 20 {
		return 0, false
	}
	if len(s) == 1 && s[0] == '0' {
		return 0, true
	}
	neg := s[0] == '-'
	if neg {
		s = s[1:]
		if len(s) == 0 {
			return 0, false
		}
	}
	if s[0] < '1' || s[0] > '9' {
		return 0, false
	}
	var v uint64
	for _, c := range s {
		if c < '0' || c > '9' || v > (math.MaxUint64-9)/10 {
			return 0, false
		}
		v = v*10 + uint64(c-'0')
	}
	if neg {
		if v > 1<<63 {
			return 0, false
		}
		return -int64(v), true
	}
	if v > math.MaxInt64 {
		return 0, false
	}
	return int64(v), true
}
