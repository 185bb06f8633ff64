package vlogs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sluicelog/sluice/internal/testdir"
	"github.com/sluicelog/sluice/internal/testtools"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// entry is one value of a Loki JSON push: [ts, line] or [ts, line, meta].
type entry struct {
	ts   time.Time
	line string
	meta map[string]string
}

// stream is one item of the push's "streams".
type stream struct {
	labels  map[string]string
	entries []entry
}

// lokiJSON builds a Loki JSON push body by hand, because encoding/json
// would replace invalid UTF-8 in a line and the tests need to send it raw.
func lokiJSON(streams ...stream) []byte {
	var b bytes.Buffer
	b.WriteString(`{"streams":[`)
	for i, s := range streams {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"stream":`)
		writeObject(&b, s.labels)
		b.WriteString(`,"values":[`)
		for j, e := range s.entries {
			if j > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `["%d",`, e.ts.UnixNano())
			b.Write(quoteRaw(e.line))
			if e.meta != nil {
				b.WriteByte(',')
				writeObject(&b, e.meta)
			}
			b.WriteByte(']')
		}
		b.WriteString(`]}`)
	}
	b.WriteString(`]}`)
	return b.Bytes()
}

func writeObject(b *bytes.Buffer, m map[string]string) {
	b.WriteByte('{')
	for i, k := range slices.Sorted(maps.Keys(m)) {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(quoteRaw(k))
		b.WriteByte(':')
		b.Write(quoteRaw(m[k]))
	}
	b.WriteByte('}')
}

// quoteRaw writes s as a JSON string the way VictoriaLogs does: quotes,
// backslashes and control characters escaped, every other byte as it is.
func quoteRaw(s string) []byte {
	b := []byte{'"'}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\t':
			b = append(b, '\\', 't')
		case c < 0x20:
			b = fmt.Appendf(b, `\u%04x`, c)
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

// newClient returns an HTTP client whose connections are closed when the
// test ends, so goleak sees no idle connection goroutines.
func newClient(t *testing.T) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil
	c := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

// send posts body to url; tenant "" sends no X-Scope-OrgID. It returns the
// status and body of the answer, or the error of a request that got none.
func send(c *http.Client, url, tenant, contentType string, body []byte) (int, string, error) {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", contentType)
	if tenant != "" {
		req.Header.Set("X-Scope-OrgID", tenant)
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(b)), err
}

// mustPush pushes a JSON body and fails the test unless it answers 204.
func mustPush(t *testing.T, c *http.Client, s *Server, tenant string, body []byte) {
	t.Helper()
	status, answer, err := send(c, s.PushURL(), tenant, "application/json", body)
	if err != nil {
		t.Fatalf("push to tenant %q: %v", tenant, err)
	}
	if status != http.StatusNoContent {
		t.Fatalf("push to tenant %q: status %d, want 204: %s", tenant, status, answer)
	}
}

// mustQuery runs a query and fails the test on error.
func mustQuery(t *testing.T, s *Server, logsql, tenant string) []Row {
	t.Helper()
	rows, err := s.Query(context.Background(), logsql, tenant)
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// mustCount counts matches and fails the test on error.
func mustCount(t *testing.T, s *Server, logsql, tenant string) int {
	t.Helper()
	n, err := s.Count(context.Background(), logsql, tenant)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// tenantBody is the push every tenant gets in TestPushQueryRestart: two
// streams, the second with structured metadata, lines marked with who.
func tenantBody(who string, t0 time.Time) []byte {
	return lokiJSON(
		stream{
			labels: map[string]string{"namespace": "alpha", "pod": "a-0", "container": "app"},
			entries: []entry{
				{ts: t0, line: who + " alpha one"},
				{ts: t0.Add(time.Nanosecond), line: who + " alpha two"},
			},
		},
		stream{
			labels: map[string]string{"namespace": "beta", "pod": "b-0"},
			entries: []entry{
				{ts: t0.Add(123456789), line: who + " beta one", meta: map[string]string{"trace_id": "abc123", "k": "v"}},
			},
		},
	)
}

// wantRows are the rows tenantBody should come back as, in time order,
// without _stream_id.
func wantRows(who string, t0 time.Time) []Row {
	ts := func(d time.Duration) string { return t0.Add(d).UTC().Format(time.RFC3339Nano) }
	alpha := `{container="app",namespace="alpha",pod="a-0"}`
	return []Row{
		{"_msg": who + " alpha one", "_time": ts(0), "_stream": alpha, "namespace": "alpha", "pod": "a-0", "container": "app"},
		{"_msg": who + " alpha two", "_time": ts(1), "_stream": alpha, "namespace": "alpha", "pod": "a-0", "container": "app"},
		{"_msg": who + " beta one", "_time": ts(123456789), "_stream": `{namespace="beta",pod="b-0"}`,
			"namespace": "beta", "pod": "b-0", "trace_id": "abc123", "k": "v"},
	}
}

// checkRows compares rows with want, ignoring _stream_id except for its
// tenant prefix: 8 hex digits of AccountID, then 8 of ProjectID.
func checkRows(t *testing.T, rows, want []Row, idPrefix string) {
	t.Helper()
	got := make([]Row, len(rows))
	for i, r := range rows {
		if id := r["_stream_id"]; !strings.HasPrefix(id, idPrefix) {
			t.Errorf("row %d: _stream_id %q does not start with the tenant's %q", i, id, idPrefix)
		}
		got[i] = maps.Clone(r)
		delete(got[i], "_stream_id")
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("rows:\n got  %v\n want %v", got, want)
	}
}

// nanoTime is a timestamp with all nine fractional digits non-zero, so a
// server that rounds anything shows it.
func nanoTime() time.Time {
	t := time.Now().Truncate(time.Second)
	return t.Add(123456789)
}

func TestPushQueryRestart(t *testing.T) {
	t.Parallel()
	s := Start(t)
	c := newClient(t)
	ctx := context.Background()
	t0 := nanoTime()

	mustPush(t, c, s, "", tenantBody("default", t0))
	mustPush(t, c, s, "1", tenantBody("tenant1", t0))

	const sorted = "* | sort by (_time)"
	checkRows(t, mustQuery(t, s, sorted, ""), wantRows("default", t0), "0000000000000000")
	checkRows(t, mustQuery(t, s, sorted, "1"), wantRows("tenant1", t0), "0000000100000000")
	checkRows(t, mustQuery(t, s, sorted, "1:0"), wantRows("tenant1", t0), "0000000100000000")
	if n := mustCount(t, s, "*", "1:2"); n != 0 {
		t.Errorf("tenant 1:2 has %d entries, want 0", n)
	}
	if n := mustCount(t, s, `{namespace="alpha"}`, ""); n != 2 {
		t.Errorf(`{namespace="alpha"} counts %d, want 2`, n)
	}
	if n := mustCount(t, s, `"tenant1"`, ""); n != 0 {
		t.Errorf("the default tenant sees %d entries of tenant 1", n)
	}
	rows := mustQuery(t, s, `{namespace="beta"}`, "")
	if len(rows) != 1 {
		t.Fatalf(`{namespace="beta"}: %d rows, want 1`, len(rows))
	}
	if got, err := rows[0].Time(); err != nil || !got.Equal(t0.Add(123456789)) {
		t.Errorf("Time() = %v, %v; want %v", got, err, t0.Add(123456789))
	}

	// Pushed but never flushed before the stop: SIGTERM must keep it.
	mustPush(t, c, s, "", lokiJSON(stream{
		labels:  map[string]string{"namespace": "gamma"},
		entries: []entry{{ts: t0, line: "before stop"}},
	}))
	s.Stop()
	if status, _, err := send(c, s.PushURL(), "", "application/json", tenantBody("x", t0)); err == nil {
		t.Fatalf("push to a stopped server answered %d", status)
	}
	s.Restart()
	if n := mustCount(t, s, "*", ""); n != 4 {
		t.Errorf("after restart the default tenant has %d entries, want 4", n)
	}
	checkRows(t, mustQuery(t, s, sorted, "1"), wantRows("tenant1", t0), "0000000100000000")
	mustPush(t, c, s, "", lokiJSON(stream{
		labels:  map[string]string{"namespace": "gamma"},
		entries: []entry{{ts: t0, line: "after restart"}},
	}))
	if n, err := s.WaitCount(ctx, `{namespace="gamma"}`, "", 2, 10*time.Second); err != nil || n != 2 {
		t.Errorf("WaitCount = %d, %v; want 2", n, err)
	}
}

// TestLinesKeptIntact checks, line by line, what the Loki sink relies on:
// VictoriaLogs stores the pushed bytes unchanged and Query returns them so.
func TestLinesKeptIntact(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		line string
	}{
		{"ascii", "plain line"},
		{"invalid utf8", "bad \xff\xfe bytes \xc3 end"},
		{"non-ascii", "héllo wörld ✓ 日本語"},
		{"escapes and controls", "tab\there \"quoted\" back\\slash nl\nnul\x00 bell\a end"},
		{"json-looking", `{"level":"info","msg":"not parsed"}`},
		{"300 KB", strings.Repeat("0123456789", 30_000) + "END"},
		{"empty", ""},
	}
	s := Start(t)
	c := newClient(t)
	t0 := nanoTime()
	var streams []stream
	for i, tt := range tests {
		streams = append(streams, stream{
			labels:  map[string]string{"case": tt.name},
			entries: []entry{{ts: t0.Add(time.Duration(i)), line: tt.line}},
		})
	}
	mustPush(t, c, s, "", lokiJSON(streams...))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows := mustQuery(t, s, fmt.Sprintf(`{case=%q}`, tt.name), "")
			if len(rows) != 1 {
				t.Fatalf("%d rows, want 1", len(rows))
			}
			if got := rows[0].Msg(); got != tt.line {
				t.Errorf("line changed (%d bytes, want %d): %.80q", len(got), len(tt.line), got)
			}
			if _, ok := rows[0]["level"]; ok {
				t.Errorf("the line was parsed into fields: %v", rows[0])
			}
		})
	}
}

func TestOutOfOrderKept(t *testing.T) {
	t.Parallel()
	s := Start(t)
	c := newClient(t)
	t0 := nanoTime()
	labels := map[string]string{"namespace": "order"}
	mustPush(t, c, s, "", lokiJSON(stream{labels: labels, entries: []entry{
		{ts: t0.Add(3), line: "3"}, {ts: t0.Add(1), line: "1"}, {ts: t0.Add(2), line: "2"},
	}}))
	mustPush(t, c, s, "", lokiJSON(stream{labels: labels, entries: []entry{
		{ts: t0.Add(-time.Hour), line: "0"},
	}}))
	var got []string
	for _, r := range mustQuery(t, s, "* | sort by (_time)", "") {
		got = append(got, r.Msg())
	}
	if want := []string{"0", "1", "2", "3"}; !slices.Equal(got, want) {
		t.Fatalf("lines in time order = %q, want %q", got, want)
	}
}

// TestPushRejects records how bad pushes are answered, which decides what
// the sink may retry: a 400 is final.
func TestPushRejects(t *testing.T) {
	t.Parallel()
	now := strconv.FormatInt(time.Now().UnixNano(), 10)
	tests := []struct {
		name        string
		tenant      string
		contentType string
		body        string
		wantBody    string
	}{
		{"truncated JSON", "", "application/json", `{"streams":[`, "cannot parse JSON"},
		{"no streams", "", "application/json", `{}`, "missing `streams`"},
		{"numeric timestamp", "", "application/json",
			`{"streams":[{"stream":{"a":"b"},"values":[[` + now + `,"x"]]}]}`, "want string"},
		{"bad timestamp", "", "application/json",
			`{"streams":[{"stream":{"a":"b"},"values":[["soon","x"]]}]}`, "cannot parse log timestamp"},
		{"non-numeric tenant", "abc", "application/json",
			`{"streams":[{"stream":{"a":"b"},"values":[["` + now + `","x"]]}]}`, "cannot parse accountID"},
		{"protobuf not snappy", "", "application/x-protobuf", "garbage", "snappy: corrupt input"},
	}
	s := Start(t)
	c := newClient(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body, err := send(c, s.PushURL(), tt.tenant, tt.contentType, []byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if status != http.StatusBadRequest || !strings.Contains(body, tt.wantBody) {
				t.Errorf("answer %d %q, want 400 containing %q", status, body, tt.wantBody)
			}
		})
	}
	if n := mustCount(t, s, "*", ""); n != 0 {
		t.Errorf("rejected pushes stored %d entries", n)
	}
}

// TestLargeQuery checks that Query returns every row of a large answer: no
// limit is applied on either side.
func TestLargeQuery(t *testing.T) {
	if testing.Short() {
		t.Skip("pushes 120,000 entries")
	}
	t.Parallel()
	const batches, perBatch = 12, 10_000
	s := Start(t)
	c := newClient(t)
	t0 := nanoTime()
	for b := range batches {
		entries := make([]entry, perBatch)
		for i := range entries {
			n := b*perBatch + i
			entries[i] = entry{ts: t0.Add(time.Duration(n)), line: "line " + strconv.Itoa(n)}
		}
		mustPush(t, c, s, "", lokiJSON(stream{labels: map[string]string{"test": "large"}, entries: entries}))
	}
	rows := mustQuery(t, s, `{test="large"}`, "")
	if len(rows) != batches*perBatch {
		t.Fatalf("Query returned %d rows, want %d", len(rows), batches*perBatch)
	}
	seen := make(map[string]bool, len(rows))
	for _, r := range rows {
		seen[r.Msg()] = true
	}
	if len(seen) != batches*perBatch {
		t.Errorf("Query returned %d distinct lines, want %d", len(seen), batches*perBatch)
	}
	if n := mustCount(t, s, `{test="large"}`, ""); n != batches*perBatch {
		t.Errorf("Count = %d, want %d", n, batches*perBatch)
	}
}

// TestEach checks that Each hands over every row of an answer, one at a
// time, and that an error from the callback ends the query and comes back.
func TestEach(t *testing.T) {
	t.Parallel()
	const n = 5000
	s := Start(t)
	c := newClient(t)
	t0 := nanoTime()
	entries := make([]entry, n)
	for i := range entries {
		entries[i] = entry{ts: t0.Add(time.Duration(i)), line: "line " + strconv.Itoa(i)}
	}
	mustPush(t, c, s, "", lokiJSON(stream{labels: map[string]string{"test": "each"}, entries: entries}))
	seen := map[string]bool{}
	err := s.Each(context.Background(), `{test="each"} | fields _msg`, "", func(r Row) error {
		if seen[r.Msg()] {
			return fmt.Errorf("row %q came twice", r.Msg())
		}
		seen[r.Msg()] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != n {
		t.Errorf("Each gave %d distinct rows, want %d", len(seen), n)
	}
	errStop := errors.New("enough")
	calls := 0
	err = s.Each(context.Background(), `{test="each"}`, "", func(Row) error {
		calls++
		if calls == 10 {
			return errStop
		}
		return nil
	})
	if !errors.Is(err, errStop) || calls != 10 {
		t.Errorf("Each with a callback failing at row 10: %d calls, error %v; want 10 calls and %v", calls, err, errStop)
	}
}

func TestTenantHeaders(t *testing.T) {
	tests := []struct {
		tenant  string
		want    map[string]string
		wantErr bool
	}{
		{tenant: "", want: nil},
		{tenant: "1", want: map[string]string{"AccountID": "1"}},
		{tenant: "1:2", want: map[string]string{"AccountID": "1", "ProjectID": "2"}},
		{tenant: "0:0", want: map[string]string{"AccountID": "0", "ProjectID": "0"}},
		{tenant: "4294967295", want: map[string]string{"AccountID": "4294967295"}},
		{tenant: "4294967296", wantErr: true},
		{tenant: "abc", wantErr: true},
		{tenant: "1:x", wantErr: true},
		{tenant: ":", wantErr: true},
		{tenant: "-1", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.tenant, func(t *testing.T) {
			got, err := tenantHeaders(tt.tenant)
			if (err != nil) != tt.wantErr {
				t.Fatalf("tenantHeaders(%q) error = %v, want error %v", tt.tenant, err, tt.wantErr)
			}
			if !tt.wantErr && !reflect.DeepEqual(got, tt.want) {
				t.Errorf("tenantHeaders(%q) = %v, want %v", tt.tenant, got, tt.want)
			}
		})
	}
}

func TestFindBinaryMissing(t *testing.T) {
	t.Setenv(envBinary, "")
	empty := testdir.New(t)
	t.Setenv(testtools.EnvTools, empty)
	t.Setenv("PATH", empty)
	if _, err := findBinary(); !errors.Is(err, errNotFound) {
		t.Fatalf("findBinary in empty folders: %v, want errNotFound", err)
	}
	t.Setenv(envBinary, "/nonexistent/victoria-logs")
	if _, err := findBinary(); err == nil || errors.Is(err, errNotFound) {
		t.Fatalf("a missing %s must be its own error, not a skip: %v", envBinary, err)
	}
}
