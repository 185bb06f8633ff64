package cri

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const ts = "2026-11-26T00:54:07.123456789Z"

var tsTime = time.Date(2026, 11, 26, 0, 54, 7, 123456789, time.UTC)

func TestParse(t *testing.T) {
	big := strings.Repeat("x", 1<<20)
	tests := []struct {
		name string
		in   string
		want Line // Msg nil means an empty message
		err  error
	}{
		{name: "full stdout", in: ts + " stdout F hello world",
			want: Line{Time: tsTime, Stream: "stdout", Msg: []byte("hello world")}},
		{name: "partial stderr", in: ts + " stderr P first part",
			want: Line{Time: tsTime, Stream: "stderr", Partial: true, Msg: []byte("first part")}},
		{name: "positive zone offset", in: "2026-11-26T01:54:07.1+01:00 stdout F x",
			want: Line{Time: time.Date(2026, 11, 26, 0, 54, 7, 100_000_000, time.UTC), Stream: "stdout", Msg: []byte("x")}},
		{name: "negative zone offset", in: "2026-11-25T19:54:07-05:00 stdout F x",
			want: Line{Time: time.Date(2026, 11, 26, 0, 54, 7, 0, time.UTC), Stream: "stdout", Msg: []byte("x")}},
		{name: "missing fraction", in: "2026-11-26T00:54:07Z stdout F x",
			want: Line{Time: time.Date(2026, 11, 26, 0, 54, 7, 0, time.UTC), Stream: "stdout", Msg: []byte("x")}},
		{name: "more flags after full", in: ts + " stdout F:x msg",
			want: Line{Time: tsTime, Stream: "stdout", Msg: []byte("msg")}},
		{name: "more flags after partial", in: ts + " stdout P:a:b msg",
			want: Line{Time: tsTime, Stream: "stdout", Partial: true, Msg: []byte("msg")}},
		{name: "empty message after space", in: ts + " stdout F ",
			want: Line{Time: tsTime, Stream: "stdout"}},
		{name: "empty message without space", in: ts + " stdout F",
			want: Line{Time: tsTime, Stream: "stdout"}},
		{name: "empty partial chunk", in: ts + " stderr P",
			want: Line{Time: tsTime, Stream: "stderr", Partial: true}},
		{name: "extra spaces belong to the message", in: ts + " stdout F   indented  ",
			want: Line{Time: tsTime, Stream: "stdout", Msg: []byte("  indented  ")}},
		{name: "tabs in message", in: ts + " stdout F a\tb\t",
			want: Line{Time: tsTime, Stream: "stdout", Msg: []byte("a\tb\t")}},
		{name: "invalid UTF-8 kept byte for byte", in: ts + " stdout F \xff\xfe ok \xc3",
			want: Line{Time: tsTime, Stream: "stdout", Msg: []byte("\xff\xfe ok \xc3")}},
		{name: "NUL bytes kept", in: ts + " stdout F \x00\x00",
			want: Line{Time: tsTime, Stream: "stdout", Msg: []byte("\x00\x00")}},
		{name: "CR stripped from full line", in: ts + " stdout F dos line\r",
			want: Line{Time: tsTime, Stream: "stdout", Msg: []byte("dos line")}},
		{name: "only one CR stripped", in: ts + " stdout F two\r\r",
			want: Line{Time: tsTime, Stream: "stdout", Msg: []byte("two\r")}},
		{name: "CR kept in partial chunk", in: ts + " stdout P chunk\r",
			want: Line{Time: tsTime, Stream: "stdout", Partial: true, Msg: []byte("chunk\r")}},
		{name: "CR inside message kept", in: ts + " stdout F a\rb",
			want: Line{Time: tsTime, Stream: "stdout", Msg: []byte("a\rb")}},
		{name: "message that is only CR", in: ts + " stdout F \r",
			want: Line{Time: tsTime, Stream: "stdout"}},
		{name: "1 MiB message", in: ts + " stdout F " + big,
			want: Line{Time: tsTime, Stream: "stdout", Msg: []byte(big)}},

		{name: "empty line", in: "", err: errTimestamp},
		{name: "February 30", in: "2026-02-30T00:54:07Z stdout F x", err: errTimestamp},
		{name: "month 13", in: "2026-13-01T00:54:07Z stdout F x", err: errTimestamp},
		{name: "timestamp without zone", in: "2026-11-26T00:54:07 stdout F x", err: errTimestamp},
		{name: "plain text", in: "hello world", err: errTimestamp},
		{name: "timestamp only", in: ts, err: errTimestamp},
		{name: "leading space", in: " " + ts + " stdout F x", err: errTimestamp},
		{name: "tab separators", in: ts + "\tstdout\tF\tx", err: errTimestamp},
		{name: "tab after stream", in: ts + " stdout\tF x", err: errStream},
		{name: "two spaces after timestamp", in: ts + "  stdout F x", err: errStream},
		{name: "wrong stream", in: ts + " stdin F x", err: errStream},
		{name: "upper case stream", in: ts + " STDOUT F x", err: errStream},
		{name: "stream without tag", in: ts + " stdout", err: errStream},
		{name: "stream prefix only", in: ts + " stdoutput F x", err: errStream},
		{name: "empty tag", in: ts + " stdout  x", err: errTag},
		{name: "unknown tag", in: ts + " stdout X x", err: errTag},
		{name: "lower case tag", in: ts + " stdout f x", err: errTag},
		{name: "long tag", in: ts + " stdout FP x", err: errTag},
		{name: "empty first flag", in: ts + " stdout :F x", err: errTag},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := []byte(tt.in)
			got, err := Parse(in)
			if tt.err != nil {
				if !errors.Is(err, ErrMalformed) || !errors.Is(err, tt.err) {
					t.Fatalf("Parse(%.80q) error = %v, want %v", tt.in, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%.80q) error = %v", tt.in, err)
			}
			checkLine(t, in, got, tt.want)
		})
	}
}

