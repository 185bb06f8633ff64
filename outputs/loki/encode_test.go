package loki

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sluicelog/sluice/outputs/internal/sinktest"
	"github.com/sluicelog/sluice/record"
)

var t0 = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func at(sec int) time.Time { return t0.Add(time.Duration(sec) * time.Second) }

func podAttrs(ns, pod, ctr string, extra ...record.Attr) []record.Attr {
	a := []record.Attr{{Key: "namespace", Value: ns}, {Key: "pod", Value: pod}, {Key: "container", Value: ctr}}
	return append(a, extra...)
}

const appLabels = `{container="app", namespace="default", pod="p"}`

type encodeCase struct {
	name   string
	cfg    Config
	recs   []record.Record
	want   []gotStream
	nowIdx [][2]int // entries (stream, entry) whose time must be the encode time
}

func encodeCases() []encodeCase {
	path := "/var/log/pods/default_p_u1/app/0.log"
	return []encodeCase{{
		name: "label prefixes",
		cfg:  Config{LabelPrefixes: []string{"label."}},
		recs: []record.Record{
			{Time: at(1), Body: []byte("a"), Attrs: podAttrs("default", "p", "app", record.Attr{Key: "label.app.kubernetes.io/name", Value: "web"},
				record.Attr{Key: "label.pod", Value: "clash"}, record.Attr{Key: "label.__x", Value: "reserved"}, record.Attr{Key: "label.", Value: "empty"})},
			{Time: at(2), Body: []byte("b"), Attrs: podAttrs("default", "p", "app", record.Attr{Key: "label.app.kubernetes.io/name", Value: "db"})},
		},
		want: []gotStream{
			{Labels: `{app_kubernetes_io_name="web", container="app", namespace="default", pod="p"}`, Entries: []gotEntry{{Time: at(1), Line: "a",
				Meta: map[string]string{"label_pod": "clash", "label___x": "reserved", "label_": "empty"}}}},
			{Labels: `{app_kubernetes_io_name="db", container="app", namespace="default", pod="p"}`, Entries: []gotEntry{{Time: at(2), Line: "b"}}},
		},
	}, {
		name: "labels and metadata",
		recs: []record.Record{{
			Time: at(1), Stream: "stdout", Body: []byte("hello"), Path: path, Offset: 10,
			Attrs: podAttrs("default", "p", "app", record.Attr{Key: "pod_uid", Value: "u1"}, record.Attr{Key: "container_id", Value: "c1"}),
		}},
		want: []gotStream{{Labels: appLabels, Entries: []gotEntry{{Time: at(1), Line: "hello",
			Meta: map[string]string{"filename": path, "stream": "stdout", "pod_uid": "u1", "container_id": "c1"}}}}},
	}, {
		name: "two pods interleaved keep record order per stream",
		recs: []record.Record{
			{Time: at(1), Body: []byte("p1"), Attrs: podAttrs("default", "p", "app")},
			{Time: at(2), Body: []byte("q1"), Attrs: podAttrs("default", "q", "app")},
			{Time: at(3), Body: []byte("p2"), Attrs: podAttrs("default", "p", "app")},
			{Time: at(4), Body: []byte("q2"), Attrs: podAttrs("default", "q", "app")},
		},
		want: []gotStream{
			{Labels: appLabels, Entries: []gotEntry{{Time: at(1), Line: "p1"}, {Time: at(3), Line: "p2"}}},
			{Labels: `{container="app", namespace="default", pod="q"}`, Entries: []gotEntry{{Time: at(2), Line: "q1"}, {Time: at(4), Line: "q2"}}},
		},
	}, {
		name: "sorted by time, stable on equal times",
		recs: []record.Record{
			{Time: at(5), Body: []byte("late"), Attrs: podAttrs("default", "p", "app")},
			{Time: at(2), Body: []byte("a"), Attrs: podAttrs("default", "p", "app")},
			{Time: at(2), Body: []byte("b"), Attrs: podAttrs("default", "p", "app")},
			{Time: at(1), Body: []byte("first"), Attrs: podAttrs("default", "p", "app")},
			{Time: at(2), Body: []byte("c"), Attrs: podAttrs("default", "p", "app")},
		},
		want: []gotStream{{Labels: appLabels, Entries: []gotEntry{
			{Time: at(1), Line: "first"}, {Time: at(2), Line: "a"}, {Time: at(2), Line: "b"},
			{Time: at(2), Line: "c"}, {Time: at(5), Line: "late"},
		}}},
	}, {
		name: "zero and unrepresentable times get the encode time",
		recs: []record.Record{
			{Body: []byte("no time"), Attrs: podAttrs("default", "p", "app")},
			{Time: time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC), Body: []byte("year 1000"), Attrs: podAttrs("default", "p", "app")},
		},
		want:   []gotStream{{Labels: appLabels, Entries: []gotEntry{{Line: "no time"}, {Line: "year 1000"}}}},
		nowIdx: [][2]int{{0, 0}, {0, 1}},
	}, {
		name: "invalid UTF-8 flagged is repaired",
		recs: []record.Record{{
			Time: at(1), Body: []byte("a\xff\xfeb\xc3(c\xe2\x82"), Flags: record.FlagInvalidUTF8 | record.FlagRaw,
			Attrs: podAttrs("default", "p", "app"),
		}},
		want: []gotStream{{Labels: appLabels, Entries: []gotEntry{{Time: at(1), Line: "a\uFFFDb\uFFFD(c\uFFFD",
			Meta: map[string]string{"flags": "raw,invalid_utf8"}}}}},
	}, {
		name: "flags in record order",
		recs: []record.Record{{Time: at(1), Body: []byte("x"), Flags: record.FlagNoNewline | record.FlagSplit, Attrs: podAttrs("default", "p", "app")}},
		want: []gotStream{{Labels: appLabels, Entries: []gotEntry{{Time: at(1), Line: "x", Meta: map[string]string{"flags": "split,no_newline"}}}}},
	}, {
		name: "names sanitised",
		cfg:  Config{Labels: []string{"app.kubernetes.io/name", "9lives"}},
		recs: []record.Record{{Time: at(1), Body: []byte("x"), Attrs: []record.Attr{
			{Key: "app.kubernetes.io/name", Value: "web"}, {Key: "9lives", Value: "cat"}, {Key: "k8s.pod-ip", Value: "10.0.0.1"},
		}}},
		want: []gotStream{{Labels: `{_lives="cat", app_kubernetes_io_name="web"}`, Entries: []gotEntry{{Time: at(1), Line: "x",
			Meta: map[string]string{"k8s_pod_ip": "10.0.0.1"}}}}},
	}, {
		name: "no label at all falls back to job",
		recs: []record.Record{{Time: at(1), Body: []byte("x")}},
		want: []gotStream{{Labels: `{job="sluice"}`, Entries: []gotEntry{{Time: at(1), Line: "x"}}}},
	}, {
		name: "no labels configured: every attr is metadata",
		cfg:  Config{Labels: []string{}, StaticLabels: map[string]string{"job": "sluice"}},
		recs: []record.Record{{Time: at(1), Body: []byte("x"), Attrs: podAttrs("default", "p", "app")}},
		want: []gotStream{{Labels: `{job="sluice"}`, Entries: []gotEntry{{Time: at(1), Line: "x",
			Meta: map[string]string{"namespace": "default", "pod": "p", "container": "app"}}}}},
	}, {
		name: "missing or empty attrs leave labels out",
		recs: []record.Record{{Time: at(1), Body: []byte("x"), Attrs: []record.Attr{{Key: "namespace", Value: "kube-system"}, {Key: "pod", Value: ""}}}},
		want: []gotStream{{Labels: `{namespace="kube-system"}`, Entries: []gotEntry{{Time: at(1), Line: "x"}}}},
	}, {
		name: "static labels, overridden by attrs of the same name",
		cfg:  Config{Labels: []string{"namespace", "job"}, StaticLabels: map[string]string{"job": "sluice", "cluster": "c1"}},
		recs: []record.Record{
			{Time: at(1), Body: []byte("x"), Attrs: []record.Attr{{Key: "namespace", Value: "a"}}},
			{Time: at(2), Body: []byte("y"), Attrs: []record.Attr{{Key: "namespace", Value: "a"}, {Key: "job", Value: "batch"}}},
		},
		want: []gotStream{
			{Labels: `{cluster="c1", job="sluice", namespace="a"}`, Entries: []gotEntry{{Time: at(1), Line: "x"}}},
			{Labels: `{cluster="c1", job="batch", namespace="a"}`, Entries: []gotEntry{{Time: at(2), Line: "y"}}},
		},
	}, {
		name: "label values escaped",
		recs: []record.Record{{Time: at(1), Body: []byte("x"), Attrs: podAttrs("default", "a\"b\\c\nd", "app")}},
		want: []gotStream{{Labels: `{container="app", namespace="default", pod="a\"b\\c\nd"}`, Entries: []gotEntry{{Time: at(1), Line: "x"}}}},
	}, {
		name: "attrs named like the record's own metadata are dropped",
		recs: []record.Record{{Time: at(1), Body: []byte("x"), Path: "/p", Stream: "stderr",
			Attrs: podAttrs("default", "p", "app", record.Attr{Key: "filename", Value: "other"}, record.Attr{Key: "stream", Value: "other"})}},
		want: []gotStream{{Labels: appLabels, Entries: []gotEntry{{Time: at(1), Line: "x", Meta: map[string]string{"filename": "/p", "stream": "stderr"}}}}},
	}, {
		// Records of one file share their enrichment attrs; parse/structured
		// appends each line's own fields. Listing "level" in labels splits
		// the file's lines by level, in file order within each; a line
		// without one keeps the pod's stream; the rest is metadata.
		name: "parsed level as a label, other parsed fields as metadata",
		cfg:  Config{Labels: []string{"namespace", "pod", "container", "level"}},
		recs: func() []record.Record {
			shared := podAttrs("default", "p", "app")
			parsed := func(kv ...string) []record.Attr {
				a := shared[:len(shared):len(shared)]
				for i := 0; i < len(kv); i += 2 {
					a = append(a, record.Attr{Key: kv[i], Value: kv[i+1]})
				}
				return a
			}
			return []record.Record{
				{Time: at(1), Body: []byte("i1"), Attrs: parsed("level", "info", "json.user.id", "u1")},
				{Time: at(2), Body: []byte("e1"), Attrs: parsed("level", "error", "windows.event.id", "1000")},
				{Time: at(3), Body: []byte("plain"), Attrs: shared},
				{Time: at(4), Body: []byte("i2"), Attrs: parsed("json.user.id", "u2", "level", "info")},
			}
		}(),
		want: []gotStream{
			{Labels: `{container="app", level="info", namespace="default", pod="p"}`, Entries: []gotEntry{
				{Time: at(1), Line: "i1", Meta: map[string]string{"json_user_id": "u1"}},
				{Time: at(4), Line: "i2", Meta: map[string]string{"json_user_id": "u2"}}}},
			{Labels: `{container="app", level="error", namespace="default", pod="p"}`, Entries: []gotEntry{
				{Time: at(2), Line: "e1", Meta: map[string]string{"windows_event_id": "1000"}}}},
			{Labels: appLabels, Entries: []gotEntry{{Time: at(3), Line: "plain"}}},
		},
	}, {
		name: "control characters and quotes in lines",
		recs: []record.Record{{Time: at(1), Body: []byte("tab\there \"quoted\" back\\slash \x00\x1f nl\n"), Attrs: podAttrs("default", "p", "app")}},
		want: []gotStream{{Labels: appLabels, Entries: []gotEntry{{Time: at(1), Line: "tab\there \"quoted\" back\\slash \x00\x1f nl\n"}}}},
	}}
}

