package buffer

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"sync/atomic"
	"time"

	"github.com/sluicelog/sluice/buffer/codec"
	"github.com/sluicelog/sluice/buffer/segment"
	"github.com/sluicelog/sluice/record"
)

// Reader reads the buffer for one sink, from its committed cursor. It is not
// safe for concurrent use; each sink has one.
type Reader struct {
	b    *Buffer
	c    *cursor
	pos  Position // read position, at or after the committed one
	seg  *segment.Reader
	dec  codec.Decoder
	seen int // corruptions already counted for seg

	recs   []record.Record // reused by every Read
	arena  []byte          // bodies of recs, reused
	window []byte          // the closed segment reader's read buffer, for the next one
	trim   atomic.Bool     // Trim asked to drop recs and arena before waiting
}

// Reader returns the reader of a configured sink.
func (b *Buffer) Reader(sink string) (*Reader, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	c, ok := b.cursors[sink]
	if !ok {
		return nil, fmt.Errorf("buffer: no cursor for sink %q", sink)
	}
	return &Reader{b: b, c: c, pos: c.committed}, nil
}

// Read returns up to maxRecords records (and about maxBytes of bodies) after
// the read position, waiting until there is at least one or ctx ends. The
// returned Position is what to Commit once a sink accepted them all. The
// records and their bodies are valid until the next Read: a sink that keeps
// them longer copies them (reusing them keeps the read path allocation-free).
func (r *Reader) Read(ctx context.Context, maxRecords, maxBytes int) ([]record.Record, Position, error) {
	for {
		limit, sealed, err := r.wait(ctx)
		if err != nil {
			return nil, r.pos, err
		}
		if sealed && r.seg == nil && r.pos.Offset >= limit {
			// Nothing is left in it: move on without opening a segment
			// the sync loop may free at any moment now.
			r.next()
			continue
		}
		if sealed {
			// Nothing writes a sealed segment: a length running past its
			// end is corruption to skip, not a frame still being written.
			limit = -1
		}
		recs, exhausted, err := r.readSegment(limit, maxRecords, maxBytes)
		if err != nil {
			if r.freed(err) {
				continue // wait moves the position to what is left
			}
			return nil, r.pos, err
		}
		if len(recs) > 0 {
			r.b.mu.Lock()
			if r.pos.Segment < r.b.segs[0].index {
				// drop_oldest freed this segment while it was being read,
				// and counted what this reader had not yet marked read as
				// lost: hand none of it out, or the count would be wrong.
				r.b.mu.Unlock()
				continue
			}
			r.c.read = r.pos
			r.b.mu.Unlock()
			return recs, r.pos, nil
		}
		if sealed && exhausted {
			r.next()
		}
	}
}

// Fill waits until there is something to read, then up to linger more
// until at least minBytes are unread, so that a sink fed slowly sends full
// batches instead of one request per record, while a backlog goes out at
// once. It returns ctx's error or ErrClosed like Read.
func (r *Reader) Fill(ctx context.Context, minBytes int64, linger time.Duration) error {
	for {
		size, sealed, err := r.wait(ctx)
		if err != nil {
			return err
		}
		if !sealed || r.pos.Offset < size {
			break
		}
		r.next() // at the end of a segment nothing appends to any more
	}
	if linger <= 0 {
		return nil
	}
	b := r.b
	// The timer says when the linger is over, not a clock comparison: a
	// deadline taken after the timer was set could still lie ahead when
	// it fires (seen under Wine), and nothing would wake the wait again.
	expired := false
	t := time.AfterFunc(linger, func() {
		b.mu.Lock()
		expired = true
		b.cond.Broadcast()
		b.mu.Unlock()
	})
	defer t.Stop()
	defer b.wakeWhenDone(ctx)()
	b.mu.Lock()
	defer b.mu.Unlock()
	for !b.closed && ctx.Err() == nil && !expired && r.unreadLocked() < minBytes {
		b.cond.Wait()
	}
	if b.closed {
		return ErrClosed
	}
	return ctx.Err()
}

