package keyspace

// Error replies of the hash and set commands that errors.go does not have,
// byte for byte as Redis 7.0 sends them.
const (
	ErrHIncrNaNOrInf       = "ERR value is NaN or Infinity"
	ErrRandCountRange      = "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"
	ErrRandWithValuesRange = "ERR value is out of range"
	ErrSinterLimit         = "ERR LIMIT can't be negative"
)
