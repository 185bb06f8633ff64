package glob

import (
	"unicode"
	"unicode/utf8"
)

// The comparisons below follow strings.EqualFold (Unicode simple case
// folding, rune by rune), except that a byte that is not valid UTF-8 equals
// only the same byte: EqualFold would let any two invalid bytes match.

// cutPrefix removes prefix from s, comparing with folding when fold is set.
func cutPrefix(s, prefix string, fold bool) (string, bool) {
	if !fold {
		if len(s) < len(prefix) || s[:len(prefix)] != prefix {
			return "", false
		}
		return s[len(prefix):], true
	}
	for prefix != "" {
		if s == "" {
			return "", false
		}
		a, b := prefix[0], s[0]
		if a < utf8.RuneSelf && b < utf8.RuneSelf {
			if lowerASCII(a) != lowerASCII(b) {
				return "", false
			}
			prefix, s = prefix[1:], s[1:]
			continue
		}
		r1, w1 := utf8.DecodeRuneInString(prefix)
		r2, w2 := utf8.DecodeRuneInString(s)
		if invalid(r1, w1) || invalid(r2, w2) {
			if w1 != w2 || a != b {
				return "", false
			}
		} else if !sameFold(r1, r2) {
			return "", false
		}
		prefix, s = prefix[w1:], s[w2:]
	}
	return s, true
}

// equal reports whether a and b are the same name under the folding rule.
func equal(a, b string, fold bool) bool {
	if !fold {
		return a == b
	}
	rest, ok := cutPrefix(b, a, true)
	return ok && rest == ""
}

func invalid(r rune, w int) bool { return r == utf8.RuneError && w == 1 }

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// sameFold reports whether r1 and r2 are in the same simple-folding orbit.
func sameFold(r1, r2 rune) bool {
	if r1 == r2 {
		return true
	}
	for f := unicode.SimpleFold(r1); f != r1; f = unicode.SimpleFold(f) {
		if f == r2 {
			return true
		}
	}
	return false
}
