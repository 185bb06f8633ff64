package docker

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"go.uber.org/goleak"

	"github.com/sluicelog/sluice/inputs/timestamp"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const ts = "2026-11-26T00:54:07.123456789Z"

var tsTime = time.Date(2026, 11, 26, 0, 54, 7, 123456789, time.UTC)

// line builds a json-file line with log as its raw (still escaped) value.
func line(log string) string {
	return `{"log":"` + log + `","stream":"stdout","time":"` + ts + `"}`
}

func TestParse(t *testing.T) {
	big := strings.Repeat("0123456789abcdef", 1<<16)
	full := func(msg string) Line { return Line{Time: tsTime, Stream: "stdout", Msg: []byte(msg)} }
	partial := func(msg string) Line { return Line{Time: tsTime, Stream: "stdout", Partial: true, Msg: []byte(msg)} }
	tests := []struct {
		name string
		in   string
		want Line
	}{
		{name: "full line", in: line(`hello\n`), want: full("hello")},
		{name: "partial line", in: line(`first 16 KiB`), want: partial("first 16 KiB")},
		{name: "stderr", in: `{"log":"oops\n","stream":"stderr","time":"` + ts + `"}`,
			want: Line{Time: tsTime, Stream: "stderr", Msg: []byte("oops")}},
		{name: "keys in another order", in: `{"time":"` + ts + `","stream":"stdout","log":"x\n"}`, want: full("x")},
		{name: "zone offset", in: `{"log":"x\n","stream":"stdout","time":"2026-11-26T01:54:07.123456789+01:00"}`, want: full("x")},
		{name: "missing fraction", in: `{"log":"x\n","stream":"stdout","time":"2026-11-26T00:54:07Z"}`,
			want: Line{Time: time.Date(2026, 11, 26, 0, 54, 7, 0, time.UTC), Stream: "stdout", Msg: []byte("x")}},
		{name: "attrs and other extra keys", in: `{"log":"x\n","attrs":{"tag":"web","labels":[1,-2.5e3,true,false,null,{}]},"n":0,"stream":"stdout","time":"` + ts + `","e":[]}`,
			want: full("x")},
		{name: "whitespace between tokens", in: " {\t\"log\" : \"x\\n\" ,\n\"stream\":\"stdout\" , \"time\" :\"" + ts + "\"\r\n} \r", want: full("x")},
		{name: "empty message", in: line(`\n`), want: full("")},
		{name: "empty log", in: line(``), want: partial("")},
		{name: "CRLF line end", in: line(`dos\r\n`), want: full("dos")},
		{name: "CR without LF kept", in: line(`chunk\r`), want: partial("chunk\r")},
		{name: "only one CRLF stripped", in: line(`two\r\n\r\n`), want: full("two\r\n")},
		{name: "escaped backslash before n", in: line(`C:\\new\\n`), want: partial(`C:\new\n`)},
		{name: "simple escapes", in: line(`q\" b\\ s\/ \b\f\n\r\t|\n`), want: full("q\" b\\ s/ \b\f\n\r\t|")},
		{name: "unicode escapes", in: line(`caf\u00e9 \u20AC \u0000|\n`), want: full("café € \x00|")},
		{name: "surrogate pair", in: line(`\ud83d\ude00\n`), want: full("😀")},
		{name: "lone high surrogate", in: line(`a\ud83db\n`), want: full("a\uFFFDb")},
		{name: "lone low surrogate", in: line(`a\ude00b\n`), want: full("a\uFFFDb")},
		{name: "high surrogate then other escape", in: line(`\ud83d\u0041\n`), want: full("\uFFFDA")},
		{name: "two high surrogates", in: line(`\ud83d\ud83d\ude00`), want: partial("\uFFFD😀")},
		{name: "high surrogate at the end", in: line(`\ud83d`), want: partial("\uFFFD")},
		{name: "invalid UTF-8 kept byte for byte", in: line("\xff\xfe ok \xc3\\n"), want: full("\xff\xfe ok \xc3")},
		{name: "raw UTF-8 kept", in: line(`héllo 😀\n`), want: full("héllo 😀")},
		{name: "tabs escaped in message", in: line(`a\tb\n`), want: full("a\tb")},
		{name: "duplicate key, last wins", in: `{"log":"first\n","log":"second\n","stream":"stdout","time":"` + ts + `"}`, want: full("second")},
		{name: "duplicate key, string after null", in: `{"log":null,"log":"x\n","stream":"stdout","time":"` + ts + `"}`, want: full("x")},
		{name: "escaped key", in: `{"l\u006fg":"x\n","stream":"std\u006fut","time":"2026\u002d11-26T00:54:07.123456789Z"}`, want: full("x")},
		{name: "1 MiB message", in: line(big + `\n`), want: full(big)},
		{name: "1 MiB message with escapes", in: line(strings.Repeat(`\t`, 1<<19) + `\n`), want: full(strings.Repeat("\t", 1<<19))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := make([]byte, 0, len(tt.in))
			got, err := Parse([]byte(tt.in), dst)
			if err != nil {
				t.Fatalf("Parse(%.80q) error = %v", tt.in, err)
			}
			if !got.Time.Equal(tt.want.Time) || got.Time.Location() != time.UTC {
				t.Errorf("Time = %v, want %v in UTC", got.Time, tt.want.Time)
			}
			if got.Stream != tt.want.Stream || got.Partial != tt.want.Partial {
				t.Errorf("Stream, Partial = %q, %v, want %q, %v", got.Stream, got.Partial, tt.want.Stream, tt.want.Partial)
			}
			if !bytes.Equal(got.Msg, tt.want.Msg) {
				t.Errorf("Msg = %.80q, want %.80q", got.Msg, tt.want.Msg)
			}
			if len(got.Msg) > 0 && &got.Msg[0] != &dst[:1][0] {
				t.Errorf("Msg is not stored in dst")
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		err  error
	}{
		{name: "empty", in: "", err: errNotObject},
		{name: "plain text", in: "hello", err: errNotObject},
		{name: "array", in: `["log"]`, err: errNotObject},
		{name: "CRI line", in: ts + " stdout F x", err: errNotObject},
		{name: "empty object", in: `{}`, err: errStream},
		{name: "missing log", in: `{"stream":"stdout","time":"` + ts + `"}`, err: errLog},
		{name: "missing stream", in: `{"log":"x\n","time":"` + ts + `"}`, err: errStream},
		{name: "missing time", in: `{"log":"x\n","stream":"stdout"}`, err: errTime},
		{name: "log not a string", in: `{"log":42,"stream":"stdout","time":"` + ts + `"}`, err: errLog},
		{name: "string then null", in: `{"log":"x","log":null,"stream":"stdout","time":"` + ts + `"}`, err: errLog},
		{name: "wrong stream", in: `{"log":"x\n","stream":"stdin","time":"` + ts + `"}`, err: errStream},
		{name: "upper case key", in: `{"LOG":"x\n","stream":"stdout","time":"` + ts + `"}`, err: errLog},
		{name: "February 30", in: `{"log":"x\n","stream":"stdout","time":"2026-02-30T00:54:07Z"}`, err: errTime},
		{name: "month 13", in: `{"log":"x\n","stream":"stdout","time":"2026-13-01T00:54:07Z"}`, err: errTime},
		{name: "time not a string", in: `{"log":"x\n","stream":"stdout","time":1795654447}`, err: errTime},
		{name: "invalid escape", in: line(`\x41`), err: errEscape},
		{name: "short unicode escape", in: line(`\u12`), err: errEscape},
		{name: "bad hex in unicode escape", in: line(`\u12G4`), err: errEscape},
		{name: "backslash at the end", in: `{"log":"x\`, err: errEscape},
		{name: "raw tab in string", in: line("a\tb"), err: errControl},
		{name: "raw newline in string", in: line("a\nb"), err: errControl},
		{name: "unterminated string", in: `{"log":"x`, err: errString},
		{name: "unterminated object", in: `{"log":"x\n"`, err: errSyntax},
		{name: "trailing comma", in: `{"log":"x\n","stream":"stdout","time":"` + ts + `",}`, err: errSyntax},
		{name: "missing colon", in: `{"log" "x\n"}`, err: errSyntax},
		{name: "missing comma", in: `{"log":"x\n" "stream":"stdout"}`, err: errSyntax},
		{name: "single quotes", in: `{'log':'x'}`, err: errSyntax},
		{name: "bare word", in: `{"log":"x\n","a":nul,"stream":"stdout","time":"` + ts + `"}`, err: errSyntax},
		{name: "leading zero", in: `{"a":01,"log":"x\n","stream":"stdout","time":"` + ts + `"}`, err: errSyntax},
		{name: "bad exponent", in: `{"a":1e,"log":"x\n","stream":"stdout","time":"` + ts + `"}`, err: errSyntax},
		{name: "mismatched brackets", in: `{"a":[1},"log":"x\n","stream":"stdout","time":"` + ts + `"}`, err: errSyntax},
		{name: "data after the object", in: line(`x\n`) + "x", err: errTrailing},
		{name: "two objects", in: line(`x\n`) + line(`y\n`), err: errTrailing},
		{name: "too deep", in: nested(maxNested + 1), err: errDepth},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.in), nil)
			if !errors.Is(err, ErrMalformed) || !errors.Is(err, tt.err) {
				t.Errorf("Parse(%.80q) error = %v, want %v", tt.in, err, tt.err)
			}
		})
	}
}

