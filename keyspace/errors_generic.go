package keyspace

// Error replies of the generic (keys) and keyspace server commands, as Redis
// 7.0 sends them.
const (
	ErrExpireNXOptions = "ERR NX and XX, GT or LT options at the same time are not compatible"
	ErrExpireGTLT      = "ERR GT and LT options at the same time are not compatible"
	ErrInvalidTTL      = "ERR Invalid TTL value, must be >= 0"
	ErrInvalidIdletime = "ERR Invalid IDLETIME value, must be >= 0"
	ErrInvalidFreq     = "ERR Invalid FREQ value, must be >= 0 and <= 255"
	ErrBadDataFormat   = "ERR Bad data format"
	ErrIntRange        = "ERR value is out of range, value must between -2147483648 and 2147483647"
	ErrInvalidFirstDB  = "ERR invalid first DB index"
	ErrInvalidSecondDB = "ERR invalid second DB index"
	ErrLFUNotSelected  = "ERR An LFU maxmemory policy is not selected, access frequency not tracked. " +
		"Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."
)

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
