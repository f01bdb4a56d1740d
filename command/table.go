package command

// spec is one table entry, by family in the cmd_*.go files. Arity, flags
// and key positions follow Redis 7.0's COMMAND INFO; Split and Merge say
// how the coordinator spreads the command over shards.
type spec struct {
	Name  string
	Arity int
	Flags Flag
	// First, Last and Step locate the keys (Step 0 means 1).
	First, Last, Step int
	Keys              KeysFunc
	Split             *Split
	Merge             MergeKind
	// Subcommands of a container command (Name without the parent's).
	Subcommands []spec
	// Summary and Since are what COMMAND DOCS says of a command of ours
	// (TXN); empty for Redis's, which answer a generic line.
	Summary, Since string
}

// families are the table's entries with their Redis documentation group.
var families = []struct {
	group string
	specs []spec
}{
	{"connection", connectionCommands},
	{"transactions", transactionsCommands},
	{"server", serverCommands},
	{"generic", genericCommands},
	{"string", stringsCommands},
	{"hash", hashesCommands},
	{"list", listsCommands},
	{"set", setsCommands},
	{"sortedset", sortedsetsCommands},
	{"stream", streamsCommands},
	{"pubsub", pubsubCommands},
	{"scripting", scriptingCommands},
}
