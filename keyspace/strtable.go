package keyspace

import (
	"encoding/binary"
	"unsafe"
)

// Values at rest: a database keeps its small strings, and its small hashes
// and sorted sets in their listpack form, that have not changed for a while
// packed in a strTable rather than as an Entry, a key string and a map cell
// each (~150 bytes for a 16-byte key and a 32-byte value). A table is an
// arena of records (header, key and value in a few dozen bytes) and an
// open-addressing index of 8-byte slots, both pointer-free, so the
// collector neither scans them nor counts their objects. SET of a missing
// or packed key writes a record directly; the store packs the rest on its
// cron (Store.PackStrings); a command that needs an entry takes it out
// again (DB.thaw), and reads that need only a string's value (GET) read it
// where it is.
//
// A key is in at most one of a database's map and its table.

const (
	// segBits sizes the arena's segments (1 MiB): a record's position is
	// its segment number and offset, 16 and 20 bits.
	segBits = 20
	segSize = 1 << segBits
	segMin  = 4 << 10 // a segment starts this small and doubles
	posBits = 36
	posMask = 1<<posBits - 1
	// A slot holds 28 bits of the key's hash above its record's position:
	// enough to place it again when the index grows (tables stay below
	// 2^28 slots) and to skip nearly every other key without reading it.
	slotHashBits = 64 - posBits
	slotHashMask = 1<<slotHashBits - 1

	// strPackMax bounds the values and keys packed: larger ones gain
	// little, and a record must fit a segment many times over.
	strPackMax = 4 << 10

	// Record layout: flags (1: dead, TTL, and the value's Kind in bits
	// 2-4), snapshot epoch (2), LRU/LFU field (3), version (8), expiry (8,
	// only with recTTL), then the key's and the value's lengths as uvarints
	// and their bytes. A string's value is its bytes; a packed sorted set's
	// or hash's, its number of elements (uvarint) then its listpack.
	recDead      = 1 << 0
	recTTL       = 1 << 1
	recKindShift = 2
	recHdr       = 14

	// strSlotCost is what a key's slot costs on average: 8 bytes at the
	// index's load, between 0.4 and 0.8.
	strSlotCost = 14
)

// strTable is the packed strings of a database.
type strTable struct {
	slots []uint64 // 0: empty; else hash<<posBits | position
	n     int      // live records
	segs  [][]byte // nil once freed
	dead  []int    // dead bytes per segment
	free  []int    // freed segment numbers, for reuse
	tail  int      // the segment records are appended to; -1: none
	// expCursor is where active expiry samples next.
	expCursor int
}

func newStrTable() *strTable {
	return &strTable{slots: make([]uint64, 64), tail: -1}
}

// strRec is a record read from the arena: b is the segment from the
// record's start; the key and value follow at k and v.
type strRec struct {
	b    []byte
	k, v int // offsets of the key and value in b
	klen int
	vlen int
	pos  uint64
}

func (r *strRec) flags() byte       { return r.b[0] }
func (r *strRec) kind() Kind        { return Kind(r.b[0] >> recKindShift & 7) }
func (r *strRec) snap() uint16      { return binary.LittleEndian.Uint16(r.b[1:]) }
func (r *strRec) lru() uint32       { return uint32(r.b[3]) | uint32(r.b[4])<<8 | uint32(r.b[5])<<16 }
func (r *strRec) version() uint64   { return binary.LittleEndian.Uint64(r.b[6:]) }
func (r *strRec) key() []byte       { return r.b[r.k : r.k+r.klen : r.k+r.klen] }
func (r *strRec) val() []byte       { return r.b[r.v : r.v+r.vlen : r.v+r.vlen] }
func (r *strRec) size() int         { return r.v + r.vlen }
func (r *strRec) keyString() string { return unsafe.String(unsafe.SliceData(r.key()), r.klen) }
func (r *strRec) expireAt() int64 {
	if r.b[0]&recTTL == 0 {
		return 0
	}
	return int64(binary.LittleEndian.Uint64(r.b[recHdr:]))
}

// record reads the record at pos.
func (t *strTable) record(pos uint64) strRec {
	b := t.segs[pos>>segBits][pos&(segSize-1):]
	i := recHdr
	if b[0]&recTTL != 0 {
		i += 8
	}
	kl, w := binary.Uvarint(b[i:])
	i += w
	vl, w := binary.Uvarint(b[i:])
	i += w
	return strRec{b: b, k: i, klen: int(kl), v: i + int(kl), vlen: int(vl), pos: pos}
}

// at is the record's bytes in its segment as it is now: a tail segment
// that grew has moved since a strRec was read, so writes go through here.
func (t *strTable) at(pos uint64) []byte { return t.segs[pos>>segBits][pos&(segSize-1):] }

func (t *strTable) setSnap(pos uint64, s uint16) { binary.LittleEndian.PutUint16(t.at(pos)[1:], s) }

func (t *strTable) setLRU(pos uint64, v uint32) {
	b := t.at(pos)
	b[3], b[4], b[5] = byte(v), byte(v>>8), byte(v>>16)
}

// strCost is what a packed record of size n costs.
func strCost(n int) int64 { return int64(n + strSlotCost) }

