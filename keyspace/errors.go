package keyspace

// Error replies, byte for byte as Redis 7.0 sends them (without the leading
// '-'). Every Redis-visible error of the data commands is built here, once:
// a message several families send is in the shared block.

// Shared by several families.
const (
	ErrWrongType       = "WRONGTYPE Operation against a key holding the wrong kind of value"
	ErrNotInt          = "ERR value is not an integer or out of range"
	ErrNotFloat        = "ERR value is not a valid float"
	ErrSyntax          = "ERR syntax error"
	ErrOverflow        = "ERR increment or decrement would overflow"
	ErrNaNOrInf        = "ERR increment would produce NaN or Infinity"
	ErrNoSuchKey       = "ERR no such key"
	ErrNotPositive     = "ERR value is out of range, must be positive"
	ErrValueRange      = "ERR value is out of range"
	ErrRandCountRange  = "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"
	ErrCountPositive   = "ERR count should be greater than 0"
	ErrLimitNegative   = "ERR LIMIT can't be negative"
	ErrNumKeysPositive = "ERR numkeys should be greater than 0"
	ErrInvalidCursor   = "ERR invalid cursor"
)

// Generic (keys) commands and the keyspace server commands.
const (
	ErrDBIndexRange    = "ERR DB index is out of range"
	ErrSameObject      = "ERR source and destination objects are the same"
	ErrDumpPayload     = "ERR DUMP payload version or checksum are wrong"
	ErrBadDataFormat   = "ERR Bad data format"
	ErrBusyKey         = "BUSYKEY Target key name already exists."
	ErrExpireNXOptions = "ERR NX and XX, GT or LT options at the same time are not compatible"
	ErrExpireGTLT      = "ERR GT and LT options at the same time are not compatible"
	ErrInvalidTTL      = "ERR Invalid TTL value, must be >= 0"
	ErrInvalidIdletime = "ERR Invalid IDLETIME value, must be >= 0"
	ErrInvalidFreq     = "ERR Invalid FREQ value, must be >= 0 and <= 255"
	ErrIntRange        = "ERR value is out of range, value must between -2147483648 and 2147483647"
	ErrInvalidFirstDB  = "ERR invalid first DB index"
	ErrInvalidSecondDB = "ERR invalid second DB index"
	ErrLFUNotSelected  = "ERR An LFU maxmemory policy is not selected, access frequency not tracked. " +
		"Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."
	ErrLFUSelected = "ERR An LFU maxmemory policy is selected, idle time not tracked. " +
		"Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."
	// ErrOOM refuses a command that may grow memory while the store is over
	// maxmemory and nothing can be evicted (Redis's shared.oomerr).
	ErrOOM = "OOM command not allowed when used memory > 'maxmemory'."
)

// Strings.
const (
	ErrOffsetRange       = "ERR offset is out of range"
	ErrStringTooLong     = "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
	ErrDecrementOverflow = "ERR decrement would overflow"
	ErrLCSNotStrings     = "ERR The specified keys must contain string values"
	ErrLCSLenAndIdx      = "ERR If you want both the length and indexes, please just use IDX."
	ErrLCSTooLong        = "ERR String too long for LCS"
	ErrLCSMemory         = "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len"
)

// Lists.
const (
	ErrIndexRange     = "ERR index out of range"
	ErrRankZero       = "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list"
	ErrCountNegative  = "ERR COUNT can't be negative"
	ErrMaxLenNegative = "ERR MAXLEN can't be negative"
)

// Hashes.
const (
	ErrHashNotInt    = "ERR hash value is not an integer"
	ErrHashNotFloat  = "ERR hash value is not a float"
	ErrHIncrNaNOrInf = "ERR value is NaN or Infinity"
)

// Sets.
const (
	ErrNumKeysTooMany = "ERR Number of keys can't be greater than number of args"
)

// Sorted sets.
const (
	ErrMinMaxNotFloat = "ERR min or max is not a float"
	ErrMinMaxNotRange = "ERR min or max not valid string range item"
	ErrScoreNaN       = "ERR resulting score is not a number (NaN)"
	ErrWeightNotFloat = "ERR weight value is not a float"
	ErrXXandNX        = "ERR XX and NX options at the same time are not compatible"
	ErrGTLTNX         = "ERR GT, LT, and/or NX options at the same time are not compatible"
	ErrIncrPair       = "ERR INCR option supports a single increment-element pair"
	ErrZLimitRank     = "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"
	ErrZWithscoresLex = "ERR syntax error, WITHSCORES not supported in combination with BYLEX"
)

