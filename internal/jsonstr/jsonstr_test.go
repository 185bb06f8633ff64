package jsonstr

import (
	"encoding/json"
	"testing"
	"unicode/utf8"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// validRaw reports whether raw is the contents of a JSON string whose
// escapes EscapeLen takes and that encoding/json reads the same way: no
// quote or control byte outside an escape, and valid UTF-8 (encoding/json
// replaces invalid bytes, AppendUnescaped keeps them).
func validRaw(raw []byte) bool {
	if !utf8.Valid(raw) {
		return false
	}
	for i := 0; i < len(raw); i++ {
		switch c := raw[i]; {
		case c == '\\':
			n := EscapeLen(raw[i:])
			if n == 0 {
				return false
			}
			i += n - 1
		case c == '"' || c < 0x20:
			return false
		}
	}
	return true
}

// AppendUnescaped decodes as encoding/json does, surrogates included.
func FuzzAppendUnescaped(f *testing.F) {
	for _, s := range []string{`plain`, `q\" b\\ s\/ \b\f\n\r\t`, `\u00e9\ud83d\ude00`, `\ud800`, `\udc00\ud800x`, `\ud83d\u0041`, `\u`, `a\`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		if !validRaw(raw) {
			return
		}
		var want string
		if err := json.Unmarshal([]byte(`"`+string(raw)+`"`), &want); err != nil {
			t.Fatalf("encoding/json refuses %q: %v", raw, err)
		}
		if got := AppendUnescaped([]byte("x"), raw); string(got) != "x"+want {
			t.Fatalf("AppendUnescaped(%q) = %q, want %q", raw, got[1:], want)
		}
	})
}
