// Package rdb reads and writes the bytes of Redis's RDB format that a DUMP
// payload is made of, as Redis 7.0 (RDB version 10) lays them out: lengths,
// strings (integer-encoded and LZF-compressed), doubles, the compact
// containers (listpack, ziplist, intset, zipmap) and the payload footer with
// its CRC64. Pure functions on byte slices: what a key's value is, and which
// encoding a value gets, is the caller's business (keyspace/dump.go).
//
// Readers validate as Redis does with sanitize-dump-payload enabled (deep
// checks of every container), never read past their input, and allocate no
// more than a constant factor of the input's size, so hostile payloads are
// safe to parse.
package rdb

import (
	"encoding/binary"
	"errors"
)

// Version is the RDB version Redis 7.0 writes; a payload of a later version
// is refused, an earlier one accepted.
const Version = 10

// Object types: the first byte of a payload (rdb.h's RDB_TYPE_*).
const (
	TypeString           = 0
	TypeList             = 1 // linked list of strings (before 3.2)
	TypeSet              = 2
	TypeZSet             = 3 // scores as text (before RDB 8)
	TypeHash             = 4
	TypeZSet2            = 5 // scores as binary doubles
	TypeModule           = 6
	TypeModule2          = 7
	TypeHashZipmap       = 9
	TypeListZiplist      = 10
	TypeSetIntset        = 11
	TypeZSetZiplist      = 12
	TypeHashZiplist      = 13
	TypeListQuicklist    = 14 // nodes are ziplists
	TypeStreamListpacks  = 15
	TypeHashListpack     = 16
	TypeZSetListpack     = 17
	TypeListQuicklist2   = 18 // nodes are listpacks or plain strings
	TypeStreamListpacks2 = 19
)

// Quicklist node containers (TypeListQuicklist2).
const (
	ContainerPlain  = 1 // one element, stored as a string
	ContainerPacked = 2 // a listpack
)

// IsObjectType reports whether t is a type byte Redis 7.0 loads
// (rdbIsObjectType): 8 and everything past 19 are not.
func IsObjectType(t byte) bool { return t <= 7 || (t >= 9 && t <= 19) }

var (
	// ErrFooter is a payload too short for its footer, of a later RDB
	// version, or whose checksum does not match.
	ErrFooter = errors.New("rdb: payload version or checksum are wrong")
	// ErrCorrupt is anything that does not parse.
	ErrCorrupt = errors.New("rdb: bad data format")
)

// footerLen is the 2-byte version and the 8-byte CRC64 that end a payload.
const footerLen = 10

// AppendFooter ends the payload b[start:] with Redis's DUMP footer: the RDB
// version and the CRC64 of everything before the checksum, both little
// endian.
func AppendFooter(b []byte, start int) []byte {
	b = binary.LittleEndian.AppendUint16(b, Version)
	return binary.LittleEndian.AppendUint64(b, CRC64(0, b[start:]))
}

// CheckFooter verifies p's footer as Redis's verifyDumpPayload does. The
// object is then read from the whole of p, footer included: Redis reads it
// so, and ignores whatever the object leaves unread.
func CheckFooter(p []byte) error {
	if len(p) < footerLen {
		return ErrFooter
	}
	footer := p[len(p)-footerLen:]
	if binary.LittleEndian.Uint16(footer) > Version {
		return ErrFooter
	}
	if CRC64(0, p[:len(p)-8]) != binary.LittleEndian.Uint64(footer[2:]) {
		return ErrFooter
	}
	return nil
}
