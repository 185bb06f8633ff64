package file

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/sluicelog/sluice/inputs/file/checkpoint"
	"github.com/sluicelog/sluice/inputs/file/fingerprint"
	"github.com/sluicelog/sluice/record"
)

// recoveredAt is what the buffer's Resume gives for a buffer whose newest
// record of the file is r.
func recoveredAt(r record.Record) checkpoint.Entry {
	return checkpoint.Entry{Dev: r.Source.Dev, Ino: r.Source.Ino, Fingerprint: fingerprint.FromBytes(r.Source.Head), Offset: r.Next}
}

// TestResumeFromRecoveredPosition restarts the tailer after records were
// emitted but never acknowledged (the checkpoint trails), as after a kill
// -9 whose buffer kept them: given the position of the newest record the
// buffer holds, the tailer goes on right after it, neither repeating the
// lines the buffer has nor skipping any; a join saved in the checkpoint
// that the buffer's records completed is not restored.
func TestResumeFromRecoveredPosition(t *testing.T) {
	for _, tc := range []struct {
		name   string
		before string // acknowledged: the checkpoint covers it
		held   string // emitted, not acknowledged: only the buffer has it
		want   []string
	}{
		{name: "whole lines", before: criLines(0, 20), held: criLines(20, 50),
			want: msgs(40, 60)},
		{name: "a join the checkpoint saved, completed in the buffer",
			before: criLines(0, 20) + "2026-11-26T00:54:07Z stdout P joined \n",
			held:   "2026-11-26T00:54:07Z stdout F across\n" + criLines(20, 50),
			want:   msgs(40, 60)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, "", nil)
			path := filepath.Join(h.dir, "0.log")
			appendFile(t, path, tc.before)
			h.start()
			h.waitCount(20)
			h.waitFor("the checkpoint to cover the acknowledged lines", func() bool {
				e := h.tl.reg.entries()
				return len(e) == 1 && e[0].Offset == int64(len(tc.before))
			})
			h.mu.Lock()
			h.hold = true
			h.mu.Unlock()
			appendFile(t, path, tc.held)
			n := len(h.bodies()) + 30
			if tc.before != criLines(0, 20) {
				n++ // the joined line
			}
			h.waitCount(n)
			h.stop()
			recs := h.records()
			newest := recs[len(recs)-11] // msg-39: the buffer lost msg-40 and after
			if string(newest.Body) != "msg-39" || newest.Source == nil || newest.Next == 0 {
				t.Fatalf("record %q: source %v next %d", newest.Body, newest.Source, newest.Next)
			}

			appendFile(t, path, criLines(50, 60))
			h2 := newHarness(t, h.dir, func(c *Config) { c.Recovered = []checkpoint.Entry{recoveredAt(newest)} })
			h2.start()
			h2.waitCount(len(tc.want))
			h2.stop()
			if got := h2.bodies(); !equalStrings(got, tc.want) {
				t.Fatalf("after restart got %q, want %q", tail(got, 25), tc.want)
			}
		})
	}
}

// TestResumeFileOpenedAfterLastSave: a file first read after the
// checkpoint's last save has no entry; when the buffer holds its records,
// a restart goes on after them instead of reading it from its start.
func TestResumeFileOpenedAfterLastSave(t *testing.T) {
	h := newHarness(t, "", nil)
	h.hold = true
	path := filepath.Join(h.dir, "0.log")
	appendFile(t, path, criLines(0, 30))
	h.start()
	h.waitCount(30)
	h.stop()
	if err := os.Remove(h.cfg.CheckpointPath); err != nil {
		t.Fatal(err)
	}
	newest := h.records()[19] // the buffer lost msg-20 and after

	appendFile(t, path, criLines(30, 40))
	h2 := newHarness(t, h.dir, func(c *Config) { c.Recovered = []checkpoint.Entry{recoveredAt(newest)} })
	h2.start()
	h2.waitCount(20)
	h2.stop()
	if got := h2.bodies(); !equalStrings(got, msgs(20, 40)) {
		t.Fatalf("after restart got %q, want msg-20..39", tail(got, 25))
	}
}

// TestFurthestNeedsTheFilesHead: a recovered position applies to a file
// without a checkpoint entry only when its head is a prefix of the file's.
func TestFurthestNeedsTheFilesHead(t *testing.T) {
	live := fingerprint.FromBytes([]byte("2026-11-26T00:54:07Z stdout F the live file\n"))
	rec := func(head string, off int64) checkpoint.Entry {
		return checkpoint.Entry{Dev: 1, Ino: 2, Fingerprint: fingerprint.FromBytes([]byte(head)), Offset: off}
	}
	for _, tc := range []struct {
		name      string
		recovered []checkpoint.Entry
		off       int64
		ok        bool
	}{
		{"its own records, short and full heads", []checkpoint.Entry{rec("2026-11-26T00:54:07Z", 100), rec(string(live.Bytes()), 900)}, 900, true},
		{"a reused inode's old file", []checkpoint.Entry{rec("2026-11-26T00:40:00Z stdout F old\n", 5000)}, 0, false},
		{"an empty head", []checkpoint.Entry{rec("", 5000)}, 0, false},
		{"another inode", []checkpoint.Entry{{Dev: 1, Ino: 3, Fingerprint: live, Offset: 5000}}, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			off, ok := checkpoint.Furthest(tc.recovered, 1, 2, live)
			if off != tc.off || ok != tc.ok {
				t.Fatalf("Furthest = %d, %v; want %d, %v", off, ok, tc.off, tc.ok)
			}
		})
	}
}

// TestResumeWhenCheckpointHeadIsEmpty: a file opened while empty is
// checkpointed with an empty head until a batch of it is acknowledged;
// such an entry matches any content, so Merge leaves it alone, and the
// position is taken when the file is opened, against its own head.
func TestResumeWhenCheckpointHeadIsEmpty(t *testing.T) {
	h := newHarness(t, "", nil)
	h.hold = true
	path := filepath.Join(h.dir, "0.log")
	appendFile(t, path, criLines(0, 30))
	h.start()
	h.waitCount(30)
	h.stop()
	saved, err := checkpoint.Load(h.cfg.CheckpointPath)
	if err != nil || len(saved) != 1 || saved[0].Offset != 0 {
		t.Fatalf("checkpoint %+v, %v", saved, err)
	}
	saved[0].Fingerprint = fingerprint.Fingerprint{}
	if err := checkpoint.Save(h.cfg.CheckpointPath, saved); err != nil {
		t.Fatal(err)
	}
	newest := h.records()[19]

	appendFile(t, path, criLines(30, 40))
	h2 := newHarness(t, h.dir, func(c *Config) { c.Recovered = []checkpoint.Entry{recoveredAt(newest)} })
	h2.start()
	h2.waitCount(20)
	h2.stop()
	if got := h2.bodies(); !equalStrings(got, msgs(20, 40)) {
		t.Fatalf("after restart got %q, want msg-20..39", tail(got, 25))
	}
}
