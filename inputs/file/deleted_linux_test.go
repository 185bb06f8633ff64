package file

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// heldDeleted lists the files under dir this process holds open although
// they are deleted: on Windows each would be "delete pending" and stop
// kubelet's next rotation.
func heldDeleted(t *testing.T, dir string) []string {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, fd := range fds {
		target, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name()))
		if err == nil && strings.HasPrefix(target, dir) && strings.HasSuffix(target, " (deleted)") {
			out = append(out, target)
		}
	}
	return out
}

// TestDeletedWhileBlocked has kubelet compress and delete a file the tailer
// holds with unread bytes, while the consumer is stalled. With the .gz there
// the handle is let go at once and the rest is read from the .gz; without
// one (pruned) the file is kept until release_deleted and then released,
// its unread bytes counted as lost.
func TestDeletedWhileBlocked(t *testing.T) {
	rows := []struct {
		name     string
		maxFiles int
		release  time.Duration
		wantAll  bool
	}{
		{name: "rest read from the gz", maxFiles: 5, release: time.Hour, wantAll: true},
		{name: "no gz: released after the limit", maxFiles: 2, release: 300 * time.Millisecond},
		{name: "no gz, no limit: kept until read", maxFiles: 2, wantAll: true},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			h := newHarness(t, "", func(c *Config) { c.BatchSize = 8; c.ReleaseDeleted = row.release })
			path := filepath.Join(h.dir, "0.log")
			k := newKubelet(t, row.maxFiles)
			appendFile(t, path, criLines(0, 400))
			stall := make(chan struct{})
			h.stall = stall
			h.start()
			h.waitFor("the tailer blocked", func() bool { return h.counts.Snapshot().Lines >= 40 })
			k.rotate(path)
			appendFile(t, path, criLines(400, 500))
			h.waitFor("the new 0.log opened", func() bool { return h.counts.Snapshot().Opens >= 2 })
			k.rotate(path) // compresses (or prunes) and deletes the file with unread lines
			appendFile(t, path, criLines(500, 600))
			h.waitFor("the newest 0.log opened", func() bool { return h.counts.Snapshot().Opens >= 3 })
			if row.release > 0 {
				h.waitFor("no deleted file held", func() bool { return len(heldDeleted(t, h.dir)) == 0 })
			} else {
				time.Sleep(300 * time.Millisecond)
				if len(heldDeleted(t, h.dir)) == 0 {
					t.Fatal("the deleted file with unread lines was let go without a limit")
				}
			}
			close(stall)
			if row.wantAll {
				h.waitFor("600 records", func() bool { return len(h.bodies()) >= 600 || count(h.bodies(), "msg-599") > 0 })
				time.Sleep(50 * time.Millisecond)
				if got := h.bodies(); !equalStrings(got, msgs(0, 600)) {
					t.Fatalf("got %d lines, want msg-0..599 once in order; gaps %v", len(got), gaps(got))
				}
				if c := h.counts.Snapshot(); c.Anomalies[SkipLostFile] != 0 {
					t.Errorf("lost_file = %d for a file read to its end", c.Anomalies[SkipLostFile])
				}
				return
			}
			h.waitFor("the later files read", func() bool { return count(h.bodies(), "msg-599") == 1 })
			c := h.counts.Snapshot()
			if c.Anomalies[SkipReleased] != 1 {
				t.Fatalf("released = %d, want 1", c.Anomalies[SkipReleased])
			}
			// The lost bytes are exactly those of the first file's lines
			// that never arrived.
			arrived := map[string]bool{}
			for _, b := range h.bodies() {
				arrived[b] = true
			}
			want := 0
			for i := 0; i < 400; i++ {
				if !arrived[msgs(i, i+1)[0]] {
					want += len(criLines(i, i+1))
				}
			}
			if got := c.Anomalies[SkipLostBytes]; got != want || want == 0 {
				t.Errorf("lost_bytes = %d, want %d, the bytes of the lines that never arrived", got, want)
			}
		})
	}
}
