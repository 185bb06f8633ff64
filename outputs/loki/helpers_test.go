package loki

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	stdlog "log"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/grafana/loki/pkg/push"
	"github.com/klauspost/compress/snappy"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// gotEntry and gotStream are a push request as the tests compare it:
// metadata as a map, since its order carries no meaning.
type gotEntry struct {
	Time time.Time
	Line string
	Meta map[string]string
}

type gotStream struct {
	Labels  string
	Entries []gotEntry
}

// decodeProto reads a protobuf request body the way Loki does.
func decodeProto(t testing.TB, body []byte) []gotStream {
	t.Helper()
	raw, err := snappy.Decode(nil, body)
	if err != nil {
		t.Fatalf("snappy decode: %v", err)
	}
	var pr push.PushRequest
	if err := pr.Unmarshal(raw); err != nil {
		t.Fatalf("unmarshal push request: %v", err)
	}
	var out []gotStream
	for _, s := range pr.Streams {
		g := gotStream{Labels: s.Labels}
		for _, e := range s.Entries {
			g.Entries = append(g.Entries, gotEntry{Time: e.Timestamp.UTC(), Line: e.Line, Meta: metaMap(e.StructuredMetadata)})
		}
		out = append(out, g)
	}
	return out
}

func metaMap(ls push.LabelsAdapter) map[string]string {
	if len(ls) == 0 {
		return nil
	}
	m := make(map[string]string, len(ls))
	for _, l := range ls {
		m[l.Name] = l.Value
	}
	return m
}

// decodeJSONBody reads a JSON request body with the standard library only,
// so it checks appendJSON rather than the package's own decoder.
func decodeJSONBody(t testing.TB, body []byte) []gotStream {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("gunzip: %v", err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("gunzip: %v", err)
	}
	var p struct {
		Streams []struct {
			Stream map[string]string `json:"stream"`
			Values [][]any           `json:"values"`
		} `json:"streams"`
	}
	if err := json.Unmarshal(raw, &p); err != nil {
		t.Fatalf("json body does not parse: %v\n%s", err, raw)
	}
	var out []gotStream
	for _, s := range p.Streams {
		g := gotStream{Labels: formatLabels(sortedPairs(s.Stream))}
		for _, v := range s.Values {
			g.Entries = append(g.Entries, jsonEntry(t, v))
		}
		out = append(out, g)
	}
	return out
}

func jsonEntry(t testing.TB, v []any) gotEntry {
	t.Helper()
	if len(v) < 2 || len(v) > 3 {
		t.Fatalf("value %v: want 2 or 3 elements", v)
	}
	ns, err := strconv.ParseInt(v[0].(string), 10, 64)
	if err != nil {
		t.Fatalf("timestamp %v: %v", v[0], err)
	}
	e := gotEntry{Time: time.Unix(0, ns).UTC(), Line: v[1].(string)}
	if len(v) == 3 {
		e.Meta = map[string]string{}
		for k, mv := range v[2].(map[string]any) {
			e.Meta[k] = mv.(string)
		}
	}
	return e
}

func decodeAny(t testing.TB, s *Sink, body []byte) []gotStream {
	if s.json {
		return decodeJSONBody(t, body)
	}
	return decodeProto(t, body)
}

func sameStreams(a, b []gotStream) bool {
	return slices.EqualFunc(a, b, func(x, y gotStream) bool {
		return x.Labels == y.Labels && slices.EqualFunc(x.Entries, y.Entries, func(p, q gotEntry) bool {
			return p.Time.Equal(q.Time) && p.Line == q.Line && maps.Equal(p.Meta, q.Meta)
		})
	})
}

func newSink(t testing.TB, c Config) *Sink {
	t.Helper()
	s, err := New(c)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// capture is a test server that records what it was sent and answers with
// the next of its answers (the last one repeats).
type capture struct {
	mu      sync.Mutex
	reqs    []captured
	answers []answer
}

type captured struct {
	Header http.Header
	Body   []byte
}

type answer struct {
	code   int
	body   string
	header map[string]string
}

func (c *capture) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	c.mu.Lock()
	c.reqs = append(c.reqs, captured{Header: r.Header.Clone(), Body: body})
	a := answer{code: http.StatusNoContent}
	if n := len(c.answers); n > 0 {
		a = c.answers[min(len(c.reqs), n)-1]
	}
	c.mu.Unlock()
	for k, v := range a.header {
		w.Header().Set(k, v)
	}
	w.WriteHeader(a.code)
	io.WriteString(w, a.body)
}

func (c *capture) requests() []captured {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.reqs)
}

func startCapture(t testing.TB, answers ...answer) (*capture, *httptest.Server) {
	c := &capture{answers: answers}
	srv := httptest.NewServer(c)
	t.Cleanup(srv.Close)
	return c, srv
}

// logBuffer is a logger whose output a test can read.
func logBuffer() (*slog.Logger, *syncBuffer) {
	b := &syncBuffer{}
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug})), b
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// quietLog keeps a test server's expected handshake failures out of the
// test output.
func quietLog() *stdlog.Logger { return stdlog.New(io.Discard, "", 0) }
