package e2e

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// TestBackpressureRotatedTwice blocks the output, as a sink that is down
// does, while kubelet rotates a log twice, and then lets the output move.
// Backpressure stops reading and leaves the lines in the log files, so
// every line of the three files, the one in the middle included (renamed
// away before sluice ever saw it), must arrive once the output moves.
func TestBackpressureRotatedTwice(t *testing.T) {
	requireSluice(t)
	const n = 20_000 // lines per file: far more than fits in the pipe and sluice's queue
	e := newEnv(t, envOptions{fifo: true})
	// A buffer far smaller than the lines, so the blocked output holds the
	// input back, as a slow sink does once the buffer is full.
	e.useSmallBuffer("")
	path := filepath.Join(e.container("default", "bp", "app"), "0.log")
	sink := e.holdSink()
	s := e.start(false)
	s.waitReady(10 * time.Second)

	appendLines(t, path, "A", 0, n, 0)
	time.Sleep(time.Second) // sluice reads A until its output blocks
	m, err := s.metrics()
	if err != nil {
		t.Fatal(err)
	}
	if read := m["sluice_input_lines_total"]; read >= n {
		t.Fatalf("set-up: sluice read all %g lines of the first file; the output did not block", read)
	}
	rotateTo(t, path, path+".20260101-000001")
	appendLines(t, path, "B", 0, n, 0)
	time.Sleep(500 * time.Millisecond)
	rotateTo(t, path, path+".20260101-000002")
	appendLines(t, path, "C", 0, n, 0)
	time.Sleep(500 * time.Millisecond)

	sink.release()
	got := newPodLines(e.outPath)
	got.waitUpTo(t, "C", n, 10*time.Second)
	for _, pod := range []string{"A", "B"} { // arrive before C, if at all
		got.waitUpTo(t, pod, n, time.Second)
	}
	if code := s.stop(30 * time.Second); code != 0 {
		t.Fatalf("sluice exit code %d after SIGTERM, want 0", code)
	}
	sink.close(t)
	got.poll(t)
	for _, pod := range []string{"A", "B", "C"} {
		if r := got.report(pod, n); r.missing > 0 || r.orderBreaks > 0 {
			t.Errorf("file %s: %v", pod, r)
		}
	}
}

// rotateTo renames path away, as kubelet rotates a log.
func rotateTo(t *testing.T, path, rotated string) {
	t.Helper()
	if err := os.Rename(path, rotated); err != nil {
		t.Fatal(err)
	}
}

// heldSink is the reading end of the sink's FIFO. Until release it reads
// nothing, so sluice's writes block once the pipe is full; after release
// it copies everything to the output file.
type heldSink struct {
	fifo *os.File
	out  *os.File
	wg   sync.WaitGroup
	err  error
}

// holdSink opens the FIFO for reading and writing, so sluice's open for
// writing does not wait for a reader.
func (e *env) holdSink() *heldSink {
	e.t.Helper()
	fifo, err := os.OpenFile(e.sink, os.O_RDWR, 0)
	if err != nil {
		e.t.Fatal(err)
	}
	out, err := os.Create(e.outPath)
	if err != nil {
		fifo.Close()
		e.t.Fatal(err)
	}
	h := &heldSink{fifo: fifo, out: out}
	e.t.Cleanup(func() { h.close(e.t) })
	return h
}

// release starts copying what sluice writes to the output file.
func (h *heldSink) release() {
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		_, err := io.Copy(h.out, h.fifo)
		if !errors.Is(err, os.ErrClosed) {
			h.err = err
		}
	}()
}

// close stops the copy once what sluice wrote has passed.
func (h *heldSink) close(t *testing.T) {
	t.Helper()
	if h.fifo == nil {
		return
	}
	time.Sleep(100 * time.Millisecond) // let the copy take what is in the pipe
	h.fifo.Close()
	h.wg.Wait()
	h.out.Close()
	h.fifo = nil
	if h.err != nil {
		t.Errorf("copy sink output: %v", h.err)
	}
}
