package command

// genericCommands are the generic commands, as Redis 7.0's COMMAND INFO describes
// them.
var genericCommands = []spec{
	{Name: "del", Arity: -2, Flags: Write, First: 1, Last: -1, Split: &Split{Step: 1, Merge: MergeSum}},
	{Name: "unlink", Arity: -2, Flags: Write | Fast, First: 1, Last: -1, Split: &Split{Step: 1, Merge: MergeSum}},
	{Name: "exists", Arity: -2, Flags: ReadOnly | Fast, First: 1, Last: -1, Split: &Split{Step: 1, Merge: MergeSum}},
	{Name: "type", Arity: 2, Flags: ReadOnly | Fast, First: 1, Last: 1},
	{Name: "expire", Arity: -3, Flags: Write | Fast, First: 1, Last: 1},
	{Name: "pexpire", Arity: -3, Flags: Write | Fast, First: 1, Last: 1},
	{Name: "expireat", Arity: -3, Flags: Write | Fast, First: 1, Last: 1},
	{Name: "pexpireat", Arity: -3, Flags: Write | Fast, First: 1, Last: 1},
	{Name: "ttl", Arity: 2, Flags: ReadOnly | Fast, First: 1, Last: 1},
	{Name: "pttl", Arity: 2, Flags: ReadOnly | Fast, First: 1, Last: 1},
	{Name: "expiretime", Arity: 2, Flags: ReadOnly | Fast, First: 1, Last: 1},
	{Name: "pexpiretime", Arity: 2, Flags: ReadOnly | Fast, First: 1, Last: 1},
	{Name: "persist", Arity: 2, Flags: Write | Fast, First: 1, Last: 1},
	{Name: "rename", Arity: 3, Flags: Write, First: 1, Last: 2},
	{Name: "renamenx", Arity: 3, Flags: Write | Fast, First: 1, Last: 2},
	{Name: "copy", Arity: -3, Flags: Write | DenyOOM, Keys: twoKeys},
	{Name: "move", Arity: 3, Flags: Write | Fast, First: 1, Last: 1},
	{Name: "keys", Arity: 2, Flags: ReadOnly | Global, Merge: MergeConcat},
	{Name: "scan", Arity: -2, Flags: ReadOnly | Global, Merge: MergeScan},
	{Name: "randomkey", Arity: 1, Flags: ReadOnly | Random | Global, Merge: MergeRandom},
	{Name: "touch", Arity: -2, Flags: ReadOnly | Fast, First: 1, Last: -1, Split: &Split{Step: 1, Merge: MergeSum}},
	{Name: "dump", Arity: 2, Flags: ReadOnly | Random, First: 1, Last: 1},
	{Name: "restore", Arity: -4, Flags: Write | DenyOOM, First: 1, Last: 1},
	{Name: "object", Arity: -2, Flags: ReadOnly, First: 2, Last: 2, Subcommands: []spec{
		{Name: "encoding", Arity: 3, Flags: ReadOnly},
		{Name: "freq", Arity: 3, Flags: ReadOnly},
		{Name: "help", Arity: 2, Flags: Loading | Stale},
		{Name: "idletime", Arity: 3, Flags: ReadOnly},
		{Name: "refcount", Arity: 3, Flags: ReadOnly},
	}},
	{Name: "sort", Arity: -2, Flags: Write | DenyOOM | Unsupported, First: 1, Last: 1},
	{Name: "sort_ro", Arity: -2, Flags: ReadOnly | Unsupported, First: 1, Last: 1},
	{Name: "wait", Arity: 3, Flags: NoScript | Unsupported},
}
