package file

import (
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
