package command

// serverCommands are the server commands, as Redis 7.0's COMMAND INFO describes
// them.
var serverCommands = []spec{
	{Name: "command", Arity: -1, Flags: Loading | Stale | Server, Subcommands: []spec{
		{Name: "count", Arity: 2, Flags: Loading | Stale},
		{Name: "docs", Arity: -2, Flags: Loading | Stale},
		{Name: "getkeys", Arity: -4, Flags: Loading | Stale},
		{Name: "getkeysandflags", Arity: -4, Flags: Loading | Stale},
		{Name: "help", Arity: 2, Flags: Loading | Stale},
		{Name: "info", Arity: -2, Flags: Loading | Stale},
		{Name: "list", Arity: -2, Flags: Loading | Stale},
	}},
	{Name: "info", Arity: -1, Flags: Loading | Stale | Server},
	{Name: "time", Arity: 1, Flags: Loading | Stale | Fast | Server},
	{Name: "config", Arity: -2, Flags: Admin | NoScript | Loading | Stale | Server, Subcommands: []spec{
		{Name: "get", Arity: -3, Flags: Admin | NoScript | Loading | Stale},
		{Name: "help", Arity: 2, Flags: Loading | Stale},
		{Name: "resetstat", Arity: 2, Flags: Admin | NoScript | Loading | Stale},
		{Name: "rewrite", Arity: 2, Flags: Admin | NoScript | Loading | Stale},
		{Name: "set", Arity: -4, Flags: Admin | NoScript | Loading | Stale},
	}},
	{Name: "memory", Arity: -2, Flags: ReadOnly, First: 2, Last: 2, Subcommands: []spec{
		{Name: "doctor", Arity: 2, Flags: Server},
		{Name: "help", Arity: 2, Flags: Loading | Stale},
		{Name: "malloc-stats", Arity: 2, Flags: Server},
		{Name: "purge", Arity: 2, Flags: Server},
		{Name: "stats", Arity: 2, Flags: Server},
		{Name: "usage", Arity: -3, Flags: ReadOnly},
	}},
	{Name: "lastsave", Arity: 1, Flags: Loading | Stale | Fast | Server},
	{Name: "save", Arity: 1, Flags: Admin | NoScript | NoMulti | Server},
	{Name: "bgsave", Arity: -1, Flags: Admin | NoScript | Server},
	{Name: "bgrewriteaof", Arity: 1, Flags: Admin | NoScript | Server},
	{Name: "shutdown", Arity: -1, Flags: Admin | NoScript | Loading | Stale | NoMulti | Server},
	{Name: "dbsize", Arity: 1, Flags: ReadOnly | Fast | Global, Merge: MergeSum},
	{Name: "flushdb", Arity: -1, Flags: Write | Global, Merge: MergeSame},
	{Name: "flushall", Arity: -1, Flags: Write | Global, Merge: MergeSame},
	{Name: "swapdb", Arity: 3, Flags: Write | Fast | Global, Merge: MergeSame},
}
