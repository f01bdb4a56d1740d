package command

// transactionsCommands are the transactions commands, as Redis 7.0's COMMAND INFO describes
// them.
var transactionsCommands = []spec{
	{Name: "multi", Arity: 1, Flags: NoScript | Loading | Stale | Fast | Conn},
	{Name: "exec", Arity: 1, Flags: NoScript | Loading | Stale | SkipMonitor | Conn},
	{Name: "discard", Arity: 1, Flags: NoScript | Loading | Stale | Fast | Conn},
	{Name: "watch", Arity: -2, Flags: NoScript | Loading | Stale | Fast | NoMulti | Conn, First: 1, Last: -1},
	{Name: "unwatch", Arity: 1, Flags: NoScript | Loading | Stale | Fast | Conn},
	txnCommand,
}

// txnCommand is schemaproxy's interactive transaction (TXN BEGIN ...
// COMMIT), not Redis's: it is refused inside MULTI, as MULTI is inside it.
var txnCommand = spec{Name: "txn", Arity: -2, Flags: NoScript | Loading | Stale | NoMulti | Conn,
	Summary: "Runs commands at once as one strictly serializable transaction that can branch on what it reads; COMMIT fails with CONFLICT when something it read changed.",
	Since:   "0.1.0",
	Subcommands: []spec{
		{Name: "begin", Arity: -2, Flags: NoScript | Fast, Since: "0.1.0",
			Summary: "Starts an interactive transaction, optionally abandoned after TIMEOUT milliseconds."},
		{Name: "commit", Arity: 2, Flags: NoScript, Since: "0.1.0",
			Summary: "Commits the transaction, or answers CONFLICT (nothing written) when a key it read changed."},
		{Name: "abort", Arity: 2, Flags: NoScript | Fast, Since: "0.1.0",
			Summary: "Ends the transaction without writing anything."},
		{Name: "status", Arity: 2, Flags: NoScript | Fast, Since: "0.1.0",
			Summary: "Returns the transaction's state, keys read and writes queued."},
		{Name: "help", Arity: 2, Flags: Loading | Stale, Since: "0.1.0",
			Summary: "Returns helpful text about the different subcommands."},
	}}
