package e2e

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/sluicelog/sluice/internal/testdir"
)

// rejectingLoki is a Loki push endpoint that refuses its first request as
// Loki refuses entries older than a stream's window, and accepts the rest.
// It reads the JSON encoding, so the standard library can decode it.
type rejectingLoki struct {
	mu       sync.Mutex
	requests int
	accepted []string // lines of accepted requests, in arrival order
	err      error    // the first body that did not decode
}

// lokiOutOfOrder counts the Loki sink's records refused as out of order.
const lokiOutOfOrder = `sluice_output_rejected_records_total{reason="out_of_order",sink="loki"}`

// lokiTooFarBehind is the text Loki answers a push with when it refuses
// entries for being older than the stream allows.
const lokiTooFarBehind = `entry with timestamp 2024-01-01 00:00:00 +0000 UTC ignored, reason: 'entry too far behind, oldest acceptable timestamp is: 2024-01-01T01:00:00Z' for stream: {container="app", namespace="shop", pod="late-0"},`

func (l *rejectingLoki) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.requests++
	if l.requests == 1 {
		http.Error(w, lokiTooFarBehind, http.StatusBadRequest)
		return
	}
	var lines []string
	if err == nil {
		lines, err = decodeLokiJSON(body)
	}
	if err != nil {
		if l.err == nil {
			l.err = err
		}
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	l.accepted = append(l.accepted, lines...)
	w.WriteHeader(http.StatusNoContent)
}

func (l *rejectingLoki) state() (requests int, accepted []string, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.requests, append([]string(nil), l.accepted...), l.err
}

// decodeLokiJSON returns the lines of a gzipped JSON push body.
func decodeLokiJSON(body []byte) ([]string, error) {
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		return nil, err
	}
	var p struct {
		Streams []struct {
			Values [][]json.RawMessage `json:"values"`
		} `json:"streams"`
	}
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, err
	}
	var lines []string
	for _, s := range p.Streams {
		for _, v := range s.Values {
			var line string
			if len(v) < 2 || json.Unmarshal(v[1], &line) != nil {
				return nil, fmt.Errorf("odd value %s", v)
			}
			lines = append(lines, line)
		}
	}
	return lines, nil
}

// deadHeader and deadEntry are the two kinds of line in the dead-letter
// file: a header per rejected request, then its entries.
type deadHeader struct {
	Sink    string `json:"sink"`
	Reason  string `json:"reason"`
	Error   string `json:"error"`
	Records int    `json:"records"`
}

type deadEntry struct {
	Labels   string            `json:"labels"`
	Time     string            `json:"time"`
	Line     string            `json:"line"`
	Metadata map[string]string `json:"metadata"`
}

// readDeadLetter reads the dead-letter file; a header is told from an
// entry by its rejected_at.
func readDeadLetter(t *testing.T, path string) (headers []deadHeader, entries []deadEntry) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var probe map[string]json.RawMessage
		if err := json.Unmarshal(sc.Bytes(), &probe); err != nil {
			t.Fatalf("dead-letter line %q: %v", sc.Text(), err)
		}
		if _, ok := probe["rejected_at"]; ok {
			var h deadHeader
			err = json.Unmarshal(sc.Bytes(), &h)
			headers = append(headers, h)
		} else {
			var e deadEntry
			err = json.Unmarshal(sc.Bytes(), &e)
			entries = append(entries, e)
		}
		if err != nil {
			t.Fatalf("dead-letter line %q: %v", sc.Text(), err)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return headers, entries
}

