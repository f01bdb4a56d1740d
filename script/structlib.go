package script

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"

	lua "github.com/yuin/gopher-lua"
)

// The struct library Redis bundles (Roberto Ierusalimschy's lua_struct):
// struct.pack, struct.unpack and struct.size over format strings of C
// types, with the sizes and alignment of the x86-64 build Redis ships
// (char 1, short 2, int 4, long and size_t 8, float 4, double 8, maximum
// alignment 8, little endian by default). Integers travel through Lua
// numbers (doubles) and a 64-bit long, as there.

// structMaxIntSize is the largest size of "in" / "In".
const structMaxIntSize = 32

// structMaxAlign is "!" without a number: the native maximum alignment.
const structMaxAlign = 8

func openStruct(L *lua.LState) *lua.LTable {
	t := L.NewTable()
	t.RawSetString("pack", L.NewFunction(structPack))
	t.RawSetString("unpack", L.NewFunction(structUnpack))
	t.RawSetString("size", L.NewFunction(structSize))
	return t
}

// structFormat walks a format string.
type structFormat struct {
	L      *lua.LState
	fmt    string
	i      int
	little bool
	align  int
}

func newStructFormat(L *lua.LState) *structFormat {
	fmtArg, ok := luaString(L.Get(1))
	if !ok {
		argError(L, 1, "string expected, got "+typeName(L, 1))
	}
	return &structFormat{L: L, fmt: fmtArg, little: true, align: 1}
}

func (f *structFormat) done() bool { return f.i >= len(f.fmt) }

// next returns the next option and its size (0 for the options that
// only control endianness and alignment).
func (f *structFormat) next() (opt byte, size int) {
	opt = f.fmt[f.i]
	f.i++
	switch opt {
	case 'b', 'B':
		return opt, 1
	case 'h', 'H':
		return opt, 2
	case 'l', 'L', 'T', 'd':
		return opt, 8
	case 'f':
		return opt, 4
	case 'x':
		return opt, 1
	case 'c':
		return opt, f.number(1)
	case 'i', 'I':
		n := f.number(4)
		if n > structMaxIntSize {
			f.raise(fmt.Sprintf("integral size %d is larger than limit of %d", n, structMaxIntSize))
		}
		return opt, n
	}
	return opt, 0
}

// number reads the digits after an option, or returns df.
func (f *structFormat) number(df int) int {
	if f.done() || f.fmt[f.i] < '0' || f.fmt[f.i] > '9' {
		return df
	}
	n := 0
	for !f.done() && f.fmt[f.i] >= '0' && f.fmt[f.i] <= '9' {
		d := int(f.fmt[f.i] - '0')
		if n > math.MaxInt32/10 || n*10 > math.MaxInt32-d {
			f.raise("integral size overflow")
		}
		n = n*10 + d
		f.i++
	}
	return n
}

// padding is how many bytes align an element of size at pos.
func (f *structFormat) padding(pos int, opt byte, size int) int {
	if size == 0 || opt == 'c' {
		return 0
	}
	if size > f.align {
		size = f.align
	}
	return (size - (pos & (size - 1))) & (size - 1)
}

// control applies an endianness or alignment option, or refuses opt.
func (f *structFormat) control(opt byte) {
	switch opt {
	case ' ':
	case '>':
		f.little = false
	case '<':
		f.little = true
	case '!':
		a := f.number(structMaxAlign)
		if a <= 0 || a&(a-1) != 0 {
			f.raise(fmt.Sprintf("alignment %d is not a power of 2", a))
		}
		f.align = a
	default:
		f.argError(1, fmt.Sprintf("invalid format option '%c'", opt))
	}
}

// raise is luaL_error: the message after the script's position.
func (f *structFormat) raise(msg string) { f.L.RaiseError("%s", msg) }

func (f *structFormat) argError(n int, msg string) { argError(f.L, n, msg) }

func (f *structFormat) checkNumber(n int) float64 { return float64(checkNumber(f.L, n)) }

// checkString is luaL_checklstring: strings, and numbers as Lua prints
// them.
func (f *structFormat) checkString(n int) string {
	s, ok := luaString(f.L.Get(n))
	if !ok {
		argError(f.L, n, "string expected, got "+typeName(f.L, n))
	}
	return s
}

