package script

import (
	"math"

	lua "github.com/yuin/gopher-lua"
)

// The bit library (LuaBitOp 1.0.2, as Redis ships it): 32-bit operations
// on numbers, results as signed 32-bit integers.

func openBit(L *lua.LState) *lua.LTable {
	t := L.NewTable()
	un := func(f func(uint32) uint32) lua.LGFunction {
		return func(L *lua.LState) int {
			L.Push(bitResult(f(bitArg(L, 1))))
			return 1
		}
	}
	fold := func(f func(a, b uint32) uint32) lua.LGFunction {
		return func(L *lua.LState) int {
			v := bitArg(L, 1)
			for i := 2; i <= L.GetTop(); i++ {
				v = f(v, bitArg(L, i))
			}
			L.Push(bitResult(v))
			return 1
		}
	}
	shift := func(f func(v uint32, n uint) uint32) lua.LGFunction {
		return func(L *lua.LState) int {
			v, n := bitArg(L, 1), bitArg(L, 2)&31
			L.Push(bitResult(f(v, uint(n))))
			return 1
		}
	}
	fns := map[string]lua.LGFunction{
		"tobit":   un(func(v uint32) uint32 { return v }),
		"bnot":    un(func(v uint32) uint32 { return ^v }),
		"bswap":   un(func(v uint32) uint32 { return v>>24 | (v>>8)&0xff00 | (v&0xff00)<<8 | v<<24 }),
		"band":    fold(func(a, b uint32) uint32 { return a & b }),
		"bor":     fold(func(a, b uint32) uint32 { return a | b }),
		"bxor":    fold(func(a, b uint32) uint32 { return a ^ b }),
		"lshift":  shift(func(v uint32, n uint) uint32 { return v << n }),
		"rshift":  shift(func(v uint32, n uint) uint32 { return v >> n }),
		"arshift": shift(func(v uint32, n uint) uint32 { return uint32(int32(v) >> n) }),
		"rol":     shift(func(v uint32, n uint) uint32 { return v<<n | v>>(32-n) }),
		"ror":     shift(func(v uint32, n uint) uint32 { return v>>n | v<<(32-n) }),
		"tohex": func(L *lua.LState) int {
			v := bitArg(L, 1)
			n := 8
			if L.GetTop() >= 2 && L.Get(2) != lua.LNil {
				n = int(int32(bitArg(L, 2)))
			}
			digits := "0123456789abcdef"
			if n < 0 {
				n = -n
				digits = "0123456789ABCDEF"
			}
			if n > 8 {
				n = 8
			}
			buf := make([]byte, n)
			for i := n - 1; i >= 0; i-- {
				buf[i] = digits[v&15]
				v >>= 4
			}
			L.Push(lua.LString(buf))
			return 1
		},
	}
	for name, fn := range fns {
		t.RawSetString(name, L.NewFunction(fn))
	}
	return t
}

// bitArg is LuaBitOp's barg: the number rounded to an integer (ties to
// even, as adding 2^52+2^51 does) and taken modulo 2^32.
func bitArg(L *lua.LState, i int) uint32 {
	f := float64(checkNumber(L, i))
	return uint32(int64(math.RoundToEven(math.Mod(f, 1<<32))))
}

func bitResult(v uint32) lua.LNumber { return lua.LNumber(int32(v)) }
