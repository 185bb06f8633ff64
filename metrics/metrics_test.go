package metrics

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"go.uber.org/goleak"

	"github.com/sluicelog/sluice/buffer"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, body := fetch(t, url)
	return resp.StatusCode, body
}

// fetch GETs url and reads the whole answer.
func fetch(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

// getMetrics reads /metrics, which must parse with client_golang's parser
// and say it is the text format 0.0.4.
func getMetrics(t *testing.T, base string) string {
	t.Helper()
	resp, b := fetch(t, base+"/metrics")
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != 200 || ct != "text/plain; version=0.0.4; charset=utf-8" {
		t.Fatalf("/metrics: %d, Content-Type %q", resp.StatusCode, ct)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	if _, err := p.TextToMetricFamilies(strings.NewReader(b)); err != nil {
		t.Fatalf("/metrics does not parse: %v\n%s", err, b)
	}
	return b
}

func TestEndpoints(t *testing.T) {
	m := New()
	ready := NewReadiness("inputs", "outputs")
	ln, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, ln, m, ready) }()
	base := "http://" + ln.Addr().String()

	m.Read(3, 120)
	m.Opened()
	m.Anomaly("split_line", 2)
	m.Rotated()
	m.Truncated()
	out := m.Output("loki", ready)
	out.Sent(3, 300, 20*time.Millisecond)
	out.Failed("429", true, time.Millisecond)
	out.Failed("400", false, time.Millisecond)
	out.Rejected("line_too_long", 5)
	m.Miss("path_unparsed")
	m.Joined(3)
	m.Joined(2)
	m.Cut("max_lines")
	m.Parsed("json", "invalid")
	m.WatchError("forbidden")
	m.PodsCached(12)
	m.Synced()
	m.CheckpointSaved(time.Now().Add(-2 * time.Second))

	if code, body := get(t, base+"/healthz"); code != 200 || body != "ok\n" {
		t.Fatalf("healthz = %d %q", code, body)
	}
	if code, body := get(t, base+"/readyz"); code != 503 || body != "inputs: starting\noutputs: starting\n" {
		t.Fatalf("readyz before ready = %d %q", code, body)
	}
	ready.Set("inputs", "")
	ready.Set("outputs", "")
	ready.Note("kubernetes", "API server unreachable since 04:00:00: connection refused")
	if code, body := get(t, base+"/readyz"); code != 200 || body != "ok\nkubernetes (degraded): API server unreachable since 04:00:00: connection refused\n" {
		t.Fatalf("readyz with a degraded component = %d %q", code, body)
	}
	ready.Note("kubernetes", "")
	if code, _ := get(t, base+"/readyz"); code != 200 {
		t.Fatalf("readyz after ready = %d", code)
	}
	out.Held("401", errors.New("push to http://loki/x: server answered 401 Unauthorized: no org id"))
	code, body := get(t, base+"/readyz")
	if code != 200 || !strings.HasPrefix(body, "ok\noutputs/loki (degraded): requests held since ") ||
		!strings.HasSuffix(body, ": push to http://loki/x: server answered 401 Unauthorized: no org id\n") {
		t.Fatalf("readyz with a held sink = %d %q", code, body)
	}
	if m := getMetrics(t, base); !strings.Contains(m, `sluice_output_held{sink="loki"} 1`) {
		t.Fatal("held gauge not 1")
	}
	out.Recovered()
	out.DeadLetterFailed(errors.New("disk full"))
	out.Duplicate(4)
	if code, body := get(t, base+"/readyz"); code != 200 || body != "ok\n" {
		t.Fatalf("readyz after recovery = %d %q", code, body)
	}
	body = getMetrics(t, base)
	for _, want := range []string{
		"sluice_input_lines_total 3", "sluice_input_bytes_total 120", "sluice_input_files_open 1",
		`sluice_input_anomalies_total{reason="split_line"} 2`, "sluice_input_rotations_total 1",
		"sluice_input_truncations_total 1", `sluice_output_records_total{sink="loki"} 3`,
		`sluice_output_bytes_total{sink="loki"} 300`, `sluice_output_requests_total{sink="loki",status="ok"} 1`,
		`sluice_output_requests_total{sink="loki",status="429"} 1`, `sluice_output_requests_total{sink="loki",status="400"} 1`,
		`sluice_output_retries_total{sink="loki"} 1`, `sluice_output_rejected_records_total{reason="line_too_long",sink="loki"} 5`,
		`sluice_output_request_duration_seconds_count{sink="loki"} 3`, `sluice_enrich_misses_total{reason="path_unparsed"} 1`,
		`sluice_kubernetes_watch_errors_total{reason="forbidden"} 1`, `sluice_output_held{sink="loki"} 0`,
		`sluice_output_dead_letter_errors_total{sink="loki"} 1`, `sluice_output_duplicate_records_total{sink="loki"} 4`,
		"sluice_multiline_records_total 2", "sluice_multiline_lines_total 5", `sluice_multiline_cuts_total{reason="max_lines"} 1`,
		`sluice_parse_records_total{format="json",outcome="invalid"} 1`,
		"sluice_kubernetes_pods_cached 12", "sluice_kubernetes_synced 1", "sluice_input_checkpoint_age_seconds 2.",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Serve: %v", err)
	}
}

func TestListenTakenPort(t *testing.T) {
	ln, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if _, err := Listen(ln.Addr().String()); err == nil || !strings.Contains(err.Error(), "metrics listener") {
		t.Fatalf("err = %v, want a listener error", err)
	}
}

func TestCheckpointAgeBeforeFirstSave(t *testing.T) {
	if got := New().checkpointAge(); got != -1 {
		t.Fatalf("age = %v, want -1", got)
	}
}

func TestBufferMetrics(t *testing.T) {
	m := New()
	ev := m.Buffer(func() buffer.Stats {
		return buffer.Stats{Bytes: 4096, Records: 10, Segments: 2, Durable: buffer.Position{Segment: 3, Offset: 512},
			Lag: map[string]buffer.Lag{"stdout": {Bytes: 100, Records: 1}}}
	})
	ev.Appended(10, 4000)
	ev.Dropped("stdout", 7)
	ev.Corrupt(33)
	ev.DiskError("write")
	ev.Synced(2 * time.Millisecond)
	ln, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, ln, m, NewReadiness()) }()
	body := getMetrics(t, "http://"+ln.Addr().String())
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"sluice_buffer_appended_records_total 10", "sluice_buffer_bytes 4096", "sluice_buffer_records 10",
		"sluice_buffer_durable_segment 3", "sluice_buffer_durable_offset_bytes 512",
		`sluice_buffer_lag_records{sink="stdout"} 1`, `sluice_buffer_dropped_records_total{sink="stdout"} 7`,
		"sluice_buffer_corrupt_bytes_total 33", `sluice_buffer_disk_errors_total{op="write"} 1`, "sluice_buffer_fsync_seconds_count 1",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}
