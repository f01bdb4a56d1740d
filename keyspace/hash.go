package keyspace

// Hash is the value of a hash key.
type Hash struct{}

// Len is the number of elements.
func (v *Hash) Len() int { return 0 }

// Clone returns a deep copy.
func (v *Hash) Clone() Collection { return &Hash{} }

func (v *Hash) encode(b []byte) []byte { return b }

func decodeHash(b []byte) (*Hash, error) { return nil, errCorrupt }

var hashCommands = map[string]Handler{}