// find returns the slot index and record of key, hashed h.
func (t *strTable) find(key []byte, h uint64) (int, strRec, bool) {
	mask := len(t.slots) - 1
	hb := h & slotHashMask
	for i := int(hb) & mask; ; i = (i + 1) & mask {
		s := t.slots[i]
		if s == 0 {
			return 0, strRec{}, false
		}
		if s>>posBits == hb {
			r := t.record(s & posMask)
			if string(r.key()) == string(key) {
				return i, r, true
			}
		}
	}
}

// insert adds a slot for a record at pos of a key hashed h (absent).
func (t *strTable) insert(h, pos uint64) {
	if (t.n+1)*5 > len(t.slots)*4 {
		t.grow()
	}
	mask := len(t.slots) - 1
	hb := h & slotHashMask
	i := int(hb) & mask
	for t.slots[i] != 0 {
		i = (i + 1) & mask
	}
	t.slots[i] = hb<<posBits | pos
	t.n++
}

// grow doubles the index, placing each slot by the hash bits it keeps.
func (t *strTable) grow() {
	old := t.slots
	t.slots = make([]uint64, 2*len(old))
	mask := len(t.slots) - 1
	for _, s := range old {
		if s == 0 {
			continue
		}
		i := int(s>>posBits) & mask
		for t.slots[i] != 0 {
			i = (i + 1) & mask
		}
		t.slots[i] = s
	}
}

// remove deletes slot i and marks its record r dead. Linear probing's
// backward shift keeps every other key reachable without tombstones.
func (t *strTable) remove(i int, r *strRec) {
	t.at(r.pos)[0] |= recDead
	seg := int(r.pos >> segBits)
	t.dead[seg] += r.size()
	t.n--
	mask := len(t.slots) - 1
	for j := (i + 1) & mask; ; j = (j + 1) & mask {
		s := t.slots[j]
		if s == 0 {
			break
		}
		home := int(s>>posBits) & mask
		// Move s back to i unless its home lies cyclically in (i, j].
		if (j > i && (home <= i || home > j)) || (j < i && home <= i && home > j) {
			t.slots[i] = s
			i = j
		}
	}
	// A segment all dead is freed by compact, never here: a snapshot's
	// walk may be inside it, and a reused segment would hold other records.
	t.slots[i] = 0
}

func (t *strTable) freeSeg(seg int) {
	t.segs[seg], t.dead[seg] = nil, 0
	t.free = append(t.free, seg)
}

// appendRec writes a record and returns its position.
func (t *strTable) appendRec(flags byte, snap uint16, lru uint32, version uint64, expireAt int64, key, val []byte) uint64 {
	need := recHdr + 2*binary.MaxVarintLen32 + len(key) + len(val)
	if flags&recTTL != 0 {
		need += 8
	}
	if t.tail < 0 || len(t.segs[t.tail])+need > segSize {
		t.newTail(need)
	} else if b := t.segs[t.tail]; len(b)+need > cap(b) {
		nb := make([]byte, len(b), min(segSize, max(2*cap(b), len(b)+need)))
		copy(nb, b)
		t.segs[t.tail] = nb
	}
	b := t.segs[t.tail]
	pos := uint64(t.tail)<<segBits | uint64(len(b))
	b = append(b, flags, byte(snap), byte(snap>>8), byte(lru), byte(lru>>8), byte(lru>>16))
	b = binary.LittleEndian.AppendUint64(b, version)
	if flags&recTTL != 0 {
		b = binary.LittleEndian.AppendUint64(b, uint64(expireAt))
	}
	b = binary.AppendUvarint(b, uint64(len(key)))
	b = binary.AppendUvarint(b, uint64(len(val)))
	b = append(b, key...)
	t.segs[t.tail] = append(b, val...)
	return pos
}

// newTail starts a segment for records of at least need bytes. Offset 0 of
// a segment is never a record's, so that no slot is 0.
func (t *strTable) newTail(need int) {
	b := make([]byte, 1, max(segMin, need+1))
	if n := len(t.free); n > 0 {
		t.tail, t.free = t.free[n-1], t.free[:n-1]
		t.segs[t.tail] = b
		return
	}
	t.tail = len(t.segs)
	t.segs, t.dead = append(t.segs, b), append(t.dead, 0)
}

// compact moves the live records of segments more than half dead to the
// tail, up to about budget bytes, and frees those segments. It must not run
// while a snapshot walks the table.
func (t *strTable) compact(budget int, hash func([]byte) uint64) {
	for seg := range t.segs {
		b := t.segs[seg]
		if budget <= 0 {
			return
		}
		if b == nil || seg == t.tail || t.dead[seg]*2 < len(b) {
			continue
		}
		for off := 1; off < len(b); {
			r := t.record(uint64(seg)<<segBits | uint64(off))
			off += r.size()
			if r.flags()&recDead != 0 {
				continue
			}
			i, _, _ := t.find(r.key(), hash(r.key()))
			pos := t.appendRec(r.flags(), r.snap(), r.lru(), r.version(), r.expireAt(), r.key(), r.val())
			t.slots[i] = t.slots[i]&^posMask | pos
			budget -= r.size()
		}
		t.freeSeg(seg)
	}
}
