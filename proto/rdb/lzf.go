package rdb

import "sync"

// LZF as liblzf 3.6 (bundled with Redis) writes it. The format:
//
//	000LLLLL <L+1 bytes>          literal run of 1..32 bytes
//	LLLooooo oooooooo             copy L+2 (3..8) bytes from offset o+1
//	111ooooo LLLLLLLL oooooooo    copy L+9 bytes from offset o+1
//
// The compressor is Redis's build of it (HLOG 16, VERY_FAST, pointers in
// the hash table), step for step, so that a payload compresses to the same
// bytes as in Redis. One difference: Redis does not clear its hash table
// (INIT_HTAB 0), so a stale slot left on its stack by an earlier call can
// find a match that a cleared table would not; this compressor always
// starts clean.
const (
	lzfHLog   = 16
	lzfHSize  = 1 << lzfHLog
	lzfMaxLit = 1 << 5
	lzfMaxOff = 1 << 13
	lzfMaxRef = 1<<8 + 1<<3

	// lzfMaxRatio bounds the expansion: a 3-byte back reference makes at
	// most 264 bytes.
	lzfMaxRatio = 88
)

// lzfTable is the compressor's hash table: the last input position seen
// for each hash. A slot belongs to the call whose epoch it carries, so a
// reused table needs no clearing.
type lzfTable struct {
	epoch uint32
	slot  [lzfHSize]uint64 // epoch<<32 | position
}

// lzfTables recycles tables: at 512 KiB one per call would dwarf the
// strings being compressed.
var lzfTables = sync.Pool{New: func() any { return new(lzfTable) }}

// lzfIdx is liblzf's VERY_FAST hash of the three bytes ending h.
func lzfIdx(h uint32) int { return int((h>>(3*8-lzfHLog) - h*5) & (lzfHSize - 1)) }

// LZFCompress compresses in into at most outLen bytes as Redis's
// lzf_compress does; ok is false when the result would not fit (and for
// empty input).
func LZFCompress(in []byte, outLen int) (out []byte, ok bool) {
	if len(in) == 0 || outLen <= 0 {
		return nil, false
	}
	t := lzfTables.Get().(*lzfTable)
	defer lzfTables.Put(t)
	t.epoch++
	if t.epoch == 0 {
		t.slot = [lzfHSize]uint64{}
		t.epoch = 1
	}
	epoch := uint64(t.epoch) << 32

	// out has a byte of room past outLen: the checks below, as liblzf's,
	// may reserve a control byte there, never fill it.
	out = make([]byte, outLen+1)
	inEnd, outEnd := len(in), outLen
	ip, op, lit := 0, 1, 0 // out[op-lit-1] is the current literal run's control byte
	var hval uint32
	if len(in) >= 2 {
		hval = uint32(in[0])<<8 | uint32(in[1])
	}
	for ip < inEnd-2 {
		hval = hval<<8 | uint32(in[ip+2])
		h := lzfIdx(hval)
		s := t.slot[h]
		t.slot[h] = epoch | uint64(ip)
		ref := int(uint32(s))
		if s&^0xffffffff == epoch && ref > 0 && ip-ref-1 < lzfMaxOff &&
			in[ref+2] == in[ip+2] && in[ref] == in[ip] && in[ref+1] == in[ip+1] {
			off := ip - ref - 1
			n := 2
			maxlen := min(inEnd-ip-n, lzfMaxRef)
			if op+3+1 >= outEnd && op-b2i(lit == 0)+3+1 >= outEnd {
				return nil, false
			}
			out[op-lit-1] = byte(lit - 1) // end the literal run
			op -= b2i(lit == 0)           // or drop it if empty
			// liblzf compares 16 bytes unchecked when more than 16 remain,
			// then one at a time; the result differs from a plain loop when
			// maxlen <= 2, so both steps are kept.
			done := false
			if maxlen > 16 {
				for range 16 {
					n++
					if in[ref+n] != in[ip+n] {
						done = true
						break
					}
				}
			}
			if !done {
				for {
					n++
					if n >= maxlen || in[ref+n] != in[ip+n] {
						break
					}
				}
			}
			n -= 2 // bytes copied, less 2
			ip++
			if n < 7 {
				out[op] = byte(off>>8 + n<<5)
				op++
			} else {
				out[op] = byte(off>>8 + 7<<5)
				out[op+1] = byte(n - 7)
				op += 2
			}
			out[op] = byte(off)
			op++
			lit = 0
			op++ // start a literal run
			ip += n + 1
			if ip >= inEnd-2 {
				break
			}
			// VERY_FAST: hash the last two positions of the match.
			ip -= 2
			hval = uint32(in[ip])<<8 | uint32(in[ip+1])
			for range 2 {
				hval = hval<<8 | uint32(in[ip+2])
				t.slot[lzfIdx(hval)] = epoch | uint64(ip)
				ip++
			}
			continue
		}
		if op >= outEnd {
			return nil, false
		}
		lit++
		out[op] = in[ip]
		op++
		ip++
		if lit == lzfMaxLit {
			out[op-lit-1] = byte(lit - 1)
			lit = 0
			op++
		}
	}
	if op+3 > outEnd { // at most 3 more bytes
		return nil, false
	}
	for ip < inEnd {
		lit++
		out[op] = in[ip]
		op++
		ip++
		if lit == lzfMaxLit {
			out[op-lit-1] = byte(lit - 1)
			lit = 0
			op++
		}
	}
	out[op-lit-1] = byte(lit - 1)
	op -= b2i(lit == 0)
	return out[:op:op], true
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// LZFDecompress expands in, which must make exactly n bytes. Like Redis it
// takes anything for n == 0: lzf_decompress fails by returning 0.
func LZFDecompress(in []byte, n uint64) ([]byte, error) {
	if n == 0 {
		return []byte{}, nil
	}
	if n > uint64(len(in))*lzfMaxRatio {
		return nil, ErrCorrupt // could not be reached: refuse before allocating
	}
	out := make([]byte, n)
	ip, op := 0, 0
	for ip < len(in) {
		ctrl := int(in[ip])
		ip++
		if ctrl < 1<<5 { // literal run
			ctrl++
			if op+ctrl > len(out) || ip+ctrl > len(in) {
				return nil, ErrCorrupt
			}
			op += copy(out[op:], in[ip:ip+ctrl])
			ip += ctrl
			continue
		}
		l := ctrl >> 5
		ref := op - (ctrl&0x1f)<<8 - 1
		if ip >= len(in) {
			return nil, ErrCorrupt
		}
		if l == 7 {
			l += int(in[ip])
			ip++
			if ip >= len(in) {
				return nil, ErrCorrupt
			}
		}
		ref -= int(in[ip])
		ip++
		if op+l+2 > len(out) || ref < 0 {
			return nil, ErrCorrupt
		}
		for range l + 2 { // byte by byte: the copy may overlap itself
			out[op] = out[ref]
			op++
			ref++
		}
	}
	if op != len(out) {
		return nil, ErrCorrupt
	}
	return out, nil
}
