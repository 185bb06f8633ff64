package jsontext

import (
	"encoding/json"
	"testing"
)

func TestAppendString(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", `""`},
		{"plain", `"plain"`},
		{`q"b\`, `"q\"b\\"`},
		{"nl\n cr\r tab\t ctl\x01", `"nl\n cr\r tab\t ctl\u0001"`},
		{"é ✓ 𝄞", `"é ✓ 𝄞"`},
		{"bad\xff\xfeend", `"bad\ufffd\ufffdend"`},
		{"cut\xe2\x9c", `"cut\ufffd\ufffd"`},
	} {
		if got := string(AppendString(nil, tc.in)); got != tc.want {
			t.Errorf("AppendString(%q) = %s, want %s", tc.in, got, tc.want)
		}
		if got := string(AppendString(nil, []byte(tc.in))); got != tc.want {
			t.Errorf("AppendString([]byte %q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func FuzzAppendString(f *testing.F) {
	f.Add([]byte("hello"))
	f.Add([]byte("\xff\xfe\x00\"\\\u2028"))
	f.Fuzz(func(t *testing.T, in []byte) {
		out := AppendString(nil, in)
		var got string
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("invalid JSON %q for %q: %v", out, in, err)
		}
		// encoding/json replaces each invalid byte with U+FFFD, as we do.
		want, _ := json.Marshal(string(in))
		var w string
		_ = json.Unmarshal(want, &w)
		if got != w {
			t.Fatalf("decoded %q, encoding/json gives %q", got, w)
		}
	})
}

func BenchmarkAppendString(b *testing.B) {
	s := []byte(`level=info ts=2026-11-26T00:54:07Z caller=main.go:42 msg="request served" status=200 duration=1.2ms é`)
	var buf []byte
	b.SetBytes(int64(len(s)))
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendString(buf[:0], s)
	}
}
