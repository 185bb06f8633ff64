package metrics

import (
	"bytes"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/sluicelog/sluice/buffer"
)

// scrape parses what /metrics would serve with client_golang's parser.
func scrape(t testing.TB, m *Registry) map[string]*dto.MetricFamily {
	t.Helper()
	var b bytes.Buffer
	if err := m.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(b.Bytes()))
	if err != nil {
		t.Fatalf("the exposition does not parse: %v\n%s", err, b.String())
	}
	return fams
}

// labels renders a sample's label pairs as the parser returned them.
func labels(s *dto.Metric) string {
	var parts []string
	for _, l := range s.GetLabel() {
		parts = append(parts, l.GetName()+"="+l.GetValue())
	}
	return strings.Join(parts, ",")
}

func TestExpositionParses(t *testing.T) {
	m := New()
	m.Buffer(func() buffer.Stats {
		return buffer.Stats{Bytes: 1 << 40, Lag: map[string]buffer.Lag{"b": {Bytes: 2}, "a": {Bytes: 1}}}
	})
	m.Read(3, 120)
	m.Read(2, 80)
	m.Opened()
	m.Opened()
	m.Closed()
	m.Anomaly("split_line", 2)
	m.Anomaly("a\"b\\c\nd", 1) // every character the format escapes
	m.Parsed("json", "invalid")
	m.Parsed("auto", "parsed")
	out := m.Output("loki", nil)
	for _, d := range []time.Duration{500 * time.Microsecond, time.Millisecond, 3 * time.Millisecond, 2 * time.Minute} {
		out.Sent(1, 10, d)
	}
	out.Failed("429", true, 4*time.Millisecond)
	out.Rejected("too_long", 5)
	fams := scrape(t, m)

	value := func(name string, s *dto.Metric) float64 {
		switch fams[name].GetType() {
		case dto.MetricType_COUNTER:
			return s.GetCounter().GetValue()
		case dto.MetricType_GAUGE:
			return s.GetGauge().GetValue()
		}
		t.Fatalf("%s is a %v", name, fams[name].GetType())
		return 0
	}
	for _, c := range []struct {
		name, labels string
		want         float64
	}{
		{"sluice_input_lines_total", "", 5},
		{"sluice_input_bytes_total", "", 200},
		{"sluice_input_files_open", "", 1},
		{"sluice_input_files_opened_total", "", 2},
		{"sluice_input_anomalies_total", "reason=split_line", 2},
		{"sluice_input_anomalies_total", "reason=a\"b\\c\nd", 1},
		{"sluice_parse_records_total", "format=json,outcome=invalid", 1},
		{"sluice_output_requests_total", "sink=loki,status=ok", 4},
		{"sluice_output_requests_total", "sink=loki,status=429", 1},
		{"sluice_output_rejected_records_total", "reason=too_long,sink=loki", 5},
		{"sluice_buffer_bytes", "", 1 << 40},
		{"sluice_buffer_lag_bytes", "sink=b", 2},
		{"sluice_input_checkpoint_age_seconds", "", -1},
		{"sluice_output_held", "sink=loki", 0},
	} {
		var got []string
		found := false
		for _, s := range fams[c.name].GetMetric() {
			got = append(got, labels(s))
			if labels(s) == c.labels {
				found = true
				if v := value(c.name, s); v != c.want {
					t.Errorf("%s{%s} = %v, want %v", c.name, c.labels, v, c.want)
				}
			}
		}
		if !found {
			t.Errorf("%s has no series {%s}; it has %q", c.name, c.labels, got)
		}
	}
	if got := fams["sluice_input_lines_total"].GetHelp(); got != "Records emitted by the file input." {
		t.Errorf("help = %q", got)
	}

	h := fams["sluice_output_request_duration_seconds"]
	if h.GetType() != dto.MetricType_HISTOGRAM || len(h.GetMetric()) != 1 {
		t.Fatalf("request duration: %v", h)
	}
	hist := h.GetMetric()[0].GetHistogram()
	var bounds []float64
	var cum []uint64
	for _, b := range hist.GetBucket() {
		bounds = append(bounds, b.GetUpperBound())
		cum = append(cum, b.GetCumulativeCount())
	}
	// A bucket holds the values up to and including its bound: 1 ms is in
	// the first; 2 minutes is past the last finite one.
	if want := exponentialBuckets(0.001, 4, 9); !slices.Equal(bounds, append(want, math.Inf(1))) {
		t.Errorf("bounds = %v, want %v and +Inf", bounds, want)
	}
	if want := []uint64{2, 4, 4, 4, 4, 4, 4, 4, 4, 5}; !slices.Equal(cum, want) {
		t.Errorf("cumulative counts = %v, want %v", cum, want)
	}
	if hist.GetSampleCount() != 5 || math.Abs(hist.GetSampleSum()-120.0085) > 1e-9 {
		t.Errorf("count %d sum %v, want 5 and 120.0085", hist.GetSampleCount(), hist.GetSampleSum())
	}
}

