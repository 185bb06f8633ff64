package metrics

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func get(t *testing.T, url string) (int, string) {
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
	return resp.StatusCode, string(b)
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
	m.Sent("stdout", 3)
	m.SendFailed("stdout")
	m.CheckpointSaved(time.Now().Add(-2 * time.Second))

	if code, body := get(t, base+"/healthz"); code != 200 || body != "ok\n" {
		t.Fatalf("healthz = %d %q", code, body)
	}
	if code, body := get(t, base+"/readyz"); code != 503 || body != "inputs: starting\noutputs: starting\n" {
		t.Fatalf("readyz before ready = %d %q", code, body)
	}
	ready.Set("inputs", "")
	ready.Set("outputs", "")
	if code, _ := get(t, base+"/readyz"); code != 200 {
		t.Fatalf("readyz after ready = %d", code)
	}
	_, body := get(t, base+"/metrics")
	for _, want := range []string{
		"sluice_input_lines_total 3", "sluice_input_bytes_total 120", "sluice_input_files_open 1",
		`sluice_input_anomalies_total{reason="split_line"} 2`, "sluice_input_rotations_total 1",
		"sluice_input_truncations_total 1", `sluice_output_records_total{sink="stdout"} 3`,
		`sluice_output_errors_total{sink="stdout"} 1`, "sluice_input_checkpoint_age_seconds 2.",
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
