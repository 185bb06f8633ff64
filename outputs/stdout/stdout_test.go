package stdout

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sluicelog/sluice/outputs"
	"github.com/sluicelog/sluice/record"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type line struct {
	Time    time.Time         `json:"time"`
	Stream  string            `json:"stream"`
	Message string            `json:"message"`
	Path    string            `json:"path"`
	Offset  int64             `json:"offset"`
	Flags   []string          `json:"flags"`
	Attrs   map[string]string `json:"attrs"`
}

func TestSendWritesOneDecodableLinePerRecord(t *testing.T) {
	ts := time.Date(2026, 11, 26, 0, 54, 7, 123456789, time.FixedZone("x", 3600))
	recs := []record.Record{
		{Time: ts, Stream: "stdout", Body: []byte(`plain "quoted" \ back`), Path: `C:\var\log\containers\a.log`, Offset: 7},
		{Time: ts, Stream: "stderr", Body: []byte("ctl\x01\t\r\nbad\xffutf8 é"), Path: "/p", Offset: 9,
			Flags: record.FlagSplit | record.FlagInvalidUTF8, Attrs: []record.Attr{{Key: "namespace", Value: "kube-system"}}},
		{Time: ts, Body: nil, Path: "/p"},
	}
	var out bytes.Buffer
	s := New(&out)
	req := s.Encode(recs)
	if res := s.Send(context.Background(), req); res.Outcome != outputs.Accepted {
		t.Fatalf("send = %+v", res)
	}
	if req.Records() != len(recs) || req.Bytes() != len(recs[0].Body)+len(recs[1].Body) {
		t.Fatalf("request counts %d records %d bytes", req.Records(), req.Bytes())
	}
	var dead bytes.Buffer
	if err := req.WriteEntries(&dead); err != nil || dead.String() != out.String() {
		t.Fatalf("WriteEntries = %q, %v; want the sent lines", dead.String(), err)
	}
	if !strings.HasPrefix(out.String(), req.Sample()) || req.Sample() == "" {
		t.Fatalf("sample %q is not the first line", req.Sample())
	}
	req.Release()
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != len(recs) {
		t.Fatalf("got %d lines, want %d:\n%s", len(lines), len(recs), out.String())
	}
	for i, l := range lines {
		var got line
		if err := json.Unmarshal([]byte(l), &got); err != nil {
			t.Fatalf("line %d not JSON: %v\n%s", i, err, l)
		}
		want := strings.ToValidUTF8(string(recs[i].Body), "\ufffd")
		if got.Message != want || got.Path != recs[i].Path || got.Offset != recs[i].Offset || !got.Time.Equal(ts) || got.Stream != recs[i].Stream {
			t.Fatalf("line %d = %+v, want body %q of %+v", i, got, want, recs[i])
		}
	}
	var second line
	_ = json.Unmarshal([]byte(lines[1]), &second)
	if strings.Join(second.Flags, ",") != "split,invalid_utf8" || second.Attrs["namespace"] != "kube-system" {
		t.Fatalf("flags/attrs = %v %v", second.Flags, second.Attrs)
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("broken pipe") }

func TestSendReportsWriteErrorAsRetryable(t *testing.T) {
	s := New(failWriter{})
	res := s.Send(context.Background(), s.Encode([]record.Record{{Body: []byte("x")}}))
	if res.Outcome != outputs.Retryable || res.Err == nil || !strings.Contains(res.Err.Error(), "broken pipe") {
		t.Fatalf("result = %+v, want a retryable write error", res)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s = New(&bytes.Buffer{})
	if res := s.Send(ctx, s.Encode(nil)); res.Outcome != outputs.Retryable || !errors.Is(res.Err, context.Canceled) {
		t.Fatalf("result = %+v, want context.Canceled", res)
	}
}

func FuzzAppendJSON(f *testing.F) {
	f.Add([]byte("hello"), "stdout")
	f.Add([]byte("\xff\xfe\x00\"\\\u2028"), "std\x00err")
	f.Fuzz(func(t *testing.T, body []byte, stream string) {
		b := AppendJSON(nil, &record.Record{Body: body, Stream: stream, Path: string(body)})
		var got line
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("invalid JSON %q: %v", b, err)
		}
		if got.Message != strings.ToValidUTF8(string(body), "\ufffd") && utf8Valid(body) {
			t.Fatalf("message %q != body %q", got.Message, body)
		}
	})
}

func utf8Valid(b []byte) bool { return strings.ToValidUTF8(string(b), "") == string(b) }

func BenchmarkAppendJSON(b *testing.B) {
	r := record.Record{Time: time.Now(), Stream: "stdout", Path: "/var/log/containers/app-7d9f_default_app-0123456789.log",
		Body: []byte(`level=info ts=2026-11-26T00:54:07Z caller=main.go:42 msg="request served" status=200 duration=1.2ms`)}
	var buf []byte
	b.SetBytes(int64(len(r.Body)))
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendJSON(buf[:0], &r)
	}
}

// A released request's buffer serves the next Encode even after
// collections (a sync.Pool would have let it go), a second Release does
// not hand it out twice, and Trim lets it go.
func TestRequestBufferIsReused(t *testing.T) {
	s := New(&bytes.Buffer{})
	recs := []record.Record{{Time: time.Unix(1, 0), Stream: "stdout", Body: []byte(strings.Repeat("x", 4096))}}
	req := s.Encode(recs)
	buf := &req.buf[:1][0]
	req.Release()
	req.Release()
	runtime.GC()
	runtime.GC()
	next := s.Encode(recs)
	if &next.buf[:1][0] != buf {
		t.Error("the next Encode made a new buffer; the released one was not kept")
	}
	if again := s.Encode(recs); again == next {
		t.Error("a request released twice was handed out twice")
	}
	next.Release()
	s.Trim()
	if s.free.Len() != 0 {
		t.Errorf("after Trim %d requests are kept", s.free.Len())
	}
}
