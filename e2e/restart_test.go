package e2e

import (
	"context"
	"errors"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

const (
	restartKills = 12 // SIGKILLs, each followed by a restart
	restartRate  = 25_000
)

// TestRestartSIGKILL kills sluice with SIGKILL at random moments while two
// kubelet-style logs are written and rotated, restarting it each time on
// the same data folder and output file, then lets a last run finish and
// stops it with SIGTERM. Every line must arrive at least once; an output
// line torn by a kill is counted and allowed only as the last line a
// killed run wrote.
func TestRestartSIGKILL(t *testing.T) {
	requireSluice(t)
	e := newEnv(t, envOptions{})
	writers := map[string]*logWriter{}
	pods := map[string]string{}
	for _, pod := range []string{"a", "b"} {
		path := filepath.Join(e.container("default", pod, "app"), "0.log")
		writers[path] = &logWriter{path: path, pod: pod, rotation: renameCreate, rate: restartRate}
		pods[path] = pod
	}

	ctx, stopWriters := context.WithCancel(context.Background())
	defer stopWriters()
	var wg sync.WaitGroup
	writeErrs := make(chan error, len(writers))
	for _, w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := w.run(ctx); err != nil {
				writeErrs <- err
			}
		}()
	}

	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, seed>>1))
	t.Logf("kill schedule seed %d", seed)
	var ends []int64 // the output's size after each killed run
	var lived []time.Duration
	for i := 0; i < restartKills; i++ {
		s := e.start(false)
		life := 200*time.Millisecond + time.Duration(rng.Int64N(int64(1300*time.Millisecond)))
		time.Sleep(life)
		if !s.running() {
			t.Fatalf("run %d: sluice exited by itself (%v); log:\n%s", i, s.state, s.logTail(30))
		}
		s.kill()
		ends = append(ends, outputSize(t, e.outPath))
		lived = append(lived, life)
	}
	stopWriters()
	wg.Wait()
	close(writeErrs)
	for err := range writeErrs {
		t.Fatalf("writer: %v", err)
	}
	for _, w := range writers {
		t.Logf("pod %s: %d lines in %v, %.0f lines/s, %d rotations", w.pod, w.lines, w.elapsed.Round(time.Millisecond), w.achieved(), w.rotations)
	}
	t.Logf("%d runs killed after %v", len(lived), lived)

	col := newSeqCollector(pods)
	out := &outputReader{path: e.outPath}
	for i, end := range ends {
		if err := out.endRun(end, col.add); err != nil {
			t.Fatalf("output of killed run %d: %v", i, err)
		}
	}
	s := e.start(false)
	s.waitReady(10 * time.Second)
	waitForLines(t, s, out, col, writers)
	m, err := s.metrics()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("final run metrics: %s", summary(m))
	if code := s.stop(30 * time.Second); code != 0 {
		t.Fatalf("sluice exit code %d after SIGTERM, want 0; log:\n%s", code, s.logTail(30))
	}
	if err := out.poll(col.add); err != nil {
		t.Fatal(err)
	}
	if len(out.pending) > 0 {
		t.Errorf("output of the SIGTERM run ends with a line without newline: %q", clip(out.pending, 200))
	}

	t.Logf("%d output lines cut by a kill (each was the last line of its run)", len(out.cut))
	for _, c := range out.cut {
		t.Logf("cut line at output offset %d: %q", c.offset, clip(c.text, 120))
	}
	for _, p := range col.problems {
		t.Error(p)
	}
	dups := 0
	for path, w := range writers {
		r := col.paths[path].report(w.lines)
		t.Logf("pod %s: %v", w.pod, r)
		dups += r.duplicates
		if r.missing > 0 {
			t.Errorf("pod %s: lines lost across kills: %v", w.pod, r)
		}
		if r.orderBreaks > 0 {
			t.Errorf("pod %s: first arrivals out of file order across kills: %v", w.pod, r)
		}
	}
	t.Logf("duplicates in all: %d over %d kills", dups, restartKills)
}

// describeSeqs reports, per writer, what has arrived so far.
func describeSeqs(col *seqCollector, writers map[string]*logWriter, want map[string]int) string {
	s := ""
	for path, w := range writers {
		s += "pod " + w.pod + ": " + col.paths[path].report(want[path]).String() + "\n"
	}
	for _, p := range col.problems {
		s += p + "\n"
	}
	return s
}

// outputSize is the output file's size, 0 before a run created it.
func outputSize(t *testing.T, path string) int64 {
	t.Helper()
	st, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}
