package loki

import (
	"context"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sluicelog/sluice/internal/vlogs"
	"github.com/sluicelog/sluice/outputs"
	"github.com/sluicelog/sluice/record"
)

// These tests push through Sink.Encode and Sink.Send to a real VictoriaLogs
// server, which speaks the Loki push API, and read back what it stored. They
// skip when the server binary is missing, except under CI=true (see package
// vlogs).

const (
	vlNode     = "node-7"
	vlPodUID   = "8b0c5a2e-3f1d-4c6b-9a7e-2d4f6b8c0e1a"
	vlCtrID    = "4f1e9c2b7a3d5e6f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7"
	vlPathA    = "/var/log/pods/shop_cart-7d9f_" + vlPodUID + "/app/0.log"
	vlPathB    = "/var/log/containers/cart-7d9f_shop_sidecar-" + vlCtrID + ".log"
	vlStreamA  = `{container="app",job="sluice",namespace="shop",pod="cart-7d9f"}`
	vlStreamB  = `{container="sidecar",job="sluice",namespace="shop",pod="cart-7d9f"}`
	vlJobOnly  = `{job="sluice"}`
	tenantNone = "0000000000000000" // _stream_id prefix of tenant 0:0
	tenant7    = "0000000700000000" // _stream_id prefix of tenant 7:0
)

// vlBase is a time whose nine fractional digits are all non-zero, so that
// a server or encoder that rounds shows it; a minute in the past, well
// within the server's retention.
func vlBase() time.Time {
	return time.Now().Truncate(time.Second).Add(-time.Minute + 123456789*time.Nanosecond)
}

// attrsA are what enrichment gives a pods-layout record; attrsB a
// containers-layout one, whose container_id is metadata, not a label.
func attrsA() []record.Attr {
	return []record.Attr{
		{Key: "namespace", Value: "shop"}, {Key: "pod", Value: "cart-7d9f"}, {Key: "pod_uid", Value: vlPodUID},
		{Key: "container", Value: "app"}, {Key: "node", Value: vlNode},
	}
}

func attrsB() []record.Attr {
	return []record.Attr{
		{Key: "namespace", Value: "shop"}, {Key: "pod", Value: "cart-7d9f"}, {Key: "container", Value: "sidecar"},
		{Key: "container_id", Value: vlCtrID}, {Key: "node", Value: vlNode},
	}
}

// vlCase is one record and the row it must come back as, without _time
// and _stream_id, which the test checks on their own.
type vlCase struct {
	name string
	rec  record.Record
	row  vlogs.Row
}

// rowA and rowB are the fields every record of stream A or B comes back
// with: the stream, its labels and the metadata from the attrs and path.
func rowA(msg, stream string, extra ...string) vlogs.Row {
	r := vlogs.Row{
		"_msg": msg, "_stream": vlStreamA, "namespace": "shop", "pod": "cart-7d9f", "container": "app", "job": "sluice",
		"pod_uid": vlPodUID, "node": vlNode, "filename": vlPathA, "stream": stream,
	}
	return withFields(r, extra...)
}

func rowB(msg, stream string, extra ...string) vlogs.Row {
	r := vlogs.Row{
		"_msg": msg, "_stream": vlStreamB, "namespace": "shop", "pod": "cart-7d9f", "container": "sidecar", "job": "sluice",
		"container_id": vlCtrID, "node": vlNode, "filename": vlPathB, "stream": stream,
	}
	return withFields(r, extra...)
}

func withFields(r vlogs.Row, kv ...string) vlogs.Row {
	for i := 0; i+1 < len(kv); i += 2 {
		r[kv[i]] = kv[i+1]
	}
	return r
}

