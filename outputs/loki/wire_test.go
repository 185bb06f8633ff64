package loki

import (
	"bytes"
	"log/slog"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/grafana/loki/pkg/push"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/sluicelog/sluice/record"
)

// TestAppendProtoMatchesGeneratedMarshal holds the hand-written encoder to
// the bytes the push package's generated code writes for the same streams.
// appendProto appends the whole protobuf request, unchunked: the bytes the
// sink streams through snappy (snappyProto), as the tests compare them.
func (e *encoder) appendProto(dst []byte) []byte {
	return e.writeProto(slices.Grow(dst[:0], e.sizeProto()), nil)
}

func TestAppendProtoMatchesGeneratedMarshal(t *testing.T) {
	ls, err := newLabelSet([]string{"namespace", "pod"}, map[string]string{"job": "sluice"}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	attrs := func(kv ...string) []record.Attr {
		var out []record.Attr
		for i := 0; i < len(kv); i += 2 {
			out = append(out, record.Attr{Key: kv[i], Value: kv[i+1]})
		}
		return out
	}
	now := time.Date(2026, 11, 26, 4, 0, 0, 0, time.UTC)
	long := bytes.Repeat([]byte("x"), 300)
	cases := map[string][]record.Record{
		"empty batch": nil,
		"one record": {{Time: now.Add(123 * time.Nanosecond), Stream: "stdout", Body: []byte("hello"), Path: "/p/0.log",
			Attrs: attrs("namespace", "default", "pod", "web-0", "pod_uid", "1f2e")}},
		"whole seconds, empty line, no metadata": {{Time: now, Body: nil, Path: ""}},
		"before 1970 and at the epoch": {
			{Time: time.Unix(-86400*365, 999), Body: []byte("old"), Path: "/a"},
			{Time: time.Unix(0, 5), Body: []byte("epoch"), Path: "/a"},
		},
		"several streams, long lines, flags": {
			{Time: now.Add(2), Body: long, Path: "/a", Flags: record.FlagSplit, Attrs: attrs("namespace", "a", "pod", "p")},
			{Time: now.Add(1), Body: []byte("b"), Path: "/b", Stream: "stderr", Attrs: attrs("namespace", "b")},
			{Time: now, Body: []byte("a\xffb"), Path: "/a", Flags: record.FlagInvalidUTF8, Attrs: attrs("namespace", "a", "pod", "p", "container_id", "c0ffee")},
		},
	}
	// A file's records share one attrs slice, as enrichment and the
	// buffer's source dictionary hand them out: the encoder reuses the
	// stream and metadata of the record before only while the slice,
	// path, stream and flags are all the same.
	shared := attrs("namespace", "a", "pod", "p", "pod_uid", "1f2e", "container_id", "c0ffee")
	other := attrs("namespace", "a", "pod", "p", "pod_uid", "9a9a")
	cases["records sharing attrs"] = []record.Record{
		{Time: now.Add(5), Body: []byte("1"), Path: "/a", Stream: "stdout", Attrs: shared},
		{Time: now.Add(4), Body: []byte("2"), Path: "/a", Stream: "stdout", Attrs: shared},
		{Time: now.Add(3), Body: []byte("3"), Path: "/a", Stream: "stderr", Attrs: shared},
		{Time: now.Add(6), Body: []byte("4"), Path: "/a", Stream: "stderr", Attrs: shared, Flags: record.FlagSplit},
		{Time: now.Add(2), Body: []byte("5"), Path: "/b", Stream: "stderr", Attrs: shared, Flags: record.FlagSplit},
		{Time: now.Add(7), Body: []byte("6\xff"), Path: "/b", Stream: "stderr", Attrs: shared, Flags: record.FlagSplit | record.FlagInvalidUTF8},
		{Time: now.Add(1), Body: []byte("7"), Path: "/b", Stream: "stderr", Attrs: other},
		{Time: now.Add(8), Body: []byte("8"), Path: "/b", Stream: "stderr", Attrs: other[:2]},
		{Time: now.Add(9), Body: []byte("9"), Path: "/a", Stream: "stdout", Attrs: shared},
	}
	for name, recs := range cases {
		t.Run(name, func(t *testing.T) {
			e := newEncoder(ls)
			e.build(recs, now)
			got := e.appendProto(nil)
			want, err := (&push.PushRequest{Streams: toPush(e.streams)}).Marshal()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("appendProto wrote\n%x\nthe generated Marshal writes\n%x", got, want)
			}
			// The same records with attrs slices of their own, which the
			// encoder never shares between records, give the same streams.
			own := make([]record.Record, len(recs))
			for i, r := range recs {
				r.Attrs = slices.Clone(r.Attrs)
				own[i] = r
			}
			e2 := newEncoder(ls)
			e2.build(own, now)
			if a, b := toPush(e.streams), toPush(e2.streams); !reflect.DeepEqual(a, b) {
				t.Fatalf("records sharing attrs encode as\n%+v\nwith attrs of their own as\n%+v", a, b)
			}
			back, err := unmarshalPush(got)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(toPush(back), toPush(e.streams)) {
				t.Fatalf("unmarshalPush read\n%+v\nwant\n%+v", back, e.streams)
			}
		})
	}
}

