package plugin

import (
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sluicelog/sluice/cmd/flb-sluice/internal/chunk/chunktest"
	"github.com/sluicelog/sluice/record"
)

// decodeWith reads one chunk with the mapping the keys give.
func decodeWith(t *testing.T, kv []string, write func(w *chunktest.Writer)) *batch {
	t.Helper()
	s, err := Parse(keys(append([]string{"sink", "loki", "url", lokiURL}, kv...)...))
	if err != nil {
		t.Fatal(err)
	}
	in := &Instance{log: slog.New(slog.DiscardHandler), m: s.Records}
	var w chunktest.Writer
	write(&w)
	b := new(batch)
	b.reset(w.B)
	in.decode(b, "tag")
	return b
}

func attrText(attrs []record.Attr) string {
	var parts []string
	for _, a := range attrs {
		parts = append(parts, a.Key+"="+a.Value)
	}
	slices.Sort(parts)
	return strings.Join(parts, " ")
}

var at = time.Date(2026, 12, 4, 1, 2, 3, 4, time.UTC)

// How a Fluent Bit record becomes a sluice record, key by key.
func TestRecords(t *testing.T) {
	k8s := map[string]any{
		"namespace_name": "shop", "pod_name": "web-1", "container_name": "app", "pod_id": "uid", "docker_id": "cid",
		"container_image": "img", "host": "node", "container_hash": "sha", "labels": map[string]any{"app": "web"},
		"annotations": map[string]any{"a.b/c": "d"}, "namespace_labels": map[string]any{"team": "x"},
	}
	k8sAttrs := "annotation.a.b/c=d container=app container_id=cid container_image=img kubernetes.container_hash=sha " +
		"label.app=web namespace=shop namespace_label.team=x node=node pod=web-1 pod_uid=uid"
	for _, tc := range []struct {
		name   string
		kv     []string
		rec    map[string]any
		body   string
		stream string
		attrs  string
		flags  record.Flags
	}{
		{"log and kubernetes", nil, map[string]any{"log": "hi", "stream": "stderr", "kubernetes": k8s, "level": "warn"},
			"hi", "stderr", k8sAttrs + " level=warn", 0},
		{"message when there is no log", nil, map[string]any{"message": "m", "n": int64(3), "f": 1.5, "ok": true},
			"m", "", "f=1.5 n=3 ok=true", 0},
		{"log wins over message", nil, map[string]any{"message": "m", "log": "l"}, "l", "", "message=m", 0},
		{"bin strings", nil, map[string]any{"log": chunktest.Bin("b\xff"), "stream": chunktest.Bin("stdout"), "k": chunktest.Bin("v")},
			"b\xff", "stdout", "k=v", record.FlagInvalidUTF8},
		{"nested values as JSON", nil, map[string]any{"log": "x", "http": map[string]any{"code": int64(200), "p": []any{"a", nil}}},
			"x", "", `http={"code":200,"p":["a",null]}`, 0},
		{"a log that is a map", nil, map[string]any{"log": map[string]any{"a": "b"}}, `{"a":"b"}`, "", "", 0},
		{"no log key: the record as JSON", nil, map[string]any{"a": "b", "n": int64(1), "kubernetes": k8s},
			`{"a":"b","n":1}`, "", k8sAttrs, 0},
		{"log_key", []string{"log_key", "msg"}, map[string]any{"msg": "the line", "log": "other"}, "the line", "", "log=other", 0},
		{"line_format json", []string{"line_format", "json", "label_keys", "$app"},
			map[string]any{"log": "x", "app": "web", "b": int64(2), "stream": "stdout"}, `{"b":2,"log":"x"}`, "stdout", "app=web", 0},
		{"line_format key_value", []string{"line_format", "key_value"}, map[string]any{"log": "two words", "b": int64(2), "e": ""},
			`b=2 e="" log="two words"`, "", "", 0},
		{"remove_keys", []string{"remove_keys", "secret, $kubernetes['annotations'], $kubernetes['labels']"},
			map[string]any{"log": "x", "secret": "s", "kubernetes": map[string]any{"pod_name": "p", "labels": map[string]any{"a": "b"}, "annotations": map[string]any{"c": "d"}}},
			"x", "", "pod=p", 0},
		{"structured_metadata picks the keys", []string{"structured_metadata", "$trace_id"},
			map[string]any{"log": "x", "trace_id": "t1", "other": "o"}, "x", "", "trace_id=t1", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := decodeWith(t, tc.kv, func(w *chunktest.Writer) { w.Event(at, tc.rec) })
			if len(b.recs) != 1 {
				t.Fatalf("%d records", len(b.recs))
			}
			r := b.recs[0]
			want := strings.Fields(tc.attrs)
			slices.Sort(want)
			tc.attrs = strings.Join(want, " ")
			if string(r.Body) != tc.body || r.Stream != tc.stream || attrText(r.Attrs) != tc.attrs || r.Flags != tc.flags || !r.Time.Equal(at) {
				t.Errorf("got body %q stream %q flags %d time %v\n attrs %s\nwant body %q stream %q flags %d\n attrs %s",
					r.Body, r.Stream, r.Flags, r.Time, attrText(r.Attrs), tc.body, tc.stream, tc.flags, tc.attrs)
			}
		})
	}
}