// TestExpositionOrder: families come sorted by name and the series of a
// family by label values, label names sorted within a series, as
// client_golang writes them; a vec with no child yet writes nothing.
func TestExpositionOrder(t *testing.T) {
	m := New()
	m.Parsed("json", "parsed")
	m.Parsed("auto", "parsed")
	m.Parsed("auto", "invalid")
	out := m.Output("b", nil)
	out.Rejected("z", 1)
	m.Output("a", nil).Rejected("z", 1)
	var b bytes.Buffer
	if err := m.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	text := b.String()
	var names []string
	for line := range strings.Lines(text) {
		if name, ok := strings.CutPrefix(line, "# TYPE "); ok {
			names = append(names, strings.Fields(name)[0])
		}
	}
	if !slices.IsSorted(names) {
		t.Errorf("families not sorted by name: %q", names)
	}
	if strings.Contains(text, "sluice_kubernetes_watch_errors_total") || strings.Contains(text, "sluice_enrich_misses_total") {
		t.Error("a family without series was written")
	}
	for _, want := range []string{
		`sluice_parse_records_total{format="auto",outcome="invalid"} 1
sluice_parse_records_total{format="auto",outcome="parsed"} 1
sluice_parse_records_total{format="json",outcome="parsed"} 1
`,
		`sluice_output_rejected_records_total{reason="z",sink="a"} 1
sluice_output_rejected_records_total{reason="z",sink="b"} 1
`,
		`# HELP sluice_output_request_duration_seconds Time from sending a request to its answer, failures included.
# TYPE sluice_output_request_duration_seconds histogram
`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the exposition lacks\n%s", want)
		}
	}
}

func TestFormatFloat(t *testing.T) {
	for v, want := range map[float64]string{
		1: "1", 0: "0", -1: "-1", 0.25: "0.25", 1e6: "1e+06", 123456: "123456",
		math.Inf(1): "+Inf", math.Inf(-1): "-Inf", math.NaN(): "NaN",
	} {
		if got := formatFloat(v); got != want {
			t.Errorf("formatFloat(%v) = %q, want %q", v, got, want)
		}
	}
}

func TestHelpEscaped(t *testing.T) {
	var r registry
	v := newCounterVec("x_total", "a \\ and\na newline")
	r.register(v)
	v.with().Inc()
	var b bytes.Buffer
	if err := r.write(&b); err != nil {
		t.Fatal(err)
	}
	if want := "# HELP x_total a \\\\ and\\na newline\n# TYPE x_total counter\nx_total 1\n"; b.String() != want {
		t.Fatalf("got %q, want %q", b.String(), want)
	}
}

func TestRegisterTwicePanics(t *testing.T) {
	m := New()
	m.Buffer(func() buffer.Stats { return buffer.Stats{} })
	defer func() {
		if recover() == nil {
			t.Fatal("a second Buffer registered its families again")
		}
	}()
	m.Buffer(func() buffer.Stats { return buffer.Stats{} })
}

// TestConcurrentScrape: events from many goroutines while /metrics is
// read; with -race it checks the updates are safe, and the totals come
// out exact.
func TestConcurrentScrape(t *testing.T) {
	m := New()
	ev := m.Buffer(func() buffer.Stats { return buffer.Stats{} })
	const workers, n = 4, 500
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out := m.Output("loki", nil)
			for i := range n {
				m.Read(1, 10)
				m.Opened()
				m.Parsed("json", fmt.Sprint(i%3))
				out.Sent(1, 1, time.Duration(i)*time.Millisecond)
				out.Failed(fmt.Sprint(w), false, time.Millisecond)
				ev.Synced(time.Duration(i) * time.Microsecond)
			}
		}()
	}
	for range 20 {
		fams := scrape(t, m)
		for _, s := range fams["sluice_output_request_duration_seconds"].GetMetric() {
			h := s.GetHistogram()
			if b := h.GetBucket(); b[len(b)-1].GetCumulativeCount() != h.GetSampleCount() {
				t.Fatalf("+Inf bucket %d, count %d", b[len(b)-1].GetCumulativeCount(), h.GetSampleCount())
			}
		}
	}
	wg.Wait()
	fams := scrape(t, m)
	if got := fams["sluice_input_bytes_total"].GetMetric()[0].GetCounter().GetValue(); got != workers*n*10 {
		t.Errorf("bytes = %v, want %d", got, workers*n*10)
	}
	if got := fams["sluice_input_files_open"].GetMetric()[0].GetGauge().GetValue(); got != workers*n {
		t.Errorf("files open = %v, want %d", got, workers*n)
	}
	if got := fams["sluice_output_request_duration_seconds"].GetMetric()[0].GetHistogram().GetSampleCount(); got != 2*workers*n {
		t.Errorf("request count = %d, want %d", got, 2*workers*n)
	}
	if got := len(fams["sluice_output_requests_total"].GetMetric()); got != workers+1 {
		t.Errorf("%d request series, want %d", got, workers+1)
	}
}

func BenchmarkRead(b *testing.B) {
	m := New()
	b.ReportAllocs()
	for b.Loop() {
		m.Read(100, 12000)
	}
}

func BenchmarkSinkEvents(b *testing.B) {
	out := New().Output("loki", nil)
	b.ReportAllocs()
	for b.Loop() {
		out.Sent(1000, 1<<20, 20*time.Millisecond)
		out.Failed("429", true, time.Millisecond)
	}
}

func BenchmarkParsed(b *testing.B) {
	m := New()
	b.ReportAllocs()
	for b.Loop() {
		m.Parsed("json", "parsed")
	}
}

// BenchmarkScrape writes the exposition of a daemon with two sinks and a
// buffer, runtime and process metrics included.
func BenchmarkScrape(b *testing.B) {
	m := New()
	m.Buffer(func() buffer.Stats {
		return buffer.Stats{Bytes: 1 << 30, Lag: map[string]buffer.Lag{"loki": {Bytes: 2}, "es": {Bytes: 1}}}
	}).Synced(time.Millisecond)
	for _, sink := range []string{"loki", "es"} {
		out := m.Output(sink, nil)
		out.Sent(1, 1, time.Millisecond)
		out.Failed("429", true, time.Millisecond)
	}
	m.Anomaly("split_line", 1)
	m.Parsed("json", "parsed")
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		if err := m.WriteText(&buf); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(buf.Len()), "bytes/scrape")
}
