package command

// pubsubCommands are the Pub/Sub commands, as Redis 7.0's COMMAND INFO
// describes them. The proxy answers them all itself (its hub holds the
// subscriptions), so they carry Conn. A shard channel has a key spec in
// Redis, flagged NOT_KEY (it names a slot, not data): COMMAND INFO shows
// its position, COMMAND GETKEYS does not, and a cluster routes by it.
var pubsubCommands = []spec{
	{Name: "publish", Arity: 3, Flags: PubSub | Loading | Stale | Fast | Conn},
	{Name: "subscribe", Arity: -2, Flags: PubSub | NoScript | Loading | Stale | Conn},
	{Name: "unsubscribe", Arity: -1, Flags: PubSub | NoScript | Loading | Stale | Conn},
	{Name: "psubscribe", Arity: -2, Flags: PubSub | NoScript | Loading | Stale | Conn},
	{Name: "punsubscribe", Arity: -1, Flags: PubSub | NoScript | Loading | Stale | Conn},
	{Name: "spublish", Arity: 3, Flags: PubSub | Loading | Stale | Fast | Conn | NotKey, First: 1, Last: 1},
	{Name: "ssubscribe", Arity: -2, Flags: PubSub | NoScript | Loading | Stale | Conn | NotKey, First: 1, Last: -1},
	{Name: "sunsubscribe", Arity: -1, Flags: PubSub | NoScript | Loading | Stale | Conn | NotKey, First: 1, Last: -1},
	{Name: "pubsub", Arity: -2, Flags: Conn, Subcommands: []spec{
		{Name: "channels", Arity: -2, Flags: PubSub | Loading | Stale},
		{Name: "help", Arity: 2, Flags: Loading | Stale},
		{Name: "numpat", Arity: 2, Flags: PubSub | Loading | Stale},
		{Name: "numsub", Arity: -2, Flags: PubSub | Loading | Stale},
		{Name: "shardchannels", Arity: -2, Flags: PubSub | Loading | Stale},
		{Name: "shardnumsub", Arity: -2, Flags: PubSub | Loading | Stale},
	}},
}
