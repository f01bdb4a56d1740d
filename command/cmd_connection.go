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
	{Name: "client", Arity: -2, Flags: NoScript | Loading | Stale | Conn, Subcommands: []spec{
		{Name: "caching", Arity: 3, Flags: NoScript | Loading | Stale},
		{Name: "getname", Arity: 2, Flags: NoScript | Loading | Stale},
		{Name: "getredir", Arity: 2, Flags: NoScript | Loading | Stale},
		{Name: "help", Arity: 2, Flags: Loading | Stale},
		{Name: "id", Arity: 2, Flags: NoScript | Loading | Stale},
		{Name: "info", Arity: 2, Flags: NoScript | Loading | Stale},
		{Name: "kill", Arity: -3, Flags: Admin | NoScript | Loading | Stale},
		{Name: "list", Arity: -2, Flags: Admin | NoScript | Loading | Stale},
		{Name: "no-evict", Arity: 3, Flags: Admin | NoScript | Loading | Stale},
		{Name: "pause", Arity: -3, Flags: Admin | NoScript | Loading | Stale},
		{Name: "reply", Arity: 3, Flags: NoScript | Loading | Stale},
		{Name: "setname", Arity: 3, Flags: NoScript | Loading | Stale},
		{Name: "tracking", Arity: -3, Flags: NoScript | Loading | Stale},
		{Name: "trackinginfo", Arity: 2, Flags: NoScript | Loading | Stale},
		{Name: "unblock", Arity: -3, Flags: Admin | NoScript | Loading | Stale},
		{Name: "unpause", Arity: 2, Flags: Admin | NoScript | Loading | Stale},
	}},
}
