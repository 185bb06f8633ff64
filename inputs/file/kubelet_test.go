package file

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
)

// kubelet rotates a container's log the way kubelet's container log
// manager does (pkg/kubelet/logs, rotateLog): remove `.tmp` leftovers and
// rotated files whose `.gz` exists, remove the oldest rotated files beyond
// maxFiles-2, gzip every uncompressed rotated file (`<f>.tmp`, renamed to
// `<f>.gz`, then `<f>` removed), rename the log to `<log>.<YYYYMMDD-hhmmss>`
// and have the runtime open a new one. Its clock moves a second per
// rotation, so names are unique and sort in rotation order, as kubelet's do
// at its real pace; like kubelet's, it tells the node's local time.
type kubelet struct {
	t        *testing.T
	maxFiles int
	clock    time.Time
}

func newKubelet(t *testing.T, maxFiles int) *kubelet {
	return &kubelet{t: t, maxFiles: maxFiles}
}

func (k *kubelet) rotate(log string) {
	t := k.t
	t.Helper()
	logs, err := filepath.Glob(log + ".*")
	if err != nil {
		t.Fatal(err)
	}
	logs = k.cleanupUnused(logs)
	sort.Strings(logs)
	for len(logs) > k.maxFiles-2 {
		k.remove(logs[0])
		logs = logs[1:]
	}
	for _, l := range logs {
		if !strings.HasSuffix(l, ".gz") {
			k.compress(l)
		}
	}
	k.clock = k.clock.Add(time.Second)
	if now := time.Now().Truncate(time.Second); now.After(k.clock) {
		k.clock = now
	}
	if err := os.Rename(log, log+"."+k.clock.Local().Format("20060102-150405")); err != nil {
		t.Fatal(err)
	}
	appendFile(t, log, "") // the runtime reopens the container's log
}

func (k *kubelet) cleanupUnused(logs []string) []string {
	has := map[string]bool{}
	for _, l := range logs {
		has[l] = true
	}
	var kept []string
	for _, l := range logs {
		if strings.HasSuffix(l, ".tmp") || (!strings.HasSuffix(l, ".gz") && has[l+".gz"]) {
			k.remove(l)
			continue
		}
		kept = append(kept, l)
	}
	return kept
}

func (k *kubelet) compress(l string) {
	t := k.t
	t.Helper()
	in, err := os.ReadFile(l)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(l+".tmp", os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	zw := gzip.NewWriter(f)
	if _, err := zw.Write(in); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(l+".tmp", l+".gz"); err != nil {
		t.Fatal(err)
	}
	k.remove(l)
}

func (k *kubelet) remove(p string) {
	k.t.Helper()
	if err := os.Remove(p); err != nil {
		k.t.Fatal(err)
	}
}

// gzNames lists the compressed rotated files next to log.
func gzNames(t *testing.T, log string) []string {
	t.Helper()
	m, err := filepath.Glob(log + ".*.gz")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestKubeletRotationWhileStopped stops the tailer with part of 0.log
// unread, then rotates it the way kubelet does three times while writing:
// the unread rest and the next file exist only as .gz files at restart. They
// are read from the .gz, in rotation order, from the checkpointed offset.
func TestKubeletRotationWhileStopped(t *testing.T) {
	rows := []struct {
		name     string
		maxFiles int
		// from is the first line expected after the restart: lines of files
		// pruned beyond maxFiles are really gone.
		from    int
		lost    int // files counted lost
		wantGzs int
	}{
		{name: "everything still on disk", maxFiles: 5, from: 100, wantGzs: 2},
		{name: "the unread file pruned", maxFiles: 2, from: 300, lost: 1},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			h := newHarness(t, "", nil)
			path := filepath.Join(h.dir, "0.log")
			k := newKubelet(t, row.maxFiles)
			appendFile(t, path, criLines(0, 100))
			h.start()
			h.waitCount(100)
			h.stop()
			appendFile(t, path, criLines(100, 200))
			for i := 200; i < 500; i += 100 {
				k.rotate(path)
				appendFile(t, path, criLines(i, i+100))
			}
			if got := len(gzNames(t, path)); got != row.wantGzs {
				t.Fatalf("kubelet left %d .gz files, want %d", got, row.wantGzs)
			}

			h2 := newHarness(t, h.dir, nil)
			h2.start()
			h2.waitCount(500 - row.from)
			time.Sleep(50 * time.Millisecond)
			if got := h2.bodies(); !equalStrings(got, msgs(row.from, 500)) {
				t.Fatalf("after restart got %d lines %q..., want msg-%d..msg-499 once in order", len(got), tail(got, 5), row.from)
			}
			c := h2.counts.Snapshot()
			if c.Anomalies[SkipLostFile] != row.lost {
				t.Errorf("lost_file = %d, want %d", c.Anomalies[SkipLostFile], row.lost)
			}
			// The unread lines were written after the stop: how many bytes
			// were lost cannot be known, and none are claimed.
			if n := c.Anomalies[SkipLostBytes]; n != 0 {
				t.Errorf("lost_bytes = %d, want 0 (unknown)", n)
			}
		})
	}
}