// unreadLocked is the size of the frames after the read position.
func (r *Reader) unreadLocked() int64 {
	var n int64
	for _, s := range r.b.segs {
		switch {
		case s.index == r.pos.Segment:
			n += max(s.size-r.pos.Offset, 0)
		case s.index > r.pos.Segment:
			n += max(s.size-segment.HeaderSize, 0)
		}
	}
	return n
}

// wait blocks until the read position has data after it, and returns the
// readable size of its segment and whether that segment is complete.
func (r *Reader) wait(ctx context.Context) (int64, bool, error) {
	b := r.b
	defer b.wakeWhenDone(ctx)()
	b.mu.Lock()
	defer b.mu.Unlock()
	for {
		if b.closed {
			return 0, false, ErrClosed
		}
		if err := ctx.Err(); err != nil {
			return 0, false, err
		}
		if r.pos.Segment < b.segs[0].index || r.c.committed.Segment > r.pos.Segment {
			// drop_oldest moved the cursor past what this reader was on.
			r.close()
			r.pos = r.c.committed
		}
		s := b.seg(r.pos.Segment)
		if s == nil {
			r.close()
			r.pos = b.oldest()
			continue
		}
		sealed := s != b.segs[len(b.segs)-1]
		if r.pos.Offset < s.size || sealed {
			return s.size, sealed, nil
		}
		if r.trim.Swap(false) {
			// Waiting means the last Read's records are done with. The
			// segment's sources go too (a thousand files' paths and pod
			// attributes, about a MB): the next Read learns them again
			// from the segment's start, as a Reader opened mid-segment
			// does, once per idle spell.
			r.recs, r.arena = nil, nil
			r.close()
			r.window = nil
			r.dec = codec.Decoder{}
		}
		b.cond.Wait()
	}
}

// Trim implements outputs.Trimmer through the daemon's source: the Reader
// drops the records and body slab it keeps from its last Read as soon as
// it waits for more, now if it is waiting. Any goroutine may call it.
func (r *Reader) Trim() {
	r.trim.Store(true)
	b := r.b
	b.mu.Lock()
	b.cond.Broadcast()
	b.mu.Unlock()
}

// readSegment reads records of the current segment up to limit; exhausted
// means it stopped because the segment had no more, not because of a maximum.
// arenaSlack is the room past a Read's byte limit the body slab keeps for
// the line that crosses it; a longer line gets a slab of its own.
const arenaSlack = 64 << 10

func (r *Reader) readSegment(limit int64, maxRecords, maxBytes int) ([]record.Record, bool, error) {
	if r.seg == nil {
		r.dec.Reset()
		if err := r.learnSources(limit); err != nil {
			return nil, false, err
		}
		s, err := segment.OpenReader(r.b.cfg.Dir, r.pos.Segment, r.pos.Offset)
		if err != nil {
			return nil, false, fmt.Errorf("open buffer segment %s: %w", segment.Name(r.pos.Segment), err)
		}
		s.SetWindow(r.window)
		r.seg, r.seen, r.window = s, 0, nil
	}
	r.seg.SetLimit(limit)
	recs, arena := r.recs[:0], r.arena[:0]
	size, exhausted := 0, false
	for len(recs) < maxRecords && size < maxBytes {
		if !r.seg.Next() {
			exhausted = true
			break
		}
		p := r.seg.Record()
		r.pos.Offset, r.pos.Records = r.seg.End(), r.pos.Records+1
		if len(recs) == cap(recs) {
			// Doubled, not append's quarter at a time: the slice is kept,
			// and its growth is garbage the first batches all make.
			recs = slices.Grow(recs, max(cap(recs), 64))
		}
		recs = append(recs, record.Record{})
		rec := &recs[len(recs)-1]
		if err := r.dec.Decode(p, rec); err != nil {
			recs = recs[:len(recs)-1]
			r.corrupt(int64(len(p)))
			continue
		}
		if len(arena)+len(rec.Body) > cap(arena) {
			// Earlier records point into the old slab: replace it, and keep
			// the larger one for the next Read. A Read stops once maxBytes
			// are in, so more than that and one more line is never needed:
			// doubling past it would hold twice the batch for good.
			arena = make([]byte, 0, max(min(2*cap(arena), maxBytes+arenaSlack), len(rec.Body), 64<<10))
		}
		start := len(arena)
		arena = append(arena, rec.Body...)
		rec.Body = arena[start:len(arena):len(arena)]
		size += len(rec.Body)
	}
	r.recs, r.arena = recs, arena
	if c := r.seg.Corruptions(); len(c) > r.seen {
		for _, e := range c[r.seen:] {
			r.b.cfg.Logger.Warn("corrupt buffer frame skipped", "err", e)
		}
		r.seen = len(c)
		r.pos.Offset = max(r.pos.Offset, r.seg.End())
	}
	return recs, exhausted, r.seg.Err()
}