func checkLine(t *testing.T, in []byte, got, want Line) {
	t.Helper()
	if !got.Time.Equal(want.Time) || got.Time.Location() != time.UTC {
		t.Errorf("Time = %v, want %v in UTC", got.Time, want.Time)
	}
	if got.Stream != want.Stream || got.Partial != want.Partial {
		t.Errorf("Stream, Partial = %q, %v, want %q, %v", got.Stream, got.Partial, want.Stream, want.Partial)
	}
	if !bytes.Equal(got.Msg, want.Msg) {
		t.Errorf("Msg = %.80q, want %.80q", got.Msg, want.Msg)
	}
	if !within(in, got.Msg) {
		t.Errorf("Msg does not alias the input")
	}
}

// within reports whether sub lies inside b's memory.
func within(b, sub []byte) bool {
	if len(sub) == 0 {
		return true
	}
	for i := range b {
		if &b[i] == &sub[0] {
			return i+len(sub) <= len(b)
		}
	}
	return false
}

func TestErrorText(t *testing.T) {
	_, err := Parse([]byte(ts + " stdin F x"))
	if got, want := err.Error(), "cri: malformed line: stream is not stdout or stderr"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestLooks(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want bool
	}{
		{name: "full line", in: ts + " stdout F hello", want: true},
		{name: "header only", in: ts + " stderr ", want: true},
		{name: "cut after the header", in: ts + " stderr P", want: true},
		{name: "several lines", in: ts + " stdout F a\n" + ts + " stdout F b\n", want: true},
		{name: "zone offset", in: "2026-11-26T01:54:07.1+01:00 stdout F x", want: true},
		{name: "docker json-file", in: `{"log":"hello\n","stream":"stdout","time":"` + ts + `"}`},
		{name: "plain text", in: "hello world"},
		{name: "cut inside the timestamp", in: ts[:16]},
		{name: "cut before the stream", in: ts + " std"},
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
	for _, in := range append(benchLines(), ts+" stdin F x", ts+" stdout X x", "garbage") {
		b := []byte(in)
		allocs := testing.AllocsPerRun(100, func() {
			_, _ = Parse(b)
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
	f.Add([]byte(ts + " stdout F"))
	f.Add([]byte(ts + " stdout F:x:y \r"))
	f.Add([]byte("2028-02-29T23:59:59-23:59 stderr P \xff"))
	f.Fuzz(func(t *testing.T, b []byte) {
		l, err := Parse(b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		field, _, _ := bytes.Cut(b, []byte(" "))
		want, perr := time.Parse(time.RFC3339Nano, string(field))
		if perr != nil || !l.Time.Equal(want) || l.Time.Location() != time.UTC {
			t.Fatalf("Time = %v for %q; time.Parse gives %v, %v", l.Time, field, want, perr)
		}
		if l.Stream != "stdout" && l.Stream != "stderr" {
			t.Fatalf("Stream = %q", l.Stream)
		}
		end := b
		if !l.Partial {
			end = bytes.TrimSuffix(b, []byte("\r"))
		}
		if !bytes.HasSuffix(end, l.Msg) || !within(b, l.Msg) {
			t.Fatalf("Msg %q is not the end of the input %q", l.Msg, b)
		}
		if !Looks(b) {
			t.Fatalf("Looks rejects a line Parse accepts: %q", b)
		}
	})
}

// benchLines is a mix of what kubelet's runtimes write for common workloads.
func benchLines() []string {
	return []string{
		ts + ` stdout F {"level":"info","ts":1795654447.1234,"caller":"server/handler.go:88","msg":"request served","status":200,"duration_ms":3}`,
		ts + ` stdout F 10.244.1.1 - - [26/Nov/2026:00:54:07 +0000] "GET /healthz HTTP/1.1" 200 2 "-" "kube-probe/1.34" "-"`,
		ts + ` stderr F I1126 00:54:07.123456       1 controller.go:217] "Reconciled object" kind="Deployment" name="web"`,
		"2026-11-26T01:54:07.123456789+01:00 stdout F 2026-11-26 01:54:07,123 INFO  [main] c.e.App - Started App in 4.2 seconds\r",
		ts + ` stdout P ` + strings.Repeat("chunk of a long line ", 6),
		ts + ` stderr F panic: runtime error: index out of range [3] with length 3`,
		ts + ` stdout F`,
		"2026-11-26T00:54:07.1Z stdout F:x short line",
	}
}

func BenchmarkParse(b *testing.B) {
	b.Run("mix", func(b *testing.B) { benchParse(b, benchLines()) })
	b.Run("16KiB-message", func(b *testing.B) { benchParse(b, []string{ts + " stdout P " + strings.Repeat("y", 16<<10)}) })
}

// benchParse parses all of lines per iteration and reports the cost per line.
func benchParse(b *testing.B, lines []string) {
	in := make([][]byte, len(lines))
	n := 0
	for i, s := range lines {
		in[i] = []byte(s)
		n += len(s)
	}
	b.SetBytes(int64(n))
	b.ReportAllocs()
	for b.Loop() {
		for _, l := range in {
			if _, err := Parse(l); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(in)), "ns/line")
}
