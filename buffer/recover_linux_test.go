//go:build linux

package buffer

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
)

// TestRecoveryOnReadOnlyDisk opens a buffer whose file system was remounted
// read-only, a real failure that root cannot bypass: the two newest
// segments, which recovery repairs, cannot be opened for it. Open must
// fail naming the first of them, with the cause kept for errors.Is, and
// delete and count nothing.
func TestRecoveryOnReadOnlyDisk(t *testing.T) {
	disk := smallDisk(t, "4m")
	dir := filepath.Join(disk, "buffer")
	segs := closedBuffer(t, dir, 1500)
	if out, err := exec.Command("mount", "-o", "remount,ro", disk).CombinedOutput(); err != nil {
		t.Fatalf("remount the tmpfs read-only: %v: %s", err, out)
	}
	ev := &counting{}
	cfg := testConfig(dir, "a")
	cfg.Events = ev
	b, err := Open(cfg)
	if err == nil {
		b.Close()
	}
	checkUnreadableKept(t, err, segPath(dir, segs[len(segs)-2]), ev)
	if !errors.Is(err, syscall.EROFS) {
		t.Errorf("error %v does not wrap EROFS; the daemon could not tell it may go away", err)
	}
	for _, idx := range segs {
		if _, err := os.Stat(segPath(dir, idx)); err != nil {
			t.Errorf("segment %d: %v", idx, err)
		}
	}
}
