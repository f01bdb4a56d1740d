package keyspace

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
)

// The store's own serialized form of a value, used by snapshots and the
// log (DUMP and RESTORE speak Redis's format, see dump.go): magic "SP",
// format version, kind, the kind's payload, then a CRC32 (Castagnoli) of
// everything before it.
const (
	dumpMagic0   = 'S'
	dumpMagic1   = 'P'
	dumpVersion  = 1
	dumpTrailer  = 4
	dumpOverhead = 4 + dumpTrailer
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// errCorrupt is returned by decoders for a payload that does not parse.
var errCorrupt = errors.New("keyspace: corrupt value encoding")

// errDumpHeader is DecodeValue's error for a payload whose magic, format
// version or checksum is wrong (RESTORE answers these differently from a
// payload that checks out but does not parse).
var errDumpHeader = errors.New("keyspace: bad value header or checksum")

// EncodeValue appends the serialized value of e (not its key, TTL or
// version) to b.
func EncodeValue(b []byte, e *Entry) []byte {
	start := len(b)
	b = append(b, dumpMagic0, dumpMagic1, dumpVersion, byte(e.Kind))
	switch e.Kind {
	case KindString:
		b = append(b, e.Str...)
	case KindHash:
		b = e.Coll.(*Hash).encode(b)
	case KindList:
		b = e.Coll.(*List).encode(b)
	case KindSet:
		b = e.Coll.(*Set).encode(b)
	case KindZSet:
		b = e.Coll.(*ZSet).encode(b)
	case KindStream:
		// A stream keeps Redis's own layout (nodes, tombstones, groups),
		// which its RDB form holds whole.
		b = dumpStream(b, e.Coll.(*Stream))
	}
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b[start:], crcTable))
}

// DecodeValue parses what EncodeValue wrote. The entry has no TTL and no
// version.
func DecodeValue(b []byte) (*Entry, error) {
	if len(b) < dumpOverhead || b[0] != dumpMagic0 || b[1] != dumpMagic1 || b[2] != dumpVersion {
		return nil, errDumpHeader
	}
	body := b[:len(b)-dumpTrailer]
	if crc32.Checksum(body, crcTable) != binary.LittleEndian.Uint32(b[len(b)-dumpTrailer:]) {
		return nil, errDumpHeader
	}
	e := &Entry{Kind: Kind(body[3])}
	payload := body[4:]
	var err error
	switch e.Kind {
	case KindString:
		e.Str = append([]byte(nil), payload...)
	case KindHash:
		e.Coll, err = decodeHash(payload)
	case KindList:
		e.Coll, err = decodeList(payload)
	case KindSet:
		e.Coll, err = decodeSet(payload)
	case KindZSet:
		e.Coll, err = decodeZSet(payload)
	case KindStream:
		e.Coll, err = restoreStream(payload, true)
	default:
		return nil, errCorrupt
	}
	if err != nil {
		return nil, err
	}
	if e.Coll != nil && e.Coll.Len() == 0 && e.Kind != KindStream {
		return nil, errCorrupt
	}
	return e, nil
}

// appendBytes appends x with a uvarint length prefix.
func appendBytes(b, x []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(x)))
	return append(b, x...)
}

// readBytes reads what appendBytes wrote; the result aliases b.
func readBytes(b []byte) (x, rest []byte, err error) {
	n, k := binary.Uvarint(b)
	if k <= 0 || uint64(len(b)-k) < n {
		return nil, nil, errCorrupt
	}
	return b[k : k+int(n)], b[k+int(n):], nil
}

// readCount reads a uvarint element count, bounded by the bytes left so a
// corrupt count cannot make a decoder allocate without limit.
func readCount(b []byte) (int, []byte, error) {
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)) {
		return 0, nil, errCorrupt
	}
	return int(n), b[k:], nil
}
