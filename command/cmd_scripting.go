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
}
