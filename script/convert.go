package script

import (
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/schemaproxy/schemaproxy/proto/resp"
)

// toLua converts a command's reply to the Lua value Redis 7.0 gives
// redis.call: integers become numbers, nulls false (RESP3's null nil),
// status and error replies tables with ok/err, and RESP3's map, set,
// double, big number and verbatim string tables named after them.
func toLua(L *lua.LState, v resp.Value) lua.LValue {
	switch v.Kind {
	case resp.KindInt:
		return lua.LNumber(v.Int)
	case resp.KindBulk:
		if v.Null {
			return lua.LFalse
		}
		return lua.LString(v.Str)
	case resp.KindStatus:
		t := L.NewTable()
		t.RawSetString("ok", lua.LString(v.Str))
		return t
	case resp.KindError, resp.KindBulkError:
		return errorTable(L, "-"+string(v.Str))
	case resp.KindArray, resp.KindPush:
		if v.Null {
			return lua.LFalse
		}
		t := L.CreateTable(len(v.Elems), 0)
		for i, e := range v.Elems {
			t.RawSetInt(i+1, toLua(L, e))
		}
		return t
	case resp.KindNull:
		return lua.LNil
	case resp.KindBool:
		return lua.LBool(v.Int != 0 || string(v.Str) == "t")
	case resp.KindDouble:
		f, _ := strconv.ParseFloat(string(v.Str), 64)
		switch string(v.Str) {
		case "inf":
			f = posInf
		case "-inf":
			f = -posInf
		}
		return named(L, "double", lua.LNumber(f))
	case resp.KindBigNumber:
		return named(L, "big_number", lua.LString(v.Str))
	case resp.KindVerbatim:
		s := string(v.Str)
		format := "txt"
		if len(s) >= 4 && s[3] == ':' {
			format, s = s[:3], s[4:]
		}
		inner := L.NewTable()
		inner.RawSetString("string", lua.LString(s))
		inner.RawSetString("format", lua.LString(format))
		return named(L, "verbatim_string", inner)
	case resp.KindMap:
		m := L.NewTable()
		for i := 0; i+1 < len(v.Elems); i += 2 {
			m.RawSet(toLua(L, v.Elems[i]), toLua(L, v.Elems[i+1]))
		}
		return named(L, "map", m)
	case resp.KindSet:
		m := L.NewTable()
		for _, e := range v.Elems {
			m.RawSet(toLua(L, e), lua.LTrue)
		}
		return named(L, "set", m)
	}
	return lua.LNil
}

var posInf = func() float64 { f, _ := strconv.ParseFloat("+Inf", 64); return f }()

func named(L *lua.LState, name string, v lua.LValue) *lua.LTable {
	t := L.NewTable()
	t.RawSetString(name, v)
	return t
}

// writeReply writes a script's return value as Redis 7.0 does: strings as
// bulk strings, numbers truncated to integers, true as 1 and false as null
// (booleans in RESP3 after redis.setresp(3)), tables with err/ok/double/
// big_number/verbatim_string/map/set fields as those replies, and other
// tables as arrays of their elements 1, 2, ... up to the first nil.
func writeReply(w *resp.Writer, v lua.LValue, luaResp int) {
	switch v := v.(type) {
	case lua.LString:
		w.BulkString(string(v))
	case lua.LBool:
		switch {
		case luaResp == 3:
			w.Bool(bool(v))
		case bool(v):
			w.Int(1)
		default:
			w.Null()
		}
	case lua.LNumber:
		w.Int(toInt64(float64(v)))
	case *lua.LTable:
		writeTable(w, v, luaResp)
	default:
		w.Null()
	}
}

// toInt64 is C's (long long) cast of a double as x86-64 does it: out of
// range (and NaN) gives the minimum.
func toInt64(f float64) int64 {
	if f != f || f >= 9223372036854775808.0 || f < -9223372036854775808.0 {
		return -1 << 63
	}
	return int64(f)
}

func writeTable(w *resp.Writer, t *lua.LTable, luaResp int) {
	if s, ok := t.RawGetString("err").(lua.LString); ok {
		w.Error(string(s))
		return
	}
	if s, ok := t.RawGetString("ok").(lua.LString); ok {
		w.Status(strings.NewReplacer("\r", " ", "\n", " ").Replace(string(s)))
		return
	}
	if n, ok := t.RawGetString("double").(lua.LNumber); ok {
		w.Double(float64(n))
		return
	}
	if s, ok := t.RawGetString("big_number").(lua.LString); ok {
		b := strings.NewReplacer("\r", " ", "\n", " ").Replace(string(s))
		if w.Resp3() {
			w.Raw([]byte("(" + b + "\r\n"))
		} else {
			w.BulkString(b)
		}
		return
	}
	if vt, ok := t.RawGetString("verbatim_string").(*lua.LTable); ok {
		f, fok := vt.RawGetString("format").(lua.LString)
		s, sok := vt.RawGetString("string").(lua.LString)
		if fok && sok {
			w.Verbatim(string(f), string(s))
			return
		}
	}
	if m, ok := t.RawGetString("map").(*lua.LTable); ok {
		var keys, vals []lua.LValue
		m.ForEach(func(k, v lua.LValue) {
			keys = append(keys, k)
			vals = append(vals, v)
		})
		w.Map(len(keys))
		for i := range keys {
			writeReply(w, keys[i], luaResp)
			writeReply(w, vals[i], luaResp)
		}
		return
	}
	if m, ok := t.RawGetString("set").(*lua.LTable); ok {
		var keys []lua.LValue
		m.ForEach(func(k, _ lua.LValue) { keys = append(keys, k) })
		w.Set(len(keys))
		for _, k := range keys {
			writeReply(w, k, luaResp)
		}
		return
	}
	n := 0
	for t.RawGetInt(n+1) != lua.LNil {
		n++
	}
	w.Array(n)
	for i := 1; i <= n; i++ {
		writeReply(w, t.RawGetInt(i), luaResp)
	}
}
