package e2e

import (
	"math/rand/v2"
	"testing"
	"time"
)

const (
	kubeKills = 10 // SIGKILLs in TestKubeletRotationKill, each followed by a restart
	kubeStops = 3  // SIGTERM stops in TestKubeletRotationStopped
	// kubeStoppedFor is how long sluice stays stopped each time, from
	// SIGTERM to the restart.
	kubeStoppedFor = 4 * time.Second
	// kubeStoppedMaxSize is kubelet's containerLogMaxSize in
	// TestKubeletRotationStopped: a rotation every 1.6 s at kubeRate, so
	// each stop spans two to three rotations (the issue's), and the .gz of
	// the file sluice was reading when it stopped is still there when it
	// starts again; a rotation a second would prune it at about that moment.
	kubeStoppedMaxSize = 2_700_000
	// kubeRunFor is how long a run lasts between two stops.
	kubeRunFor = 3 * time.Second
	// kubeSinkDownFor is how long the server stays down in
	// TestKubeletRotationSinkDown: the 60 s, about fifty
	// rotations per file. The test takes about twice that in all.
	kubeSinkDownFor = 60 * time.Second
	// kubeSmallBuffer is the buffer of TestKubeletRotationSinkDown: full
	// within a second of input, so on_full: block holds the input back for
	// almost all of the outage.
	kubeSmallBuffer = "{segment_size: 1MiB, max_size: 4MiB, on_full: block}"
)

// TestKubeletRotation is the plain case: sluice runs throughout while
// kubelet rotates, gzips and prunes. Every line must arrive exactly once.
func TestKubeletRotation(t *testing.T) {
	runKubeletPlain(t, kubeOptions{})
}

// runKubeletPlain writes for eight seconds with one sluice run throughout.
func runKubeletPlain(t *testing.T, o kubeOptions) {
	r := newKubeRun(t, o)
	s := r.startSluice()
	r.startWriters()
	time.Sleep(8 * time.Second)
	r.finish(s)
	rep := r.check()
	r.requireNoLoss(rep, false)
	if rep.duplicates > 0 {
		t.Errorf("%d duplicates without a restart: want every line exactly once", rep.duplicates)
	}
}

// TestKubeletRotationKill kills sluice with SIGKILL ten times at random
// moments while kubelet rotates, restarting it at once on the same data
// folder, then lets a last run catch up and stops it with SIGTERM. Every
// line must arrive; the duplicates each kill caused are logged as a table.
func TestKubeletRotationKill(t *testing.T) {
	r := newKubeRun(t, kubeOptions{})
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, seed>>1))
	t.Logf("kill schedule seed %d", seed)
	rows, distinct := []int{0}, []int{0}
	var lived []time.Duration
	for i := range kubeKills {
		s := r.startSluice()
		if i == 0 {
			r.startWriters() // sluice runs before the containers write
		}
		life := 300*time.Millisecond + time.Duration(rng.Int64N(int64(1700*time.Millisecond)))
		time.Sleep(life)
		if !s.running() {
			t.Fatalf("run %d: sluice exited by itself (%v); log:\n%s", i+1, s.state, s.logTail(30))
		}
		r.kill(s)
		n, d := r.stored()
		rows, distinct, lived = append(rows, n), append(distinct, d), append(lived, life)
		t.Logf("%s: kill %d after %v; %d rows stored, %d distinct", r.since(), i+1, life.Round(time.Millisecond), n, d)
	}
	s := r.startSluice()
	time.Sleep(2 * time.Second) // the last run reads new lines too
	r.finish(s)
	n, d := r.stored()
	rows, distinct = append(rows, n), append(distinct, d)
	rep := r.check()
	t.Logf("duplicates per kill (kubelet rotation, %d pods at %d lines/s, max-files %d):\n%s",
		kubePods, kubeRate, kubeletMaxFiles, kubeDuplicates("kill", lived, rows, distinct))
	r.requireNoLoss(rep, false)
}