// freed reports whether err is the read position's segment file missing
// because the buffer freed (or dropped) that segment since wait looked.
func (r *Reader) freed(err error) bool {
	if !errors.Is(err, fs.ErrNotExist) {
		return false
	}
	r.b.mu.Lock()
	defer r.b.mu.Unlock()
	return r.b.seg(r.pos.Segment) == nil
}

// learnSources decodes, and drops, the records of the segment before the
// read position: records refer to sources defined earlier in their segment,
// and a reader that starts mid-segment (after a restart, or a drop) needs
// those definitions. Corrupt frames are skipped here and counted when read.
func (r *Reader) learnSources(limit int64) error {
	if r.pos.Offset <= segment.HeaderSize {
		return nil
	}
	s, err := segment.OpenReader(r.b.cfg.Dir, r.pos.Segment, 0)
	if err != nil {
		return fmt.Errorf("open buffer segment %s: %w", segment.Name(r.pos.Segment), err)
	}
	defer s.Close()
	s.SetLimit(limit)
	var scratch record.Record
	for s.End() < r.pos.Offset && s.Next() {
		if s.End() > r.pos.Offset {
			break
		}
		_ = r.dec.Decode(s.Record(), &scratch)
	}
	return s.Err()
}

func (r *Reader) corrupt(n int64) {
	r.b.mu.Lock()
	r.b.ev.Corrupt(n)
	r.b.mu.Unlock()
}

// next moves to the start of the following segment.
func (r *Reader) next() {
	r.close()
	r.b.mu.Lock()
	defer r.b.mu.Unlock()
	for _, s := range r.b.segs {
		if s.index > r.pos.Segment {
			r.pos = Position{Segment: s.index, Offset: segment.HeaderSize}
			return
		}
	}
}

func (r *Reader) close() {
	if r.seg != nil {
		r.window = r.seg.Window()
		r.seg.Close()
		r.seg = nil
	}
}

// Commit records that the sink accepted everything before pos. The cursor
// is saved at once when it leaves a segment, so that segment can be freed.
// Unlike Read, Commit may be called from another goroutine, so a sink can
// commit finished requests while the next Read waits.
func (r *Reader) Commit(pos Position) {
	b := r.b
	b.mu.Lock()
	defer b.mu.Unlock()
	if !r.c.committed.Before(pos) {
		return
	}
	leaving := pos.Segment > r.c.committed.Segment
	r.c.committed = pos
	if b.closed {
		return // the cursor files are closed: the batch is sent again after a restart
	}
	if leaving {
		b.saveCursors()
		b.free()
		return
	}
	// Written at once, synced by the loop: a killed sluice then re-sends at
	// most the batch in flight, not a sync interval's worth. While the loop
	// syncs the cursor files the slot to write is the one being synced, so
	// the position waits for the loop's next save instead.
	if b.cursorSyncing {
		return
	}
	if err := r.c.file.write(pos); err != nil {
		b.ev.DiskError(OpCursor)
		return
	}
	r.c.written = pos
}

// Close releases the reader's open segment.
func (r *Reader) Close() { r.close() }
