package vlogs

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// unquote decodes one JSON string literal. Unlike encoding/json it copies
// bytes that are not valid UTF-8 unchanged, because VictoriaLogs stores the
// pushed bytes and writes them back raw, and a test of invalid UTF-8
// handling must see exactly what arrived. Escapes decode as in
// encoding/json, a lone surrogate included (U+FFFD).
func unquote(q []byte) (string, error) {
	if len(q) < 2 || q[0] != '"' || q[len(q)-1] != '"' {
		return "", fmt.Errorf("not a JSON string: %.40q", q)
	}
	q = q[1 : len(q)-1]
	if bytes.IndexByte(q, '\\') < 0 {
		return string(q), nil
	}
	b := make([]byte, 0, len(q))
	for i := 0; i < len(q); {
		c := q[i]
		if c != '\\' {
			b = append(b, c)
			i++
			continue
		}
		if i+1 == len(q) {
			return "", errors.New("JSON string ends inside an escape")
		}
		i += 2
		switch e := q[i-1]; e {
		case '"', '\\', '/':
			b = append(b, e)
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			r, err := hex4(q[i:])
			if err != nil {
				return "", err
			}
			i += 4
			if utf16.IsSurrogate(r) {
				r2, err := hex4(afterEscapeU(q[i:]))
				if pair := utf16.DecodeRune(r, r2); err == nil && pair != utf8.RuneError {
					r = pair
					i += 6
				} else {
					r = utf8.RuneError
				}
			}
			b = utf8.AppendRune(b, r)
		default:
			return "", fmt.Errorf("JSON string has an unknown escape \\%c", e)
		}
	}
	return string(b), nil
}

// afterEscapeU returns what follows a leading `\u`, or nothing, so hex4
// fails when no second half of a surrogate pair is there.
func afterEscapeU(q []byte) []byte {
	if len(q) >= 2 && q[0] == '\\' && q[1] == 'u' {
		return q[2:]
	}
	return nil
}

// hex4 reads the four hex digits of a \u escape.
func hex4(q []byte) (rune, error) {
	if len(q) < 4 {
		return 0, errors.New("JSON string has a short \\u escape")
	}
	v, err := strconv.ParseUint(string(q[:4]), 16, 16)
	if err != nil {
		return 0, fmt.Errorf("JSON string has a bad \\u escape: %w", err)
	}
	return rune(v), nil
}
