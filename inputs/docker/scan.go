package docker

import (
	"encoding/binary"

	"github.com/sluicelog/sluice/internal/jsonstr"
)

// maxNested is how many arrays and objects may be open inside one member's
// value: with the line's own object that makes encoding/json's limit of 10000,
// so that both accept the same lines.
const maxNested = 10000 - 1

// strval is a JSON string value as it appears in the line.
type strval struct {
	raw []byte // between the quotes, still escaped
	esc int    // index in raw of the first backslash, or -1
	ok  bool   // the member was present and its value a string
}

// text returns the unescaped value, decoding into *scratch only when there is
// an escape, or nil when the member was absent or not a string.
func (v strval) text(scratch *[]byte) []byte {
	if !v.ok || v.esc < 0 {
		return v.raw
	}
	*scratch = jsonstr.AppendUnescaped((*scratch)[:0], v.raw)
	return *scratch
}

// fields holds the members Parse reads; the others are checked and skipped.
type fields struct{ log, stream, time strval }

// slot returns where the value of key goes, or nil for a key Parse ignores.
func (f *fields) slot(key []byte) *strval {
	switch string(key) {
	case "log":
		return &f.log
	case "stream":
		return &f.stream
	case "time":
		return &f.time
	}
	return nil
}

// scan checks that b is one JSON object and returns the members Parse needs.
// scratch is spare room for unescaping keys; scan returns it, grown if need be.
func scan(b, scratch []byte) (fields, []byte, error) {
	var f fields
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return f, scratch, errNotObject
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		i++
	} else {
		var err error
		if i, scratch, err = members(b, i, &f, scratch); err != nil {
			return f, scratch, err
		}
	}
	if skipSpace(b, i) != len(b) {
		return f, scratch, errTrailing
	}
	return f, scratch, nil
}

// members reads the members of a non-empty object from i up to and including
// the closing brace.
func members(b []byte, i int, f *fields, scratch []byte) (int, []byte, error) {
	for {
		var key strval
		var err error
		if key, i, err = keyColon(b, i); err != nil {
			return i, scratch, err
		}
		i = skipSpace(b, i)
		slot := f.slot(key.text(&scratch))
		switch {
		case slot != nil && i < len(b) && b[i] == '"':
			*slot, i, err = readString(b, i+1)
		case slot != nil:
			*slot = strval{} // the last value counts, and this one is not a string
			fallthrough
		default:
			i, err = skipValue(b, i)
		}
		if err != nil {
			return i, scratch, err
		}
		if i = skipSpace(b, i); i < len(b) && b[i] == ',' {
			i = skipSpace(b, i+1)
			continue
		}
		if i < len(b) && b[i] == '}' {
			return i + 1, scratch, nil
		}
		return i, scratch, errSyntax
	}
}

// keyColon reads `"key" :` at i and returns the key and the index after the colon.
func keyColon(b []byte, i int) (strval, int, error) {
	if i >= len(b) || b[i] != '"' {
		return strval{}, i, errSyntax
	}
	key, i, err := readString(b, i+1)
	if err != nil {
		return strval{}, i, err
	}
	if i = skipSpace(b, i); i >= len(b) || b[i] != ':' {
		return strval{}, i, errSyntax
	}
	return key, i + 1, nil
}

// readString reads a string whose opening quote is just before i, checking
// its escapes, and returns it and the index after its closing quote.
func readString(b []byte, i int) (strval, int, error) {
	start, esc := i, -1
	for {
		if i = skipPlain(b, i); i >= len(b) {
			return strval{}, i, errString
		}
		switch b[i] {
		case '"':
			return strval{raw: b[start:i], esc: esc, ok: true}, i + 1, nil
		case '\\':
			n := jsonstr.EscapeLen(b[i:])
			if n == 0 {
				return strval{}, i, errEscape
			}
			if esc < 0 {
				esc = i - start
			}
			i += n
		default:
			return strval{}, i, errControl // JSON wants control bytes escaped
		}
	}
}

// skipPlain returns the index of the first '"', '\\' or control byte at or
// after i, or len(b). It tests eight bytes at a time because message text is
// most of every line.
func skipPlain(b []byte, i int) int {
	for ; i+8 <= len(b); i += 8 {
		if special8(binary.LittleEndian.Uint64(b[i:])) {
			break
		}
	}
	for ; i < len(b); i++ {
		if c := b[i]; c == '"' || c == '\\' || c < 0x20 {
			return i
		}
	}
	return i
}

// special8 reports whether any byte of x is '"', '\\' or below 0x20, with the
// zero-byte test (v-0x01…)&^v&0x80…: x^'"' and x^'\\' have a zero byte where x
// has that byte, and x-0x20… borrows into the top bit of a byte below 0x20.
// Neither '"' nor '\\' has its top bit set, so ^x stands in for ^(x^'"').
func special8(x uint64) bool {
	const ones, tops = 0x0101010101010101, 0x8080808080808080
	quote, backslash := x^(ones*'"'), x^(ones*'\\')
	return ((x-ones*0x20)|(quote-ones)|(backslash-ones))&^x&tops != 0
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}
