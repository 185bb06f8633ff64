package buffer

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/sluicelog/sluice/buffer/codec"
	"github.com/sluicelog/sluice/internal/testdir"
	"github.com/sluicelog/sluice/record"
)

// lineLen is the size of every line of the files fileRecords makes up.
const lineLen = 50

// fileRecords returns the records of lines [from, to) of a file whose
// lines are lineLen bytes long, as the tailer would emit them.
func fileRecords(src *record.Source, from, to int) []record.Record {
	out := make([]record.Record, 0, to-from)
	for i := from; i < to; i++ {
		out = append(out, record.Record{
			Time: time.Unix(1_800_000_000, int64(i)).UTC(), Stream: "stdout", Path: "/var/log/pods/a/app/0.log",
			Body: fmt.Appendf(nil, "ino %d line %06d", src.Ino, i), Offset: int64(i * lineLen), Next: int64((i + 1) * lineLen),
			Source: src,
		})
	}
	return out
}

func identity(s *record.Source) codec.Identity {
	id, _ := codec.IdentityOf(s)
	return id
}

func resumeOf(b *Buffer) map[codec.Identity]int64 {
	out := map[codec.Identity]int64{}
	for _, p := range b.Resume() {
		out[p.Identity] = p.Next
	}
	return out
}

func appendNow(t *testing.T, b *Buffer, recs []record.Record) {
	t.Helper()
	if err := b.Append(context.Background(), recs, nil); err != nil {
		t.Fatal(err)
	}
}

// TestResumeFurthestPerFile checks Resume across segments and restarts:
// one point per file identity (a head that grew is another identity, which
// the checkpoint merge matches by prefix), the furthest restart offset of
// each, whatever the order of segments; records with no file or no offset
// give none.
func TestResumeFurthestPerFile(t *testing.T) {
	dir := testdir.New(t)
	a := &record.Source{Dev: 7, Ino: 1, Head: []byte("head of a")}
	aGrown := &record.Source{Dev: 7, Ino: 1, Head: []byte("head of a, grown")}
	c := &record.Source{Dev: 7, Ino: 3, Head: []byte("head of c")}
	b := open(t, testConfig(dir, "s"))
	appendNow(t, b, fileRecords(a, 0, 100))
	appendNow(t, b, fileRecords(c, 0, 40))
	if len(b.Resume()) != 0 {
		t.Fatalf("an empty buffer resumes %v", b.Resume())
	}
	b.Close()

	b = open(t, testConfig(dir, "s"))
	appendNow(t, b, fileRecords(aGrown, 100, 3000)) // several segments
	unknown := fileRecords(c, 40, 50)
	for i := range unknown {
		unknown[i].Next = 0 // a join that began in another file was open
	}
	appendNow(t, b, unknown)
	appendNow(t, b, recs(0, 10)) // no Source
	b.Close()

	b = open(t, testConfig(dir, "s"))
	if len(b.segs) < 4 {
		t.Fatalf("the test wants several segments, has %d", len(b.segs))
	}
	got := resumeOf(b)
	want := map[codec.Identity]int64{identity(a): 100 * lineLen, identity(aGrown): 3000 * lineLen, identity(c): 40 * lineLen}
	if len(got) != len(want) {
		t.Fatalf("Resume = %v, want %v", got, want)
	}
	for id, n := range want {
		if got[id] != n {
			t.Errorf("file %+v resumes at %d, want %d", id, got[id], n)
		}
	}
}

// TestResumeAfterPowerLoss writes a file's records through the buffer,
// makes the first ones durable, and then loses what was not synced as a
// power loss would: the newest segment is cut back to its synced size, or
// torn inside a frame, or has the block after its synced size lost while
// later blocks reached the disk. The resume point must come only from the
// records that survived in order, so that every line is either still in
// the buffer or re-read from the file: none skipped.
func TestResumeAfterPowerLoss(t *testing.T) {
	src := &record.Source{Dev: 9, Ino: 42, Head: []byte("2026-11-26T00:54:07Z stdout F first line\n")}
	for _, tc := range []struct {
		name string
		lose func(t *testing.T, path string, synced int64)
	}{
		{"unsynced tail lost at a frame boundary", func(t *testing.T, path string, synced int64) {
			if err := os.Truncate(path, synced); err != nil {
				t.Fatal(err)
			}
		}},
		{"unsynced tail torn inside a frame", func(t *testing.T, path string, synced int64) {
			if err := os.Truncate(path, synced+9); err != nil {
				t.Fatal(err)
			}
		}},
		{"block after the synced size lost, later blocks kept", func(t *testing.T, path string, synced int64) {
			mutateFile(t, path, func(b []byte) []byte {
				clear(b[synced : synced+4096])
				if int64(len(b)) < synced+3*4096 {
					t.Fatalf("segment of %d bytes: too short to keep frames after the lost block", len(b))
				}
				return b
			})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := testdir.New(t)
			cfg := testConfig(dir, "s")
			cfg.SegmentSize, cfg.MaxBytes, cfg.SyncEvery = 1<<20, 4<<20, time.Hour
			b := open(t, cfg)
			appendNow(t, b, fileRecords(src, 0, 200))
			b.Close() // a sealed, synced segment first
			b = open(t, cfg)
			appendNow(t, b, fileRecords(src, 200, 400))
			b.mu.Lock()
			if err := b.syncLocked(); err != nil {
				t.Fatal(err)
			}
			synced := b.synced
			b.mu.Unlock()
			appendNow(t, b, fileRecords(src, 400, 700)) // in the page cache only
			b.Close()
			tc.lose(t, segPath(dir, synced.Segment), synced.Offset)

			b = open(t, cfg)
			resume := resumeOf(b)[identity(src)]
			held := map[int64]bool{}
			r, err := b.Reader("s")
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			for _, rec := range readN(t, r, int(b.Stats().Lag["s"].Records), false) {
				held[rec.Offset/lineLen] = true
			}
			for i := int64(0); i < 700; i++ {
				if !held[i] && i*lineLen < resume {
					t.Fatalf("line %d is neither in the buffer nor re-read: the file resumes at line %d", i, resume/lineLen)
				}
			}
			if resume != 400*lineLen {
				t.Fatalf("the file resumes at line %d, want 400: the first line not synced", resume/lineLen)
			}
		})
	}
}