func TestEncode(t *testing.T) {
	for _, enc := range []string{"protobuf", "json"} {
		for _, tc := range encodeCases() {
			t.Run(enc+"/"+tc.name, func(t *testing.T) {
				tc.cfg.URL, tc.cfg.Encoding = "http://127.0.0.1:1/loki/api/v1/push", enc
				s := newSink(t, tc.cfg)
				before := time.Now()
				req := s.Encode(tc.recs)
				after := time.Now()
				defer req.Release()
				got := decodeAny(t, s, req.body)
				for _, ix := range tc.nowIdx {
					e := &got[ix[0]].Entries[ix[1]]
					if e.Time.Before(before.Truncate(time.Microsecond)) || e.Time.After(after) {
						t.Errorf("entry %v: time %v, want the encode time (%v..%v)", ix, e.Time, before, after)
					}
					e.Time = time.Time{}
				}
				if !sameStreams(got, tc.want) {
					t.Errorf("decoded\n%+v\nwant\n%+v", got, tc.want)
				}
				if req.Records() != len(tc.recs) {
					t.Errorf("Records() = %d, want %d", req.Records(), len(tc.recs))
				}
			})
		}
	}
}

// A body with invalid UTF-8 the input did not flag reaches a protobuf push as
// it is, and a JSON push as valid JSON.
func TestEncodeUnflaggedInvalidUTF8(t *testing.T) {
	recs := []record.Record{{Time: at(1), Body: []byte("a\xffb"), Attrs: podAttrs("default", "p", "app")}}
	for enc, want := range map[string]string{"protobuf": "a\xffb", "json": "a\uFFFDb"} {
		s := newSink(t, Config{URL: "http://127.0.0.1:1/x", Encoding: enc})
		req := s.Encode(recs)
		if got := decodeAny(t, s, req.body)[0].Entries[0].Line; got != want {
			t.Errorf("%s: line %q, want %q", enc, got, want)
		}
		req.Release()
	}
}

