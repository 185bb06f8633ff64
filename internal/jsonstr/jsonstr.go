// Package jsonstr decodes the contents of JSON strings, for the parsers that
// read JSON a byte at a time without encoding/json: the Docker json-file
// line parser and parse/structured.
//
// Guarantees: nothing here allocates beyond the destination slice it is
// given, and nothing panics on any input that EscapeLen has vetted.
package jsonstr

import (
	"bytes"
	"unicode/utf16"
	"unicode/utf8"
)

// EscapeLen returns the length of the valid escape at the start of b, or 0.
func EscapeLen(b []byte) int {
	if len(b) < 2 {
		return 0
	}
	switch b[1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return 2
	case 'u':
		if len(b) >= 6 && hex4(b[2:6]) >= 0 {
			return 6
		}
	}
	return 0
}

// hex4 parses the four hex digits at the start of b, or returns -1.
func hex4(b []byte) rune {
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return -1
		}
		r = r<<4 | rune(c)
	}
	return r
}

// AppendUnescaped appends the unescaped form of raw, the contents of a JSON
// string, to dst. An invalid escape, which the caller's scanner should have
// ruled out with EscapeLen, is copied as it is rather than trusted. Bytes
// that are not UTF-8 are kept as they are.
func AppendUnescaped(dst, raw []byte) []byte {
	for {
		i := bytes.IndexByte(raw, '\\')
		if i < 0 {
			return append(dst, raw...)
		}
		dst, raw = append(dst, raw[:i]...), raw[i:]
		switch n := EscapeLen(raw); n {
		case 0:
			return append(dst, raw...)
		case 2:
			dst, raw = append(dst, unescapeByte(raw[1])), raw[2:]
		default:
			r, n := decodeU(raw)
			dst, raw = utf8.AppendRune(dst, r), raw[n:]
		}
	}
}

// unescapeByte returns the byte a two-character escape stands for.
func unescapeByte(c byte) byte {
	switch c {
	case 'b':
		return '\b'
	case 'f':
		return '\f'
	case 'n':
		return '\n'
	case 'r':
		return '\r'
	case 't':
		return '\t'
	}
	return c // '"', '\\' and '/' stand for themselves
}

// decodeU decodes the valid \uXXXX escape at the start of raw, and the low
// surrogate after it when it is a high one. As in encoding/json, a surrogate
// that is not half of a pair becomes U+FFFD and the escape after it is
// decoded on its own.
func decodeU(raw []byte) (rune, int) {
	r := hex4(raw[2:6])
	if !utf16.IsSurrogate(r) {
		return r, 6
	}
	if len(raw) >= 12 && raw[6] == '\\' && raw[7] == 'u' {
		if pair := utf16.DecodeRune(r, hex4(raw[8:12])); pair != utf8.RuneError {
			return pair, 12
		}
	}
	return utf8.RuneError, 6
}
