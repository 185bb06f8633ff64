// Package jsontext writes JSON strings without reflection or allocation, for
// the sinks that render records as JSON on their hot path.
package jsontext

import (
	"math/bits"
	"unicode/utf8"
)

const hexDigits = "0123456789abcdef"

// Word-at-a-time masks: lo has 0x01 in every byte, hi 0x80.
const (
	lo = 0x0101010101010101
	hi = 0x8080808080808080
)

// special returns a word whose lowest set bit lies in the first of w's
// eight bytes that JSON cannot copy as it is: a control character, '"',
// '\\', or a byte of a multi-byte character. It is 0 when there is none.
// Borrows of the subtractions only run upwards from such a byte, so the
// lowest one is exact. Checking a word at a time instead of a byte at a
// time is most of the encoding speed of a log line.
func special(w uint64) uint64 {
	ctl := (w - lo*0x20) &^ w // a byte below 0x20 sets its high bit
	q := w ^ (lo * '"')       // a '"' byte becomes zero
	bs := w ^ (lo * '\\')     // and so does a backslash
	zero := (q-lo)&^q | (bs-lo)&^bs
	return (ctl | zero | w) & hi // w's own high bits: non-ASCII bytes
}

// load8 reads eight bytes as a little-endian word; the compiler merges the
// byte loads into one for strings and slices alike.
func load8[T string | []byte](s T) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// AppendString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD,
// byte by byte as encoding/json does, because JSON text must be UTF-8; valid
// text is copied in runs, not rune by rune.
func AppendString[T string | []byte](b []byte, s T) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if i+8 <= len(s) {
			m := special(load8(s[i : i+8]))
			if m == 0 {
				i += 8
				continue
			}
			i += bits.TrailingZeros64(m) >> 3
		}
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, w := utf8.DecodeRuneInString(string(s[i:min(i+utf8.UTFMax, len(s))]))
			if r != utf8.RuneError || w != 1 {
				i += w
				continue
			}
		}
		b = append(b, s[start:i]...)
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\r':
			b = append(b, '\\', 'r')
		case c == '\t':
			b = append(b, '\\', 't')
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		default:
			b = append(b, `\ufffd`...)
		}
		i++
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
