package script

import lua "github.com/yuin/gopher-lua"

// openStruct is the struct library's table. Its functions (pack, unpack,
// size) are not written yet: a script that calls one fails with Lua's
// "attempt to call a nil value".
func openStruct(L *lua.LState) *lua.LTable { return L.NewTable() }
