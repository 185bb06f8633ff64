package structured

import "unicode/utf8"

// maxNesting bounds how deep a skipped value may nest; deeper is Invalid,
// so that a line of a million '[' costs neither a deep recursion nor an
// unbounded stack.
const maxNesting = 512

// scanner reads one JSON text in b from i. Methods return false on
// malformed input and leave i where they stopped.
type scanner struct {
	b     []byte
	i     int
	stack []byte // open brackets of the value skip is inside; reused
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// peek returns the byte at i, 0 at the end.
func (s *scanner) peek() byte {
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

// consume skips white space and then c.
func (s *scanner) consume(c byte) bool {
	s.ws()
	if s.peek() != c {
		return false
	}
	s.i++
	return true
}

// str reads a string at i (on its '"'), returning the bounds of its raw
// contents and whether it holds an escape.
func (s *scanner) str() (start, end int, esc, ok bool) {
	if s.peek() != '"' {
		return 0, 0, false, false
	}
	s.i++
	start = s.i
	for s.i < len(s.b) {
		switch c := s.b[s.i]; c {
		case '"':
			end = s.i
			s.i++
			return start, end, esc, true
		case '\\':
			esc = true
			if s.i+1 >= len(s.b) {
				return 0, 0, false, false
			}
			switch s.b[s.i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.i += 2
			case 'u':
				if s.i+6 > len(s.b) || hex4(s.b[s.i+2:s.i+6]) < 0 {
					return 0, 0, false, false
				}
				s.i += 6
			default:
				return 0, 0, false, false
			}
		default:
			s.i++
		}
	}
	return 0, 0, false, false
}

// scalar reads a number, true, false or null at i and returns its end.
func (s *scanner) scalar() bool {
	start := s.i
	switch s.peek() {
	case 't':
		return s.word("true")
	case 'f':
		return s.word("false")
	case 'n':
		return s.word("null")
	}
	digits := 0
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c >= '0' && c <= '9':
			digits++
		case c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E':
		default:
			return digits > 0 && s.i > start
		}
		s.i++
	}
	return digits > 0
}

func (s *scanner) word(w string) bool {
	if len(s.b)-s.i < len(w) || string(s.b[s.i:s.i+len(w)]) != w {
		return false
	}
	s.i += len(w)
	return true
}

// skip reads any value at i without recursion, checking that brackets
// match, that strings end and that members have keys.
func (s *scanner) skip() bool {
	s.stack = s.stack[:0]
	for {
		s.ws()
		switch c := s.peek(); c {
		case '{', '[':
			if len(s.stack) >= maxNesting {
				return false
			}
			s.stack = append(s.stack, c)
			s.i++
			s.ws()
			if e := closer(c); s.peek() == e {
				s.i++
				s.stack = s.stack[:len(s.stack)-1]
				break
			}
			if c == '{' && !s.key() {
				return false
			}
			continue
		case '"':
			if _, _, _, ok := s.str(); !ok {
				return false
			}
		default:
			if !s.scalar() {
				return false
			}
		}
		// A value ended: close what it ends, or go on to the next member.
		for {
			if len(s.stack) == 0 {
				return true
			}
			s.ws()
			top := s.stack[len(s.stack)-1]
			switch s.peek() {
			case ',':
				s.i++
				if top == '{' && !s.key() {
					return false
				}
			case closer(top):
				s.i++
				s.stack = s.stack[:len(s.stack)-1]
				continue
			default:
				return false
			}
			break
		}
	}
}

// key reads `"name" :` inside an object.
func (s *scanner) key() bool {
	s.ws()
	if _, _, _, ok := s.str(); !ok {
		return false
	}
	return s.consume(':')
}

func closer(open byte) byte {
	if open == '{' {
		return '}'
	}
	return ']'
}

func hex4(b []byte) rune {
	var r rune
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return -1
		}
	}
	return r
}

// appendUnescaped appends the string contents raw (already checked by str)
// with its escapes decoded; a lone surrogate becomes U+FFFD, and bytes that
// are not UTF-8 are kept as they are.
func appendUnescaped(dst, raw []byte) []byte {
	for i := 0; i < len(raw); {
		c := raw[i]
		if c != '\\' {
			j := i + 1
			for j < len(raw) && raw[j] != '\\' {
				j++
			}
			dst = append(dst, raw[i:j]...)
			i = j
			continue
		}
		switch e := raw[i+1]; e {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r := hex4(raw[i+2:])
			i += 6
			if r >= 0xD800 && r < 0xDC00 && i+6 <= len(raw) && raw[i] == '\\' && raw[i+1] == 'u' {
				if lo := hex4(raw[i+2:]); lo >= 0xDC00 && lo < 0xE000 {
					r = 0x10000 + (r-0xD800)<<10 + (lo - 0xDC00)
					i += 6
				}
			}
			if r >= 0xD800 && r < 0xE000 {
				r = utf8.RuneError
			}
			dst = utf8.AppendRune(dst, r)
			continue
		default: // '"', '\\', '/'
			dst = append(dst, e)
		}
		i += 2
	}
	return dst
}

// appendJSONString appends s quoted as a JSON string.
func appendJSONString(dst, s []byte) []byte {
	const hexDigits = "0123456789abcdef"
	dst = append(dst, '"')
	for _, c := range s {
		switch {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c < 0x20:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		default:
			dst = append(dst, c)
		}
	}
	return append(dst, '"')
}
