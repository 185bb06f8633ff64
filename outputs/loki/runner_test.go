package loki

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sluicelog/sluice/outputs"
	"github.com/sluicelog/sluice/outputs/internal/sinktest"
	"github.com/sluicelog/sluice/record"
)

// The runner and the sink together: two 429s, then every batch is accepted,
// committed once and in order, and the server has every line in order.
func TestRunnerRetriesThenCommitsInOrder(t *testing.T) {
	c, srv := startCapture(t, answer{code: 429, body: "slow down"}, answer{code: 429}, answer{code: 204})
	var batches [][]record.Record
	var want []string
	for b := range 3 {
		var recs []record.Record
		for i := range 4 {
			line := fmt.Sprintf("batch %d line %d", b, i)
			want = append(want, line)
			recs = append(recs, record.Record{Time: at(b*10 + i), Body: []byte(line), Attrs: podAttrs("default", "p", "app")})
		}
		batches = append(batches, recs)
	}
	src := sinktest.NewSource(batches...)
	s := newSink(t, Config{URL: srv.URL})
	sinktest.Run(t, outputs.NewRunner(s, src, outputs.RunnerConfig{
		Name:     "loki",
		Delivery: outputs.Delivery{MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond},
	}), src)
	if got := src.Committed(); !slices.Equal(got, []int{0, 1, 2}) {
		t.Errorf("committed %v, want [0 1 2]", got)
	}

	reqs := c.requests()
	var got []string
	for _, rq := range reqs[2:] { // the first two were refused, then resent
		for _, st := range decodeProto(t, rq.Body) {
			for _, e := range st.Entries {
				got = append(got, e.Line)
			}
		}
	}
	if len(reqs) != 5 || !slices.Equal(got, want) {
		t.Errorf("server got %d requests with lines %q, want 5 requests with %q", len(reqs), got, want)
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestWriteEntries(t *testing.T) {
	recs := []record.Record{
		{Time: at(2), Stream: "stderr", Body: []byte("second \"quoted\""), Path: "/p/0.log", Flags: record.FlagSplit,
			Attrs: podAttrs("default", "p", "app", record.Attr{Key: "pod_uid", Value: "u"})},
		{Time: at(1), Body: []byte("first"), Attrs: podAttrs("default", "p", "app")},
		{Time: at(3), Body: []byte("other\xff"), Flags: record.FlagInvalidUTF8, Attrs: podAttrs("kube-system", "q", "c")},
	}
	for _, enc := range []string{"protobuf", "json"} {
		t.Run(enc, func(t *testing.T) {
			s := newSink(t, Config{URL: "http://127.0.0.1:1/x", Encoding: enc})
			req := s.Encode(recs)
			defer req.Release()
			var buf bytes.Buffer
			if err := req.WriteEntries(&buf); err != nil {
				t.Fatal(err)
			}
			var got []deadEntry
			dec := json.NewDecoder(&buf)
			for dec.More() {
				var d deadEntry
				if err := dec.Decode(&d); err != nil {
					t.Fatalf("dead-letter line does not parse: %v", err)
				}
				got = append(got, d)
			}
			want := []deadEntry{
				{Labels: appLabels, Time: "2025-06-01T12:00:01Z", Line: "first"},
				{Labels: appLabels, Time: "2025-06-01T12:00:02Z", Line: "second \"quoted\"",
					Metadata: map[string]string{"filename": "/p/0.log", "stream": "stderr", "flags": "split", "pod_uid": "u"}},
				{Labels: `{container="c", namespace="kube-system", pod="q"}`, Time: "2025-06-01T12:00:03Z", Line: "other\uFFFD",
					Metadata: map[string]string{"flags": "invalid_utf8"}},
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("dead-letter entries\n%v\nwant\n%v", got, want)
			}
		})
	}
}

// The runner writes a rejected request to the dead-letter file with the
// server's reason.
func TestDeadLetter(t *testing.T) {
	_, srv := startCapture(t, answer{code: 400, body: "Max entry size '10' bytes exceeded for stream"})
	s := newSink(t, Config{URL: srv.URL})
	dl := sinktest.OpenDeadLetter(t)
	src := sinktest.NewSource(oneRecord())
	sinktest.Run(t, outputs.NewRunner(s, src, outputs.RunnerConfig{DeadLetter: dl}), src)
	var head struct{ Reason string }
	var entry deadEntry
	b := readFile(t, dl.Path())
	lines := bytes.Split(bytes.TrimSpace(b), []byte("\n"))
	if len(lines) != 2 || json.Unmarshal(lines[0], &head) != nil || json.Unmarshal(lines[1], &entry) != nil {
		t.Fatalf("dead-letter file:\n%s", b)
	}
	if head.Reason != "line_too_long" || entry.Line != "hello" {
		t.Errorf("dead-letter reason %q line %q", head.Reason, entry.Line)
	}
}

// A 401 is a misconfiguration, not bad records: the batch is sent again
// until the server takes it, and nothing goes to the dead-letter file.
// "no org id" is what Loki with auth_enabled answers a push without
// X-Scope-OrgID (dskit's user.ErrNoOrgID, written by http.Error).
func TestRunnerHoldsUnauthorized(t *testing.T) {
	c, srv := startCapture(t, answer{code: 401, body: "no org id\n"}, answer{code: 401, body: "no org id\n"}, answer{code: 204})
	s := newSink(t, Config{URL: srv.URL})
	dl := sinktest.OpenDeadLetter(t)
	src := sinktest.NewSource(oneRecord())
	sinktest.Run(t, outputs.NewRunner(s, src, outputs.RunnerConfig{DeadLetter: dl,
		Delivery: outputs.Delivery{MinBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond}}), src)
	if b := readFile(t, dl.Path()); len(b) != 0 {
		t.Fatalf("dead-lettered on 401:\n%s", b)
	}
	reqs := c.requests()
	if len(reqs) != 3 || decodeProto(t, reqs[2].Body)[0].Entries[0].Line != "hello" {
		t.Fatalf("server got %d requests, want the batch sent until accepted (3)", len(reqs))
	}
}

// nginx413 is nginx's own page for a body over client_max_body_size (its
// ngx_http_error_413_page and error tail), the usual 413 in front of Loki.
const nginx413 = "<html>\r\n<head><title>413 Request Entity Too Large</title></head>\r\n<body>\r\n" +
	"<center><h1>413 Request Entity Too Large</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"

// sizeLimit answers 413 to bodies over max bytes and keeps the lines of
// the others.
type sizeLimit struct {
	t     *testing.T
	max   int
	mu    sync.Mutex
	lines []string
}

func (l *sizeLimit) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if len(body) > l.max {
		w.WriteHeader(http.StatusRequestEntityTooLarge)
		io.WriteString(w, nginx413)
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, st := range decodeProto(l.t, body) {
		for _, e := range st.Entries {
			l.lines = append(l.lines, e.Line)
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

// A 413 splits the request until the halves fit; every record arrives, in
// order, and only a record too large on its own is dead-lettered.
func TestRunnerSplitsOn413(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	line := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = "0123456789abcdefghijklmnopqrstuvwxyz"[rng.IntN(36)]
		}
		return string(b)
	}
	var batch []record.Record
	var want []string
	huge := line(4000)
	for i := range 16 {
		l := fmt.Sprintf("%02d %s", i, line(200))
		if i == 9 {
			l = huge
		} else {
			want = append(want, l)
		}
		batch = append(batch, record.Record{Time: at(i), Body: []byte(l), Attrs: podAttrs("default", "p", "app")})
	}
	s := newSink(t, Config{URL: "http://127.0.0.1:1/x"})
	four := s.Encode(batch[:4])
	limit := &sizeLimit{t: t, max: len(four.body)}
	four.Release()
	srv := httptest.NewServer(limit)
	defer srv.Close()
	s = newSink(t, Config{URL: srv.URL})
	dl := sinktest.OpenDeadLetter(t)
	src := sinktest.NewSource(batch)
	sinktest.Run(t, outputs.NewRunner(s, src, outputs.RunnerConfig{DeadLetter: dl}), src)
	limit.mu.Lock()
	got := slices.Clone(limit.lines)
	limit.mu.Unlock()
	if !slices.Equal(got, want) {
		t.Fatalf("server got %d lines %.40q\nwant %d in order", len(got), got, len(want))
	}
	var head struct{ Reason string }
	var entry deadEntry
	lines := bytes.Split(bytes.TrimSpace(readFile(t, dl.Path())), []byte("\n"))
	if len(lines) != 2 || json.Unmarshal(lines[0], &head) != nil || json.Unmarshal(lines[1], &entry) != nil ||
		head.Reason != "too_large" || entry.Line != huge {
		t.Fatalf("dead-letter file holds %d lines, reason %q; want the huge record as too_large", len(lines), head.Reason)
	}
}
