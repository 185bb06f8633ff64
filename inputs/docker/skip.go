package docker

import "bytes"

// skipValue checks the JSON value at i and returns the index after it.
func skipValue(b []byte, i int) (int, error) {
	if i < len(b) && (b[i] == '{' || b[i] == '[') {
		return skipNested(b, i)
	}
	return skipScalar(b, i)
}

// nesting records which open containers are objects, one bit per level. It
// lives on the stack, so that deep nesting costs neither recursion nor heap.
type nesting struct {
	object [(maxNested + 63) / 64]uint64
	n      int
}

func (s *nesting) push(object bool) bool {
	if s.n == maxNested {
		return false
	}
	w, bit := s.n/64, uint64(1)<<(s.n%64)
	if object {
		s.object[w] |= bit
	} else {
		s.object[w] &^= bit
	}
	s.n++
	return true
}

func (s *nesting) topIsObject() bool {
	k := s.n - 1
	return s.object[k/64]&(1<<(k%64)) != 0
}

// skipNested checks the array or object at i and returns the index after it.
func skipNested(b []byte, i int) (int, error) {
	var st nesting
	for {
		var open bool
		var err error
		if i, open, err = enter(b, skipSpace(b, i), &st); err != nil {
			return i, err
		}
		if open {
			continue // a value is due next
		}
		var more bool
		if i, more, err = leave(b, i, &st); err != nil || !more {
			return i, err
		}
	}
}

// enter reads a scalar, an empty container, or the opening of a non-empty one
// up to where its first value is due, which it reports with open.
func enter(b []byte, i int, st *nesting) (_ int, open bool, _ error) {
	if i >= len(b) || (b[i] != '{' && b[i] != '[') {
		i, err := skipScalar(b, i)
		return i, false, err
	}
	object := b[i] == '{'
	if !st.push(object) {
		return i, false, errDepth
	}
	i = skipSpace(b, i+1)
	if i < len(b) && (b[i] == '}' && object || b[i] == ']' && !object) {
		st.n--
		return i + 1, false, nil
	}
	if object {
		_, i, err := keyColon(b, i)
		return i, true, err
	}
	return i, true, nil
}

// leave reads what follows a complete value: closing brackets, then either
// a comma and the next key (more is true) or the end of the outermost one.
func leave(b []byte, i int, st *nesting) (_ int, more bool, _ error) {
	for st.n > 0 {
		if i = skipSpace(b, i); i >= len(b) {
			return i, false, errSyntax
		}
		switch object := st.topIsObject(); {
		case b[i] == ',' && object:
			_, i, err := keyColon(b, skipSpace(b, i+1))
			return i, true, err
		case b[i] == ',':
			return i + 1, true, nil
		case b[i] == '}' && object, b[i] == ']' && !object:
			st.n--
			i++
		default:
			return i, false, errSyntax
		}
	}
	return i, false, nil
}

// skipScalar checks the string, number, true, false or null at i and returns
// the index after it.
func skipScalar(b []byte, i int) (int, error) {
	if i >= len(b) {
		return i, errSyntax
	}
	switch b[i] {
	case '"':
		_, i, err := readString(b, i+1)
		return i, err
	case 't':
		return literal(b, i, "true")
	case 'f':
		return literal(b, i, "false")
	case 'n':
		return literal(b, i, "null")
	}
	return skipNumber(b, i)
}

func literal(b []byte, i int, word string) (int, error) {
	if !bytes.HasPrefix(b[i:], []byte(word)) {
		return i, errSyntax
	}
	return i + len(word), nil
}

// skipNumber checks -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? at i.
func skipNumber(b []byte, i int) (int, error) {
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		i = digits(b, i)
	default:
		return i, errSyntax
	}
	if i < len(b) && b[i] == '.' {
		j := digits(b, i+1)
		if j == i+1 {
			return i, errSyntax
		}
		i = j
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if j := digits(b, i); j > i {
			return j, nil
		}
		return i, errSyntax
	}
	return i, nil
}

// digits returns the index of the first non-digit at or after i.
func digits(b []byte, i int) int {
	for i < len(b) && isDigit(b[i]) {
		i++
	}
	return i
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
