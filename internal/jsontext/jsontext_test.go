package jsontext

import (
	"encoding/json"
	"strings"
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

// Each character JSON must escape or decode, at every position of a text
// longer than two words, so that the word-at-a-time scan finds it wherever
// it falls in a word.
func TestAppendStringEveryPosition(t *testing.T) {
	for _, odd := range []string{"\"", "\\", "\n", "\x00", "\x1f", "\x7f", "é", "✓", "𝄞", "\xff", "\xe2\x9c"} {
		for pos := 0; pos <= 24; pos++ {
			in := strings.Repeat("a", pos) + odd + strings.Repeat("b", 24-pos)
			want, _ := json.Marshal(in)
			var w, got string
			_ = json.Unmarshal(want, &w)
			out := AppendString(nil, in)
			if err := json.Unmarshal(out, &got); err != nil || got != w {
				t.Fatalf("AppendString(%q) = %s (%v), decodes to %q, want %q", in, out, err, got, w)
			}
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

// A plain text line and a JSON log line, the two shapes most container
// logs have; the first is copied a word at a time, the second is mostly
// quotes to escape.
func BenchmarkAppendStringShapes(b *testing.B) {
	for _, bc := range []struct{ name, line string }{
		{"text", `2026-11-26 00:54:07.123 INFO  [worker-7] com.example.orders.OrderService - order 8812731 accepted for customer 42, total 119.90 EUR, 3 items, shipping to warehouse east-2 in 1.2ms`},
		{"json", `{"level":"info","ts":"2026-11-26T00:54:07.123Z","caller":"orders/service.go:142","msg":"order accepted","order":8812731,"customer":42,"total":"119.90","items":3}`},
	} {
		b.Run(bc.name, func(b *testing.B) {
			s := []byte(bc.line)
			var buf []byte
			b.SetBytes(int64(len(s)))
			b.ReportAllocs()
			for b.Loop() {
				buf = AppendString(buf[:0], s)
			}
		})
	}
}
