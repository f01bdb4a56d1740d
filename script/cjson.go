package script

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	lua "github.com/yuin/gopher-lua"
)

// The cjson library as Redis ships it (lua-cjson 2.1.0 with its default
// settings): numbers with 14 significant digits, "/" escaped, empty
// tables as objects, sparse arrays refused past ratio 2 and 10 slots,
// cjson.null for JSON's null, and lua-cjson's error texts.

const (
	cjsonMaxDepth     = 1000
	cjsonSparseRatio  = 2
	cjsonSparseSafe   = 10
	cjsonNumPrecision = 14
)

func openCjson(L *lua.LState) *lua.LTable {
	t := L.NewTable()
	null := L.NewUserData()
	t.RawSetString("null", null)
	t.RawSetString("encode", L.NewFunction(func(L *lua.LState) int {
		if L.GetTop() != 1 {
			argError(L, 1, "expected 1 argument")
		}
		var b strings.Builder
		cjsonEncode(L, &b, L.Get(1), null, 0)
		L.Push(lua.LString(b.String()))
		return 1
	}))
	t.RawSetString("decode", L.NewFunction(func(L *lua.LState) int {
		if L.GetTop() != 1 {
			argError(L, 1, "expected 1 argument")
		}
		d := &jsonDecoder{L: L, s: L.CheckString(1), null: null}
		v := d.value(0)
		if tok := d.token(); tok.kind != tEnd {
			d.fail("the end", tok)
		}
		L.Push(v)
		return 1
	}))
	// The configuration functions answer the defaults and change nothing:
	// a setting would outlive the script that made it.
	for name, vals := range map[string][]lua.LValue{
		"encode_sparse_array":     {lua.LFalse, lua.LNumber(cjsonSparseRatio), lua.LNumber(cjsonSparseSafe)},
		"encode_max_depth":        {lua.LNumber(cjsonMaxDepth)},
		"decode_max_depth":        {lua.LNumber(cjsonMaxDepth)},
		"encode_number_precision": {lua.LNumber(cjsonNumPrecision)},
		"encode_keep_buffer":      {lua.LTrue},
		"encode_invalid_numbers":  {lua.LFalse},
		"decode_invalid_numbers":  {lua.LTrue},
	} {
		t.RawSetString(name, L.NewFunction(func(L *lua.LState) int {
			for _, v := range vals {
				L.Push(v)
			}
			return len(vals)
		}))
	}
	t.RawSetString("_NAME", lua.LString("cjson"))
	t.RawSetString("_VERSION", lua.LString("2.1.0"))
	return t
}

// formatG is C's "%.<prec>g".
func formatG(f float64, prec int) string {
	return strconv.FormatFloat(f, 'g', prec, 64)
}

func cjsonEncode(L *lua.LState, b *strings.Builder, v lua.LValue, null *lua.LUserData, depth int) {
	switch v := v.(type) {
	case *lua.LNilType:
		b.WriteString("null")
	case lua.LBool:
		if v {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case lua.LNumber:
		f := float64(v)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			L.RaiseError("Cannot serialise number: must not be NaN or Inf")
		}
		b.WriteString(formatG(f, cjsonNumPrecision))
	case lua.LString:
		jsonString(b, string(v))
	case *lua.LTable:
		depth++
		if depth > cjsonMaxDepth {
			L.RaiseError("Cannot serialise, excessive nesting (%d)", depth)
		}
		n := arrayLength(L, v)
		if n > 0 {
			b.WriteByte('[')
			for i := 1; i <= n; i++ {
				if i > 1 {
					b.WriteByte(',')
				}
				cjsonEncode(L, b, v.RawGetInt(i), null, depth)
			}
			b.WriteByte(']')
			return
		}
		b.WriteByte('{')
		first := true
		v.ForEach(func(k, val lua.LValue) {
			if !first {
				b.WriteByte(',')
			}
			first = false
			switch k := k.(type) {
			case lua.LNumber:
				b.WriteByte('"')
				b.WriteString(formatG(float64(k), cjsonNumPrecision))
				b.WriteString(`":`)
			case lua.LString:
				jsonString(b, string(k))
				b.WriteByte(':')
			default:
				L.RaiseError("Cannot serialise %s: table key must be a number or string", k.Type().String())
			}
			cjsonEncode(L, b, val, null, depth)
		})
		b.WriteByte('}')
	case *lua.LUserData:
		if v == null {
			b.WriteString("null")
			return
		}
		L.RaiseError("Cannot serialise userdata: type not supported")
	default:
		L.RaiseError("Cannot serialise %s: type not supported", v.Type().String())
	}
}

