package e2e

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// These tests pin down how sluice tells files apart (device and inode plus
// a fingerprint of the file's head) where the inode alone is not enough: a
// copytruncated file keeps its inode while its content is replaced, and a
// deleted file's inode is given to the next file created. The fingerprint
// has to come from content, not from a file that was empty when sluice
// looked at it.

// TestCopyTruncateTwice rotates one file by copytruncate twice. The first
// truncation is seen while the file is empty; the second comes right after
// new lines were written, before sluice read them. sluice must read those
// lines from the second copy, not from the first, which also sits next to
// the file with a rotated name and holds enough bytes.
func TestCopyTruncateTwice(t *testing.T) {
	requireSluice(t)
	e := newEnv(t, envOptions{})
	path := filepath.Join(e.container("default", "ct", "app"), "0.log")
	writeFile(t, path, nil, 0o644)
	s := e.start(false)
	s.waitReady(10 * time.Second)
	got := newPodLines(e.outPath)

	appendLines(t, path, "A", 0, 2000, 0)
	got.wait(t, "A", 2000)
	copyAndTruncate(t, path, path+".20260101-000001")
	s.waitMetric("sluice_input_truncations_total", 1, 10*time.Second)
	appendLines(t, path, "B", 0, 1000, 0)
	got.wait(t, "B", 1000)
	appendLines(t, path, "C", 0, 500, 0)
	copyAndTruncate(t, path, path+".20260101-000002")
	s.waitMetric("sluice_input_truncations_total", 2, 10*time.Second)
	got.waitUpTo(t, "C", 500, 3*time.Second)
	if code := s.stop(30 * time.Second); code != 0 {
		t.Fatalf("sluice exit code %d after SIGTERM, want 0", code)
	}
	got.poll(t)
	for _, w := range []struct {
		pod string
		n   int
	}{{"A", 2000}, {"B", 1000}, {"C", 500}} {
		if r := got.report(w.pod, w.n); !r.exactlyOnceInOrder() {
			t.Errorf("lines %s: %v", w.pod, r)
		}
	}
}

// TestRestartRewrittenFile stops sluice while it reads a file that was
// empty when sluice opened it, truncates and rewrites the file while sluice
// is down (a copytruncate whose copy has since been compressed; a deleted
// file whose inode the next file gets is the same case), and restarts it.
// Same path, same inode, other content: the checkpoint is about the old
// content, and the restarted sluice must read the new one from its start.
func TestRestartRewrittenFile(t *testing.T) {
	requireSluice(t)
	e := newEnv(t, envOptions{})
	path := filepath.Join(e.container("default", "rewrite", "app"), "0.log")
	writeFile(t, path, nil, 0o644)
	s := e.start(false)
	s.waitReady(10 * time.Second)
	s.waitMetric("sluice_input_files_open", 1, 10*time.Second) // opened while empty
	got := newPodLines(e.outPath)
	appendLines(t, path, "old", 0, 100, 10*time.Millisecond) // steadily, as a container writes
	got.wait(t, "old", 100)
	if code := s.stop(30 * time.Second); code != 0 {
		t.Fatalf("sluice exit code %d after SIGTERM, want 0", code)
	}

	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	appendLines(t, path, "new", 0, 150, 0)
	s = e.start(false)
	s.waitReady(10 * time.Second)
	got.waitUpTo(t, "new", 150, 3*time.Second)
	if code := s.stop(30 * time.Second); code != 0 {
		t.Fatalf("sluice exit code %d after SIGTERM, want 0", code)
	}
	got.poll(t)
	if r := got.report("new", 150); r.missing > 0 {
		t.Errorf("new content of %s: %v", path, r)
	}
}

// copyAndTruncate rotates path to rotated by copytruncate.
func copyAndTruncate(t *testing.T, path, rotated string) {
	t.Helper()
	if err := copyFile(path, rotated); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
}
