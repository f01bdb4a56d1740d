package keyspace

// List is the value of a list key.
type List struct{}

// Len is the number of elements.
func (v *List) Len() int { return 0 }

// Clone returns a deep copy.
func (v *List) Clone() Collection { return &List{} }

func (v *List) encode(b []byte) []byte { return b }

func decodeList(b []byte) (*List, error) { return nil, errCorrupt }

var listCommands = map[string]Handler{}
