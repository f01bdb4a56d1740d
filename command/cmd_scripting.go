package command

// scriptingCommands are the scripting commands, as Redis 7.0's COMMAND INFO
// describes them. EVAL's keys are the numkeys arguments after the script;
// the coordinator runs every one of these through its script runner.
var scriptingCommands = []spec{
	{Name: "eval", Arity: -3, Flags: NoScript | Stale | SkipMonitor | NoMandatoryKeys | Scripting, Keys: numKeysAt(2)},
	{Name: "evalsha", Arity: -3, Flags: NoScript | Stale | SkipMonitor | NoMandatoryKeys | Scripting, Keys: numKeysAt(2)},
	{Name: "eval_ro", Arity: -3, Flags: ReadOnly | NoScript | Stale | SkipMonitor | NoMandatoryKeys | Scripting, Keys: numKeysAt(2)},
	{Name: "evalsha_ro", Arity: -3, Flags: ReadOnly | NoScript | Stale | SkipMonitor | NoMandatoryKeys | Scripting, Keys: numKeysAt(2)},
	{Name: "script", Arity: -2, Flags: Scripting, Subcommands: []spec{
		{Name: "debug", Arity: 3, Flags: NoScript},
		{Name: "exists", Arity: -3, Flags: NoScript},
		{Name: "flush", Arity: -2, Flags: NoScript},
		{Name: "help", Arity: 2, Flags: Loading | Stale},
		{Name: "kill", Arity: 2, Flags: NoScript | AllowBusy},
		{Name: "load", Arity: 3, Flags: NoScript | Stale},
	}},
	{Name: "fcall", Arity: -3, Flags: NoScript | SkipMonitor | NoMandatoryKeys | Stale | Scripting, Keys: numKeysAt(2)},
	{Name: "fcall_ro", Arity: -3, Flags: NoScript | SkipMonitor | NoMandatoryKeys | Stale | ReadOnly | Scripting, Keys: numKeysAt(2)},
	{Name: "function", Arity: -2, Flags: Scripting, Subcommands: []spec{
		{Name: "delete", Arity: 3, Flags: NoScript | Write},
		{Name: "dump", Arity: 2, Flags: NoScript},
		{Name: "flush", Arity: -2, Flags: NoScript | Write},
		{Name: "help", Arity: 2, Flags: Loading | Stale},
		{Name: "kill", Arity: 2, Flags: NoScript | AllowBusy},
		{Name: "list", Arity: -2, Flags: NoScript},
		{Name: "load", Arity: -3, Flags: NoScript | Write | DenyOOM},
		{Name: "restore", Arity: -3, Flags: NoScript | Write | DenyOOM},
		{Name: "stats", Arity: 2, Flags: NoScript | AllowBusy},
	}},
}
