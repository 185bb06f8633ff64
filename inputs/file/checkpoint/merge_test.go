package checkpoint

import (
	"testing"

	"github.com/sluicelog/sluice/inputs/file/fingerprint"
)

// TestMerge names the cases of merging the buffer's recovered positions
// into the saved checkpoint.
func TestMerge(t *testing.T) {
	fp := func(s string) fingerprint.Fingerprint { return fingerprint.FromBytes([]byte(s)) }
	const head = "2026-11-26T00:54:07.000000001Z stdout F first line of a\n"
	partials := []Partial{{Stream: "stdout", Offset: 900, Body: []byte("half a line")}}
	saved := func(fpr string, off int64) Entry {
		return Entry{Dev: 1, Ino: 10, Fingerprint: fp(fpr), Path: "/p/0.log", RealPath: "/r/0.log", Offset: off, Format: "cri", Partials: partials}
	}
	rec := func(dev, ino uint64, fpr string, off int64) Entry {
		return Entry{Dev: dev, Ino: ino, Fingerprint: fp(fpr), Offset: off}
	}
	for _, tc := range []struct {
		name      string
		saved     Entry
		recovered []Entry
		offset    int64  // the merged entry's offset
		head      string // and its fingerprint
		moved     bool   // whether it moved forward (and so lost its partials)
	}{
		{name: "buffer ahead", saved: saved(head, 1000), recovered: []Entry{rec(1, 10, head, 5000)},
			offset: 5000, head: head, moved: true},
		{name: "checkpoint ahead", saved: saved(head, 5000), recovered: []Entry{rec(1, 10, head, 1000)},
			offset: 5000, head: head},
		{name: "same position", saved: saved(head, 5000), recovered: []Entry{rec(1, 10, head, 5000)},
			offset: 5000, head: head},
		{name: "furthest of several records' heads", saved: saved(head, 1000),
			recovered: []Entry{rec(1, 10, head[:20], 3000), rec(1, 10, head, 7000), rec(1, 10, head[:40], 5000)},
			offset:    7000, head: head, moved: true},
		{name: "young file: the checkpoint's head is shorter", saved: saved(head[:12], 0),
			recovered: []Entry{rec(1, 10, head[:12], 40), rec(1, 10, head, 9000)},
			offset:    9000, head: head, moved: true},
		{name: "the buffer's head is shorter", saved: saved(head, 100), recovered: []Entry{rec(1, 10, head[:12], 60)},
			offset: 100, head: head},
		{name: "identity mismatch by head", saved: saved(head, 1000),
			recovered: []Entry{rec(1, 10, "2026-11-26T00:54:08.5Z stdout F another file\n", 9000)},
			offset:    1000, head: head},
		{name: "inode reuse: the old file's and the new file's records", saved: saved(head[:8], 1000),
			recovered: []Entry{rec(1, 10, head, 9000), rec(1, 10, "2026-11-26T00:59:00Z stdout F the old file\n", 7000)},
			offset:    1000, head: head[:8]},
		{name: "inode reuse: only the old file's records", saved: saved(head, 1000),
			recovered: []Entry{rec(1, 10, "2026-11-26T00:40:00Z stdout F the old file\n", 90_000)},
			offset:    1000, head: head},
		{name: "other device", saved: saved(head, 1000), recovered: []Entry{rec(2, 10, head, 9000)},
			offset: 1000, head: head},
		{name: "other inode", saved: saved(head, 1000), recovered: []Entry{rec(1, 11, head, 9000)},
			offset: 1000, head: head},
		{name: "empty saved head matches nothing", saved: saved("", 0), recovered: []Entry{rec(1, 10, head, 9000)},
			offset: 0, head: ""},
		{name: "empty recovered head matches nothing", saved: saved(head, 1000), recovered: []Entry{rec(1, 10, "", 9000)},
			offset: 1000, head: head},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, moved := Merge([]Entry{tc.saved}, tc.recovered)
			if len(got) != 1 {
				t.Fatalf("%d entries, want 1", len(got))
			}
			e := got[0]
			if e.Offset != tc.offset || !e.Fingerprint.Equal(fp(tc.head)) {
				t.Errorf("offset %d head %q, want %d %q", e.Offset, e.Fingerprint.Bytes(), tc.offset, tc.head)
			}
			if (moved == 1) != tc.moved {
				t.Errorf("moved %d entries, want moved = %v", moved, tc.moved)
			}
			if tc.moved == (len(e.Partials) != 0) {
				t.Errorf("partials %v after a merge that moved = %v", e.Partials, tc.moved)
			}
			if e.Path != tc.saved.Path || e.RealPath != tc.saved.RealPath || e.Format != tc.saved.Format {
				t.Errorf("path, real path or format changed: %+v", e)
			}
		})
	}
}

// TestMergeKeepsUnmatched: entries the buffer knows nothing of are kept as
// they are, and recovered positions of files the checkpoint does not know
// are not added.
func TestMergeKeepsUnmatched(t *testing.T) {
	a := Entry{Dev: 1, Ino: 1, Fingerprint: fingerprint.FromBytes([]byte("a")), Offset: 10}
	b := Entry{Dev: 1, Ino: 2, Fingerprint: fingerprint.FromBytes([]byte("b")), Offset: 20}
	got, moved := Merge([]Entry{a, b}, []Entry{{Dev: 1, Ino: 2, Fingerprint: b.Fingerprint, Offset: 30},
		{Dev: 1, Ino: 3, Fingerprint: fingerprint.FromBytes([]byte("c")), Offset: 40}})
	if moved != 1 || len(got) != 2 || got[0].Offset != 10 || got[1].Offset != 30 {
		t.Fatalf("Merge = %+v, %d", got, moved)
	}
}
