package file

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sluicelog/sluice/inputs/file/checkpoint"
	"github.com/sluicelog/sluice/inputs/file/fingerprint"
	"github.com/sluicelog/sluice/inputs/file/osfile"
)

// TestResumeLostEntryLeavesOthersTheirFiles: at start, a checkpointed file
// that is gone makes the tailer read the files rotated after it from their
// start. A rotated file that another entry of the checkpoint continues is
// not one of them: it is read from that entry's offset, whatever the order
// of the entries. (Found by TestModel: a graceful restart read two whole
// files again when the entry of an empty file kubelet had compressed came
// first.)
func TestResumeLostEntryLeavesOthersTheirFiles(t *testing.T) {
	h := newHarness(t, "", nil)
	path := filepath.Join(h.dir, "0.log")
	rotated := path + ".20261203-173000"
	appendFile(t, rotated, criLines(0, 10))
	appendFile(t, path, criLines(100, 103))
	f, err := osfile.Open(rotated)
	if err != nil {
		t.Fatal(err)
	}
	id, err := osfile.IDOf(f)
	if err != nil {
		t.Fatal(err)
	}
	fp, err := fingerprint.New(f, fingerprint.DefaultSize)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	goneFP, err := fingerprint.New(strings.NewReader(criLines(50, 60)), fingerprint.DefaultSize)
	if err != nil {
		t.Fatal(err)
	}
	name, err := time.ParseInLocation("20060102-150405", "20261203-173000", time.Local)
	if err != nil {
		t.Fatal(err)
	}
	offset := int64(len(criLines(0, 5)))
	entries := []checkpoint.Entry{
		// Gone (pruned): last read a minute before the rotation above.
		{Dev: id.Dev, Ino: id.Ino + 1_000_000, Fingerprint: goneFP, Path: path, RealPath: path,
			Offset: 100, Size: 200, Seen: name.Add(-time.Minute)},
		{Dev: id.Dev, Ino: id.Ino, Fingerprint: fp, Path: path, RealPath: path,
			Offset: offset, Size: offset, Seen: name.Add(time.Second)},
	}
	if err := os.MkdirAll(filepath.Dir(h.cfg.CheckpointPath), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := checkpoint.Save(h.cfg.CheckpointPath, entries); err != nil {
		t.Fatal(err)
	}
	h.start()
	h.waitCount(8)
	time.Sleep(100 * time.Millisecond)
	want := append(msgs(5, 10), msgs(100, 103)...)
	if got := h.bodies(); !equalStrings(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	if n := h.counts.Snapshot().Anomalies[SkipLostFile]; n != 1 {
		t.Errorf("lost_file = %d, want 1 (the pruned file only)", n)
	}
}
