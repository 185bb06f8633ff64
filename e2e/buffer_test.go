package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The buffer of these tests: 64 KiB segments (the smallest allowed) and a
// 256 KiB cap, with batches of 128 lines (about 20 KiB in the buffer), so a
// few thousand lines fill it. Several times that is written while the sink
// is down.
const (
	smallBufferMax   = 256 << 10
	smallBufferYAML  = "{segment_size: 64KiB, max_size: 256KiB, fsync_interval: 100ms%s}"
	smallBufferBatch = 128
	stdoutDropped    = `sluice_buffer_dropped_records_total{sink="stdout"}`
	stdoutLag        = `sluice_buffer_lag_records{sink="stdout"}`
)

// useSmallBuffer gives e's configuration the small buffer, with extra
// settings (", on_full: drop_oldest") added to it.
func (e *env) useSmallBuffer(extra string) {
	e.t.Helper()
	e.configureBuffer(fmt.Sprintf(smallBufferYAML, extra), smallBufferBatch)
}

// configureBuffer adds a buffer section to e's configuration and, if
// batch > 0, sets the input's batch size.
func (e *env) configureBuffer(buffer string, batch int) {
	e.t.Helper()
	b, err := os.ReadFile(e.cfgPath)
	if err != nil {
		e.t.Fatal(err)
	}
	cfg := string(b)
	if batch > 0 {
		anchor := "    checkpoint_interval: 200ms\n"
		if !strings.Contains(cfg, anchor) {
			e.t.Fatalf("configuration has no %q to add the batch size after:\n%s", anchor, cfg)
		}
		cfg = strings.Replace(cfg, anchor, anchor+fmt.Sprintf("    batch_size: %d\n", batch), 1)
	}
	cfg += "buffer: " + buffer + "\n"
	if err := os.WriteFile(e.cfgPath, []byte(cfg), 0o644); err != nil {
		e.t.Fatal(err)
	}
}

// TestSinkDownThenUp writes two files while the only sink accepts nothing
// (its FIFO is not read), far more than the buffer holds. Sluice must stop
// reading once the buffer is full, keep the buffer under its cap while it
// waits, and deliver every line exactly once, in order per file, once the
// sink reads again.
func TestSinkDownThenUp(t *testing.T) {
	requireSluice(t)
	const (
		n     = 15_000 // lines per file, 1.2 MB: about 20 times the buffer's cap in output
		early = 500    // lines per file written first, which fit
	)
	e := newEnv(t, envOptions{fifo: true})
	e.useSmallBuffer("")
	pods := []string{"A", "B"}
	sink := e.holdSink()
	s := e.start(false)
	s.waitReady(10 * time.Second)

	paths := map[string]string{}
	for _, pod := range pods {
		paths[pod] = filepath.Join(e.container("default", "down-"+pod, "app"), "0.log")
		appendLines(t, paths[pod], pod, 0, early, 0)
	}
	// The input counts lines once it has handed over what it read at a go,
	// so a first part small enough to fit is seen counted before the rest.
	s.waitMetric("sluice_input_lines_total", 2*early, 10*time.Second)
	for _, pod := range pods {
		appendLines(t, paths[pod], pod, early, n-early, 0)
	}
	// Blocked: neither the input's count nor the buffer's appends move for
	// 3 s, below what was written.
	var (
		lines, appended   float64 = -1, -1
		stillSince        time.Duration
		maxBytes, samples float64
		last              map[string]float64
		start             = time.Now()
	)
	waitFor(t, 30*time.Second, "the input to stop reading", func() (bool, error) {
		m, err := s.metrics()
		if err != nil {
			return false, err
		}
		last = m
		samples++
		maxBytes = max(maxBytes, m["sluice_buffer_bytes"])
		if m["sluice_input_lines_total"] != lines || m["sluice_buffer_appended_records_total"] != appended {
			lines, appended, stillSince = m["sluice_input_lines_total"], m["sluice_buffer_appended_records_total"], time.Since(start)
		}
		return time.Since(start)-stillSince >= 3*time.Second, nil
	}, func() string { return "metrics: " + bufferSummary(last) })
	t.Logf("blocked: input stopped at %g of %d lines, %g appended to the buffer; %s; at most %g buffer bytes over %d scrapes in %v",
		lines, 2*n, appended, bufferSummary(last), maxBytes, int(samples), time.Since(start).Round(time.Millisecond))
	if lines >= 2*n || appended >= 2*n {
		t.Fatalf("set-up: sluice read all %d lines while the sink was down; the buffer did not block", 2*n)
	}
	if maxBytes > smallBufferMax {
		t.Errorf("sluice_buffer_bytes reached %g while blocked, over max_size %d", maxBytes, smallBufferMax)
	}
	if last["sluice_buffer_bytes"] < smallBufferMax/2 {
		t.Errorf("blocked with only %g bytes in the buffer; want it nearly full (max_size %d)", last["sluice_buffer_bytes"], smallBufferMax)
	}

	sink.release()
	got := newPodLines(e.outPath)
	for _, pod := range pods {
		got.waitUpTo(t, pod, n, 30*time.Second)
	}
	m, err := s.metrics()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("after the sink came back: %s", bufferSummary(m))
	if m[stdoutDropped] != 0 {
		t.Errorf("%s = %g in block mode", stdoutDropped, m[stdoutDropped])
	}
	if code := s.stop(30 * time.Second); code != 0 {
		t.Fatalf("sluice exit code %d after SIGTERM, want 0", code)
	}
	sink.close(t)
	got.poll(t)
	for _, pod := range pods {
		r := got.report(pod, n)
		t.Logf("file %s: %v", pod, r)
		if !r.exactlyOnceInOrder() {
			t.Errorf("file %s: want every line exactly once and in order: %v", pod, r)
		}
	}
}

