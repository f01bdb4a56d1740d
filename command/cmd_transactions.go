package command

// transactionsCommands are the transactions commands, as Redis 7.0's COMMAND INFO describes
// them.
var transactionsCommands = []spec{
	{Name: "multi", Arity: 1, Flags: NoScript | Loading | Stale | Fast | Conn},
	{Name: "exec", Arity: 1, Flags: NoScript | Loading | Stale | SkipMonitor | Conn},
	{Name: "discard", Arity: 1, Flags: NoScript | Loading | Stale | Fast | Conn},
	{Name: "watch", Arity: -2, Flags: NoScript | Loading | Stale | Fast | NoMulti | Conn, First: 1, Last: -1},
	{Name: "unwatch", Arity: 1, Flags: NoScript | Loading | Stale | Fast | Conn},
}