// nested returns a valid line with an extra member nested depth levels deep.
func nested(depth int) string {
	half := depth / 2
	v := strings.Repeat(`[{"k":`, half) + `0` + strings.Repeat(`}]`, half)
	if depth%2 == 1 {
		v = "[" + v + "]"
	}
	return `{"a":` + v + `,"log":"x\n","stream":"stdout","time":"` + ts + `"}`
}

// TestNestingLimit checks that the depth limit is where encoding/json has it.
func TestNestingLimit(t *testing.T) {
	for _, depth := range []int{1, 2, maxNested - 1, maxNested, maxNested + 1, maxNested + 2} {
		in := []byte(nested(depth))
		_, err := Parse(in, nil)
		jerr := json.Unmarshal(in, new(map[string]any))
		if (err == nil) != (jerr == nil) {
			t.Errorf("depth %d: Parse error = %v, encoding/json error = %v", depth, err, jerr)
		}
	}
}

func TestErrorText(t *testing.T) {
	_, err := Parse([]byte(`{"log":"x\n"}`), nil)
	if got, want := err.Error(), "docker: malformed line: stream is missing or not stdout or stderr"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestLooks(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want bool
	}{
		{name: "full line", in: line(`hello\n`), want: true},
		{name: "prefix of a long line", in: `{"log":"aaaaaaaa`, want: true},
		{name: "time first", in: `{"time":"` + ts + `"`, want: true},
		{name: "whitespace", in: ` { "stream" : "stdout"`, want: true},
		{name: "CRI line", in: ts + " stdout F x"},
		{name: "other JSON", in: `{"level":"info","msg":"x"}`},
		{name: "key without colon", in: `{"log"}`},
		{name: "key prefix", in: `{"logger":"x"}`},
		{name: "empty", in: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Looks([]byte(tt.in)); got != tt.want {
				t.Errorf("Looks(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseDoesNotAllocate(t *testing.T) {
	lines := append(benchLines(), line(`\x`), `{"log":"x\n"}`, "garbage", nested(40))
	for _, in := range lines {
		b := []byte(in)
		dst := make([]byte, 0, len(b))
		allocs := testing.AllocsPerRun(100, func() {
			_, _ = Parse(b, dst)
			_ = Looks(b)
		})
		if allocs != 0 {
			t.Errorf("Parse(%.40q) allocates %v times per call", in, allocs)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range benchLines() {
		f.Add([]byte(s))
	}
	f.Add([]byte(line(`\ud83d\u0041\r\n`)))
	f.Add([]byte(`{"l\u006fg":"x\n","log":null,"stream":"std\u006fut","time":"2026-11-26T00:54:07+01:00","a":[{"b":-0.5e+3}]}`))
	f.Add([]byte(line("\xff\\u00e9\\n")))
	f.Fuzz(func(t *testing.T, b []byte) {
		l, err := Parse(b, make([]byte, 0, 64))
		var m map[string]any
		jerr := json.Unmarshal(b, &m)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			if want, ok := fromJSON(m, jerr); ok {
				t.Fatalf("Parse rejects %q (%v); encoding/json reads %+v", b, err, want)
			}
			return
		}
		want, ok := fromJSON(m, jerr)
		if !ok {
			t.Fatalf("Parse accepts %q, which encoding/json does not read as a json-file line (%v)", b, jerr)
		}
		if got := sanitize(l.Msg); got != string(want.Msg) || l.Partial != want.Partial {
			t.Fatalf("Parse(%q): Msg, Partial = %q, %v; encoding/json gives %q, %v", b, got, l.Partial, want.Msg, want.Partial)
		}
		if l.Stream != want.Stream || !l.Time.Equal(want.Time) || l.Time.Location() != time.UTC {
			t.Fatalf("Parse(%q): Stream, Time = %q, %v; want %q, %v", b, l.Stream, l.Time, want.Stream, want.Time)
		}
	})
}

// fromJSON builds the Line that encoding/json's reading of the object
// implies, and reports whether it is a json-file line at all.
func fromJSON(m map[string]any, jerr error) (Line, bool) {
	log, ok1 := m["log"].(string)
	stream, ok2 := m["stream"].(string)
	tm, ok3 := m["time"].(string)
	if jerr != nil || !ok1 || !ok2 || !ok3 || (stream != "stdout" && stream != "stderr") {
		return Line{}, false
	}
	var l Line
	l.Stream = stream
	// The timestamp package's own tests hold ParseRFC3339 to time.Parse.
	if l.Time, ok3 = timestamp.ParseRFC3339([]byte(tm)); !ok3 {
		return Line{}, false
	}
	l.Partial = !strings.HasSuffix(log, "\n")
	if !l.Partial {
		log = strings.TrimSuffix(log[:len(log)-1], "\r")
	}
	l.Msg = []byte(log)
	return l, true
}

// sanitize replaces each byte that is not part of valid UTF-8 with U+FFFD,
// which is what encoding/json does and Parse, on purpose, does not.
func sanitize(b []byte) string {
	var sb strings.Builder
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		sb.WriteRune(r)
		b = b[n:]
	}
	return sb.String()
}

// benchLines is a mix of what Docker's json-file driver writes: first lines
// with no escape but the line end, then lines with escapes in the text.
func benchLines() []string {
	return []string{
		line(`I1126 00:54:07.123456       1 controller.go:217] Reconciled object kind=Deployment name=web\n`),
		line(`2026-11-26 01:54:07,123 INFO  [main] c.e.App - Started App in 4.2 seconds (process running for 4.9)\r\n`),
		`{"log":"panic: runtime error: index out of range [3] with length 3\n","stream":"stderr","time":"` + ts + `"}`,
		`{"log":"` + strings.Repeat("chunk of a long line ", 6) + `","stream":"stdout","time":"` + ts + `"}`,
		`{"log":"served /api/v1/items in 3ms\n","stream":"stdout","attrs":{"tag":"web"},"time":"` + ts + `"}`,
		line(`10.244.1.1 - - [26/Nov/2026:00:54:07 +0000] \"GET /healthz HTTP/1.1\" 200 2 \"-\" \"kube-probe/1.34\"\n`),
		line(`{\"level\":\"info\",\"ts\":1795654447.1234,\"caller\":\"server/handler.go:88\",\"msg\":\"request served\",\"status\":200}\n`),
		`{"log":"caf\u00e9 \u2014 tab\there\n","stream":"stdout","time":"` + ts + `"}`,
	}
}

func BenchmarkParse(b *testing.B) {
	lines := benchLines()
	b.Run("mix", func(b *testing.B) { benchParse(b, lines) })
	b.Run("line-end-escape-only", func(b *testing.B) { benchParse(b, lines[:5]) })
	b.Run("escapes", func(b *testing.B) { benchParse(b, lines[5:]) })
}

// benchParse parses all of lines per iteration and reports the cost per line.
func benchParse(b *testing.B, lines []string) {
	in := make([][]byte, len(lines))
	n := 0
	for i, s := range lines {
		in[i] = []byte(s)
		n += len(s)
	}
	dst := make([]byte, 0, 64<<10)
	b.SetBytes(int64(n))
	b.ReportAllocs()
	for b.Loop() {
		for _, l := range in {
			if _, err := Parse(l, dst); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(in)), "ns/line")
}