// The encoder reuses its state: a second batch must not see the first.
func TestEncodeReuse(t *testing.T) {
	s := newSink(t, Config{URL: "http://127.0.0.1:1/x"})
	first := s.Encode([]record.Record{
		{Time: at(1), Body: []byte("one"), Attrs: podAttrs("default", "p", "app", record.Attr{Key: "x", Value: "1"})},
		{Time: at(2), Body: []byte("two"), Attrs: podAttrs("default", "q", "app")},
	})
	firstBody := append([]byte(nil), first.body...)
	first.Release()
	second := s.Encode([]record.Record{{Time: at(3), Body: []byte("three"), Attrs: podAttrs("default", "q", "app")}})
	defer second.Release()
	want := []gotStream{{Labels: `{container="app", namespace="default", pod="q"}`, Entries: []gotEntry{{Time: at(3), Line: "three"}}}}
	if got := decodeProto(t, second.body); !sameStreams(got, want) {
		t.Errorf("second batch decoded %+v, want %+v", got, want)
	}
	if got := decodeProto(t, firstBody); len(got) != 2 || got[0].Entries[0].Meta["x"] != "1" {
		t.Errorf("first batch decoded %+v", got)
	}
}

// Bodies are referenced, not copied, while encoding: the request must own
// what it sends, whatever happens to the records afterwards.
func TestEncodeOwnsBody(t *testing.T) {
	body := []byte("original line")
	recs := []record.Record{{Time: at(1), Body: body, Attrs: podAttrs("default", "p", "app")}}
	for _, enc := range []string{"protobuf", "json"} {
		s := newSink(t, Config{URL: "http://127.0.0.1:1/x", Encoding: enc})
		req := s.Encode(recs)
		copy(body, "XXXXXXXXXXXXX")
		if got := decodeAny(t, s, req.body)[0].Entries[0].Line; got != "original line" {
			t.Errorf("%s: line %q after the batch was reused", enc, got)
		}
		if req.Sample() != "original line" {
			t.Errorf("%s: sample %q", enc, req.Sample())
		}
		copy(body, "original line")
		req.Release()
	}
}

