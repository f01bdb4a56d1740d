package command

// listsCommands are the list commands, as Redis 7.0's COMMAND INFO describes
// them.
var listsCommands = []spec{
	{Name: "lpush", Arity: -3, Flags: Write | DenyOOM | Fast, First: 1, Last: 1},
	{Name: "rpush", Arity: -3, Flags: Write | DenyOOM | Fast, First: 1, Last: 1},
	{Name: "lpushx", Arity: -3, Flags: Write | DenyOOM | Fast, First: 1, Last: 1},
	{Name: "rpushx", Arity: -3, Flags: Write | DenyOOM | Fast, First: 1, Last: 1},
	{Name: "lpop", Arity: -2, Flags: Write | Fast, First: 1, Last: 1},
	{Name: "rpop", Arity: -2, Flags: Write | Fast, First: 1, Last: 1},
	{Name: "llen", Arity: 2, Flags: ReadOnly | Fast, First: 1, Last: 1},
	{Name: "lindex", Arity: 3, Flags: ReadOnly, First: 1, Last: 1},
	{Name: "lset", Arity: 4, Flags: Write | DenyOOM, First: 1, Last: 1},
	{Name: "lrange", Arity: 4, Flags: ReadOnly, First: 1, Last: 1},
	{Name: "ltrim", Arity: 4, Flags: Write, First: 1, Last: 1},
	{Name: "lrem", Arity: 4, Flags: Write, First: 1, Last: 1},
	{Name: "linsert", Arity: 5, Flags: Write | DenyOOM, First: 1, Last: 1},
	{Name: "lpos", Arity: -3, Flags: ReadOnly, First: 1, Last: 1},
	{Name: "rpoplpush", Arity: 3, Flags: Write | DenyOOM, First: 1, Last: 2},
	{Name: "lmove", Arity: 5, Flags: Write | DenyOOM, First: 1, Last: 2},
	{Name: "lmpop", Arity: -4, Flags: Write, Keys: numKeysAt(1)},
	{Name: "blpop", Arity: -3, Flags: Write | NoScript | Blocking, First: 1, Last: -2},
	{Name: "brpop", Arity: -3, Flags: Write | NoScript | Blocking, First: 1, Last: -2},
	{Name: "brpoplpush", Arity: 4, Flags: Write | DenyOOM | NoScript | Blocking, First: 1, Last: 2},
	{Name: "blmove", Arity: 6, Flags: Write | DenyOOM | NoScript | Blocking, First: 1, Last: 2},
	{Name: "blmpop", Arity: -5, Flags: Write | Blocking, Keys: numKeysAt(2)},
}
