// Package cluster maps keys onto shards: Redis Cluster's 16384 hash slots
// (CRC16 of the key or of its {hash tag}) divided into ranges, one or
// more per shard. Later it also carries the gossip of proxies.
package cluster

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// NumSlots is the number of hash slots, as in Redis Cluster.
const NumSlots = 16384

// Slot returns the hash slot of key, honouring {hash tags} exactly as Redis
// Cluster does: the substring between the first '{' and the next '}' when
// it is not empty.
func Slot(key []byte) uint16 {
	for i := 0; i < len(key); i++ {
		if key[i] == '{' {
			for j := i + 1; j < len(key); j++ {
				if key[j] == '}' {
					if j > i+1 {
						key = key[i+1 : j]
					}
					return crc16(key) & (NumSlots - 1)
				}
			}
			break
		}
	}
	return crc16(key) & (NumSlots - 1)
}

// Range is the slots First..Last, both included.
type Range struct {
	First, Last uint16
}

func (r Range) String() string {
	if r.First == r.Last {
		return strconv.Itoa(int(r.First))
	}
	return fmt.Sprintf("%d-%d", r.First, r.Last)
}

// SlotMap assigns every slot to one shard. The zero SlotMap has no shards.
type SlotMap struct {
	shards int
	// owner is each slot's shard: one load per key, however the ranges
	// are cut. Shared, never written after construction. nil: the even
	// split, computed (so making one costs nothing).
	owner *[NumSlots]uint16
}

// NewSlotMap returns the map for n shards (1 <= n <= NumSlots), the slots
// split evenly in contiguous ranges in shard order (EvenRanges).
func NewSlotMap(n int) SlotMap {
	if n < 1 || n > NumSlots {
		panic(fmt.Sprintf("slot map for %d shards: between 1 and %d needed", n, NumSlots))
	}
	return SlotMap{shards: n}
}

// EvenRanges is the even split of the slots over n shards that NewSlotMap
// uses: shard i owns the slots s with s*n/NumSlots == i.
func EvenRanges(n int) [][]Range {
	out := make([][]Range, n)
	for i := range out {
		first := (i*NumSlots + n - 1) / n
		last := ((i+1)*NumSlots+n-1)/n - 1
		out[i] = []Range{{First: uint16(first), Last: uint16(last)}}
	}
	return out
}

// NewSlotMapRanges returns the map where shard i owns ranges[i]. Every
// slot must belong to exactly one shard, and every shard own at least
// one slot.
func NewSlotMapRanges(ranges [][]Range) (SlotMap, error) {
	if len(ranges) == 0 || len(ranges) > NumSlots {
		return SlotMap{}, fmt.Errorf("slot map for %d shards: between 1 and %d needed", len(ranges), NumSlots)
	}
	owner := new([NumSlots]uint16)
	set := new([NumSlots]bool)
	for shard, rs := range ranges {
		if len(rs) == 0 {
			return SlotMap{}, fmt.Errorf("shard %d has no slots", shard)
		}
		for _, r := range rs {
			if r.First > r.Last || r.Last >= NumSlots {
				return SlotMap{}, fmt.Errorf("shard %d: range %d-%d is not within 0-%d, first to last", shard, r.First, r.Last, NumSlots-1)
			}
			for s := int(r.First); s <= int(r.Last); s++ {
				if set[s] && int(owner[s]) == shard {
					return SlotMap{}, fmt.Errorf("slot %d is given twice to shard %d", s, shard)
				}
				if set[s] {
					return SlotMap{}, fmt.Errorf("slot %d is given to shard %d and to shard %d", s, owner[s], shard)
				}
				set[s], owner[s] = true, uint16(shard)
			}
		}
	}
	for s := 0; s < NumSlots; s++ {
		if !set[s] {
			e := s
			for e+1 < NumSlots && !set[e+1] {
				e++
			}
			return SlotMap{}, fmt.Errorf("slots %s belong to no shard", Range{uint16(s), uint16(e)})
		}
	}
	return SlotMap{shards: len(ranges), owner: owner}, nil
}

// ParseRanges reads a slot assignment: one field per shard, in shard
// order, separated by ';' or spaces; each field a comma-separated list of
// ranges "first-last" or single slots. "0-5460;5461-10922;10923-16383" is
// the even split over three shards. It checks the syntax only;
// NewSlotMapRanges checks the cover.
func ParseRanges(s string) ([][]Range, error) {
	fields := strings.FieldsFunc(s, func(r rune) bool { return r == ';' || r == ' ' || r == '\t' })
	if len(fields) == 0 {
		return nil, errors.New("no slot ranges")
	}
	out := make([][]Range, len(fields))
	for i, f := range fields {
		for _, part := range strings.Split(f, ",") {
			a, b, isRange := strings.Cut(part, "-")
			first, err1 := parseSlot(a)
			last, err2 := first, error(nil)
			if isRange {
				last, err2 = parseSlot(b)
			}
			if err := errors.Join(err1, err2); err != nil {
				return nil, fmt.Errorf("shard %d: %q: %w", i, part, err)
			}
			if first > last {
				return nil, fmt.Errorf("shard %d: %q: the first slot is past the last", i, part)
			}
			out[i] = append(out[i], Range{First: first, Last: last})
		}
	}
	return out, nil
}

func parseSlot(s string) (uint16, error) {
	n, err := strconv.ParseUint(s, 10, 16)
	if err != nil || n >= NumSlots {
		return 0, fmt.Errorf("%q is not a slot (0-%d)", s, NumSlots-1)
	}
	return uint16(n), nil
}

// FormatRanges writes ranges in ParseRanges's syntax.
func FormatRanges(ranges [][]Range) string {
	var b strings.Builder
	for i, rs := range ranges {
		if i > 0 {
			b.WriteByte(';')
		}
		for j, r := range rs {
			if j > 0 {
				b.WriteByte(',')
			}
			b.WriteString(r.String())
		}
	}
	return b.String()
}

// Shards is the number of shards.
func (m SlotMap) Shards() int { return m.shards }

// ShardOf returns the shard that owns key.
func (m SlotMap) ShardOf(key []byte) int {
	return m.ShardOfSlot(Slot(key))
}

// ShardOfSlot returns the shard that owns slot.
func (m SlotMap) ShardOfSlot(slot uint16) int {
	slot &= NumSlots - 1
	if m.owner == nil {
		return int(slot) * m.shards / NumSlots
	}
	return int(m.owner[slot])
}

// crc16 is CRC16-CCITT (XMODEM), the variant Redis Cluster uses.
func crc16(b []byte) uint16 {
	var crc uint16
	for _, c := range b {
		crc = crc<<8 ^ crc16tab[byte(crc>>8)^c]
	}
	return crc
}

var crc16tab = func() [256]uint16 {
	var t [256]uint16
	for i := range t {
		crc := uint16(i) << 8
		for j := 0; j < 8; j++ {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
		t[i] = crc
	}
	return t
}()
