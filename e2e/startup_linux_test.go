//go:build linux

package e2e

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

const (
	openFailures   = `sluice_buffer_disk_errors_total{op="open"}`
	openRetryError = "cannot open the buffer, retrying"
)

// fillDataDir mounts a small tmpfs on e's data folder and fills it, so the
// full disk sluice meets is real; it returns the filler file, whose removal
// frees the disk. Without the right to mount (not root) the test is
// skipped, except under CI=true, where it runs as root and must not skip.
func (e *env) fillDataDir() string {
	e.t.Helper()
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", e.dataDir).CombinedOutput()
	if err != nil {
		msg := "cannot mount a small tmpfs to fill (needs root and mount rights): " + err.Error() + ": " + string(out)
		if os.Getenv("CI") == "true" {
			e.t.Fatal(msg)
		}
		e.t.Skip(msg)
	}
	e.t.Cleanup(func() {
		if err := syscall.Unmount(e.dataDir, syscall.MNT_DETACH); err != nil {
			e.t.Errorf("unmount the tmpfs: %v", err)
		}
	})
	filler := filepath.Join(e.dataDir, "filler")
	f, err := os.Create(filler)
	if err != nil {
		e.t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(make([]byte, 4<<20)); !errors.Is(err, syscall.ENOSPC) {
		e.t.Fatalf("filling the tmpfs: %v, want ENOSPC", err)
	}
	return filler
}

// waitOpenRetrying waits until sluice has failed to open its buffer at least
// n times, and checks that meanwhile it runs, /healthz and /metrics answer
// and /readyz is not ready and says why.
func (s *sluice) waitOpenRetrying(n float64) {
	s.t.Helper()
	var last float64
	waitFor(s.t, 60*time.Second, openFailures, func() (bool, error) {
		if !s.running() {
			return false, fmt.Errorf("sluice exited (%v) on a full disk; log:\n%s", s.state, s.logTail(30))
		}
		m, err := s.metrics()
		if err != nil {
			return false, nil // not listening yet
		}
		last = m[openFailures]
		return last >= n, nil
	}, func() string { return fmt.Sprintf("%s = %g; sluice log:\n%s", openFailures, last, s.logTail(20)) })
	if code, body, err := s.get("/healthz"); err != nil || code != http.StatusOK {
		s.t.Errorf("/healthz on a full disk: %d %q %v, want 200", code, body, err)
	}
	code, body, err := s.get("/readyz")
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Logf("/readyz on a full disk: %d %s", code, body)
	if code != http.StatusServiceUnavailable || !strings.Contains(string(body), "buffer: ") ||
		!strings.Contains(string(body), "no space left on device") {
		s.t.Errorf("/readyz on a full disk answered %d %q; want 503 with the buffer's reason", code, body)
	}
}

// TestStartOnFullDisk starts sluice with its data folder on a full disk.
// Sluice must not exit (under Kubernetes, a crash loop): it keeps serving
// /healthz and /metrics, reports not ready with the reason, counts and logs
// each failed attempt, and once space is freed it opens its buffer and
// ships every line, exactly once, including those written while it waited.
func TestStartOnFullDisk(t *testing.T) {
	requireSluice(t)
	const n = 2000
	e := newEnv(t, envOptions{})
	filler := e.fillDataDir()
	s := e.start(false)
	s.allowErrors = []string{openRetryError}
	s.waitOpenRetrying(2)
	log := filepath.Join(e.container("default", "full", "app"), "0.log")
	appendLines(t, log, "F", 0, n, 0)

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	s.waitReady(90 * time.Second)
	got := newPodLines(e.outPath)
	got.waitUpTo(t, "F", n, 30*time.Second)
	if code := s.stop(30 * time.Second); code != 0 {
		t.Fatalf("sluice exit code %d after SIGTERM, want 0", code)
	}
	got.poll(t)
	if r := got.report("F", n); !r.exactlyOnceInOrder() {
		t.Errorf("want every line exactly once and in order: %v", r)
	} else {
		t.Logf("after the disk was freed: %v", r)
	}
}

// TestStopWhileDiskFull sends SIGTERM while sluice waits for disk space: it
// must exit at once, cleanly (0), as it would from a running pipeline.
func TestStopWhileDiskFull(t *testing.T) {
	requireSluice(t)
	e := newEnv(t, envOptions{})
	e.fillDataDir()
	s := e.start(false)
	s.allowErrors = []string{openRetryError}
	s.waitOpenRetrying(1)
	if code := s.stop(10 * time.Second); code != 0 {
		t.Fatalf("sluice exit code %d after SIGTERM while waiting for disk space, want 0; log:\n%s", code, s.logTail(20))
	}
}
