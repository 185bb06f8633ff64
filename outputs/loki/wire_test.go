package loki

import (
	"bytes"
	"log/slog"
	"testing"
	"time"

	"github.com/grafana/loki/pkg/push"

	"github.com/sluicelog/sluice/record"
)

// TestAppendProtoMatchesGeneratedMarshal holds the hand-written encoder to
// the bytes the push package's generated code writes for the same streams.
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
	for name, recs := range cases {
		t.Run(name, func(t *testing.T) {
			e := newEncoder(ls)
			e.build(recs, now)
			got := e.appendProto(nil)
			want, err := (&push.PushRequest{Streams: e.streams}).Marshal()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("appendProto wrote\n%x\nthe generated Marshal writes\n%x", got, want)
			}
		})
	}
}