// TestDropOldestEndToEnd does the same with on_full: drop_oldest. Sluice
// must read on, keep the buffer under its cap by dropping its oldest
// segments, and, once the sink reads again, deliver the newest lines: what
// arrives is, in order, the lines that passed before the buffer filled, then
// the newest up to the last line, with one run of lines missing in between,
// and sluice_buffer_dropped_records_total{sink="stdout"} equal to the number
// of lines that never arrived.
func TestDropOldestEndToEnd(t *testing.T) {
	requireSluice(t)
	const n = 20_000
	e := newEnv(t, envOptions{fifo: true})
	e.useSmallBuffer(", on_full: drop_oldest")
	sink := e.holdSink()
	s := e.start(false)
	s.waitReady(10 * time.Second)

	appendLines(t, filepath.Join(e.container("default", "drop", "app"), "0.log"), "D", 0, n, 0)
	s.waitMetric("sluice_input_lines_total", n, 30*time.Second) // dropping never stops the input
	s.waitMetric("sluice_buffer_appended_records_total", n, 10*time.Second)
	m, err := s.metrics()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("sink down, all %d lines read: %s", n, bufferSummary(m))
	if m["sluice_buffer_bytes"] > smallBufferMax {
		t.Errorf("sluice_buffer_bytes = %g, over max_size %d", m["sluice_buffer_bytes"], smallBufferMax)
	}
	if m[stdoutDropped] == 0 {
		t.Fatalf("set-up: nothing dropped; the sink did not hold enough back")
	}

	sink.release()
	got := newPodLines(e.outPath)
	waitFor(t, 30*time.Second, "the newest line and an empty buffer", func() (bool, error) {
		got.poll(t)
		ps := got.byID["D"]
		if ps == nil || len(ps.seen) < n || !ps.seen[n-1] {
			return false, nil
		}
		m, err = s.metrics()
		return err == nil && m[stdoutLag] == 0, err
	}, func() string { return fmt.Sprintf("%d lines arrived; %s", got.distinct("D"), bufferSummary(m)) })
	dropped := m[stdoutDropped]
	if code := s.stop(30 * time.Second); code != 0 {
		t.Fatalf("sluice exit code %d after SIGTERM, want 0", code)
	}
	sink.close(t)
	got.poll(t)

	r := got.report("D", n)
	t.Logf("%v; %s = %g", r, stdoutDropped, dropped)
	if r.duplicates > 0 || r.orderBreaks > 0 {
		t.Errorf("want the lines that arrive once each and in order: %v", r)
	}
	// The lines that arrived are at most three runs: the batch the held
	// sink was writing, the batch its runner had read ahead (from wherever
	// drops had left the cursor by then), and the newest lines the buffer
	// kept. Either of the first two may be empty or adjacent to the other.
	seen := got.byID["D"].seen
	var runs [][2]int
	for i := 0; i < n; i++ {
		if seen[i] && (i == 0 || !seen[i-1]) {
			runs = append(runs, [2]int{i, i})
		}
		if seen[i] {
			runs[len(runs)-1][1] = i
		}
	}
	if r.missing == 0 {
		t.Fatalf("every line arrived, nothing was dropped, yet %s = %g", stdoutDropped, dropped)
	}
	t.Logf("arrived: %v (first and last line of each run); missing: %d lines", runs, r.missing)
	if len(runs) > 3 {
		t.Errorf("arrived lines form %d runs, want at most 3: the batch in flight, the one read ahead, the newest", len(runs))
	}
	lastMiss := n - 1
	if len(runs) > 0 && runs[len(runs)-1][1] == n-1 {
		lastMiss = runs[len(runs)-1][0] - 1
	}
	if lastMiss == n-1 {
		t.Errorf("the newest line did not arrive")
	}
	if dropped != float64(r.missing) {
		t.Errorf("%s = %g, but %d lines never arrived (difference %g)", stdoutDropped, dropped, r.missing, dropped-float64(r.missing))
	}
}

