package command

// connectionCommands are the connection commands, as Redis 7.0's COMMAND INFO describes
// them.
var connectionCommands = []spec{
	{Name: "ping", Arity: -1, Flags: Fast | Stale | Conn},
	{Name: "echo", Arity: 2, Flags: Fast | Stale | Conn},
	{Name: "quit", Arity: -1, Flags: NoScript | Loading | Stale | Fast | NoAuth | Conn},
	{Name: "reset", Arity: 1, Flags: NoScript | Loading | Stale | Fast | NoAuth | Conn},
	{Name: "auth", Arity: -2, Flags: NoScript | Loading | Stale | Fast | NoAuth | Conn},
	{Name: "hello", Arity: -1, Flags: NoScript | Loading | Stale | Fast | NoAuth | Conn},
	{Name: "select", Arity: 2, Flags: Loading | Stale | Fast | Conn},
	{Name: "client", Arity: -2, Flags: NoScript | Loading | Stale | Conn},
}
