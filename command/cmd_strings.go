package command

// stringsCommands are the string commands, as Redis 7.0's COMMAND INFO describes
// them.
var stringsCommands = []spec{
	{Name: "get", Arity: 2, Flags: ReadOnly | Fast, First: 1, Last: 1},
	{Name: "set", Arity: -3, Flags: Write | DenyOOM, First: 1, Last: 1},
	{Name: "setnx", Arity: 3, Flags: Write | DenyOOM | Fast, First: 1, Last: 1},
	{Name: "setex", Arity: 4, Flags: Write | DenyOOM, First: 1, Last: 1},
	{Name: "psetex", Arity: 4, Flags: Write | DenyOOM, First: 1, Last: 1},
	{Name: "getset", Arity: 3, Flags: Write | DenyOOM | Fast, First: 1, Last: 1},
	{Name: "getdel", Arity: 2, Flags: Write | Fast, First: 1, Last: 1},
	{Name: "getex", Arity: -2, Flags: Write | Fast, First: 1, Last: 1},
	{Name: "mget", Arity: -2, Flags: ReadOnly | Fast, First: 1, Last: -1, Split: &Split{Step: 1, Merge: MergeOrder}},
	{Name: "mset", Arity: -3, Flags: Write | DenyOOM, First: 1, Last: -1, Step: 2, Split: &Split{Step: 2, Merge: MergeOK}},
	{Name: "msetnx", Arity: -3, Flags: Write | DenyOOM, First: 1, Last: -1, Step: 2},
	{Name: "append", Arity: 3, Flags: Write | DenyOOM | Fast, First: 1, Last: 1},
	{Name: "strlen", Arity: 2, Flags: ReadOnly | Fast, First: 1, Last: 1},
	{Name: "incr", Arity: 2, Flags: Write | DenyOOM | Fast, First: 1, Last: 1},
	{Name: "decr", Arity: 2, Flags: Write | DenyOOM | Fast, First: 1, Last: 1},
	{Name: "incrby", Arity: 3, Flags: Write | DenyOOM | Fast, First: 1, Last: 1},
	{Name: "decrby", Arity: 3, Flags: Write | DenyOOM | Fast, First: 1, Last: 1},
	{Name: "incrbyfloat", Arity: 3, Flags: Write | DenyOOM | Fast, First: 1, Last: 1},
	{Name: "getrange", Arity: 4, Flags: ReadOnly, First: 1, Last: 1},
	{Name: "substr", Arity: 4, Flags: ReadOnly, First: 1, Last: 1},
	{Name: "setrange", Arity: 4, Flags: Write | DenyOOM, First: 1, Last: 1},
	{Name: "lcs", Arity: -3, Flags: ReadOnly, Keys: twoKeys},
}