// arrayLength is lua-cjson's test: the length when every key is a positive
// integer (holes become nulls), 0 for an object, an error for an
// excessively sparse array.
func arrayLength(L *lua.LState, t *lua.LTable) int {
	max, items := 0, 0
	isArray := true
	t.ForEach(func(k, _ lua.LValue) {
		n, ok := k.(lua.LNumber)
		if !ok || float64(n) < 1 || float64(n) != math.Floor(float64(n)) {
			isArray = false
			return
		}
		if int(n) > max {
			max = int(n)
		}
		items++
	})
	if !isArray {
		return 0
	}
	if max > cjsonSparseSafe && max > items*cjsonSparseRatio {
		L.RaiseError("Cannot serialise table: excessively sparse array")
	}
	return max
}

func jsonString(b *strings.Builder, s string) {
	const hex = "0123456789abcdef"
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '/':
			b.WriteString(`\/`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if c < 0x20 || c == 0x7f {
				b.WriteString(`\u00`)
				b.WriteByte(hex[c>>4])
				b.WriteByte(hex[c&15])
			} else {
				b.WriteByte(c)
			}
		}
	}
	b.WriteByte('"')
}

// Token kinds, named as lua-cjson names them in its errors.
type tokenKind int

const (
	tObjBegin tokenKind = iota
	tObjEnd
	tArrBegin
	tArrEnd
	tString
	tNumber
	tBoolean
	tNull
	tColon
	tComma
	tEnd
	tError
)

var tokenNames = []string{"T_OBJ_BEGIN", "T_OBJ_END", "T_ARR_BEGIN", "T_ARR_END", "T_STRING",
	"T_NUMBER", "T_BOOLEAN", "T_NULL", "T_COLON", "T_COMMA", "T_END", "T_ERROR"}

type token struct {
	kind tokenKind
	pos  int // 0-based offset of the token
	str  string
	num  float64
	b    bool
	err  string // for tError: what was found
}

type jsonDecoder struct {
	L    *lua.LState
	s    string
	i    int
	null *lua.LUserData
}

func (d *jsonDecoder) fail(expected string, tok token) {
	found := tokenNames[tok.kind]
	if tok.kind == tError {
		found = tok.err
	}
	d.L.RaiseError("Expected %s but found %s at character %d", expected, found, tok.pos+1)
}

func (d *jsonDecoder) token() token {
	s := d.s
	for d.i < len(s) && (s[d.i] == ' ' || s[d.i] == '\t' || s[d.i] == '\n' || s[d.i] == '\r') {
		d.i++
	}
	tok := token{pos: d.i}
	if d.i >= len(s) {
		tok.kind = tEnd
		return tok
	}
	c := s[d.i]
	switch {
	case c == '{':
		tok.kind = tObjBegin
		d.i++
	case c == '}':
		tok.kind = tObjEnd
		d.i++
	case c == '[':
		tok.kind = tArrBegin
		d.i++
	case c == ']':
		tok.kind = tArrEnd
		d.i++
	case c == ':':
		tok.kind = tColon
		d.i++
	case c == ',':
		tok.kind = tComma
		d.i++
	case c == '"':
		return d.stringToken(tok)
	case c == '-' || (c >= '0' && c <= '9'):
		j := d.i + 1
		for j < len(s) && strings.IndexByte("0123456789.eE+-xXabcdefABCDEFinfINFnaNA", s[j]) >= 0 {
			j++
		}
		// strtod's longest valid prefix, as lua-cjson reads numbers.
		for k := j; k > d.i; k-- {
			if f, err := strconv.ParseFloat(s[d.i:k], 64); err == nil || isRangeErr(err) {
				tok.kind, tok.num = tNumber, f
				d.i = k
				return tok
			}
		}
		tok.kind, tok.err = tError, "invalid number"
	case strings.HasPrefix(s[d.i:], "true"):
		tok.kind, tok.b = tBoolean, true
		d.i += 4
	case strings.HasPrefix(s[d.i:], "false"):
		tok.kind = tBoolean
		d.i += 5
	case strings.HasPrefix(s[d.i:], "null"):
		tok.kind = tNull
		d.i += 4
	default:
		tok.kind, tok.err = tError, "invalid token"
	}
	return tok
}

