package loki

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/sluicelog/sluice/outputs"
	"github.com/sluicelog/sluice/record"
)

// lokiNoMetadata answers like a Loki that does not allow structured
// metadata (before 3.0, or a schema before v13): 400 with the text of
// DisallowedStructuredMetadataErrorMsg in Loki's pkg/validation/validate.go,
// "stream '%s' includes structured metadata, but this feature is
// disallowed. Please see `limits_config.allow_structured_metadata` or
// contact your Loki administrator to enable it.", as http.Error writes it.
// Pushes without metadata are taken.
type lokiNoMetadata struct {
	t    *testing.T
	json bool

	mu       sync.Mutex
	pushes   int
	accepted []gotStream
}

func (l *lokiNoMetadata) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var streams []gotStream
	if l.json {
		streams = decodeJSONBody(l.t, body)
	} else {
		streams = decodeProto(l.t, body)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pushes++
	for _, s := range streams {
		for _, e := range s.Entries {
			if len(e.Meta) > 0 {
				http.Error(w, fmt.Sprintf("stream '%s' includes structured metadata, but this feature is disallowed. Please see `limits_config.allow_structured_metadata` or contact your Loki administrator to enable it.", s.Labels), http.StatusBadRequest)
				return
			}
		}
	}
	l.accepted = append(l.accepted, streams...)
	w.WriteHeader(http.StatusNoContent)
}

func metadataRecords(line string) []record.Record {
	return []record.Record{{
		Time: at(1), Body: []byte(line), Path: "/var/log/pods/default_p_u/app/0.log", Stream: "stdout",
		Attrs: podAttrs("default", "p", "app", record.Attr{Key: "pod_uid", Value: "u"}, record.Attr{Key: "note", Value: `a "b"`}),
	}}
}

// A server that refuses structured metadata gets the same records again
// with the fields in the line (or without them), after one warning; later
// requests are encoded that way from the start.
func TestStructuredMetadataFallback(t *testing.T) {
	wantMeta := map[string]string{"filename": "/var/log/pods/default_p_u/app/0.log", "stream": "stdout", "pod_uid": "u", "note": `"a \"b\""`}
	for _, enc := range []string{"protobuf", "json"} {
		for _, fb := range []string{"", "line", "drop"} {
			t.Run(enc+"/"+fb, func(t *testing.T) {
				l := &lokiNoMetadata{t: t, json: enc == "json"}
				srv := httptest.NewServer(l)
				defer srv.Close()
				log, logs := logBuffer()
				s := newSink(t, Config{URL: srv.URL, Encoding: enc, StructuredMetadataFallback: fb, Logger: log})
				for i, line := range []string{"first", "second"} {
					req := s.Encode(metadataRecords(line))
					res := s.Send(context.Background(), req)
					req.Release()
					if res.Outcome != outputs.Accepted {
						t.Fatalf("send %d: %+v", i, res)
					}
				}
				l.mu.Lock()
				defer l.mu.Unlock()
				// The first request went twice, the second once.
				if l.pushes != 3 || len(l.accepted) != 2 {
					t.Fatalf("%d pushes, %d accepted; want 3 and 2", l.pushes, len(l.accepted))
				}
				for i, line := range []string{"first", "second"} {
					e := l.accepted[i].Entries[0]
					if l.accepted[i].Labels != appLabels || e.Meta != nil {
						t.Fatalf("accepted %+v", l.accepted[i])
					}
					if fb == "drop" {
						if e.Line != line {
							t.Errorf("line %q, want %q", e.Line, line)
						}
						continue
					}
					if got := parseSuffix(t, e.Line, line); !maps.Equal(got, wantMeta) {
						t.Errorf("line %q: fields %v, want %v", e.Line, got, wantMeta)
					}
				}
				if n := strings.Count(logs.String(), "refuses structured metadata"); n != 1 || !strings.Contains(logs.String(), "level=WARN") {
					t.Errorf("want one warning, got %d:\n%s", n, logs.String())
				}
			})
		}
	}
}

// parseSuffix returns the " key=value" pairs after line's first word, the
// values as written.
func parseSuffix(t *testing.T, got, line string) map[string]string {
	t.Helper()
	rest, ok := strings.CutPrefix(got, line+" ")
	if !ok {
		t.Fatalf("line %q does not start with %q", got, line+" ")
	}
	m := map[string]string{}
	for rest != "" {
		k, v, ok := strings.Cut(rest, "=")
		if !ok {
			t.Fatalf("bad pair in %q", got)
		}
		end := strings.IndexByte(v, ' ')
		if strings.HasPrefix(v, `"`) {
			end = strings.Index(v, `" `) + 1
		}
		if end <= 0 {
			end = len(v)
		}
		m[k], rest = v[:end], strings.TrimPrefix(v[end:], " ")
	}
	return m
}

// Another 400 is not about metadata: the sink neither switches nor resends.
func TestOther400DoesNotFallBack(t *testing.T) {
	c, srv := startCapture(t, answer{code: 400, body: "Max entry size '10' bytes exceeded for stream '{pod=\"p\"}' while adding an entry with length '11' bytes"})
	s := newSink(t, Config{URL: srv.URL})
	req := s.Encode(metadataRecords("x"))
	defer req.Release()
	if res := s.Send(context.Background(), req); res.Outcome != outputs.Permanent || res.Reason != "line_too_long" {
		t.Fatalf("send: %+v", res)
	}
	if n := len(c.requests()); n != 1 || s.noMetadata.Load() {
		t.Fatalf("%d requests, switched %v", n, s.noMetadata.Load())
	}
}

func TestSplit(t *testing.T) {
	var recs []record.Record
	for i := range 5 {
		ns := "default"
		if i%2 == 1 {
			ns = "other"
		}
		recs = append(recs, record.Record{Time: at(i), Body: fmt.Appendf(nil, "line %d", i), Path: "/p", Attrs: podAttrs(ns, "p", "app")})
	}
	for _, enc := range []string{"protobuf", "json"} {
		t.Run(enc, func(t *testing.T) {
			s := newSink(t, Config{URL: "http://127.0.0.1:1/x", Encoding: enc})
			req := s.Encode(recs)
			defer req.Release()
			whole := decodeAny(t, s, req.body)
			a, b, ok := s.Split(req)
			if !ok {
				t.Fatal("not split")
			}
			defer a.Release()
			defer b.Release()
			if a.Records() != 2 || b.Records() != 3 || a.Sample() == "" {
				t.Fatalf("halves of %d and %d records", a.Records(), b.Records())
			}
			var got []gotEntry
			for _, h := range []*Request{a, b} {
				for _, st := range decodeAny(t, s, h.body) {
					got = append(got, st.Entries...)
				}
			}
			var want []gotEntry
			for _, st := range whole {
				want = append(want, st.Entries...)
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("halves carry\n%v\nwant\n%v", got, want)
			}
			one := s.Encode(recs[:1])
			defer one.Release()
			if _, _, ok := s.Split(one); ok {
				t.Fatal("a single record was split")
			}
		})
	}
}