// TestGzNeverNewInput: a .gz that continues no known file is not read,
// nor are rotated files older than the checkpointed one.
func TestGzNeverNewInput(t *testing.T) {
	h := newHarness(t, "", nil)
	path := filepath.Join(h.dir, "0.log")
	k := newKubelet(t, 5)
	appendFile(t, path, criLines(0, 10))
	k.rotate(path)
	appendFile(t, path, criLines(10, 20))
	k.rotate(path) // the first file is now a .gz that no one has read
	appendFile(t, path, criLines(20, 30))
	h.start()
	h.waitCount(10)
	h.stop()
	appendFile(t, path, criLines(30, 40))
	k.rotate(path)
	k.rotate(path)
	h2 := newHarness(t, h.dir, nil)
	h2.start()
	h2.waitCount(10)
	time.Sleep(100 * time.Millisecond)
	want := append(msgs(0, 0), msgs(30, 40)...)
	if got := h2.bodies(); !equalStrings(got, want) {
		t.Fatalf("after restart got %q, want only msg-30..msg-39", tail(got, 20))
	}
}

// TestDiscoveryGoesOnWhileBlocked stalls the consumer so the tailer cannot
// hand over batches, and has kubelet rotate and prune (max files 2: every
// rotated file is deleted at the next rotation) several times meanwhile.
// Discovery must go on: each new 0.log is opened while blocked, so its lines
// survive the deletion of its name and arrive once the consumer is back.
func TestDiscoveryGoesOnWhileBlocked(t *testing.T) {
	h := newHarness(t, "", func(c *Config) { c.BatchSize = 8 })
	path := filepath.Join(h.dir, "0.log")
	k := newKubelet(t, 2)
	appendFile(t, path, criLines(0, 400))
	stall := make(chan struct{})
	h.stall = stall
	h.start()
	h.waitFor("the tailer blocked", func() bool { return h.counts.Snapshot().Lines >= 40 })
	opens := h.counts.Snapshot().Opens
	for i := 400; i < 800; i += 100 {
		k.rotate(path)
		appendFile(t, path, criLines(i, i+100))
		want := opens + 1
		h.waitFor("the new 0.log opened while blocked", func() bool { return h.counts.Snapshot().Opens >= want })
		opens = want
	}
	close(stall)
	h.waitFor("800 records", func() bool { return len(h.bodies()) >= 800 || h.counts.Snapshot().Rotations >= 4 })
	time.Sleep(50 * time.Millisecond)
	if got := h.bodies(); !equalStrings(got, msgs(0, 800)) {
		t.Fatalf("got %d lines, want msg-0..msg-799 once in order; last %q; gaps %v", len(got), tail(got, 5), gaps(got))
	}
}

// TestCopytruncateRegrowth truncates a file and writes it past the old
// offset before the tailer looks again: the head no longer matching the
// fingerprint is what tells it, and the new content is read from 0.
func TestCopytruncateRegrowth(t *testing.T) {
	h := newHarness(t, "", func(c *Config) { c.PollInterval, c.DiscoverInterval = 300*time.Millisecond, time.Hour })
	path := filepath.Join(h.dir, "0.log")
	appendFile(t, path, criLines(0, 20))
	h.start()
	h.waitCount(20)
	copyTruncate(t, path, path+".1")
	appendFile(t, path, strings.ReplaceAll(criLines(100, 160), "07.", "08."))
	h.waitCount(80)
	time.Sleep(50 * time.Millisecond)
	if got := h.bodies(); !equalStrings(got, append(msgs(0, 20), msgs(100, 160)...)) {
		t.Fatalf("got %q, want msg-0..19 then msg-100..159", tail(got, 70))
	}
	if n := h.counts.Snapshot().Truncs; n != 1 {
		t.Errorf("truncations counted: %d, want 1", n)
	}
}

var _ = fmt.Sprint

// gaps describes where a run of msg-N bodies skips or repeats, for failure messages.
func gaps(got []string) []string {
	var out []string
	prev := -1
	for _, g := range got {
		var n int
		if _, err := fmt.Sscanf(g, "msg-%d", &n); err != nil {
			out = append(out, "?"+g)
			continue
		}
		if n != prev+1 {
			out = append(out, fmt.Sprintf("%d->%d", prev, n))
		}
		prev = n
	}
	return out
}

// TestCopytruncateBeforeFirstRead copytruncates a file twice. After the
// first, the reader starts over at offset 0 of an empty file; before the
// second, the writer has put only part of a line there, which the reader
// cannot consume yet. That part is only in the second copy, which only a
// fingerprint of it can find: it must be read from there, between the
// first copy's lines and the file's new ones.
func TestCopytruncateBeforeFirstRead(t *testing.T) {
	h := newHarness(t, "", nil)
	path := filepath.Join(h.dir, "0.log")
	appendFile(t, path, criLines(0, 20))
	h.start()
	h.waitCount(20)
	copyTruncate(t, path, path+".20261204-000001")
	h.waitFor("the truncation", func() bool { return h.counts.Snapshot().Truncs == 1 })
	part := strings.ReplaceAll(criLines(20, 21), "07.", "08.")
	appendFile(t, path, part[:len(part)-1]) // no newline yet
	time.Sleep(200 * time.Millisecond)      // discovery looks at the file a few times
	copyTruncate(t, path, path+".20261204-000002")
	appendFile(t, path, strings.ReplaceAll(criLines(21, 40), "07.", "09."))
	h.waitFor("every line", func() bool { return len(h.bodies()) >= 40 })
	time.Sleep(50 * time.Millisecond)
	if got := h.bodies(); !equalStrings(got, msgs(0, 40)) {
		t.Fatalf("%d bodies, gaps %v", len(got), gaps(got))
	}
}
