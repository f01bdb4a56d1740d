package keyspace

// Error replies of the sorted set commands not in errors.go, byte for byte
// as Redis 7.0 sends them.
const (
	ErrZLimitRank      = "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"
	ErrZWithscoresLex  = "ERR syntax error, WITHSCORES not supported in combination with BYLEX"
	ErrZLimitNegative  = "ERR LIMIT can't be negative"
	ErrZCountPositive  = "ERR count should be greater than 0"
	ErrZRandCountRange = "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"
	ErrZValueRange     = "ERR value is out of range"
)

// ErrZNeedKey is the reply to a numkeys below 1 in cmd (ZUNION and kin).
func ErrZNeedKey(cmd string) string {
	return "ERR at least 1 input key is needed for '" + cmd + "' command"
}
