package keyspace

// Error replies of the string commands that errors.go does not already
// hold, byte for byte as Redis 7.0 sends them.
const (
	ErrDecrementOverflow = "ERR decrement would overflow"
	ErrLCSNotStrings     = "ERR The specified keys must contain string values"
	ErrLCSLenAndIdx      = "ERR If you want both the length and indexes, please just use IDX."
	ErrLCSTooLong        = "ERR String too long for LCS"
	ErrLCSMemory         = "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len"
)