// TestLokiRejectsAreDeadLettered runs sluice against a Loki endpoint that
// refuses the first push with Loki's "entry too far behind": the lines of
// that push must land in the dead-letter file, be counted under reason
// out_of_order, and the lines after them must still go out. The rejection
// is logged at ERROR, which this test alone allows.
func TestLokiRejectsAreDeadLettered(t *testing.T) {
	requireSluice(t)
	const n1, n2 = 200, 200 // lines before and after the rejection
	fake := &rejectingLoki{}
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close) // after sluice is gone: cleanups run last first
	deadPath := filepath.Join(testdir.New(t), "dead-letter.jsonl")
	e := lokiEnv(t, srv.URL+"/loki/api/v1/push", fmt.Sprintf(", encoding: json, min_backoff: 100ms, dead_letter: {path: %q}", deadPath))
	c := e.kubeContainer("shop", "late-0", podUID(7), "app")
	path := filepath.Join(c.dir, "0.log")
	base := time.Now().Add(-time.Hour)
	at := func(i int) time.Time { return base.Add(time.Duration(i) * time.Millisecond) }

	// The first lines are there before sluice starts, so they make the
	// first request.
	writeCRI(t, path, "late", 0, n1, at)
	s := e.start(false)
	s.allowErrors = []string{`msg="request rejected, not retrying"`}
	s.waitReady(10 * time.Second)
	s.waitMetric(lokiOutOfOrder, 1, lokiWait)
	writeCRI(t, path, "late", n1, n2, at)
	m, err := s.metrics()
	if err != nil {
		t.Fatal(err)
	}
	rejected := m[lokiOutOfOrder]
	s.waitMetric(lokiRecords, n1+n2-rejected, lokiWait)
	if m, err = s.metrics(); err != nil {
		t.Fatal(err)
	}
	t.Logf("metrics: %s", lokiSummary(m))
	if code := s.stop(30 * time.Second); code != 0 {
		t.Fatalf("sluice exit code %d after SIGTERM, want 0", code)
	}
	if log, err := os.ReadFile(s.logPath); err != nil {
		t.Fatal(err)
	} else if !bytes.Contains(log, []byte(`level=ERROR msg="request rejected, not retrying"`)) {
		t.Errorf("the rejection was not logged at ERROR; log:\n%s", s.logTail(20))
	}
	requests, accepted, err := fake.state()
	if err != nil {
		t.Fatalf("the fake Loki could not decode a push: %v", err)
	}
	headers, entries := readDeadLetter(t, deadPath)
	t.Logf("%d requests; %g records rejected, %d in the dead-letter file, %d accepted", requests, rejected, len(entries), len(accepted))

	if got := rejectedTotal(m); got != rejected || rejected == 0 {
		t.Errorf("rejected records: %g in all, %g for out_of_order; want them all out_of_order and some", got, rejected)
	}
	if len(headers) != 1 || headers[0].Reason != "out_of_order" || headers[0].Sink != "loki" ||
		headers[0].Records != int(rejected) {
		t.Errorf("dead-letter headers %+v, want one for sink loki, reason out_of_order, %g records", headers, rejected)
	}
	if len(entries) != int(rejected) {
		t.Errorf("%d entries in the dead-letter file, want the %g rejected", len(entries), rejected)
	}
	// Every line is either dead-lettered or accepted, never both, never
	// neither; the lines written after the rejection are all accepted.
	where := map[string]string{}
	for _, l := range accepted {
		if where[l] != "" {
			t.Errorf("line %q accepted twice", l)
		}
		where[l] = "accepted"
	}
	for _, d := range entries {
		if where[d.Line] != "" {
			t.Errorf("line %q dead-lettered and %s", d.Line, where[d.Line])
		}
		where[d.Line] = "dead"
		_, seq, ok := parseMessage(d.Line)
		if !ok || d.Time != at(seq).UTC().Format(time.RFC3339Nano) {
			t.Errorf("dead-letter entry %+v: want a written line with its time", d)
		}
		if d.Labels != `{container="app", job="sluice", namespace="shop", pod="late-0"}` || d.Metadata["filename"] != path ||
			d.Metadata["pod_uid"] != c.uid || d.Metadata["node"] != lokiNode || d.Metadata["stream"] != "stdout" {
			t.Errorf("dead-letter entry %+v: want the container's labels and metadata", d)
		}
	}
	for i := range n1 + n2 {
		msg := string(appendMessage(nil, "late", i))
		switch got := where[msg]; {
		case got == "":
			t.Errorf("line %d neither accepted nor dead-lettered", i)
		case i >= n1 && got != "accepted":
			t.Errorf("line %d, written after the rejection, was %s", i, got)
		}
	}
	if len(where) != n1+n2 {
		t.Errorf("%d distinct lines arrived, want %d", len(where), n1+n2)
	}
}
