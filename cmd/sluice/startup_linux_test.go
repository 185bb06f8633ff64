//go:build linux

package main

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/sluicelog/sluice/internal/testdir"
)

// fullDisk mounts a tmpfs of 1 MiB and fills it, so ENOSPC is real.
func fullDisk(t *testing.T) (dir, filler string) {
	t.Helper()
	dir = filepath.Join(testdir.New(t), "disk")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a small tmpfs to fill (needs root and mount rights): %v: %s", err, out)
	}
	t.Cleanup(func() { syscall.Unmount(dir, 0) })
	filler = filepath.Join(dir, "filler")
	f, err := os.Create(filler)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(make([]byte, 2<<20)); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("filling the tmpfs: %v, want ENOSPC", err)
	}
	return dir, filler
}

// TestOpenWaitsOutAFullDisk starts on a full disk: open keeps trying,
// counting each failure, until it is stopped (errStopped, a clean exit);
// once space is back, the next start opens the buffer.
func TestOpenWaitsOutAFullDisk(t *testing.T) {
	disk, filler := fullDisk(t)
	ev := &diskErrors{}
	o := testOpener(disk, ev)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		buf, err := o.open(ctx)
		if buf != nil {
			buf.Close()
		}
		done <- err
	}()
	for ev.count("open") < 2 {
		select {
		case err := <-done:
			t.Fatalf("open returned %v on a full disk; want it to keep trying", err)
		case <-time.After(50 * time.Millisecond):
		}
	}
	cancel()
	if err := <-done; !errors.Is(err, errStopped) {
		t.Fatalf("open stopped with %v, want errStopped", err)
	}
	if ev.count("create") == 0 {
		t.Errorf("the failed segment creation was not counted: %v", ev.ops)
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	buf, err := o.open(context.Background())
	if err != nil {
		t.Fatalf("open once space is back: %v", err)
	}
	buf.Close()
}
