package e2e

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	rotationPods  = 3       // files written at the same time, one per pod
	rotationLines = 240_000 // lines per file
	writerRate    = 30_000  // lines per second per file the writers aim at
)

// TestRotationRenameCreate writes three kubelet-style logs at 30,000 lines
// per second each, rotating by rename and re-create every 2 MB, and
// expects every line exactly once, in order, per file.
func TestRotationRenameCreate(t *testing.T) {
	res := runRotation(t, renameCreate)
	for path, w := range res.writers {
		r := res.seqs.paths[path].report(w.lines)
		t.Logf("pod %s: %v", w.pod, r)
		if !r.exactlyOnceInOrder() {
			t.Errorf("pod %s: want every line exactly once and in order: %v", w.pod, r)
		}
	}
}

// TestRotationCopyTruncate does the same with copytruncate rotation and
// expects every line at least once, first arrivals in order.
func TestRotationCopyTruncate(t *testing.T) {
	res := runRotation(t, copyTruncate)
	dups := 0
	for path, w := range res.writers {
		r := res.seqs.paths[path].report(w.lines)
		t.Logf("pod %s: %v", w.pod, r)
		dups += r.duplicates
		if r.missing > 0 || r.orderBreaks > 0 {
			t.Errorf("pod %s: want every line at least once and first arrivals in order: %v", w.pod, r)
		}
	}
	t.Logf("duplicates in all: %d", dups)
}

// rotationResult is what runRotation saw.
type rotationResult struct {
	writers map[string]*logWriter // by 0.log path
	seqs    *seqCollector
}

// runRotation starts sluice, runs the writers to their end, waits until the
// output holds every line, stops sluice with SIGTERM and checks what all
// rotation tests share: the writers' rate, intact records, no record from
// a rotated file's own name, a clean exit and no anomaly.
func runRotation(t *testing.T, rot rotation) rotationResult {
	requireSluice(t)
	e := newEnv(t, envOptions{})
	res := rotationResult{writers: map[string]*logWriter{}}
	pods := map[string]string{}
	for _, pod := range []string{"a", "b", "c"}[:rotationPods] {
		path := filepath.Join(e.container("default", pod, "app"), "0.log")
		res.writers[path] = &logWriter{path: path, pod: pod, rotation: rot, rate: writerRate, limit: rotationLines}
		pods[path] = pod
	}
	res.seqs = newSeqCollector(pods)

	s := e.start(false)
	s.waitReady(10 * time.Second)
	runWriters(t, context.Background(), res.writers)
	for _, w := range res.writers {
		t.Logf("pod %s (%v): %d lines in %v, %.0f lines/s, %d rotations (%d rotated names with a counter)",
			w.pod, rot, w.lines, w.elapsed.Round(time.Millisecond), w.achieved(), w.rotations, w.suffixed)
		if w.achieved() < minWriterRate {
			t.Fatalf("pod %s: the writer reached %.0f lines/s, below the %d this test must show; the machine is too busy",
				w.pod, w.achieved(), minWriterRate)
		}
	}

	out := &outputReader{path: e.outPath}
	start := time.Now()
	waitForLines(t, s, out, res.seqs, res.writers)
	t.Logf("output complete %v after the writers stopped", time.Since(start).Round(time.Millisecond))
	m, err := s.metrics()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("metrics: %s", summary(m))
	if code := s.stop(30 * time.Second); code != 0 {
		t.Fatalf("sluice exit code %d after SIGTERM, want 0; log:\n%s", code, s.logTail(30))
	}
	if err := out.poll(res.seqs.add); err != nil {
		t.Fatal(err)
	}
	if len(out.pending) > 0 {
		t.Errorf("output ends with a line without newline: %q", clip(out.pending, 200))
	}
	for _, p := range res.seqs.problems {
		t.Error(p)
	}
	if res.seqs.nProblem > len(res.seqs.problems) {
		t.Errorf("... and %d more bad records", res.seqs.nProblem-len(res.seqs.problems))
	}
	for k, v := range m {
		if v != 0 && strings.HasPrefix(k, "sluice_input_anomalies_total{") {
			t.Errorf("%s = %g: clean input should raise no anomaly", k, v)
		}
	}
	return res
}

// waitForLines polls the output until it holds every line the writers
// wrote. It gives up after a minute in all, or sooner once nothing new has
// arrived for stallLimit: then the missing lines are not coming.
func waitForLines(t *testing.T, s *sluice, out *outputReader, col *seqCollector, writers map[string]*logWriter) {
	t.Helper()
	const stallLimit = 10 * time.Second
	want := map[string]int{}
	for path, w := range writers {
		want[path] = w.lines
	}
	lines, lastNew := out.lines, time.Now()
	waitFor(t, 60*time.Second, "every line in the output", func() (bool, error) {
		if err := out.poll(col.add); err != nil {
			return false, err
		}
		if !s.running() {
			return false, fmt.Errorf("sluice exited (%v); log:\n%s", s.state, s.logTail(30))
		}
		if col.complete(want) {
			return true, nil
		}
		if out.lines != lines {
			lines, lastNew = out.lines, time.Now()
		} else if time.Since(lastNew) > stallLimit {
			return false, fmt.Errorf("no new output for %v, lines are missing:\n%s\nsluice log:\n%s",
				stallLimit, describeSeqs(col, writers, want), s.logTail(40))
		}
		return false, nil
	}, func() string { return describeSeqs(col, writers, want) + "\nsluice log:\n" + s.logTail(40) })
}

// runWriters runs the writers side by side until each has written its lines.
func runWriters(t *testing.T, ctx context.Context, writers map[string]*logWriter) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, len(writers))
	for _, w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := w.run(ctx); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("writer: %v", err)
	}
}
