package chunk

import (
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sluicelog/sluice/cmd/flb-sluice/internal/chunk/chunktest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type got struct {
	events  []string // time and record JSON of each event
	shapes  []string // ShapeError reasons
	corrupt bool
	markers int
}

func readAll(b []byte) got {
	var g got
	r := NewReader(b)
	for {
		ev, err := r.Next()
		var se *ShapeError
		var ce *CorruptError
		switch {
		case errors.Is(err, io.EOF):
			g.markers = r.Markers()
			return g
		case errors.As(err, &se):
			g.shapes = append(g.shapes, se.Why)
		case errors.As(err, &ce):
			g.corrupt = true
		case err != nil:
			panic(err)
		default:
			g.events = append(g.events, ev.Time.UTC().Format(time.RFC3339Nano)+" "+string(AppendJSON(nil, ev.Record)))
		}
	}
}

// Every event format Fluent Bit writes is read, markers are skipped and
// counted, and an event of unknown shape in the middle does not hide the
// events after it.
func TestReader(t *testing.T) {
	at := time.Date(2026, 12, 4, 3, 4, 5, 123456789, time.UTC)
	rec := map[string]any{"log": "hi"}
	cases := []struct {
		name    string
		write   func(w *chunktest.Writer)
		events  []string
		shapes  []string
		markers int
		corrupt bool
	}{
		{"v2 event", func(w *chunktest.Writer) { w.Event(at, rec) },
			[]string{`2026-12-04T03:04:05.123456789Z {"log":"hi"}`}, nil, 0, false},
		{"legacy integer", func(w *chunktest.Writer) { w.Legacy(int64(at.Unix()), rec) },
			[]string{`2026-12-04T03:04:05Z {"log":"hi"}`}, nil, 0, false},
		{"legacy float", func(w *chunktest.Writer) { w.Legacy(float64(at.Unix())+0.25, rec) },
			[]string{`2026-12-04T03:04:05.25Z {"log":"hi"}`}, nil, 0, false},
		{"legacy EventTime", func(w *chunktest.Writer) { w.Legacy(at, rec) },
			[]string{`2026-12-04T03:04:05.123456789Z {"log":"hi"}`}, nil, 0, false},
		{"after 2038", func(w *chunktest.Writer) { w.Event(time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC), rec) },
			[]string{`2040-01-01T00:00:00Z {"log":"hi"}`}, nil, 0, false},
		{"zero time", func(w *chunktest.Writer) { w.Legacy(0, rec) },
			[]string{`0001-01-01T00:00:00Z {"log":"hi"}`}, nil, 0, false},
		{"group markers", func(w *chunktest.Writer) {
			w.GroupStart(map[string]any{"resource": "x"})
			w.Event(at, rec)
			w.GroupEnd()
			w.Event(at, map[string]any{"log": chunktest.Bin("bin")})
		}, []string{`2026-12-04T03:04:05.123456789Z {"log":"hi"}`, `2026-12-04T03:04:05.123456789Z {"log":"bin"}`}, nil, 2, false},
		{"unknown shapes in the middle", func(w *chunktest.Writer) {
			w.Event(at, rec)
			w.Legacy("yesterday", rec)
			w.Value([]any{int64(1), int64(2), int64(3)})
			w.Value("just a string")
			w.B = append(w.B, 0x92, 0x01, 0xa1, 'x') // [1, "x"]
			w.B = append(w.B, 0x92, 0x90, 0x80)      // empty header
			w.Event(at, map[string]any{"log": "after"})
		}, []string{`2026-12-04T03:04:05.123456789Z {"log":"hi"}`, `2026-12-04T03:04:05.123456789Z {"log":"after"}`},
			[]string{"timestamp is not an EventTime, an integer or a float", "not an array of two items",
				"not an array of two items", "record is not a map", "empty event header"}, 0, false},
		{"cut off", func(w *chunktest.Writer) {
			w.Event(at, rec)
			w.Event(at, rec)
			w.B = w.B[:len(w.B)-2]
		}, []string{`2026-12-04T03:04:05.123456789Z {"log":"hi"}`}, nil, 0, true},
		{"not msgpack", func(w *chunktest.Writer) { w.B = append(w.B, 0xc1, 1, 2) }, nil, nil, 0, true},
		{"huge count", func(w *chunktest.Writer) { w.B = append(w.B, 0xdd, 0xff, 0xff, 0xff, 0xff) }, nil, nil, 0, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var w chunktest.Writer
			c.write(&w)
			g := readAll(w.B)
			if strings.Join(g.events, "\n") != strings.Join(c.events, "\n") {
				t.Errorf("events:\n got  %q\n want %q", g.events, c.events)
			}
			if strings.Join(g.shapes, "|") != strings.Join(c.shapes, "|") {
				t.Errorf("shape errors:\n got  %q\n want %q", g.shapes, c.shapes)
			}
			if g.markers != c.markers || g.corrupt != c.corrupt {
				t.Errorf("markers %d corrupt %v, want %d %v", g.markers, g.corrupt, c.markers, c.corrupt)
			}
		})
	}
}

// A shape error carries a sample of the event, so the log shows what was
// skipped.
func TestShapeErrorSample(t *testing.T) {
	var w chunktest.Writer
	w.Legacy("yesterday", map[string]any{"log": "secret sauce"})
	_, err := NewReader(w.B).Next()
	var se *ShapeError
	if !errors.As(err, &se) || se.Sample != `["yesterday",{"log":"secret sauce"}]` || se.Offset != 0 {
		t.Fatalf("got %v", err)
	}
}

func TestAppendJSON(t *testing.T) {
	var w chunktest.Writer
	w.Value(map[string]any{"a": []any{nil, true, false, int64(-3), uint64(1 << 63), 1.5, "q\"\n", chunktest.Bin("\xff")},
		"t": time.Unix(1, 2)})
	want := `{"a":[null,true,false,-3,9223372036854775808,1.5,"q\"\n","\ufffd"],"t":{"ext":0,"data":"0000000100000002"}}`
	if got := string(AppendJSON(nil, Value(w.B))); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

// Whatever the bytes, reading never panics, never loops, and every event
// it returns renders.
func FuzzReader(f *testing.F) {
	var w chunktest.Writer
	w.GroupStart(map[string]any{})
	w.Event(time.Unix(5, 6), map[string]any{"log": "x", "kubernetes": map[string]any{"pod_name": "p"}})
	w.Legacy(1.5, map[string]any{"m": []any{int64(1)}})
	f.Add(w.B)
	f.Add([]byte{0x92, 0x92, 0xd7, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0x80, 0x81, 0xa1, 'a', 0xc0})
	f.Fuzz(func(t *testing.T, b []byte) {
		r := NewReader(b)
		for i := 0; ; i++ {
			if i > len(b) {
				t.Fatal("more results than bytes")
			}
			ev, err := r.Next()
			if errors.Is(err, io.EOF) {
				return
			}
			if err == nil {
				_ = AppendJSON(nil, ev.Record)
			}
		}
	})
}
