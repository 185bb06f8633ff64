package elasticsearch

// The fake bulk server of the unit tests.

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// wholeAnswer is an answer to a whole request, given before any item is
// looked at.
type wholeAnswer struct {
	code        int
	contentType string
	body        string
	location    string // a Location header, for redirects
}

// fakeES answers bulk requests as Elasticsearch 8 does, item by item, from
// a store of documents keyed by index and _id, so that a document created
// twice gets Elasticsearch's 409. A message holding "[overload-N]" is
// refused with 429 its first N times, "[shard-down]" with 503 once,
// "[bad]" with 400 mapper_parsing_exception always. The bodies follow
// Elasticsearch's own: the item shapes of the bulk API reference
// (docs/reference/docs/bulk.asciidoc, "Example with failed actions"), the
// reasons of VersionConflictEngineException ("[<id>]: version conflict,
// document already exists (current version [1])"), of IndexingPressure's
// rejection ("rejected execution of primary operation [...]"), of
// DocumentParser ("failed to parse field [...] of type [...] in document
// with id '...'. Preview of field's value: '...'") and of
// ReplicationOperation's unavailable shards ("[index][0] primary shard is
// not active Timeout: [1m], request: [BulkShardRequest ...]").
type fakeES struct {
	opensearch bool // leave out X-Elastic-Product, as OpenSearch does

	mu       sync.Mutex
	whole    []wholeAnswer
	store    map[string]item
	stored   []string // messages in the order they were stored
	tries    map[string]int
	requests [][]string // the messages of every request
	paths    []string
	headers  []http.Header
}

var overload = regexp.MustCompile(`\[overload-(\d+)\]`)

func startFake(t testing.TB, f *fakeES) *httptest.Server {
	t.Helper()
	f.store, f.tries = map[string]item{}, map[string]int{}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return srv
}

func (f *fakeES) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.opensearch {
		w.Header().Set("X-Elastic-Product", "Elasticsearch")
	}
	f.paths = append(f.paths, r.URL.RequestURI())
	f.headers = append(f.headers, r.Header.Clone())
	if len(f.whole) > 0 {
		a := f.whole[0]
		f.whole = f.whole[1:]
		f.requests = append(f.requests, nil)
		if a.contentType != "" {
			w.Header().Set("Content-Type", a.contentType)
		}
		if a.location != "" {
			w.Header().Set("Location", a.location)
		}
		w.WriteHeader(a.code)
		io.WriteString(w, a.body)
		return
	}
	items := decodeBulk(testingT{}, body, r.Header.Get("Content-Encoding") == "gzip")
	var msgs []string
	var out []string
	errors := false
	for _, it := range items {
		msgs = append(msgs, it.msg())
		res := f.answer(it)
		errors = errors || strings.Contains(res, `"error"`)
		out = append(out, `{"create":`+res+`}`)
	}
	f.requests = append(f.requests, msgs)
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"errors":%v,"took":3,"items":[%s]}`, errors, strings.Join(out, ","))
}

// answer stores it or refuses it, and returns its result object.
func (f *fakeES) answer(it item) string {
	msg, idx, id := it.msg(), it.index(), it.id()
	try := f.tries[msg]
	f.tries[msg]++
	head := fmt.Sprintf(`"_index":%q,"_id":%q`, idx, id)
	if id == "" {
		head = fmt.Sprintf(`"_index":%q,"_id":"server-%d"`, idx, len(f.stored))
	}
	if m := overload.FindStringSubmatch(msg); m != nil {
		if n, _ := strconv.Atoi(m[1]); try < n {
			return `{` + head + `,"status":429,"error":{"type":"es_rejected_execution_exception","reason":"rejected execution of primary operation [coordinating_and_primary_bytes=1048576, replica_bytes=0, all_bytes=1048576, primary_operation_bytes=2048, max_coordinating_and_primary_bytes=107374182]"}}`
		}
	}
	if strings.Contains(msg, "[shard-down]") && try == 0 {
		return `{` + head + fmt.Sprintf(`,"status":503,"error":{"type":"unavailable_shards_exception","reason":"[%s][0] primary shard is not active Timeout: [1m], request: [BulkShardRequest [[%s][0]] containing [1] requests]"}}`, idx, idx)
	}
	if strings.Contains(msg, "[bad]") {
		return `{` + head + fmt.Sprintf(`,"status":400,"error":{"type":"mapper_parsing_exception","reason":"failed to parse field [kubernetes.labels.app] of type [long] in document with id '%s'. Preview of field's value: 'web'","caused_by":{"type":"illegal_argument_exception","reason":"For input string: \"web\""}}}`, id)
	}
	key := idx + "/" + id
	if _, ok := f.store[key]; ok && id != "" {
		return `{` + head + fmt.Sprintf(`,"status":409,"error":{"type":"version_conflict_engine_exception","reason":"[%s]: version conflict, document already exists (current version [1])","index_uuid":"aAsFqTI0Tc2W0LCWgPNrOA","shard":"0","index":%q}}`, id, idx)
	}
	if id == "" {
		key = fmt.Sprintf("%s/server-%d", idx, len(f.stored))
	}
	f.store[key] = it
	f.stored = append(f.stored, msg)
	return `{` + head + fmt.Sprintf(`,"_version":1,"result":"created","_shards":{"total":2,"successful":1,"failed":0},"_seq_no":%d,"_primary_term":1,"status":201}`, len(f.stored)-1)
}

func (f *fakeES) sent() [][]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.requests)
}

func (f *fakeES) storedMsgs() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.stored)
}

// testingT lets the handler use decodeBulk; a malformed body panics, which
// httptest reports.
type testingT struct{ testing.TB }

func (testingT) Helper()                   {}
func (testingT) Fatalf(f string, a ...any) { panic(fmt.Sprintf(f, a...)) }
func (testingT) Fatal(a ...any)            { panic(fmt.Sprint(a...)) }
