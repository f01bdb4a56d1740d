package command

// serverCommands are the server commands, as Redis 7.0's COMMAND INFO describes
// them.
var serverCommands = []spec{
	{Name: "command", Arity: -1, Flags: Loading | Stale | Server},
	{Name: "info", Arity: -1, Flags: Loading | Stale | Server},
	{Name: "time", Arity: 1, Flags: Loading | Stale | Fast | Server},
	{Name: "config", Arity: -2, Flags: Admin | NoScript | Loading | Stale | Server},
	{Name: "lastsave", Arity: 1, Flags: Loading | Stale | Fast | Server},
	{Name: "save", Arity: 1, Flags: Admin | NoScript | Server},
	{Name: "bgsave", Arity: -1, Flags: Admin | NoScript | Server},
	{Name: "bgrewriteaof", Arity: 1, Flags: Admin | NoScript | Server},
	{Name: "shutdown", Arity: -1, Flags: Admin | NoScript | Loading | Stale | Server},
	{Name: "dbsize", Arity: 1, Flags: ReadOnly | Fast | Global, Merge: MergeSum},
	{Name: "flushdb", Arity: -1, Flags: Write | Global, Merge: MergeSame},
	{Name: "flushall", Arity: -1, Flags: Write | Global, Merge: MergeSame},
	{Name: "swapdb", Arity: 3, Flags: Write | Fast | Global, Merge: MergeSame},
}
