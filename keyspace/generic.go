package keyspace

var genericCommands = map[string]Handler{}