func structPack(L *lua.LState) int {
	f := newStructFormat(L)
	// pack's C code pushes a nil before reading its values: a missing
	// one is reported as that nil.
	for L.GetTop() < 2 {
		L.Push(lua.LNil)
	}
	var b []byte
	arg := 2
	for !f.done() {
		opt, size := f.next()
		for range f.padding(len(b), opt, size) {
			b = append(b, 0)
		}
		switch opt {
		case 'b', 'B', 'h', 'H', 'l', 'L', 'T', 'i', 'I':
			n := f.checkNumber(arg)
			arg++
			var v uint64
			if n < 0 {
				v = uint64(int64(n))
			} else {
				v = uint64(n)
			}
			var buf [structMaxIntSize]byte
			for i := range size {
				byteAt := i
				if !f.little {
					byteAt = size - 1 - i
				}
				buf[byteAt] = byte(v)
				v >>= 8
			}
			b = append(b, buf[:size]...)
		case 'x':
			b = append(b, 0)
		case 'f':
			bits := math.Float32bits(float32(f.checkNumber(arg)))
			arg++
			b = appendUint(b, uint64(bits), 4, f.little)
		case 'd':
			bits := math.Float64bits(f.checkNumber(arg))
			arg++
			b = appendUint(b, bits, 8, f.little)
		case 'c', 's':
			s := f.checkString(arg)
			arg++
			if size == 0 {
				size = len(s)
			}
			if len(s) < size {
				f.argError(arg, "string too short")
			}
			b = append(b, s[:size]...)
			if opt == 's' {
				b = append(b, 0)
			}
		default:
			f.control(opt)
		}
	}
	L.Push(lua.LString(b))
	return 1
}

func appendUint(b []byte, v uint64, size int, little bool) []byte {
	var buf [8]byte
	if little {
		binary.LittleEndian.PutUint64(buf[:], v)
		return append(b, buf[:size]...)
	}
	binary.BigEndian.PutUint64(buf[:], v)
	return append(b, buf[8-size:]...)
}

func structUnpack(L *lua.LState) int {
	f := newStructFormat(L)
	data := f.checkString(2)
	pos := 1
	if L.GetTop() >= 3 && L.Get(3) != lua.LNil {
		pos = int(f.checkNumber(3))
	}
	if pos <= 0 {
		f.argError(3, "offset must be 1 or greater")
	}
	pos--
	n := 0
	for !f.done() {
		opt, size := f.next()
		pos += f.padding(pos, opt, size)
		if size > len(data) || pos > len(data)-size {
			f.argError(2, "data string too short")
		}
		switch opt {
		case 'b', 'B', 'h', 'H', 'l', 'L', 'T', 'i', 'I':
			var v uint64
			for i := range size {
				at := size - 1 - i
				if !f.little {
					at = i
				}
				v = v<<8 | uint64(data[pos+at])
			}
			if opt >= 'a' { // lower case: signed
				mask := ^uint64(0) << ((size*8 - 1) & 63)
				if v&mask != 0 {
					v |= mask
				}
				L.Push(lua.LNumber(float64(int64(v))))
			} else {
				L.Push(lua.LNumber(float64(v)))
			}
			n++
		case 'x':
		case 'f':
			v := readUint([]byte(data[pos:pos+4]), f.little)
			L.Push(lua.LNumber(float64(math.Float32frombits(uint32(v)))))
			n++
		case 'd':
			v := readUint([]byte(data[pos:pos+8]), f.little)
			L.Push(lua.LNumber(math.Float64frombits(v)))
			n++
		case 'c':
			if size == 0 {
				prev, ok := L.Get(-1).(lua.LNumber)
				if n == 0 || !ok {
					f.raise("format 'c0' needs a previous size")
				}
				size = int(prev)
				L.Pop(1)
				n--
				if size > len(data) || pos > len(data)-size {
					f.argError(2, "data string too short")
				}
			}
			L.Push(lua.LString(data[pos : pos+size]))
			n++
		case 's':
			end := bytes.IndexByte([]byte(data[pos:]), 0)
			if end < 0 {
				f.raise("unfinished string in data")
			}
			size = end + 1
			L.Push(lua.LString(data[pos : pos+end]))
			n++
		default:
			f.control(opt)
		}
		pos += size
	}
	L.Push(lua.LNumber(pos + 1))
	return n + 1
}

func readUint(b []byte, little bool) uint64 {
	var v uint64
	for i := range b {
		at := len(b) - 1 - i
		if !little {
			at = i
		}
		v = v<<8 | uint64(b[at])
	}
	return v
}

func structSize(L *lua.LState) int {
	f := newStructFormat(L)
	pos := 0
	for !f.done() {
		opt, size := f.next()
		pos += f.padding(pos, opt, size)
		switch {
		case opt == 's':
			f.argError(1, "option 's' has no fixed size")
		case opt == 'c' && size == 0:
			f.argError(1, "option 'c0' has no fixed size")
		}
		if !isAlnum(opt) {
			f.control(opt)
		}
		pos += size
	}
	L.Push(lua.LNumber(pos))
	return 1
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}
