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

// TestEvenRangesMatchFormula: NewSlotMap's table is the even split the
// map always had (slot*n/NumSlots), so data placed before keeps its shard.
func TestEvenRangesMatchFormula(t *testing.T) {
	for _, n := range []int{1, 2, 3, 4, 7, 1024} {
		m := NewSlotMap(n)
		for s := 0; s < NumSlots; s++ {
			if got, want := m.ShardOfSlot(uint16(s)), s*n/NumSlots; got != want {
				t.Fatalf("%d shards: slot %d on shard %d, want %d", n, s, got, want)
			}
		}
	}
	if got := FormatRanges(EvenRanges(3)); got != "0-5461;5462-10922;10923-16383" {
		t.Fatalf("even split over 3: %s", got)
	}
}

func TestParseRanges(t *testing.T) {
	cases := []struct {
		in   string
		want string // FormatRanges of the result, or the error's text
	}{
		{"0-8191;8192-16383", "0-8191;8192-16383"},
		{"0-99,200-16383 100-199", "0-99,200-16383;100-199"},
		{" 0-16383 ", "0-16383"},
		{"5,0-4;6-16383", "5,0-4;6-16383"},
		{"", "no slot ranges"},
		{";", "no slot ranges"},
		{"0-x;5-6", `shard 0: "0-x": "x" is not a slot (0-16383)`},
		{"0-16384", `shard 0: "0-16384": "16384" is not a slot (0-16383)`},
		{"-5", `shard 0: "-5": "" is not a slot (0-16383)`},
		{"0-1,;2-16383", `shard 0: "": "" is not a slot (0-16383)`},
		{"0-1;9-3", `shard 1: "9-3": the first slot is past the last`},
		{"0-1-2", `shard 0: "0-1-2": "1-2" is not a slot (0-16383)`},
	}
	for _, c := range cases {
		r, err := ParseRanges(c.in)
		got := ""
		if err != nil {
			got = err.Error()
		} else {
			got = FormatRanges(r)
		}
		if got != c.want {
			t.Errorf("ParseRanges(%q) = %s, want %s", c.in, got, c.want)
		}
	}
}

func TestNewSlotMapRanges(t *testing.T) {
	cases := []struct {
		in      string
		wantErr string
	}{
		{"0-16383", ""},
		{"0-99,200-16383;100-199", ""},
		{"16383;0-16382", ""},
		{"0-8191;8191-16383", "slot 8191 is given to shard 0 and to shard 1"},
		{"0-8191;8100-8200,8201-16383", "slot 8100 is given to shard 0 and to shard 1"},
		{"0-8190;8192-16383", "slots 8191 belong to no shard"},
		{"0-99;200-16383", "slots 100-199 belong to no shard"},
		{"1-16383", "slots 0 belong to no shard"},
		{"0-16000", "slots 16001-16383 belong to no shard"},
		{"0-16383,5", "slot 5 is given twice to shard 0"},
	}
	for _, c := range cases {
		r, err := ParseRanges(c.in)
		if err != nil {
			t.Fatalf("%q: %v", c.in, err)
		}
		m, err := NewSlotMapRanges(r)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != c.wantErr {
			t.Errorf("NewSlotMapRanges(%q): error %q, want %q", c.in, got, c.wantErr)
		}
		if err == nil && m.Shards() != len(r) {
			t.Errorf("%q: %d shards", c.in, m.Shards())
		}
	}
	if _, err := NewSlotMapRanges([][]Range{{{0, 16383}}, {}}); err == nil || err.Error() != "shard 1 has no slots" {
		t.Errorf("a shard without slots: %v", err)
	}
	if _, err := NewSlotMapRanges(nil); err == nil {
		t.Error("no shards accepted")
	}
	if _, err := NewSlotMapRanges([][]Range{{{0, 16384}}}); err == nil {
		t.Error("slot 16384 accepted")
	}
}

// TestShardOfRanges: keys go to the shard whose ranges hold their slot,
// hash tags included (slots from TestSlot).
func TestShardOfRanges(t *testing.T) {
	r, err := ParseRanges("0-3443,12183-16383;3444-5061;5062-12182")
	if err != nil {
		t.Fatal(err)
	}
	m, err := NewSlotMapRanges(r)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		key   string
		shard int
	}{
		{"", 0},                     // slot 0
		{"{user1000}.following", 0}, // 3443, the end of shard 0's first range
		{"foo{{bar}}zap", 1},        // 4015
		{"bar", 1},                  // 5061, shard 1's last
		{"foo{bar}{zap}", 1},        // 5061 through its tag
		{"foo{}{bar}", 2},           // 8363
		{"foo", 2},                  // 12182, shard 2's last
	}
	for _, c := range cases {
		if got := m.ShardOf([]byte(c.key)); got != c.shard {
			t.Errorf("ShardOf(%q) = %d, want %d", c.key, got, c.shard)
		}
	}
	if got := m.ShardOfSlot(12183); got != 0 {
		t.Errorf("slot 12183 on shard %d, want 0", got)
	}
}