// vlCases are the records of TestVLogsRoundTrip; each body is unique, so a
// row is found by its _msg. The time of record i is base + i ns, except
// where the case sets one.
func vlCases(encoding string) []vlCase {
	const tricky = "say \"hi\"\tthen a back\\slash, a JSON-looking {\"level\":\"info\"} and \\n as text,\nthen a real newline\r\n and \x01 a control"
	unflagged := "unflagged \xff\xfe stays as sent"
	if encoding == "json" {
		// JSON strings cannot carry the bytes: the encoder replaces each
		// invalid byte, as encoding/json does (the flagged repair replaces
		// each run of them).
		unflagged = "unflagged \uFFFD\uFFFD stays as sent"
	}
	return []vlCase{
		{"stdout", record.Record{Stream: "stdout", Body: []byte("plain stdout line"), Path: vlPathA, Attrs: attrsA()},
			rowA("plain stdout line", "stdout")},
		{"stderr", record.Record{Stream: "stderr", Body: []byte("plain stderr line"), Path: vlPathA, Attrs: attrsA()},
			rowA("plain stderr line", "stderr")},
		{"quotes backslashes tabs newlines", record.Record{Stream: "stdout", Body: []byte(tricky), Path: vlPathA, Attrs: attrsA()},
			rowA(tricky, "stdout")},
		{"invalid UTF-8 flagged", record.Record{
			Stream: "stderr", Body: []byte("bad \xff\xfe bytes \xc3 end \xe2\x82"), Path: vlPathA, Attrs: attrsA(),
			Flags: record.FlagInvalidUTF8 | record.FlagRaw,
		}, rowA("bad \uFFFD bytes \uFFFD end \uFFFD", "stderr", "flags", "raw,invalid_utf8")},
		{"invalid UTF-8 unflagged", record.Record{Stream: "stdout", Body: []byte("unflagged \xff\xfe stays as sent"), Path: vlPathA, Attrs: attrsA()},
			rowA(unflagged, "stdout")},
		{"split and no newline", record.Record{
			Stream: "stdout", Body: []byte("first piece of a long line"), Path: vlPathA, Attrs: attrsA(),
			Flags: record.FlagSplit | record.FlagNoNewline,
		}, rowA("first piece of a long line", "stdout", "flags", "split,no_newline")},
		{"non-ASCII", record.Record{Stream: "stdout", Body: []byte("héllo wörld ✓ 日本語"), Path: vlPathA, Attrs: attrsA()},
			rowA("héllo wörld ✓ 日本語", "stdout")},
		{"containers layout", record.Record{Stream: "stdout", Body: []byte("from the sidecar"), Path: vlPathB, Attrs: attrsB()},
			rowB("from the sidecar", "stdout")},
		{"containers layout stderr", record.Record{Stream: "stderr", Body: []byte("sidecar error"), Path: vlPathB, Attrs: attrsB()},
			rowB("sidecar error", "stderr")},
		{"no attrs no path", record.Record{Body: []byte("no pod at all")},
			vlogs.Row{"_msg": "no pod at all", "_stream": vlJobOnly, "job": "sluice"}},
		{"unknown attr becomes metadata", record.Record{
			Stream: "stdout", Body: []byte("with a trace id"), Path: vlPathA,
			Attrs: append(attrsA(), record.Attr{Key: "trace.id", Value: "abc123"}),
		}, rowA("with a trace id", "stdout", "trace_id", "abc123")},
	}
}

// TestVLogsRoundTrip encodes records of every shape with both encodings,
// pushes them and compares each stored row field by field: stream labels,
// structured metadata, the line and the time to the nanosecond.
func TestVLogsRoundTrip(t *testing.T) {
	for _, enc := range []string{"protobuf", "json"} {
		t.Run(enc, func(t *testing.T) {
			t.Parallel()
			srv := vlogs.Start(t)
			s := newSink(t, Config{URL: srv.PushURL(), Encoding: enc, StaticLabels: map[string]string{"job": "sluice"}})
			base := vlBase()
			cases := vlCases(enc)
			recs := make([]record.Record, 0, len(cases)+2)
			want := map[string]vlogs.Row{}
			for i, c := range cases {
				c.rec.Time = base.Add(time.Duration(i))
				recs = append(recs, c.rec)
				c.row["_time"] = c.rec.Time.UTC().Format(time.RFC3339Nano)
				want[c.row["_msg"]] = c.row
			}
			// A record without a time gets the encode time.
			recs = append(recs, record.Record{Stream: "stdout", Body: []byte("no time"), Path: vlPathA, Attrs: attrsA()})
			noTime := rowA("no time", "stdout")
			want["no time"] = noTime
			// An empty line is stored without _msg (see package vlogs).
			recs = append(recs, record.Record{Time: base.Add(time.Second), Stream: "stdout", Path: vlPathA, Attrs: attrsA()})
			empty := rowA("", "stdout")
			delete(empty, "_msg")
			empty["_time"] = base.Add(time.Second).UTC().Format(time.RFC3339Nano)
			want[""] = empty

			before := time.Now()
			pushRecords(t, s, recs)
			after := time.Now()

			rows, err := srv.Query(context.Background(), "*", "")
			if err != nil {
				t.Fatal(err)
			}
			noTime["_time"] = checkEncodeTime(t, rows, "no time", before, after)
			if len(rows) != len(want) {
				t.Errorf("%d rows stored, want %d", len(rows), len(want))
			}
			checkRowsByMsg(t, rows, want, tenantNone)
		})
	}
}

// pushRecords encodes recs as one request and sends it, failing the test
// unless the server accepts it.
func pushRecords(t *testing.T, s *Sink, recs []record.Record) {
	t.Helper()
	req := s.Encode(recs)
	defer req.Release()
	if req.Records() != len(recs) {
		t.Fatalf("request carries %d records, want %d", req.Records(), len(recs))
	}
	if res := s.Send(context.Background(), req); res.Outcome != outputs.Accepted {
		t.Fatalf("send: outcome %d, status %s: %v", res.Outcome, res.Status, res.Err)
	}
}