// toPush converts the sink's streams to the push package's, for its
// generated code to marshal and compare. Empty metadata is nil in both.
func toPush(streams []stream) []push.Stream {
	out := make([]push.Stream, len(streams))
	for i, st := range streams {
		out[i].Labels = st.Labels
		for _, e := range st.Entries {
			pe := push.Entry{Timestamp: e.Timestamp.UTC(), Line: e.Line}
			for _, p := range e.StructuredMetadata {
				pe.StructuredMetadata = append(pe.StructuredMetadata, push.LabelAdapter{Name: p.Name, Value: p.Value})
			}
			out[i].Entries = append(out[i].Entries, pe)
		}
	}
	return out
}

// TestUnmarshalPushReadsGeneratedMarshal holds the hand-written decoder to
// the generated one, on requests with the fields the sink never writes
// (a stream's hash, an entry's parsed labels) and on broken input.
func TestUnmarshalPushReadsGeneratedMarshal(t *testing.T) {
	ts := time.Date(2026, 12, 4, 5, 0, 0, 42, time.UTC)
	req := &push.PushRequest{Streams: []push.Stream{
		{Labels: `{job="a"}`, Hash: 99, Entries: []push.Entry{
			{Timestamp: ts, Line: "one", StructuredMetadata: push.LabelsAdapter{{Name: "k", Value: "v"}, {Name: "e", Value: ""}},
				Parsed: push.LabelsAdapter{{Name: "p", Value: "q"}}},
			{Timestamp: time.Unix(-86400*365*300, 7).UTC(), Line: ""},
		}},
		{Labels: `{job="b"}`},
	}}
	raw, err := req.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	got, err := unmarshalPush(raw)
	if err != nil {
		t.Fatal(err)
	}
	for i := range req.Streams {
		req.Streams[i].Hash = 0
		for j := range req.Streams[i].Entries {
			req.Streams[i].Entries[j].Parsed = nil
		}
	}
	if !reflect.DeepEqual(toPush(got), req.Streams) {
		t.Fatalf("unmarshalPush read\n%+v\nwant\n%+v", toPush(got), req.Streams)
	}
	for _, cut := range []int{1, 5, len(raw) / 2, len(raw) - 1} {
		var pr push.PushRequest
		if pr.Unmarshal(raw[:cut]) == nil {
			continue // a prefix that happens to be whole for both
		}
		if _, err := unmarshalPush(raw[:cut]); err == nil {
			t.Errorf("unmarshalPush of the first %d bytes: no error, the generated decoder reports one", cut)
		}
	}
	tsb := protowire.AppendVarint(protowire.AppendTag(nil, 1, protowire.VarintType), maxProtoSec+1)
	ent := protowire.AppendBytes(protowire.AppendTag(nil, 1, protowire.BytesType), tsb)
	st := protowire.AppendBytes(protowire.AppendTag(nil, 2, protowire.BytesType), ent)
	bad := protowire.AppendBytes(protowire.AppendTag(nil, 1, protowire.BytesType), st)
	var pr push.PushRequest
	if pr.Unmarshal(bad) == nil {
		t.Fatal("the generated decoder took a timestamp past year 9999")
	}
	if _, err := unmarshalPush(bad); err == nil {
		t.Error("a timestamp past year 9999: no error")
	}
}
