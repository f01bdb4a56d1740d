package command

// setsCommands are the set commands, as Redis 7.0's COMMAND INFO describes
// them.
var setsCommands = []spec{
	{Name: "sadd", Arity: -3, Flags: Write | DenyOOM | Fast, First: 1, Last: 1},
	{Name: "srem", Arity: -3, Flags: Write | Fast, First: 1, Last: 1},
	{Name: "smembers", Arity: 2, Flags: ReadOnly, First: 1, Last: 1},
	{Name: "sismember", Arity: 3, Flags: ReadOnly | Fast, First: 1, Last: 1},
	{Name: "smismember", Arity: -3, Flags: ReadOnly | Fast, First: 1, Last: 1},
	{Name: "scard", Arity: 2, Flags: ReadOnly | Fast, First: 1, Last: 1},
	{Name: "spop", Arity: -2, Flags: Write | Random | Fast, First: 1, Last: 1},
	{Name: "srandmember", Arity: -2, Flags: ReadOnly | Random, First: 1, Last: 1},
	{Name: "smove", Arity: 4, Flags: Write | Fast, First: 1, Last: 2},
	{Name: "sinter", Arity: -2, Flags: ReadOnly, First: 1, Last: -1},
	{Name: "sintercard", Arity: -3, Flags: ReadOnly, Keys: numKeysAt(1)},
	{Name: "sinterstore", Arity: -3, Flags: Write | DenyOOM, First: 1, Last: -1},
	{Name: "sunion", Arity: -2, Flags: ReadOnly, First: 1, Last: -1},
	{Name: "sunionstore", Arity: -3, Flags: Write | DenyOOM, First: 1, Last: -1},
	{Name: "sdiff", Arity: -2, Flags: ReadOnly, First: 1, Last: -1},
	{Name: "sdiffstore", Arity: -3, Flags: Write | DenyOOM, First: 1, Last: -1},
	{Name: "sscan", Arity: -3, Flags: ReadOnly | Random, First: 1, Last: 1},
}
