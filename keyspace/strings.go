package keyspace

var stringCommands = map[string]Handler{}
