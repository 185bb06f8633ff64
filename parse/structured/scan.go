package structured

import "github.com/sluicelog/sluice/internal/jsonstr"

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
		switch s.b[s.i] {
		case '"':
			end = s.i
			s.i++
			return start, end, esc, true
		case '\\':
			esc = true
			n := jsonstr.EscapeLen(s.b[s.i:])
			if n == 0 {
				return 0, 0, false, false
			}
			s.i += n
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

// members reads the object at i (on its '{'), calling field for each
// member with the bounds of its raw key and i on its value, which field
// must read.
func (s *scanner) members(field func(ks, ke int, esc bool) bool) bool {
	s.i++ // '{'
	if s.consume('}') {
		return true
	}
	for {
		s.ws()
		ks, ke, esc, ok := s.str()
		if !ok || !s.consume(':') {
			return false
		}
		s.ws()
		if !field(ks, ke, esc) {
			return false
		}
		if s.consume('}') {
			return true
		}
		if !s.consume(',') {
			return false
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
