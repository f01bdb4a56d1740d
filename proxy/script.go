package proxy

import "github.com/schemaproxy/schemaproxy/command"

// errBusy is Redis's answer while a script has run past lua-time-limit.
const errBusy = "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."

// scriptBusy answers BUSY, and reports so, when a script has held every
// shard past the time limit and cmd is not one Redis lets through then
// (SCRIPT KILL, SHUTDOWN): the client gets an answer instead of waiting
// behind the script.
func (s *session) scriptBusy(cmd, full *command.Command) bool {
	if !s.srv.coord.ScriptBusy() || full.Is(command.AllowBusy) || cmd.Name == "shutdown" {
		return false
	}
	s.rejectCmd(cmd, errBusy)
	return true
}
