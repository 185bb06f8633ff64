package vlogs

import (
	"encoding/json"
	"testing"
	"unicode/utf8"
)

func TestUnquote(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    string
		wantErr bool
	}{
		{name: "empty", in: `""`, want: ""},
		{name: "plain", in: `"plain"`, want: "plain"},
		{name: "raw invalid utf8 kept", in: "\"a\xff\xc3b\"", want: "a\xff\xc3b"},
		{name: "raw invalid utf8 next to an escape", in: "\"\xff\\n\xfe\"", want: "\xff\n\xfe"},
		{name: "simple escapes", in: `"\"\\\/\b\f\n\r\t"`, want: "\"\\/\b\f\n\r\t"},
		{name: "unicode escape", in: `"\u00e9\u00E9\u0000"`, want: "éé\x00"},
		{name: "surrogate pair", in: `"\ud83d\ude00"`, want: "😀"},
		{name: "lone high surrogate", in: `"\ud83dx"`, want: "\uFFFDx"},
		{name: "high surrogate then non-surrogate escape", in: `"\ud83d\u0041"`, want: "\uFFFDA"},
		{name: "lone low surrogate", in: `"\ude00"`, want: "\uFFFD"},
		{name: "not a string", in: `123`, wantErr: true},
		{name: "unknown escape", in: `"\x"`, wantErr: true},
		{name: "short unicode escape", in: `"\u12"`, wantErr: true},
		{name: "bad hex", in: `"\u12g4"`, wantErr: true},
		{name: "signed hex", in: `"\u+123"`, wantErr: true},
		{name: "escape at end", in: `"\"`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := unquote([]byte(tt.in))
			if (err != nil) != tt.wantErr {
				t.Fatalf("unquote(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("unquote(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// FuzzUnquote checks unquote against quoteRaw, which writes strings the way
// VictoriaLogs does, and against encoding/json wherever the input is UTF-8.
func FuzzUnquote(f *testing.F) {
	for _, s := range []string{"", "plain", "bad \xff\xfe", "tab\t\"q\"\\", "\u2028<&>", "日本", "\x00\x1f", `\ud83d`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, err := unquote(quoteRaw(s)); err != nil || got != s {
			t.Fatalf("unquote(quoteRaw(%q)) = %q, %v", s, got, err)
		}
		if utf8.ValidString(s) {
			q, err := json.Marshal(s)
			if err != nil {
				t.Fatal(err)
			}
			if got, err := unquote(q); err != nil || got != s {
				t.Fatalf("unquote(%s) = %q, %v; want %q", q, got, err, s)
			}
		}
		// s as the literal itself: where encoding/json accepts it, unquote
		// must agree.
		lit := []byte(s)
		var want string
		if len(lit) >= 2 && lit[0] == '"' && lit[len(lit)-1] == '"' && utf8.Valid(lit) &&
			json.Unmarshal(lit, &want) == nil {
			if got, err := unquote(lit); err != nil || got != want {
				t.Fatalf("unquote(%s) = %q, %v; encoding/json gives %q", lit, got, err, want)
			}
		}
	})
}