// TestKubeletRotationStopped stops sluice with SIGTERM three times for
// kubeStoppedFor while the writers go on, so kubelet renames, gzips and
// prunes while it is down: files sluice had not finished are then only in
// their .gz. Every line must arrive.
func TestKubeletRotationStopped(t *testing.T) {
	runKubeletStopped(t, kubeOptions{maxSize: kubeStoppedMaxSize})
}

// runKubeletStopped runs the stops of TestKubeletRotationStopped.
func runKubeletStopped(t *testing.T, o kubeOptions) {
	r := newKubeRun(t, o)
	// Running before the containers write, as a node agent is: files
	// rotated away before its first start are not its to read (sluice.exe
	// takes seconds to start under Wine).
	s := r.startSluice()
	r.startWriters()
	rows, distinct := []int{0}, []int{0}
	var lived []time.Duration
	for i := range kubeStops {
		time.Sleep(kubeRunFor)
		stopped, rot := time.Now(), r.rotations()
		r.stop(s)
		exited := time.Since(stopped)
		n, d := r.stored()
		rows, distinct, lived = append(rows, n), append(distinct, d), append(lived, kubeRunFor)
		time.Sleep(kubeStoppedFor - time.Since(stopped))
		s = r.startSluice()
		t.Logf("%s: stop %d: exited %v after SIGTERM, ready again %v after it, %d rotations per file meanwhile; %d rows stored, %d distinct before it",
			r.since(), i+1, exited.Round(time.Millisecond), time.Since(stopped).Round(time.Millisecond),
			(r.rotations()-rot)/kubePods, n, d)
	}
	time.Sleep(kubeRunFor)
	r.finish(s)
	n, d := r.stored()
	rows, distinct = append(rows, n), append(distinct, d)
	rep := r.check()
	t.Logf("duplicates per stop (kubelet rotation, %d pods at %d lines/s, max-files %d, stopped %v each time):\n%s",
		kubePods, kubeRate, kubeletMaxFiles, kubeStoppedFor, kubeDuplicates("stop", lived, rows, distinct))
	r.requireNoLoss(rep, false)
}

// TestKubeletRotationSinkDown stops the server for kubeSinkDownFor while
// the writers go on and sluice, with a buffer that fills within a second,
// holds its input back (on_full: block) through some fifty rotations, then
// starts the server again on the same port and data. Every line of a file
// sluice held must arrive: a removed file stays readable while it is held.
// Lines of files kubelet pruned before sluice opened them (unread, as
// kuberun_test.go says) are reported apart and do not fail the test: a
// sluice held back by a full buffer is not required to open every new file.
func TestKubeletRotationSinkDown(t *testing.T) {
	r := newKubeRun(t, kubeOptions{buffer: kubeSmallBuffer})
	s := r.startSluice()
	r.startWriters()
	time.Sleep(3 * time.Second)
	if n, _ := r.stored(); n == 0 {
		t.Fatalf("set-up: nothing stored before the outage; sluice log:\n%s", s.logTail(30))
	}
	r.srv.Stop()
	down, rot := time.Now(), r.rotations()
	t.Logf("%s: server stopped; metrics: %s", r.since(), metricsLine(s))
	for time.Since(down) < kubeSinkDownFor {
		time.Sleep(time.Second)
		if !s.running() {
			t.Fatalf("sluice exited (%v) while the server was down; log:\n%s", s.state, s.logTail(30))
		}
	}
	t.Logf("%s: after %v down, %d rotations per file; metrics: %s", r.since(),
		time.Since(down).Round(time.Millisecond), (r.rotations()-rot)/kubePods, metricsLine(s))
	r.srv.Restart()
	time.Sleep(3 * time.Second)
	r.finish(s)
	rep := r.check()
	r.requireNoLoss(rep, true)
	if rep.unread > 0 {
		t.Logf("unread: %d lines of files kubelet pruned while sluice, held back, held no copy (not counted against sluice)", rep.unread)
	}
}
