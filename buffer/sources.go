package buffer

import (
	"cmp"
	"slices"
	"time"

	"github.com/sluicelog/sluice/buffer/codec"
	"github.com/sluicelog/sluice/buffer/segment"
)

// ResumePoint is how far the buffer holds the records of one file: a reader
// that restarts that file at Next, with no other state, re-reads nothing
// the buffer holds past it and skips nothing the buffer lacks.
type ResumePoint struct {
	codec.Identity
	Next int64
}

// Resume returns, per file identity, the furthest restart offset
// (record.Record.Next) among the records the buffer held when it was
// opened. After a kill -9 the page cache kept every record written, so the
// tailer can continue from here instead of its last checkpoint, which
// trails by the fsync and checkpoint intervals; after a power loss the
// buffer holds only what survived, so the rule stays safe.
//
// Records after a corrupt or undecodable frame of the same segment are
// left out: a torn write may leave valid frames after lost ones, and
// resuming past the lost ones would skip their lines, where re-reading
// them from the checkpoint gives duplicates only.
func (b *Buffer) Resume() []ResumePoint { return slices.Clone(b.resume) }

// scanResume reads every segment for Resume. Every one, not just the
// newest: a file that went quiet has its last records in an older segment,
// and those are the records its checkpoint may not cover yet when the
// checkpoint could not be saved for a while. The cost is one more read of
// what recoverSegments read just before (so from the page cache), without
// the bodies: bench/README.md has the figure for a full 256 MiB buffer.
func (b *Buffer) scanResume() {
	start := time.Now()
	far := map[codec.Identity]int64{}
	records := 0
	for _, s := range b.segs {
		records += b.scanSegment(s.index, far)
	}
	b.resume = make([]ResumePoint, 0, len(far))
	for id, next := range far {
		b.resume = append(b.resume, ResumePoint{Identity: id, Next: next})
	}
	slices.SortFunc(b.resume, func(x, y ResumePoint) int {
		return cmp.Or(cmp.Compare(x.Dev, y.Dev), cmp.Compare(x.Ino, y.Ino), cmp.Compare(x.Head, y.Head))
	})
	b.cfg.Logger.Info("buffer scanned for file positions", "files", len(b.resume), "records", records,
		"segments", len(b.segs), "took", time.Since(start).Round(time.Millisecond))
}

// scanSegment adds the positions of one segment's records to far, up to
// its first corrupt or undecodable frame, and returns how many it used.
func (b *Buffer) scanSegment(idx uint64, far map[codec.Identity]int64) int {
	r, err := segment.OpenReader(b.cfg.Dir, idx, 0)
	if err != nil {
		b.cfg.Logger.Warn("buffer segment not scanned for file positions: files resume from their checkpoint", "segment", segment.Name(idx), "err", err)
		return 0
	}
	defer r.Close()
	var dec codec.Decoder
	n := 0
	for r.Next() && r.Skipped() == 0 {
		id, next, ok, err := dec.Position(r.Record())
		if err != nil {
			break
		}
		if ok && next > far[id] {
			far[id] = next
		}
		n++
	}
	if err := r.Err(); err != nil {
		b.cfg.Logger.Warn("buffer segment scan for file positions stopped", "segment", segment.Name(idx), "err", err)
	}
	return n
}
