package script

import (
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// argError raises Lua 5.1's "bad argument #n to 'name' (msg)", naming the
// Go function being called as Lua does (gopher-lua leaves out the quotes).
func argError(L *lua.LState, n int, msg string) {
	name := "?"
	if dbg, ok := L.GetStack(0); ok {
		if _, err := L.GetInfo("n", dbg, lua.LNil); err == nil && dbg.Name != "" {
			name = dbg.Name
		}
	}
	L.RaiseError("bad argument #%d to '%s' (%s)", n, name, msg)
}

// typeName is Lua's name of v's type, "no value" past the arguments.
func typeName(L *lua.LState, i int) string {
	if i > L.GetTop() {
		return "no value"
	}
	return L.Get(i).Type().String()
}

// checkNumber is luaL_checknumber: numbers, and strings that read as one.
func checkNumber(L *lua.LState, i int) lua.LNumber {
	switch v := L.Get(i).(type) {
	case lua.LNumber:
		return v
	case lua.LString:
		if f, err := strconv.ParseFloat(strings.TrimSpace(string(v)), 64); err == nil {
			return lua.LNumber(f)
		}
	}
	argError(L, i, "number expected, got "+typeName(L, i))
	return 0
}
