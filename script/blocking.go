package script

import (
	"bytes"

	"github.com/schemaproxy/schemaproxy/command"
	"github.com/schemaproxy/schemaproxy/keyspace"
)

// xreadBlockError is what XREAD and XREADGROUP answer a script that gives
// them BLOCK: Redis 7.0 refuses the option there (where the other
// blocking commands allowed in scripts answer at once), when its option
// parsing meets it, so an earlier bad COUNT is reported instead.
func xreadBlockError(cmd *command.Command, args [][]byte) (string, bool) {
	if cmd.Name != "xread" && cmd.Name != "xreadgroup" {
		return "", false
	}
	for i := 1; i < len(args); i++ {
		more := len(args) - i - 1
		a := args[i]
		switch {
		case keyspace.EqualFold(a, "block") && more > 0:
			name, _, _ := bytes.Cut(args[0], []byte{0})
			return "ERR " + string(name) + " command is not allowed with BLOCK option from scripts", true
		case keyspace.EqualFold(a, "count") && more > 0:
			if _, ok := keyspace.ParseInt(args[i+1]); !ok {
				return "", false
			}
			i++
		case keyspace.EqualFold(a, "group") && more >= 2:
			i += 2
		case keyspace.EqualFold(a, "noack"):
		default:
			return "", false
		}
	}
	return "", false
}
