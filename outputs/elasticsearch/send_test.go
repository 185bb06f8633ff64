package elasticsearch

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/sluicelog/sluice/outputs"
	"github.com/sluicelog/sluice/outputs/internal/sinktest"
)

// A bulk answer with "errors": true and mixed 201, 429, 400 and 503 items:
// only the 429 and 503 items are sent again, until each is stored; the 400
// item goes to the dead-letter file with its error type and reason; the
// batch is committed once. Replayed, as after a restart before the commit,
// the batch stores nothing twice: Elasticsearch answers 409 for each
// document it holds, counted as delivered and as a duplicate.
func TestPartialAnswerResendsOnlyFailedItems(t *testing.T) {
	f := &fakeES{}
	srv := startFake(t, f)
	s := newSink(t, Config{URL: srv.URL, Compression: "gzip"})
	batch := fileRecords(77, "a0", "[overload-2] a1", "[bad] a2", "[shard-down] a3", "a4")

	for round, want := range []struct {
		requests [][]string
		sent     int
		dups     int
	}{
		{[][]string{{"a0", "[overload-2] a1", "[bad] a2", "[shard-down] a3", "a4"}, {"[overload-2] a1", "[shard-down] a3"}, {"[overload-2] a1"}}, 4, 0},
		{[][]string{{"a0", "[overload-2] a1", "[bad] a2", "[shard-down] a3", "a4"}}, 4, 4},
	} {
		t.Run(fmt.Sprintf("round %d", round), func(t *testing.T) {
			before := len(f.sent())
			src := sinktest.NewSource(batch)
			dead := sinktest.OpenDeadLetter(t)
			ev := newCounts()
			sinktest.Run(t, outputs.NewRunner(s, src, outputs.RunnerConfig{Name: "elasticsearch", Events: ev, DeadLetter: dead, Delivery: fastDelivery()}), src)
			if got := src.Committed(); !slices.Equal(got, []int{0}) {
				t.Fatalf("committed %v, want [0]", got)
			}
			if got := f.sent()[before:]; !slices.EqualFunc(got, want.requests, slices.Equal) {
				t.Errorf("requests:\n got  %q\n want %q", got, want.requests)
			}
			if got := f.storedMsgs(); !slices.Equal(got, []string{"a0", "a4", "[shard-down] a3", "[overload-2] a1"}) {
				t.Errorf("stored %q: want each good line once", got)
			}
			if ev.get("sent") != want.sent || ev.get("duplicate") != want.dups || ev.get("rejected:mapper_parsing_exception") != 1 {
				t.Errorf("events %v: want %d sent, %d duplicates, 1 rejected as mapper_parsing_exception", ev.n, want.sent, want.dups)
			}
			lines := deadLines(t, dead.Path())
			if len(lines) != 2 {
				t.Fatalf("dead-letter file holds %d lines, want a header and one entry: %v", len(lines), lines)
			}
			head, entry := lines[0], lines[1]
			doc, _ := entry["document"].(map[string]any)
			act, _ := entry["action"].(map[string]any)
			if head["reason"] != "mapper_parsing_exception" || head["records"] != 1.0 || doc["message"] != "[bad] a2" || act["create"] == nil ||
				!strings.HasPrefix(fmt.Sprint(entry["error"]), "mapper_parsing_exception: failed to parse field [kubernetes.labels.app]") {
				t.Errorf("dead-letter file:\n head  %v\n entry %v", head, entry)
			}
		})
	}
}