func TestRequestCounts(t *testing.T) {
	long := strings.Repeat("é", 150) // 300 bytes: the sample is cut inside it
	s := newSink(t, Config{URL: "http://127.0.0.1:1/x"})
	req := s.Encode([]record.Record{
		{Time: at(2), Body: []byte("second")},
		{Time: at(1), Body: []byte(long)},
	})
	defer req.Release()
	if req.Records() != 2 || req.Bytes() != len("second")+len(long) {
		t.Errorf("Records %d Bytes %d", req.Records(), req.Bytes())
	}
	if got := req.Sample(); got != strings.Repeat("é", 100) {
		t.Errorf("Sample() = %q (%d bytes), want the first entry cut to 200 bytes", got, len(got))
	}
}

func TestFormatLabels(t *testing.T) {
	for _, tc := range []struct {
		in   map[string]string
		want string
	}{
		{map[string]string{"b": "2", "a": "1"}, `{a="1", b="2"}`},
		{map[string]string{"a": `q"b\s` + "\n"}, `{a="q\"b\\s\n"}`},
		{map[string]string{"a": ""}, `{a=""}`},
	} {
		if got := formatLabels(sortedPairs(tc.in)); got != tc.want {
			t.Errorf("formatLabels(%v) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestSanitize(t *testing.T) {
	for in, want := range map[string]string{
		"pod": "pod", "app.kubernetes.io/name": "app_kubernetes_io_name", "1a": "_a",
		"a-b": "a_b", "_x9": "_x9", "": "_", "é": "__",
	} {
		if got := sanitize(in); got != want {
			t.Errorf("sanitize(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzEncode(f *testing.F) {
	f.Add([]byte("line"), "key", "value", uint8(0))
	f.Add([]byte("a\xffb"), "k.8/s", "v\"\n", uint8(record.FlagInvalidUTF8))
	f.Add([]byte{}, "", "", uint8(15))
	f.Fuzz(func(t *testing.T, body []byte, key, value string, flags uint8) {
		recs := []record.Record{{Time: at(1), Body: body, Flags: record.Flags(flags),
			Attrs: podAttrs("ns", value, "c", record.Attr{Key: key, Value: value})}}
		line := string(body)
		if recs[0].Flags&record.FlagInvalidUTF8 != 0 {
			line = strings.ToValidUTF8(line, "\uFFFD")
		}
		for _, enc := range []string{"protobuf", "json"} {
			s := newSink(t, Config{URL: "http://127.0.0.1:1/x", Encoding: enc})
			req := s.Encode(recs)
			got := decodeAny(t, s, req.body)
			if len(got) != 1 || len(got[0].Entries) != 1 {
				t.Fatalf("%s: decoded %+v", enc, got)
			}
			if e := got[0].Entries[0]; (enc == "protobuf" || isUTF8(line)) && e.Line != line {
				t.Errorf("%s: line %q, want %q", enc, e.Line, line)
			}
			req.Release()
		}
	})
}

func isUTF8(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }

func ExampleSink_Encode() {
	s, _ := New(Config{URL: "http://loki:3100/loki/api/v1/push"})
	defer s.Close()
	req := s.Encode([]record.Record{{Time: t0, Stream: "stdout", Body: []byte("hello"), Path: "/var/log/pods/x/app/0.log",
		Attrs: podAttrs("default", "web-0", "app", record.Attr{Key: "pod_uid", Value: "1234"})}})
	defer req.Release()
	req.WriteEntries(stdoutWriter{})
	// Output:
	// {"labels":"{container=\"app\", namespace=\"default\", pod=\"web-0\"}","time":"2025-06-01T12:00:00Z","line":"hello","metadata":{"filename":"/var/log/pods/x/app/0.log","pod_uid":"1234","stream":"stdout"}}
}

type stdoutWriter struct{}

func (stdoutWriter) Write(p []byte) (int, error) { fmt.Print(string(p)); return len(p), nil }

// TestEncodeBodyHoldsOnlyCompressedBytes: a request, which the runner holds
// in flight and the sink pools, keeps the compressed body, not the
// worst-case room the block encoder needs.
func TestEncodeBodyHoldsOnlyCompressedBytes(t *testing.T) {
	s := newSink(t, Config{URL: "http://127.0.0.1:1/x"})
	recs := sinktest.BenchBatch(at(0), 2000)
	for range 2 { // the second request comes from the pool
		req := s.Encode(recs)
		raw := 0
		for i := range recs {
			raw += len(recs[i].Body)
		}
		if len(req.body) >= raw/2 {
			t.Fatalf("a body of %d bytes for %d bytes of lines: the batch should compress", len(req.body), raw)
		}
		if c := cap(req.body); c > len(req.body)+len(req.body)/4+8<<10 {
			t.Fatalf("the request holds %d bytes of room for a %d-byte body", c, len(req.body))
		}
		if got := decodeProto(t, req.body); len(got) == 0 {
			t.Fatal("no streams decoded")
		}
		req.Release()
	}
}
