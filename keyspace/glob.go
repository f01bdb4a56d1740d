package keyspace

// globMatch reports whether s matches the glob pattern as Redis 7.0's
// stringmatchlen does (KEYS, SCAN MATCH, ...): '*', '?', '[abc]', '[^a]',
// '[a-z]' and backslash escapes, with Redis's quirks kept on purpose:
//   - an unterminated '[' set ends at the end of the pattern;
//   - range bounds and the tested byte compare as C's signed char, so a
//     range reaching a byte >= 0x80 wraps around as it does on x86 Redis;
//   - inside a set an escaped byte compares case-sensitively even with
//     nocase;
//   - after the 1000th nested '*' the match fails, as Redis's protection
//     against abusive patterns does.
//
// Cost: once the rest of the pattern after a '*' fails at every position,
// no earlier '*' can help (every other token consumes exactly one byte), so
// the whole match stops there (Redis's skipLongerMatches). That keeps the
// work at O(len(pattern) * len(s)) rather than exponential.
func globMatch(pattern, s []byte, nocase bool) bool {
	skip := false
	return globMatchNested(pattern, s, nocase, &skip, 0)
}

// Match is stringmatchlen itself, case-sensitive and without KEYS's
// special case for "*": what PSUBSCRIBE and PUBSUB CHANNELS match with, so
// the pattern "*" does not match the empty channel name there either.
func Match(pattern, s []byte) bool { return globMatch(pattern, s, false) }

// MatchFold is Match ignoring case (FUNCTION LIST LIBRARYNAME).
func MatchFold(pattern, s []byte) bool { return globMatch(pattern, s, true) }

func globMatchNested(pat, str []byte, nocase bool, skip *bool, nesting int) bool {
	if nesting > 1000 {
		return false
	}
	// at reads like C reads an sds: one past the end is the NUL terminator.
	at := func(i int) byte {
		if i < len(pat) {
			return pat[i]
		}
		return 0
	}
	p, s := 0, 0
	for p < len(pat) && s < len(str) {
		switch pat[p] {
		case '*':
			for at(p+1) == '*' {
				p++
			}
			if len(pat)-p == 1 {
				return true
			}
			for s < len(str) {
				if globMatchNested(pat[p+1:], str[s:], nocase, skip, nesting+1) {
					return true
				}
				if *skip {
					return false
				}
				s++
			}
			*skip = true
			return false
		case '?':
			s++
		case '[':
			p++
			not := at(p) == '^'
			if not {
				p++
			}
			match := false
			for {
				if at(p) == '\\' && len(pat)-p >= 2 {
					p++
					if pat[p] == str[s] {
						match = true
					}
				} else if at(p) == ']' {
					break
				} else if p >= len(pat) {
					// Unterminated set: stay on its last byte so that the
					// step below ends the pattern.
					p--
					break
				} else if len(pat)-p >= 3 && pat[p+1] == '-' {
					lo, hi, c := int(int8(pat[p])), int(int8(pat[p+2])), int(int8(str[s]))
					if lo > hi {
						lo, hi = hi, lo
					}
					if nocase {
						lo, hi, c = lowerC(lo), lowerC(hi), lowerC(c)
					}
					p += 2
					if c >= lo && c <= hi {
						match = true
					}
				} else if pat[p] == str[s] || nocase && lowerC(int(pat[p])) == lowerC(int(str[s])) {
					match = true
				}
				p++
			}
			if not {
				match = !match
			}
			if !match {
				return false
			}
			s++
		case '\\':
			if len(pat)-p >= 2 {
				p++
			}
			fallthrough
		default:
			if pat[p] != str[s] && (!nocase || lowerC(int(pat[p])) != lowerC(int(str[s]))) {
				return false
			}
			s++
		}
		p++
		if s == len(str) {
			for at(p) == '*' {
				p++
			}
			break
		}
	}
	return p == len(pat) && s == len(str)
}

// lowerC is C's tolower in the "C" locale: only ASCII letters change.
func lowerC(c int) int {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// keyMatch is the test KEYS and SCAN MATCH apply: the pattern "*" takes
// every key, the empty one included, which stringmatchlen alone would not.
func keyMatch(pattern, key []byte) bool {
	if len(pattern) == 1 && pattern[0] == '*' {
		return true
	}
	return globMatch(pattern, key, false)
}
