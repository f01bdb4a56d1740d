package keyspace

// Set is the value of a set key.
type Set struct{}

// Len is the number of elements.
func (v *Set) Len() int { return 0 }

// Clone returns a deep copy.
func (v *Set) Clone() Collection { return &Set{} }

func (v *Set) encode(b []byte) []byte { return b }

func decodeSet(b []byte) (*Set, error) { return nil, errCorrupt }

var setCommands = map[string]Handler{}
