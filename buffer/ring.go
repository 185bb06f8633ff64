package buffer

import (
	"os"
	"path/filepath"

	"github.com/sluicelog/sluice/buffer/segment"
)

// saveCursors makes every cursor that moved since it was last saved
// durable: written (unless Commit wrote it already) and fsynced.
func (b *Buffer) saveCursors() {
	todo, syncs := b.cursorsToSave()
	for i, c := range todo {
		b.cursorSynced(c, syncs[i]())
	}
}

// saveCursorsOutside saves cursors as saveCursors does, but lets go of the
// lock for their fsyncs, one small file per sink each sync interval, which
// on a busy disk (FlushFileBuffers on Windows) can take long enough to
// stall appends and reads. A cursor is saved where it was when the lock was
// let go; what Commit records meanwhile is only held in memory (see
// Commit), so no write lands in a slot being synced, and is written once
// the fsyncs returned.
func (b *Buffer) saveCursorsOutside() {
	todo, syncs := b.cursorsToSave()
	if len(todo) == 0 {
		return
	}
	b.cursorSyncing = true
	b.mu.Unlock()
	errs := make([]error, len(syncs))
	for i, sync := range syncs {
		errs[i] = sync()
	}
	b.mu.Lock()
	b.cursorSyncing = false
	b.cond.Broadcast()
	for i, c := range todo {
		b.cursorSynced(c, errs[i])
	}
	// What was committed meanwhile is written now, into the slot the fsync
	// did not make durable: a killed process then re-sends no more than
	// one that was never held up (the next round fsyncs it).
	for _, c := range b.cursors {
		b.writeCursor(c)
	}
}

// cursorsToSave writes the position of every cursor that moved since it
// was last saved, and returns those whose file holds it, with the fsyncs
// that make them durable.
func (b *Buffer) cursorsToSave() ([]*cursor, []func() error) {
	b.waitCursorSync()
	var todo []*cursor
	var syncs []func() error
	for _, c := range b.cursors {
		if c.committed != c.saved && b.writeCursor(c) {
			todo, syncs = append(todo, c), append(syncs, b.cursorSyncer(c.file))
		}
	}
	return todo, syncs
}

// cursorSynced records the outcome of c's fsync from cursorsToSave.
func (b *Buffer) cursorSynced(c *cursor, err error) {
	if err != nil {
		b.cursorFailed(c, err)
		return
	}
	c.file.synced()
	c.saved = c.written
}

// writeCursor writes c's committed position into its file unless it is
// there already, and reports whether the file holds it.
func (b *Buffer) writeCursor(c *cursor) bool {
	if c.written == c.committed {
		return true
	}
	if err := c.file.write(c.committed); err != nil {
		b.cursorFailed(c, err)
		return false
	}
	c.written = c.committed
	return true
}

func (b *Buffer) cursorFailed(c *cursor, err error) {
	b.ev.DiskError(OpCursor)
	b.cfg.Logger.Error("save buffer cursor", "sink", c.name, "err", err)
}

// waitCursorSync waits, with the lock held around it, until no
// saveCursorsOutside is in its fsyncs.
func (b *Buffer) waitCursorSync() {
	for b.cursorSyncing {
		b.cond.Wait()
	}
}

// free deletes segments every cursor has passed, as saved on disk: a cursor
// file must never name a segment that is gone while an older one exists.
func (b *Buffer) free() {
	min := ^uint64(0)
	for _, c := range b.cursors {
		if seg := b.passed(c.saved); seg < min {
			min = seg
		}
	}
	freed := false
	for len(b.segs) > 1 && b.segs[0].index < min {
		b.dropFirst()
		freed = true
	}
	b.retryTrash()
	if freed {
		b.cond.Broadcast()
	}
}

// passed is the oldest segment a cursor still needs: a cursor at the very
// end of a sealed segment needs only the next one, or a sink that has read
// everything would pin its last segment until new records arrive, and a
// full buffer would wait for records that cannot be appended.
func (b *Buffer) passed(p Position) uint64 {
	for i, s := range b.segs {
		if s.index == p.Segment && p.Offset >= s.size && i+1 < len(b.segs) {
			return b.segs[i+1].index
		}
	}
	return p.Segment
}

// dropOldest makes room in drop_oldest mode: the oldest segment goes, and
// each sink that had not read all of it is told how many records it lost.
func (b *Buffer) dropOldest() {
	s := b.segs[0]
	next := b.segs[1]
	for _, c := range b.cursors {
		if c.committed.Segment > s.index {
			continue
		}
		// A cursor still naming an earlier segment (one it finished, freed
		// since) has read nothing of this one.
		var done int64
		if c.committed.Segment == s.index {
			done = c.committed.Records
		}
		if c.read.Segment > s.index {
			done = s.records
		} else if c.read.Segment == s.index {
			done = max(done, c.read.Records) // read but not committed: in flight, still delivered
		}
		if lost := s.records - done; lost > 0 {
			b.ev.Dropped(c.name, lost)
			b.cfg.Logger.Warn("buffer full, oldest records dropped", "sink", c.name, "records", lost)
		}
		c.committed = Position{Segment: next.index, Offset: segment.HeaderSize}
	}
	b.saveCursors()
	b.dropFirst()
}

func (b *Buffer) dropFirst() {
	s := b.segs[0]
	b.segs = b.segs[1:]
	b.total -= s.size
	b.remove(s.index)
}

// remove deletes a segment file; on Windows a reader may still hold it
// open, so failures are retried later.
func (b *Buffer) remove(idx uint64) {
	err := os.Remove(filepath.Join(b.cfg.Dir, segment.Name(idx)))
	if err != nil && !os.IsNotExist(err) {
		b.trash = append(b.trash, idx)
	}
}

func (b *Buffer) retryTrash() {
	old := b.trash
	b.trash = nil
	for _, idx := range old {
		b.remove(idx)
	}
}

// Stats is a snapshot for metrics.
type Stats struct {
	Bytes, Records int64
	Segments       int
	Durable        Position
	Lag            map[string]Lag
}

// Lag is what one sink has not committed yet.
type Lag struct {
	Bytes, Records int64
}

// Stats returns the buffer's current size, durable position and each sink's lag.
func (b *Buffer) Stats() Stats {
	b.mu.Lock()
	defer b.mu.Unlock()
	st := Stats{Bytes: b.total, Segments: len(b.segs), Durable: b.synced, Lag: map[string]Lag{}}
	for _, s := range b.segs {
		st.Records += s.records
	}
	for _, c := range b.cursors {
		var l Lag
		for _, s := range b.segs {
			if s.index < c.committed.Segment {
				continue
			}
			l.Bytes += s.size - segment.HeaderSize
			l.Records += s.records
			if s.index == c.committed.Segment {
				l.Bytes -= c.committed.Offset - segment.HeaderSize
				l.Records -= c.committed.Records
			}
		}
		st.Lag[c.name] = l
	}
	return st
}