// Streams.
const (
	ErrStreamID            = "ERR Invalid stream ID specified as stream command argument"
	ErrStreamIDZero        = "ERR The ID specified in XADD must be greater than 0-0"
	ErrStreamIDSmall       = "ERR The ID specified in XADD is equal or smaller than the target stream top item"
	ErrStreamExhausted     = "ERR The stream has exhausted the last possible ID, unable to add more items"
	ErrStreamTooLarge      = "ERR Elements are too large to be stored"
	ErrStreamMaxLenMinID   = "ERR syntax error, MAXLEN and MINID options at the same time are not compatible"
	ErrStreamMaxLenNeg     = "ERR The MAXLEN argument must be >= 0."
	ErrStreamLimitNeg      = "ERR The LIMIT argument must be >= 0."
	ErrStreamLimitNoTrim   = "ERR syntax error, LIMIT cannot be used without specifying a trimming strategy"
	ErrStreamXTrimNoTrim   = "ERR syntax error, XTRIM must be called with a trimming strategy"
	ErrStreamLimitNoApprox = "ERR syntax error, LIMIT cannot be used without the special ~ option"
	ErrStreamStartID       = "ERR invalid start ID for the interval"
	ErrStreamEndID         = "ERR invalid end ID for the interval"
	ErrXReadUnbalanced     = "ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified."
	ErrXReadGroupOption    = "ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead."
	ErrXReadNoAckOption    = "ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead."
	ErrXReadGroupMissing   = "ERR Missing GROUP option for XREADGROUP"
	ErrXReadGroupDollar    = "ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of " +
		"this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set."
	ErrXReadGT            = "ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option."
	ErrEntriesReadRange   = "ERR value for ENTRIESREAD must be positive or -1"
	ErrXGroupKeyMissing   = "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically."
	ErrBusyGroup          = "BUSYGROUP Consumer Group name already exists"
	ErrEntriesAddedNeg    = "ERR entries_added must be positive"
	ErrXSetIDMaxDeleted   = "ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id"
	ErrXSetIDSmall        = "ERR The ID specified in XSETID is smaller than the target stream top item"
	ErrXSetIDEntriesAdded = "ERR The entries_added specified in XSETID is smaller than the target stream length"
	ErrXClaimMinIdle      = "ERR Invalid min-idle-time argument for XCLAIM"
	ErrXClaimIdle         = "ERR Invalid IDLE option argument for XCLAIM"
	ErrXClaimTime         = "ERR Invalid TIME option argument for XCLAIM"
	ErrXClaimRetryCount   = "ERR Invalid RETRYCOUNT option argument for XCLAIM"
	ErrXAutoClaimMinIdle  = "ERR Invalid min-idle-time argument for XAUTOCLAIM"
	ErrXAutoClaimCount    = "ERR COUNT must be > 0"
	ErrTimeoutNotInt      = "ERR timeout is not an integer or out of range"
	ErrTimeoutNegative    = "ERR timeout is negative"
	ErrTimeoutNotFloat    = "ERR timeout is not a float or out of range"
)

// ErrXReadGroupNoGroup is XREADGROUP's reply to a missing key or group.
func ErrXReadGroupNoGroup(key, group []byte) string {
	return "NOGROUP No such key '" + string(cstr(key)) + "' or consumer group '" + string(cstr(group)) +
		"' in XREADGROUP with GROUP option"
}

// ErrNoGroupForKey is XGROUP's and XINFO's reply to a missing group.
func ErrNoGroupForKey(group, key []byte) string {
	return "NOGROUP No such consumer group '" + string(cstr(group)) + "' for key name '" + string(cstr(key)) + "'"
}

// ErrNoKeyOrGroup is XPENDING's, XCLAIM's and XAUTOCLAIM's reply to a
// missing key or group.
func ErrNoKeyOrGroup(key, group []byte) string {
	return "NOGROUP No such key '" + string(cstr(key)) + "' or consumer group '" + string(cstr(group)) + "'"
}

// ErrXClaimOption is XCLAIM's reply to an unknown option.
func ErrXClaimOption(opt []byte) string {
	return "ERR Unrecognized XCLAIM option '" + string(cstr(opt)) + "'"
}

// ErrSubcommandSyntax is addReplySubcommandSyntaxError's reply.
func ErrSubcommandSyntax(sub []byte, cmd string) string {
	s := cstr(sub)
	if len(s) > 128 {
		s = s[:128]
	}
	return "ERR unknown subcommand or wrong number of arguments for '" + string(s) + "'. Try " + cmd + " HELP."
}

// ErrArity is the reply to a wrong number of arguments for cmd.
func ErrArity(cmd string) string {
	return "ERR wrong number of arguments for '" + cmd + "' command"
}

// ErrInvalidExpire is the reply to a bad expire time in cmd.
func ErrInvalidExpire(cmd string) string {
	return "ERR invalid expire time in '" + cmd + "' command"
}

// ErrNotSupported is the reply to a command of the table that this store
// has no handler for (not a Redis error: Redis serves every command).
func ErrNotSupported(cmd string) string {
	return "ERR command '" + cmd + "' is not supported by this store"
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

// ErrUnsupportedOption is EXPIRE's reply to an unknown option; Redis prints
// it as a C string, so it stops at a NUL byte.
func ErrUnsupportedOption(opt []byte) string {
	return "ERR Unsupported option " + string(cstr(opt))
}

// ErrUnknownSubcommand is the reply to an unknown subcommand of a container
// command (OBJECT), printed with Redis's "%.128s".
func ErrUnknownSubcommand(sub []byte, cmd string) string {
	s := cstr(sub)
	if len(s) > 128 {
		s = s[:128]
	}
	return "ERR unknown subcommand '" + string(s) + "'. Try " + cmd + " HELP."
}

// ErrZNeedKey is the reply to a numkeys below 1 in cmd (ZUNION and kin).
func ErrZNeedKey(cmd string) string {
	return "ERR at least 1 input key is needed for '" + cmd + "' command"
}