// A record whose event time is 0 takes its time key, when it is one; each
// record points at an identity of its own that the same chunk repeats.
func TestTimeKeyAndIdentity(t *testing.T) {
	write := func(w *chunktest.Writer) {
		w.Legacy(int64(0), map[string]any{"log": "a", "time": "2026-12-04T01:02:03.5Z"})
		w.Legacy(int64(0), map[string]any{"log": "a", "time": "yesterday"})
		w.Legacy(int64(0), map[string]any{"log": "a", "time": "2026-12-04T01:02:03.5Z"})
	}
	b := decodeWith(t, nil, write)
	if !b.recs[0].Time.Equal(time.Date(2026, 12, 4, 1, 2, 3, 5e8, time.UTC)) || attrText(b.recs[0].Attrs) != "" {
		t.Errorf("record 0: time %v attrs %s", b.recs[0].Time, attrText(b.recs[0].Attrs))
	}
	if !b.recs[1].Time.IsZero() || attrText(b.recs[1].Attrs) != "time=yesterday" {
		t.Errorf("record 1: time %v attrs %s", b.recs[1].Time, attrText(b.recs[1].Attrs))
	}
	again := decodeWith(t, nil, write)
	for i := range b.recs {
		id := fmt.Sprint(*b.recs[i].Source, b.recs[i].Offset)
		if id != fmt.Sprint(*again.recs[i].Source, again.recs[i].Offset) {
			t.Errorf("record %d: identity changed between two reads of one chunk", i)
		}
		if i > 0 && id == fmt.Sprint(*b.recs[0].Source, b.recs[0].Offset) {
			t.Errorf("record %d has record 0's identity", i)
		}
	}
}

// Whatever a chunk holds, decoding it never panics, and every record it
// yields has a body and attributes that can be read.
func FuzzDecode(f *testing.F) {
	var w chunktest.Writer
	w.Event(at, map[string]any{"log": "x", "stream": "stdout", "kubernetes": map[string]any{"pod_name": "p", "labels": map[string]any{"a": "b"}}})
	w.Legacy(1.5, map[string]any{"message": []any{int64(1), nil}, "time": "2026-12-04T00:00:00Z"})
	f.Add(w.B, "log")
	f.Add(w.B, "json")
	f.Add(w.B, "key_value")
	f.Fuzz(func(t *testing.T, data []byte, format string) {
		s, err := Parse(keys("sink", "loki", "url", lokiURL, "line_format", format, "label_keys", "$app"))
		if err != nil {
			return
		}
		in := &Instance{log: slog.New(slog.DiscardHandler), m: s.Records}
		b := new(batch)
		b.reset(data)
		in.decode(b, "tag")
		for _, r := range b.recs {
			_ = len(r.Body) + len(r.Stream)
			for _, a := range r.Attrs {
				_ = len(a.Key) + len(a.Value)
			}
		}
	})
}
