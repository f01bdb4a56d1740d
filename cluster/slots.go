// Package cluster maps keys onto shards: Redis Cluster's 16384 hash slots
// (CRC16 of the key or of its {hash tag}) divided into contiguous ranges,
// one per shard. Later it also carries the gossip of proxies.
package cluster

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

// SlotMap assigns slots to shards in equal contiguous ranges.
type SlotMap struct {
	shards int
}

// NewSlotMap returns the map for n shards.
func NewSlotMap(n int) SlotMap { return SlotMap{shards: n} }

// Shards is the number of shards.
func (m SlotMap) Shards() int { return m.shards }

// ShardOf returns the shard that owns key.
func (m SlotMap) ShardOf(key []byte) int {
	return int(Slot(key)) * m.shards / NumSlots
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
