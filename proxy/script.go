package proxy

import "github.com/schemaproxy/schemaproxy/command"

// scriptBusy answers BUSY, and reports so, when a script has held every
// shard past the time limit and cmd is not one Redis lets through then
// (SCRIPT KILL, SHUTDOWN): the client gets an answer instead of waiting
// behind the script.
func (s *session) scriptBusy(cmd, full *command.Command) bool {
	busy := s.srv.coord.ScriptBusy()
	if busy == "" || full.Is(command.AllowBusy) || cmd.Name == "shutdown" {
		return false
	}
	s.rejectCmd(cmd, busy)
	return true
}
