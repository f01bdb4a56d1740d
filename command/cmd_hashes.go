package command

// hashesCommands are the hash commands, as Redis 7.0's COMMAND INFO describes
// them.
var hashesCommands = []spec{
	{Name: "hset", Arity: -4, Flags: Write | DenyOOM | Fast, First: 1, Last: 1},
	{Name: "hsetnx", Arity: 4, Flags: Write | DenyOOM | Fast, First: 1, Last: 1},
	{Name: "hmset", Arity: -4, Flags: Write | DenyOOM | Fast, First: 1, Last: 1},
	{Name: "hget", Arity: 3, Flags: ReadOnly | Fast, First: 1, Last: 1},
	{Name: "hmget", Arity: -3, Flags: ReadOnly | Fast, First: 1, Last: 1},
	{Name: "hdel", Arity: -3, Flags: Write | Fast, First: 1, Last: 1},
	{Name: "hlen", Arity: 2, Flags: ReadOnly | Fast, First: 1, Last: 1},
	{Name: "hstrlen", Arity: 3, Flags: ReadOnly | Fast, First: 1, Last: 1},
	{Name: "hexists", Arity: 3, Flags: ReadOnly | Fast, First: 1, Last: 1},
	{Name: "hkeys", Arity: 2, Flags: ReadOnly, First: 1, Last: 1},
	{Name: "hvals", Arity: 2, Flags: ReadOnly, First: 1, Last: 1},
	{Name: "hgetall", Arity: 2, Flags: ReadOnly | Random, First: 1, Last: 1},
	{Name: "hincrby", Arity: 4, Flags: Write | DenyOOM | Fast, First: 1, Last: 1},
	{Name: "hincrbyfloat", Arity: 4, Flags: Write | DenyOOM | Fast, First: 1, Last: 1},
	{Name: "hrandfield", Arity: -2, Flags: ReadOnly | Random, First: 1, Last: 1},
	{Name: "hscan", Arity: -3, Flags: ReadOnly | Random, First: 1, Last: 1},
}
