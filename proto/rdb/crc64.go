package rdb

import (
	"hash/crc64"
	"math/bits"
)

// Redis's crc64 is the "Jones" polynomial, reflected, with no initial or
// final inversion. hash/crc64 takes any reflected polynomial but inverts
// before and after, so CRC64 undoes both inversions around it.
var crcTable = crc64.MakeTable(bits.Reverse64(0xad93d23594c935a9))

// CRC64 continues Redis's crc64(crc, p) (crc 0 to start).
func CRC64(crc uint64, p []byte) uint64 {
	return ^crc64.Update(^crc, crcTable, p)
}