// checkEncodeTime finds the row of the record without a time and checks
// that it got a time between before and after, the span of Encode and
// Send; it returns that row's _time.
func checkEncodeTime(t *testing.T, rows []vlogs.Row, msg string, before, after time.Time) string {
	t.Helper()
	for _, r := range rows {
		if r.Msg() != msg {
			continue
		}
		got, err := r.Time()
		if err != nil {
			t.Fatal(err)
		}
		if got.Before(before) || got.After(after) {
			t.Errorf("record without a time stored at %v, want the encode time, between %v and %v", got, before, after)
		}
		return r["_time"]
	}
	t.Errorf("no row for the record without a time (%q)", msg)
	return ""
}

// checkRowsByMsg compares each row with the row of want that has its
// _msg, exactly: no field missing, none extra. _stream_id is only checked
// to start with the tenant's prefix.
func checkRowsByMsg(t *testing.T, rows []vlogs.Row, want map[string]vlogs.Row, idPrefix string) {
	t.Helper()
	seen := map[string]int{}
	for _, r := range rows {
		if id := r["_stream_id"]; !strings.HasPrefix(id, idPrefix) {
			t.Errorf("row %q: _stream_id %q does not start with the tenant's %q", r.Msg(), id, idPrefix)
		}
		got := maps.Clone(r)
		delete(got, "_stream_id")
		msg := r.Msg()
		seen[msg]++
		w, ok := want[msg]
		if !ok {
			t.Errorf("unexpected row %v", got)
			continue
		}
		if !maps.Equal(got, w) {
			t.Errorf("row %.40q:\n got  %v\n want %v", msg, got, w)
		}
	}
	for _, msg := range slices.Sorted(maps.Keys(want)) {
		if seen[msg] != 1 {
			t.Errorf("line %.40q stored %d times, want once", msg, seen[msg])
		}
	}
}

// TestVLogsTenant pushes with TenantID "7": the entries are in tenant 7
// and in no other.
func TestVLogsTenant(t *testing.T) {
	for _, enc := range []string{"protobuf", "json"} {
		t.Run(enc, func(t *testing.T) {
			t.Parallel()
			srv := vlogs.Start(t)
			s := newSink(t, Config{URL: srv.PushURL(), Encoding: enc, TenantID: "7", StaticLabels: map[string]string{"job": "sluice"}})
			base := vlBase()
			var recs []record.Record
			want := map[string]vlogs.Row{}
			for i := range 3 {
				msg := "tenant seven " + strconv.Itoa(i)
				recs = append(recs, record.Record{Time: base.Add(time.Duration(i)), Stream: "stdout", Body: []byte(msg), Path: vlPathA, Attrs: attrsA()})
				want[msg] = rowA(msg, "stdout", "_time", base.Add(time.Duration(i)).UTC().Format(time.RFC3339Nano))
			}
			pushRecords(t, s, recs)
			rows, err := srv.Query(context.Background(), "*", "7")
			if err != nil {
				t.Fatal(err)
			}
			checkRowsByMsg(t, rows, want, tenant7)
			for _, other := range []string{"", "0", "7:1", "8", "70"} {
				n, err := srv.Count(context.Background(), "*", other)
				if err != nil {
					t.Fatal(err)
				}
				if n != 0 {
					t.Errorf("tenant %q holds %d entries, want none: they belong to tenant 7", other, n)
				}
			}
		})
	}
}

// TestVLogsOutOfOrderWithinRequest hands Encode the entries of one stream
// in shuffled time order, with some times repeated: the server accepts
// the request and stores every entry once, at its own time.
func TestVLogsOutOfOrderWithinRequest(t *testing.T) {
	const n = 2000
	for _, enc := range []string{"protobuf", "json"} {
		t.Run(enc, func(t *testing.T) {
			t.Parallel()
			srv := vlogs.Start(t)
			s := newSink(t, Config{URL: srv.PushURL(), Encoding: enc, StaticLabels: map[string]string{"job": "sluice"}})
			base := vlBase()
			rng := rand.New(rand.NewPCG(1, 2))
			order := rng.Perm(n)
			recs := make([]record.Record, n)
			want := map[string]vlogs.Row{}
			for i, k := range order {
				// Entries 2j and 2j+1 share a time.
				ts := base.Add(time.Duration(k/2) * time.Microsecond)
				msg := "entry " + strconv.Itoa(k)
				recs[i] = record.Record{Time: ts, Stream: "stdout", Body: []byte(msg), Path: vlPathA, Attrs: attrsA()}
				want[msg] = rowA(msg, "stdout", "_time", ts.UTC().Format(time.RFC3339Nano))
			}
			if slices.IsSortedFunc(recs, func(a, b record.Record) int { return a.Time.Compare(b.Time) }) {
				t.Fatal("set-up: the records are in time order")
			}
			pushRecords(t, s, recs)
			rows, err := srv.Query(context.Background(), "*", "")
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != n {
				t.Errorf("%d rows stored, want %d", len(rows), n)
			}
			checkRowsByMsg(t, rows, want, tenantNone)
		})
	}
}
