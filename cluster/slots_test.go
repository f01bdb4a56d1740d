package cluster

import "testing"

func TestSlot(t *testing.T) {
	// Values from Redis Cluster: CLUSTER KEYSLOT.
	cases := []struct {
		key  string
		slot uint16
	}{
		{"foo", 12182},
		{"bar", 5061},
		{"{user1000}.following", 3443},
		{"{user1000}.followers", 3443},
		{"foo{}{bar}", 8363},
		{"foo{{bar}}zap", 4015},
		{"foo{bar}{zap}", 5061},
		{"", 0},
	}
	for _, c := range cases {
		if got := Slot([]byte(c.key)); got != c.slot {
			t.Errorf("Slot(%q) = %d, want %d", c.key, got, c.slot)
		}
	}
}

func TestShardOfCoversAllShards(t *testing.T) {
	m := NewSlotMap(4)
	seen := map[int]bool{}
	for s := 0; s < NumSlots; s++ {
		seen[s*4/NumSlots] = true
	}
	if len(seen) != 4 || m.Shards() != 4 {
		t.Fatalf("shards used: %v", seen)
	}
}
