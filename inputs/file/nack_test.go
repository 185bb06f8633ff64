package file

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sluicelog/sluice/inputs/file/checkpoint"
	"github.com/sluicelog/sluice/record"
)

// TestNackReadsAgain answers the second batch with a Nack, as the daemon
// does when the buffer's fsync failed: the lines from the last acknowledged
// position are read again, and the checkpoint then moves on to the end of
// the file instead of staying pinned at the failed batch.
func TestNackReadsAgain(t *testing.T) {
	rows := []struct {
		name string
		// rotate renames the file after the first read, so the nacked
		// batches belong to a file that has been closed and must be
		// found again by identity.
		rotate bool
	}{
		{name: "open file"},
		{name: "file rotated and closed before the nack", rotate: true},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			h := newHarness(t, "", func(c *Config) { c.BatchSize = 50; c.RotateWait = 0 })
			path := filepath.Join(h.dir, "0.log")
			appendFile(t, path, criLines(0, 300))
			nacked := make(chan *record.Batch, 1)
			h.answer = func(n int, b *record.Batch) {
				switch {
				case n == 1 && row.rotate:
					nacked <- b // answered once the file is closed
				case n == 1:
					b.Nack()
				default:
					b.Ack()
				}
			}
			h.start()
			if row.rotate {
				h.waitCount(300)
				if err := os.Rename(path, path+".20261203-173000"); err != nil {
					t.Fatal(err)
				}
				h.waitFor("the rotated file closed", func() bool { return h.counts.Snapshot().Rotations == 1 })
				(<-nacked).Nack()
			}
			h.waitFor("the nacked lines again", func() bool { return count(h.bodies(), "msg-50") == 2 })
			h.waitFor("the second reading to the end", func() bool {
				b := h.bodies()
				return count(b, "msg-50") == 2 && b[len(b)-1] == "msg-299"
			})
			time.Sleep(50 * time.Millisecond)
			// The first reading got as far as it did before the nack was
			// taken; the second starts at the nacked batch and goes on to
			// the end.
			got := h.bodies()
			again := len(got) - 250
			if again < 100 || !equalStrings(got[:again], msgs(0, again)) || !equalStrings(got[again:], msgs(50, 300)) {
				t.Fatalf("got %d lines, want msg-0..N (N >= 99) then, read again, msg-50..299; gaps %v", len(got), gaps(got))
			}
			h.stop()
			entries, err := checkpoint.Load(h.cfg.CheckpointPath)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range entries {
				if e.Offset != int64(len(criLines(0, 300))) {
					t.Fatalf("checkpoint of %s at %d after the nack, want the end %d", e.Path, e.Offset, len(criLines(0, 300)))
				}
			}
			if !row.rotate && len(entries) != 1 {
				t.Fatalf("%d checkpoint entries, want 1", len(entries))
			}
		})
	}
}

// TestInflightBounded never acknowledges: the tailer stops reading a file
// once maxInflight of its batches wait, instead of queueing without end.
func TestInflightBounded(t *testing.T) {
	h := newHarness(t, "", func(c *Config) { c.BatchSize = 1 })
	h.hold = true
	path := filepath.Join(h.dir, "0.log")
	appendFile(t, path, criLines(0, maxInflight+500))
	h.start()
	h.waitCount(maxInflight)
	time.Sleep(200 * time.Millisecond)
	if got := len(h.bodies()); got != maxInflight {
		t.Fatalf("%d batches sent without an answer, want the bound %d", got, maxInflight)
	}
	h.tl.reg.mu.Lock()
	defer h.tl.reg.mu.Unlock()
	for tr := range h.tl.reg.tracks {
		if n := tr.pendingCount(); n > maxInflight {
			t.Fatalf("track of %s holds %d batches in flight, over the bound %d", tr.path, n, maxInflight)
		}
	}
}

func count(ss []string, s string) int {
	n := 0
	for _, x := range ss {
		if x == s {
			n++
		}
	}
	return n
}

// TestNackOfFileOpenedEmptyThenCompressed nacks the first batch of a file
// the tailer opened while it was empty, after kubelet rotated it and then
// compressed it: only the .gz holds the lines. The rewind must find the .gz
// by the file's head, which the acknowledged position (taken when the file
// was empty) does not know. (Found by TestModel.)
func TestNackOfFileOpenedEmptyThenCompressed(t *testing.T) {
	h := newHarness(t, "", func(c *Config) { c.BatchSize = 50; c.RotateWait = 0 })
	path := filepath.Join(h.dir, "0.log")
	k := newKubelet(t, 5)
	appendFile(t, path, "")
	nacked := make(chan *record.Batch, 1)
	h.answer = func(n int, b *record.Batch) {
		if n == 0 {
			nacked <- b
			return
		}
		b.Ack()
	}
	h.start()
	h.waitFor("the empty file opened", func() bool { return h.counts.Snapshot().Opens == 1 })
	appendFile(t, path, criLines(0, 30))
	h.waitCount(30)
	k.rotate(path)
	h.waitFor("the rotated file closed", func() bool { return h.counts.Snapshot().Rotations == 1 })
	k.rotate(path) // the rotated file is now only a .gz
	(<-nacked).Nack()
	h.waitFor("the nacked lines again", func() bool { return count(h.bodies(), "msg-29") == 2 })
	time.Sleep(50 * time.Millisecond)
	got := h.bodies()
	if !equalStrings(got, append(msgs(0, 30), msgs(0, 30)...)) {
		t.Fatalf("got %d lines, want msg-0..29 twice; gaps %v", len(got), gaps(got))
	}
	if n := h.counts.Snapshot().Anomalies[SkipLostFile]; n != 0 {
		t.Errorf("lost_file = %d, want 0", n)
	}
}