func isRangeErr(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

func (d *jsonDecoder) stringToken(tok token) token {
	s := d.s
	var b strings.Builder
	i := d.i + 1
	for {
		if i >= len(s) {
			tok.kind, tok.err, tok.pos = tError, "unexpected end of string", i
			return tok
		}
		c := s[i]
		if c == '"' {
			i++
			break
		}
		if c != '\\' {
			b.WriteByte(c)
			i++
			continue
		}
		if i+1 >= len(s) {
			tok.kind, tok.err = tError, "unexpected end of string"
			return tok
		}
		switch e := s[i+1]; e {
		case '"', '\\', '/':
			b.WriteByte(e)
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'u':
			r, n := decodeUnicodeEscape(s[i:])
			if n == 0 {
				tok.kind, tok.err = tError, "invalid unicode escape code"
				return tok
			}
			b.WriteRune(r)
			i += n
			continue
		default:
			tok.kind, tok.err = tError, "invalid escape code"
			return tok
		}
		i += 2
	}
	d.i = i
	tok.kind, tok.str = tString, b.String()
	return tok
}

// decodeUnicodeEscape reads \uXXXX (with a following low surrogate when
// XXXX is a high one) and returns the rune and the bytes used.
func decodeUnicodeEscape(s string) (rune, int) {
	hex4 := func(s string) (rune, bool) {
		if len(s) < 6 || s[0] != '\\' || s[1] != 'u' {
			return 0, false
		}
		v, err := strconv.ParseUint(s[2:6], 16, 32)
		return rune(v), err == nil
	}
	r, ok := hex4(s)
	if !ok {
		return 0, 0
	}
	if r >= 0xd800 && r < 0xdc00 {
		lo, ok := hex4(s[6:])
		if !ok || lo < 0xdc00 || lo > 0xdfff {
			return 0, 0
		}
		return ((r - 0xd800) << 10) + (lo - 0xdc00) + 0x10000, 12
	}
	if r >= 0xdc00 && r <= 0xdfff {
		return 0, 0
	}
	if !utf8.ValidRune(r) {
		return 0, 0
	}
	return r, 6
}

func (d *jsonDecoder) value(depth int) lua.LValue {
	return d.valueOf(d.token(), depth)
}

func (d *jsonDecoder) valueOf(tok token, depth int) lua.LValue {
	L := d.L
	switch tok.kind {
	case tString:
		return lua.LString(tok.str)
	case tNumber:
		return lua.LNumber(tok.num)
	case tBoolean:
		return lua.LBool(tok.b)
	case tNull:
		return d.null
	case tObjBegin:
		depth++
		if depth > cjsonMaxDepth {
			L.RaiseError("Found too many nested data structures (%d) at character %d", depth, tok.pos+1)
		}
		t := L.NewTable()
		tok = d.token()
		if tok.kind == tObjEnd {
			return t
		}
		for {
			if tok.kind != tString {
				d.fail("object key string", tok)
			}
			key := tok.str
			if tok = d.token(); tok.kind != tColon {
				d.fail("colon", tok)
			}
			t.RawSetString(key, d.value(depth))
			tok = d.token()
			if tok.kind == tObjEnd {
				return t
			}
			if tok.kind != tComma {
				d.fail("comma or object end", tok)
			}
			tok = d.token()
		}
	case tArrBegin:
		depth++
		if depth > cjsonMaxDepth {
			L.RaiseError("Found too many nested data structures (%d) at character %d", depth, tok.pos+1)
		}
		t := L.NewTable()
		tok = d.token()
		if tok.kind == tArrEnd {
			return t
		}
		for i := 1; ; i++ {
			t.RawSetInt(i, d.valueOf(tok, depth))
			tok = d.token()
			if tok.kind == tArrEnd {
				return t
			}
			if tok.kind != tComma {
				d.fail("comma or array end", tok)
			}
			tok = d.token()
		}
	}
	d.fail("value", tok)
	return lua.LNil
}