// Whole-request failures: a 429 is sent again; a 413 with an empty body
// (Elasticsearch past http.max_content_length) is split in halves; a 200
// whose body is not JSON (a proxy's page) is sent again, not taken for
// success nor blamed on the records. Every line is stored once, in order.
func TestWholeRequestFailures(t *testing.T) {
	f := &fakeES{whole: []wholeAnswer{
		// Elasticsearch's answer when the coordinating node's indexing
		// pressure limit is reached (IndexingPressure, as rendered by
		// ElasticsearchException's REST form).
		{code: 429, contentType: "application/json", body: `{"error":{"root_cause":[{"type":"es_rejected_execution_exception","reason":"rejected execution of coordinating operation [coordinating_and_primary_bytes=107374000, replica_bytes=0, all_bytes=107374000, coordinating_operation_bytes=2048, max_coordinating_and_primary_bytes=107374182]"}],"type":"es_rejected_execution_exception","reason":"rejected execution of coordinating operation [coordinating_and_primary_bytes=107374000, replica_bytes=0, all_bytes=107374000, coordinating_operation_bytes=2048, max_coordinating_and_primary_bytes=107374182]"},"status":429}`},
		{code: 413, contentType: "", body: ""},
		{code: 200, contentType: "text/html", body: "<html><body><h1>Welcome</h1>Please log in to continue.</body></html>\n"},
	}}
	srv := startFake(t, f)
	s := newSink(t, Config{URL: srv.URL})
	src := sinktest.NewSource(fileRecords(5, "w0", "w1", "w2", "w3"))
	ev := newCounts()
	sinktest.Run(t, outputs.NewRunner(s, src, outputs.RunnerConfig{Events: ev, Delivery: fastDelivery()}), src)
	want := [][]string{nil, nil, nil, {"w0", "w1"}, {"w2", "w3"}}
	if got := f.sent(); !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("requests %q, want %q (nil: answered whole)", got, want)
	}
	if got := f.storedMsgs(); !slices.Equal(got, []string{"w0", "w1", "w2", "w3"}) {
		t.Errorf("stored %q", got)
	}
	if ev.get("failed:429/true") != 1 || ev.get("failed:413/false") != 1 || ev.get("failed:bad_response/true") != 1 || ev.get("sent") != 4 {
		t.Errorf("events %v", ev.n)
	}
}

// Against a server without X-Elastic-Product (OpenSearch), with id "none"
// and a dated index template: documents are accepted, the action lines
// carry the rendered index and no _id, and the URL is only /_bulk.
func TestOpenSearchIndexWithoutIDs(t *testing.T) {
	f := &fakeES{opensearch: true}
	srv := startFake(t, f)
	s := newSink(t, Config{URL: srv.URL, ID: "none", Index: "K8s-%{namespace}-%Y.%m.%d", Compression: "none",
		Auth: AuthConfig{APIKey: "aWQ6a2V5"}})
	req := s.Encode(fileRecords(9, "o0", "o1"))
	defer req.Release()
	res := s.Send(t.Context(), req)
	if res.Outcome != outputs.Accepted {
		t.Fatalf("send: %+v", res)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.store) != 2 {
		t.Fatalf("stored %d documents, want 2", len(f.store))
	}
	for k, it := range f.store {
		if it.index() != "k8s-shop-2026.12.03" || it.id() != "" || !strings.HasPrefix(k, "k8s-shop-2026.12.03/server-") {
			t.Errorf("stored %s: action %v", k, it.Action)
		}
	}
	if f.paths[0] != "/_bulk" || f.headers[0].Get("Authorization") != "ApiKey aWQ6a2V5" ||
		f.headers[0].Get("Content-Type") != "application/x-ndjson" || f.headers[0].Get("Content-Encoding") != "" {
		t.Errorf("request %s with headers %v", f.paths[0], f.headers[0])
	}
}

// A 401 (Elasticsearch's security_exception) holds the batch: it is sent
// again, not dead-lettered, and committed once the server takes it.
func TestUnauthorizedIsHeld(t *testing.T) {
	f := &fakeES{whole: []wholeAnswer{{code: 401, contentType: "application/json", body: `{"error":{"root_cause":[{"type":"security_exception","reason":"unable to authenticate user [elastic] for REST request [/_bulk]","header":{"WWW-Authenticate":["Basic realm=\"security\", charset=\"UTF-8\"","Bearer realm=\"security\"","ApiKey"]}}],"type":"security_exception","reason":"unable to authenticate user [elastic] for REST request [/_bulk]","header":{"WWW-Authenticate":["Basic realm=\"security\", charset=\"UTF-8\"","Bearer realm=\"security\"","ApiKey"]}},"status":401}`}}}
	srv := startFake(t, f)
	s := newSink(t, Config{URL: srv.URL, Auth: AuthConfig{Username: "elastic", Password: "changeme"}})
	src := sinktest.NewSource(fileRecords(3, "h0"))
	dead := sinktest.OpenDeadLetter(t)
	ev := newCounts()
	sinktest.Run(t, outputs.NewRunner(s, src, outputs.RunnerConfig{Events: ev, DeadLetter: dead, Delivery: fastDelivery()}), src)
	if ev.get("held:401") != 1 || ev.get("recovered") != 1 || ev.get("sent") != 1 || len(deadLines(t, dead.Path())) != 0 {
		t.Errorf("events %v", ev.n)
	}
	if got := f.storedMsgs(); !slices.Equal(got, []string{"h0"}) {
		t.Errorf("stored %q", got)
	}
}
