package keyspace

// Error replies, byte for byte as Redis 7.0 sends them (without the leading
// '-'). Every Redis-visible error of the data commands is built here.
const (
	ErrWrongType       = "WRONGTYPE Operation against a key holding the wrong kind of value"
	ErrNotInt          = "ERR value is not an integer or out of range"
	ErrNotFloat        = "ERR value is not a valid float"
	ErrSyntax          = "ERR syntax error"
	ErrOverflow        = "ERR increment or decrement would overflow"
	ErrNoSuchKey       = "ERR no such key"
	ErrIndexRange      = "ERR index out of range"
	ErrHashNotInt      = "ERR hash value is not an integer"
	ErrHashNotFloat    = "ERR hash value is not a float"
	ErrNaNOrInf        = "ERR increment would produce NaN or Infinity"
	ErrNotPositive     = "ERR value is out of range, must be positive"
	ErrMinMaxNotFloat  = "ERR min or max is not a float"
	ErrMinMaxNotRange  = "ERR min or max not valid string range item"
	ErrOffsetRange     = "ERR offset is out of range"
	ErrStringTooLong   = "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
	ErrDBIndexRange    = "ERR DB index is out of range"
	ErrSameObject      = "ERR source and destination objects are the same"
	ErrNumKeysPositive = "ERR numkeys should be greater than 0"
	ErrNumKeysTooMany  = "ERR Number of keys can't be greater than number of args"
	ErrDumpPayload     = "ERR DUMP payload version or checksum are wrong"
	ErrBusyKey         = "BUSYKEY Target key name already exists."
	ErrScoreNaN        = "ERR resulting score is not a number (NaN)"
	ErrWeightNotFloat  = "ERR weight value is not a float"
	ErrXXandNX         = "ERR XX and NX options at the same time are not compatible"
	ErrGTLTNX          = "ERR GT, LT, and/or NX options at the same time are not compatible"
	ErrIncrPair        = "ERR INCR option supports a single increment-element pair"
	ErrInvalidCursor   = "ERR invalid cursor"
	ErrTimeoutNotFloat = "ERR timeout is not a float or out of range"
)

// ErrArity is the reply to a wrong number of arguments for cmd.
func ErrArity(cmd string) string {
	return "ERR wrong number of arguments for '" + cmd + "' command"
}

// ErrInvalidExpire is the reply to a bad expire time in cmd.
func ErrInvalidExpire(cmd string) string {
	return "ERR invalid expire time in '" + cmd + "' command"
}

// ErrUnknownCommand is the reply to a command name Redis does not know,
// formatted as Redis 7.0 does (name and arguments cut at 128 bytes).
func ErrUnknownCommand(args [][]byte) string {
	name := args[0]
	if len(name) > 128 {
		name = name[:128]
	}
	var rest []byte
	for _, a := range args[1:] {
		if len(rest) >= 128 {
			break
		}
		room := 128 - len(rest)
		if len(a) > room {
			a = a[:room]
		}
		rest = append(rest, '\'')
		rest = append(rest, a...)
		rest = append(rest, '\'', ' ')
	}
	return "ERR unknown command '" + string(name) + "', with args beginning with: " + string(rest)
}
