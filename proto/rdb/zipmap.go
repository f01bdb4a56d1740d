package rdb

import "encoding/binary"

// A zipmap (hashes before Redis 2.6): a count byte (254 once it no longer
// fits), then for each pair the field's length, the field, the value's
// length, a byte of free space after the value, the value and that free
// space; then 0xFF. A length is one byte below 254, else 254 and a uint32
// little endian.
const (
	zmBigLen = 254
	zmEnd    = 0xff
)

// ZipmapEach validates zm as zipmapValidateIntegrity does in deep mode and
// calls fn with every field and value. A length written in five bytes that
// would fit in one is refused: Redis's validation and its iteration read
// such an entry differently.
func ZipmapEach(zm []byte, fn func(field, value []byte) error) error {
	size := len(zm)
	if size < 2 || zm[size-1] != zmEnd {
		return ErrCorrupt
	}
	last := size - 1
	count := 0
	p := 1
	for zm[p] != zmEnd {
		field, q, ok := zipmapString(zm, p, last, false)
		if !ok {
			return ErrCorrupt
		}
		value, q, ok := zipmapString(zm, q, last, true)
		if !ok {
			return ErrCorrupt
		}
		if err := fn(field, value); err != nil {
			return err
		}
		count++
		p = q
	}
	if count == 0 || (zm[0] != zmBigLen && int(zm[0]) != count) {
		return ErrCorrupt
	}
	return nil
}

// zipmapString reads the length at zm[p] and what follows it (a free-space
// byte and that much padding after a value); it returns the string and the
// position after it, which must not pass last.
func zipmapString(zm []byte, p, last int, value bool) (s []byte, next int, ok bool) {
	n, size := int(zm[p]), 1
	if zm[p] >= zmBigLen {
		if p+5 > last {
			return nil, 0, false
		}
		n, size = int(binary.LittleEndian.Uint32(zm[p+1:])), 5
		if n < zmBigLen {
			return nil, 0, false
		}
	}
	p += size
	free := 0
	if value {
		if p > last {
			return nil, 0, false
		}
		free = int(zm[p])
		p++
	}
	if p > last || n > last-p || free > last-p-n {
		return nil, 0, false
	}
	return zm[p : p+n], p + n + free, true
}

// AppendZipmap appends a zipmap of the field, value pairs in kv (Redis 2.4
// and before), with no free space. For reading tests.
func AppendZipmap(b []byte, kv [][]byte) []byte {
	b = append(b, byte(min(len(kv)/2, zmBigLen)))
	for i, s := range kv {
		if len(s) < zmBigLen {
			b = append(b, byte(len(s)))
		} else {
			b = binary.LittleEndian.AppendUint32(append(b, zmBigLen), uint32(len(s)))
		}
		if i%2 == 1 {
			b = append(b, 0) // free space after the value
		}
		b = append(b, s...)
	}
	return append(b, zmEnd)
}
