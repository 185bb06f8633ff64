//go:build linux

package buffer

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"

	"github.com/sluicelog/sluice/internal/testdir"
)

// diskErrors counts DiskError events by operation.
type diskErrors struct {
	NopEvents
	mu  sync.Mutex
	ops map[string]int
}

func (d *diskErrors) DiskError(op string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.ops == nil {
		d.ops = map[string]int{}
	}
	d.ops[op]++
}

// smallDisk mounts a tmpfs of size bytes, so a full disk is real, not faked.
func smallDisk(t *testing.T, size string) string {
	t.Helper()
	dir := filepath.Join(testdir.New(t), "disk")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a small tmpfs to fill (needs root and mount rights): %v: %s", err, out)
	}
	t.Cleanup(func() { syscall.Unmount(dir, 0) })
	return dir
}

// TestDiskFull fills the buffer's file system: appends fail with an error
// (counted, never a panic), what was appended before stays readable and
// intact, and appends go on once space is back.
func TestDiskFull(t *testing.T) {
	disk := smallDisk(t, "1m")
	ev := &diskErrors{}
	cfg := testConfig(filepath.Join(disk, "buffer"), "a")
	cfg.Events = ev
	cfg.Fsync = FsyncAlways
	b := open(t, cfg)

	filler := filepath.Join(disk, "filler")
	f, err := os.Create(filler)
	if err != nil {
		t.Fatal(err)
	}
	// Leave about 200 KiB free for the buffer.
	if _, err := f.Write(make([]byte, 700<<10)); err != nil {
		t.Fatal(err)
	}
	f.Close()

	appended, failures := 0, 0
	for i := 0; i < 4000 && failures < 5; i += 100 {
		if err := b.Append(context.Background(), recs(appended, appended+100), nil); err != nil {
			failures++
			t.Logf("append at record %d: %v", appended, err)
			continue
		}
		appended += 100
	}
	if failures == 0 {
		t.Fatal("the disk never filled; the test shows nothing")
	}
	if ev.ops["write"]+ev.ops["create"]+ev.ops["sync"] == 0 {
		t.Fatalf("disk errors not counted: %v", ev.ops)
	}
	os.Remove(filler)
	for i := 0; i < 3; i++ {
		if err := b.Append(context.Background(), recs(appended, appended+100), nil); err != nil {
			t.Fatalf("append after space came back: %v", err)
		}
		appended += 100
	}
	r, _ := b.Reader("a")
	defer r.Close()
	checkSeq(t, readN(t, r, appended, true), 0)
	t.Logf("%d records appended around %d failed appends; disk errors %v", appended, failures, ev.ops)
}
