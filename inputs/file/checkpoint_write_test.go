package file

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sluicelog/sluice/inputs/file/checkpoint"
	"github.com/sluicelog/sluice/internal/testdir"
)

// TestCheckpointWrittenOnlyWhenChanged: an idle node does not rewrite its
// checkpoint every interval (with thousands of files it is megabytes of
// fingerprints), but a new line read and acknowledged is saved.
func TestCheckpointWrittenOnlyWhenChanged(t *testing.T) {
	h := newHarness(t, "", nil)
	path := filepath.Join(h.dir, "0.log")
	appendFile(t, path, criLines(0, 10))
	h.start()
	h.waitCount(10)
	mtime := func() time.Time {
		st, err := os.Stat(h.cfg.CheckpointPath)
		if err != nil {
			return time.Time{}
		}
		return st.ModTime()
	}
	h.waitFor("the checkpoint written", func() bool { return !mtime().IsZero() })
	time.Sleep(5 * h.cfg.CheckpointEvery)
	idle := mtime()
	time.Sleep(10 * h.cfg.CheckpointEvery)
	if got := mtime(); !got.Equal(idle) {
		t.Fatalf("checkpoint rewritten while nothing changed: mtime %v, then %v", idle, got)
	}
	appendFile(t, path, criLines(10, 11))
	h.waitCount(11)
	h.waitFor("the checkpoint written again", func() bool { return mtime().After(idle) })
}

// TestSkipNotesForgetGonePaths: a path skipped once (here a folder that
// matches the pattern) is remembered so it is counted once, and forgotten
// when it is gone, so the notes do not grow with every path a node had.
func TestSkipNotesForgetGonePaths(t *testing.T) {
	dir := testdir.New(t)
	tl, err := New(testConfig(dir))
	if err != nil {
		t.Fatal(err)
	}
	folder := filepath.Join(dir, "x.log")
	if err := os.Mkdir(folder, 0o755); err != nil {
		t.Fatal(err)
	}
	tl.discover(true)
	tl.discover(false)
	if _, ok := tl.skipped[folder]; !ok {
		t.Fatalf("skip notes %v, want %s", tl.skipped, folder)
	}
	if err := os.Remove(folder); err != nil {
		t.Fatal(err)
	}
	tl.discover(false)
	if len(tl.skipped) != 0 {
		t.Fatalf("skip notes kept after the path went: %v", tl.skipped)
	}
}

// TestCheckpointHeadOfYoungFile: a file opened while empty whose batches
// are not acknowledged yet is saved with its head, taken from the batches
// in flight. With an empty one it could not be found again once kubelet
// compressed it while sluice was down, and would be counted lost.
func TestCheckpointHeadOfYoungFile(t *testing.T) {
	h := newHarness(t, "", nil)
	h.hold = true
	path := filepath.Join(h.dir, "0.log")
	appendFile(t, path, "")
	h.start()
	h.waitFor("the empty file opened", func() bool { return h.counts.Snapshot().Opens == 1 })
	appendFile(t, path, criLines(0, 20))
	h.waitCount(20)
	h.stop()
	entries, err := checkpoint.Load(h.cfg.CheckpointPath)
	if err != nil || len(entries) != 1 {
		t.Fatalf("checkpoint: %v, %d entries", err, len(entries))
	}
	if e := entries[0]; e.Offset != 0 || e.Fingerprint.Len() == 0 {
		t.Fatalf("entry at offset %d with a %d-byte head; want offset 0 (nothing acknowledged) and the file's head", e.Offset, e.Fingerprint.Len())
	}
}

// TestCheckpointFailureIsCounted: a checkpoint that cannot be replaced
// (here a folder that is not empty stands where the file goes) makes Save
// fail and is reported through Events, so the daemon counts it.
func TestCheckpointFailureIsCounted(t *testing.T) {
	dir := testdir.New(t)
	cfg := testConfig(dir)
	counts := &Counts{}
	cfg.Events = counts
	if err := os.MkdirAll(filepath.Join(cfg.CheckpointPath, "in-the-way"), 0o700); err != nil {
		t.Fatal(err)
	}
	tl, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := tl.Save(); err == nil {
		t.Fatal("Save over a folder succeeded")
	}
	if got := counts.Snapshot().CheckpointFailures; got != 1 {
		t.Fatalf("%d checkpoint failures counted, want 1", got)
	}
}
