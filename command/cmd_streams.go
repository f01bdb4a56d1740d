package command

import "bytes"

// streamsCommands are the stream commands, as Redis 7.0's COMMAND INFO
// describes them. XREADGROUP writes: it moves entries into the pending
// lists. XREAD and XREADGROUP are flagged blocking as in Redis; the store
// serves them at once (see keyspace/stream_cmds.go for BLOCK). The
// containers carry their subcommands' write or read flag (Redis gives them
// none), because persistence reads the container's: a snapshot saves what
// a Write command's keys held before it runs.
var streamsCommands = []spec{
	{Name: "xadd", Arity: -5, Flags: Write | DenyOOM | Fast, First: 1, Last: 1},
	{Name: "xrange", Arity: -4, Flags: ReadOnly, First: 1, Last: 1},
	{Name: "xrevrange", Arity: -4, Flags: ReadOnly, First: 1, Last: 1},
	{Name: "xlen", Arity: 2, Flags: ReadOnly | Fast, First: 1, Last: 1},
	{Name: "xdel", Arity: -3, Flags: Write | Fast, First: 1, Last: 1},
	{Name: "xtrim", Arity: -4, Flags: Write, First: 1, Last: 1},
	{Name: "xread", Arity: -4, Flags: ReadOnly | Blocking, Keys: xreadKeys},
	{Name: "xreadgroup", Arity: -7, Flags: Write | Blocking, Keys: xreadKeys},
	{Name: "xack", Arity: -4, Flags: Write | Fast, First: 1, Last: 1},
	{Name: "xpending", Arity: -3, Flags: ReadOnly, First: 1, Last: 1},
	{Name: "xclaim", Arity: -6, Flags: Write | Fast, First: 1, Last: 1},
	{Name: "xautoclaim", Arity: -6, Flags: Write | Fast, First: 1, Last: 1},
	{Name: "xsetid", Arity: -3, Flags: Write | DenyOOM | Fast, First: 1, Last: 1},
	{Name: "xgroup", Arity: -2, Flags: Write, First: 2, Last: 2, Subcommands: []spec{
		{Name: "create", Arity: -5, Flags: Write | DenyOOM},
		{Name: "createconsumer", Arity: 5, Flags: Write | DenyOOM},
		{Name: "delconsumer", Arity: 5, Flags: Write},
		{Name: "destroy", Arity: 4, Flags: Write},
		{Name: "help", Arity: 2, Flags: Loading | Stale},
		{Name: "setid", Arity: -5, Flags: Write},
	}},
	{Name: "xinfo", Arity: -2, Flags: ReadOnly, First: 2, Last: 2, Subcommands: []spec{
		{Name: "consumers", Arity: 4, Flags: ReadOnly},
		{Name: "groups", Arity: 3, Flags: ReadOnly},
		{Name: "help", Arity: 2, Flags: Loading | Stale},
		{Name: "stream", Arity: -3, Flags: ReadOnly},
	}},
}

// xreadKeys finds the keys of XREAD and XREADGROUP as Redis's xreadGetKeys:
// the first half of the arguments after STREAMS, whose count must be even.
func xreadKeys(args [][]byte) ([]int, bool) {
	pos := 0
	for i := 1; i < len(args); i++ {
		a := args[i]
		switch {
		case bytes.EqualFold(a, []byte("block")), bytes.EqualFold(a, []byte("count")):
			i++
		case bytes.EqualFold(a, []byte("group")):
			i += 2
		case bytes.EqualFold(a, []byte("streams")):
			pos = i
		}
		if pos != 0 {
			break
		}
	}
	n := len(args) - pos - 1
	if pos == 0 || n == 0 || n%2 != 0 {
		return nil, false
	}
	idx := make([]int, 0, n/2)
	for i := pos + 1; i <= pos+n/2; i++ {
		idx = append(idx, i)
	}
	return idx, true
}
