package keyspace

// Error replies of the list commands, byte for byte as Redis 7.0 sends them.
const (
	ErrRankZero       = "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list"
	ErrCountNegative  = "ERR COUNT can't be negative"
	ErrMaxLenNegative = "ERR MAXLEN can't be negative"
	ErrCountPositive  = "ERR count should be greater than 0"
)