// bufferSummary renders the buffer's and the input's main series.
func bufferSummary(m map[string]float64) string {
	return fmt.Sprintf("input lines %g, buffer %g bytes / %g records in %g segments, appended %g, lag %g records, dropped %g",
		m["sluice_input_lines_total"], m["sluice_buffer_bytes"], m["sluice_buffer_records"], m["sluice_buffer_segments"],
		m["sluice_buffer_appended_records_total"], m[stdoutLag], m[stdoutDropped])
}

// TestKillAfterDeliveryReplaysOneBatch delivers every line of a file, lets
// the input's checkpoint catch up, kills sluice with SIGKILL and restarts
// it. DESIGN.md §2 bounds the duplicates a kill may cause by one in-flight
// batch per sink, and here nothing was in flight: the sink had accepted and
// committed everything a second before the kill. With fsync: always the
// input's checkpoint is durable at once; fsync_interval, which no longer
// matters for durability then, is set to an hour.
func TestKillAfterDeliveryReplaysOneBatch(t *testing.T) {
	requireSluice(t)
	const n = 5000
	e := newEnv(t, envOptions{})
	e.configureBuffer("{fsync: always, fsync_interval: 1h}", 0)
	path := filepath.Join(e.container("default", "kill", "app"), "0.log")
	s := e.start(false)
	s.waitReady(10 * time.Second)
	appendLines(t, path, "K", 0, n, 0)
	got := newPodLines(e.outPath)
	got.wait(t, "K", n)
	s.waitMetric(`sluice_output_records_total{sink="stdout"}`, n, 10*time.Second)
	time.Sleep(time.Second) // the input's checkpoint is saved every 200 ms
	s.kill()
	s = e.start(false)
	s.waitReady(10 * time.Second)
	time.Sleep(2 * time.Second) // whatever is replayed arrives
	m, err := s.metrics()
	if err != nil {
		t.Fatal(err)
	}
	if code := s.stop(30 * time.Second); code != 0 {
		t.Fatalf("sluice exit code %d after SIGTERM, want 0", code)
	}
	got.poll(t)
	r := got.report("K", n)
	t.Logf("%v; the restarted run read %g lines from the file and sent %g records", r, m["sluice_input_lines_total"], m[`sluice_output_records_total{sink="stdout"}`])
	if r.missing > 0 {
		t.Errorf("lines lost: %v", r)
	}
	if r.duplicates > 1024 {
		t.Errorf("%d duplicates after a kill with nothing in flight, more than one batch (1024 lines)", r.duplicates)
	}
}
