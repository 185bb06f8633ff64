// Package buffer is sluice's disk-backed ring buffer between inputs and
// outputs.
//
// Records are appended to segment files (buffer/segment) under one folder,
// each framed with its length and a CRC32C. Every configured sink reads
// through its own cursor; a segment is deleted once every cursor has passed
// it, as fsynced. A cursor is kept in cursors/<sink>.pos, saved in place
// like a database's meta pages (cursorfile.go): two slots, each with a
// sequence number and a CRC-32C, the one not holding the last fsynced copy
// written with one pwrite on every Commit, and fsynced by the sync loop.
// Open loads the valid slot with the highest sequence number, and moves a
// cursor an earlier version left in <sink>.json into that file.
//
// Guarantees: Append's callback reports true only after the records are
// fsynced, so an input that checkpoints from it never skips a line the
// buffer could lose; after a failed fsync it reports false, so the input
// reads those lines again instead of waiting forever. A cursor moves only
// on Commit, after the sink accepted the records, so after a killed process
// a sink re-reads at most what it had not committed; after a power loss, at
// most what it committed since the last fsync of its cursor, or, should a
// cursor file lose both slots, everything from the oldest record. Records
// keep their append order. The folder holds at most
// MaxBytes plus one batch: when full, Append blocks (the default) or drops
// the oldest segment and counts, per sink, the records that sink lost.
//
// The sync loop fsyncs the segment being written, and then the cursor files
// that moved, without holding the buffer's lock, so appends, reads and
// commits go on while the disk works; an append that starts a new segment
// waits for the segment's fsync first, and a commit that leaves a segment
// for the cursors'.
//
// A rotation leaves the segment it seals to the loop, which syncs it at
// once (before the current one); a rotation that finds the last sealed
// segment not synced yet syncs it first, so at most one sealed segment
// waits for its fsync, and recovery repairs the torn tails of the two
// newest segments.
//
// Known limitations: an fsync with fsync always, a rotation's fsync when
// the sealed segment before it is not synced yet, and a cursor's fsync
// when its sink leaves a segment run with the lock held, so appends and
// reads pause for them (see the fsync latency metric). After a crash new
// records always go to a fresh segment, so a torn segment is never
// appended to. Each cursor file stays open while the buffer is: on Windows
// nothing may rename or delete it then (stale cursors go at Open, before
// any is opened).
package buffer

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/sluicelog/sluice/buffer/codec"
	"github.com/sluicelog/sluice/buffer/segment"
	"github.com/sluicelog/sluice/record"
)

// ErrClosed is returned by calls on a closed buffer.
var ErrClosed = errors.New("buffer closed")

type segInfo struct {
	index   uint64
	size    int64 // bytes of complete frames, header included
	records int64
}

type pendingSync struct {
	upto Position
	fn   func(durable bool)
}

// Buffer is the disk-backed ring buffer. It is safe for concurrent use: one
// appender and one Reader per sink is the intended shape.
type Buffer struct {
	cfg Config
	ev  Events

	mu      sync.Mutex
	cond    *sync.Cond // broadcast on append (readers wait), free (appenders wait) and close
	segs    []*segInfo // ascending; the last is being written when w != nil
	w       *segment.Writer
	total   int64
	synced  Position
	pending []pendingSync
	cursors map[string]*cursor
	trash   []uint64 // segments whose removal failed (Windows: still open); retried
	closed  bool

	enc    []byte          // the batch's frames, encoded in place
	ends   []int           // where each frame ends in enc
	src    codec.Encoder   // sources defined in the segment encSeg writes
	encSeg *segment.Writer // the writer src's dictionary belongs to

	// syncer returns what makes a segment's appends durable; tests make
	// it fail or wait.
	syncer  func(*segment.Writer) func() error
	syncing bool // the sync loop is in an fsync without the lock (syncOutside)
	// sealed is the segment a rotation left behind before the sync loop
	// synced it; kick asks the loop to sync it now. There is at most one:
	// a rotation that finds one still there syncs it itself, so after a
	// crash only the two newest segments can have a torn tail.
	sealed *segment.Writer
	kick   chan struct{}
	// cursorSyncer returns what makes a cursor file's last write durable
	// (cursorFile.syncer); tests make it wait.
	cursorSyncer  func(*cursorFile) func() error
	cursorSyncing bool // the sync loop is in cursor fsyncs without the lock (saveCursorsOutside)

	stop     context.CancelFunc
	loopDone chan struct{}

	resume []ResumePoint // see Resume; set by Open
}

// Open recovers the buffer in cfg.Dir: it repairs the last segment's torn
// tail, counts what it must skip, loads each sink's cursor and starts a new
// segment for appends.
func Open(cfg Config) (*Buffer, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(CursorDir(cfg.Dir), 0o700); err != nil {
		return nil, fmt.Errorf("create buffer folder: %w", err)
	}
	b := &Buffer{cfg: cfg, ev: cfg.Events, cursors: map[string]*cursor{},
		syncer: (*segment.Writer).Syncer, cursorSyncer: (*cursorFile).syncer, kick: make(chan struct{}, 1)}
	b.cond = sync.NewCond(&b.mu)
	if err := b.recoverSegments(); err != nil {
		return nil, err
	}
	if err := b.recoverCursors(); err != nil {
		return nil, err
	}
	b.scanResume()
	next := uint64(1)
	if n := len(b.segs); n > 0 {
		next = b.segs[n-1].index + 1
	}
	if err := b.newSegment(next); err != nil {
		b.closeCursors()
		return nil, err
	}
	b.synced = b.end()
	ctx, cancel := context.WithCancel(context.Background())
	b.stop, b.loopDone = cancel, make(chan struct{})
	go func() { defer close(b.loopDone); b.loop(ctx) }()
	return b, nil
}

// recoverSegments repairs the newest segment and measures every segment.
// Only a segment proven corrupt is removed; one that cannot be read fails
// Open with an *UnreadableErr, so an I/O error or a permission never costs
// records.
func (b *Buffer) recoverSegments() error {
	idxs, err := segment.List(b.cfg.Dir)
	if err != nil {
		return fmt.Errorf("list buffer segments: %w", err)
	}
	if err := checkSegmentEntries(b.cfg.Dir); err != nil {
		return err
	}
	for i, idx := range idxs {
		// The newest segment, and the one a rotation sealed before it,
		// may have been written without an fsync (see rotate).
		s, err := b.recoverSegment(idx, i >= len(idxs)-2)
		if err != nil {
			return err
		}
		if s != nil {
			b.segs = append(b.segs, s)
			b.total += s.size
		}
	}
	return nil
}

// measure counts a segment's readable records and its size.
func (b *Buffer) measure(idx uint64) (*segInfo, error) {
	r, err := segment.OpenReader(b.cfg.Dir, idx, 0)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	s := &segInfo{index: idx, size: segment.HeaderSize}
	for r.Next() {
		s.records++
		s.size = r.End()
	}
	if err := r.Err(); err != nil {
		return nil, err
	}
	b.ev.Corrupt(r.Skipped())
	if fs := b.fileSize(idx); fs > s.size {
		s.size = fs // skipped corrupt frames still take room until the segment goes
	}
	return s, nil
}

func (b *Buffer) fileSize(idx uint64) int64 {
	st, err := os.Stat(filepath.Join(b.cfg.Dir, segment.Name(idx)))
	if err != nil {
		return 0
	}
	return st.Size()
}

// recoverCursors loads each sink's cursor, falling back to the oldest
// segment when it is missing, corrupt or points at a segment that is gone,
// and keeps each cursor file open for the saves to come. A cursor file that
// cannot be read (not corrupt) is an *UnreadableErr.
func (b *Buffer) recoverCursors() error {
	for _, name := range b.cfg.Sinks {
		c, err := b.recoverCursor(name)
		if err != nil {
			b.closeCursors()
			return err
		}
		b.cursors[name] = c
	}
	for _, p := range staleCursors(b.cfg.Dir, b.cfg.Sinks) {
		os.Remove(p)
	}
	return nil
}

// recoverCursor opens one sink's cursor file, if there is one, and finds
// where the sink resumes. What it read is fsynced before any save may
// overwrite the other slot: after a killed process it may have come from
// the page cache only. A cursor left in <sink>.json by an earlier version
// is written into the new file, fsynced, and then removed.
func (b *Buffer) recoverCursor(name string) (*cursor, error) {
	f, pos, ok, err := openCursorFile(b.cfg.Dir, name)
	if f == nil {
		return nil, &UnreadableErr{What: "cursor", Path: cursorPath(b.cfg.Dir, name), Err: err}
	}
	migrate := false
	if !ok && err == nil {
		pos, ok, err = loadJSONCursor(b.cfg.Dir, name)
		if err != nil && !errors.Is(err, errCorruptCursor) {
			f.close()
			return nil, &UnreadableErr{What: "cursor", Path: jsonCursorPath(b.cfg.Dir, name), Err: err}
		}
		migrate = ok || err != nil
	}
	if err != nil {
		b.cfg.Logger.Warn("buffer cursor corrupt, the sink restarts at the oldest record", "sink", name, "err", err)
	}
	loaded := ok && !migrate
	pos = b.resumeAt(pos, ok)
	c := &cursor{name: name, committed: pos, saved: pos, file: f}
	var serr error
	switch {
	case migrate:
		if serr = f.write(pos); serr == nil {
			serr = f.sync()
		}
		if serr == nil {
			c.written = pos
			os.Remove(jsonCursorPath(b.cfg.Dir, name))
		}
	case loaded:
		serr = f.sync()
	}
	if serr != nil {
		b.ev.DiskError(OpCursor)
		b.cfg.Logger.Error("save buffer cursor", "sink", name, "err", serr)
	}
	return c, nil
}

// resumeAt is where a sink whose cursor loaded pos (ok false: none) starts.
func (b *Buffer) resumeAt(pos Position, ok bool) Position {
	s := b.seg(pos.Segment)
	switch {
	case !ok || s == nil || pos.Offset < segment.HeaderSize:
		return b.oldest()
	case pos.Offset > s.size:
		return Position{Segment: s.index, Offset: s.size, Records: s.records}
	case pos.Records > s.records:
		// Corruption can hide frames from the count; the offset stays
		// right, only the lag figure would be off.
		pos.Records = s.records
	}
	return pos
}

// closeCursors closes the cursor files; saves after it fail.
func (b *Buffer) closeCursors() error {
	var errs []error
	for _, c := range b.cursors {
		if c.file != nil {
			errs = append(errs, c.file.close())
		}
	}
	return errors.Join(errs...)
}

// oldest is the position before the first record in the buffer.
func (b *Buffer) oldest() Position {
	if len(b.segs) == 0 {
		return Position{Segment: 1, Offset: segment.HeaderSize}
	}
	return Position{Segment: b.segs[0].index, Offset: segment.HeaderSize}
}

func (b *Buffer) end() Position {
	s := b.segs[len(b.segs)-1]
	return Position{Segment: s.index, Offset: s.size, Records: s.records}
}

func (b *Buffer) seg(idx uint64) *segInfo {
	for _, s := range b.segs {
		if s.index == idx {
			return s
		}
	}
	return nil
}

func (b *Buffer) newSegment(idx uint64) error {
	w, err := segment.Create(b.cfg.Dir, idx)
	if err != nil {
		b.ev.DiskError("create")
		return fmt.Errorf("create buffer segment: %w", err)
	}
	b.w = w
	b.segs = append(b.segs, &segInfo{index: idx, size: w.Size()})
	b.total += w.Size()
	return nil
}

// Append writes recs as one batch. durable(true) runs once they are fsynced:
// at once with fsync always, from the sync loop otherwise; durable(false)
// runs if the fsync that should have covered them failed, so the caller
// can read them again. Append waits while the buffer is full in block mode;
// a disk error is returned and the caller retries, which stops the inputs
// rather than losing or corrupting data.
func (b *Buffer) Append(ctx context.Context, recs []record.Record, durable func(bool)) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	// Records refer to sources defined earlier in their segment, so they
	// are encoded for the segment they go to, under the lock that decides it.
	b.encode(recs)
	need := int64(len(b.enc))
	if err := b.makeRoom(ctx, need); err != nil {
		return err
	}
	if b.w == nil || (b.w.Size()+need > b.cfg.SegmentSize && b.w.Size() > segment.HeaderSize) {
		if err := b.rotate(); err != nil {
			return err
		}
	}
	if b.w != b.encSeg {
		b.encode(recs) // a new segment, or the old one closed while makeRoom waited
	}
	before := b.w.Size()
	if err := b.w.AppendFrames(b.enc, b.ends); err != nil {
		b.writeFailed(before, err)
		return fmt.Errorf("append to buffer: %w", err)
	}
	s := b.segs[len(b.segs)-1]
	s.size, s.records = b.w.Size(), s.records+int64(len(recs))
	b.total += s.size - before
	b.ev.Appended(len(recs), int(s.size-before))
	b.cond.Broadcast()
	if b.cfg.Fsync == FsyncAlways {
		if err := b.syncLocked(); err != nil {
			return err
		}
		if durable != nil {
			durable(true)
		}
		return nil
	}
	if durable != nil {
		b.pending = append(b.pending, pendingSync{upto: b.end(), fn: durable})
	}
	return nil
}

// encode encodes recs for the current segment (a fresh one when there is
// no writer), defining each source the first time the segment sees it. Each
// record is encoded straight into its frame, after room for the header the
// segment writer fills in, so its bytes are not copied again to be framed.
func (b *Buffer) encode(recs []record.Record) {
	at := int64(segment.HeaderSize)
	if b.w != nil {
		at = b.w.Size()
	}
	if b.w == nil || b.w != b.encSeg {
		b.src.Reset()
		b.encSeg = b.w
	}
	var room [segment.FrameOverhead]byte
	b.enc, b.ends = b.enc[:0], b.ends[:0]
	for i := range recs {
		start := len(b.enc)
		b.enc = append(b.enc, room[:]...)
		b.enc = b.src.Append(b.enc, &recs[i], at+int64(start))
		b.ends = append(b.ends, len(b.enc))
	}
}

// broadcast wakes every wait on b.cond.
func (b *Buffer) broadcast() {
	b.mu.Lock()
	b.cond.Broadcast()
	b.mu.Unlock()
}

// wakeWhenDone makes the end of ctx wake the waits on b.cond, so a wait
// that checks ctx returns; the caller calls the result when done waiting.
func (b *Buffer) wakeWhenDone(ctx context.Context) func() bool {
	return context.AfterFunc(ctx, b.broadcast)
}

// makeRoom waits or drops until need more bytes fit under MaxBytes. A batch
// larger than the whole cap is let in when the buffer is otherwise empty, so
// it cannot wait forever.
func (b *Buffer) makeRoom(ctx context.Context, need int64) error {
	defer b.wakeWhenDone(ctx)()
	for {
		if b.closed {
			return ErrClosed
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if b.total+need <= b.cfg.MaxBytes || len(b.segs) == 1 {
			return nil
		}
		if b.cfg.OnFull == OnFullDropOldest {
			b.dropOldest()
			continue
		}
		// Commits since the last sync-loop tick may already free a segment.
		before := len(b.segs)
		b.saveCursors()
		b.free()
		if len(b.segs) < before {
			continue
		}
		b.cond.Wait()
	}
}

// rotate seals the current segment and starts the next. With fsync
// always the sealed segment is synced here; otherwise the sync loop is
// asked to sync it at once, without the lock (syncOutside), while appends
// go to the next: a segment's fsync can take a while (16 MiB of writeback,
// FlushFileBuffers on a busy disk), and it paused every append. A rotation
// that finds the last sealed segment not synced yet syncs it first.
func (b *Buffer) rotate() error {
	next := b.segs[len(b.segs)-1].index + 1
	b.waitSync()
	if b.w != nil {
		if b.cfg.Fsync == FsyncAlways || b.sealed != nil {
			if err := b.syncLocked(); err != nil {
				return err
			}
			b.w.Close()
		} else {
			b.sealed = b.w
			select {
			case b.kick <- struct{}{}:
			default:
			}
		}
		b.w = nil
	}
	return b.newSegment(next)
}

// writeFailed keeps what is already durable intact after a failed write
// (ENOSPC, EIO): the torn frame is cut off and appends move to a new segment
// once the caller retries.
func (b *Buffer) writeFailed(goodSize int64, err error) {
	b.ev.DiskError("write")
	b.cfg.Logger.Error("buffer write failed, inputs wait until it succeeds", "err", err)
	b.waitSync()
	if b.w == nil {
		return // the sync that ran meanwhile failed and let the segment go
	}
	path := filepath.Join(b.cfg.Dir, segment.Name(b.w.Index()))
	b.w.Close()
	b.w = nil
	if terr := os.Truncate(path, goodSize); terr != nil {
		b.cfg.Logger.Error("cannot cut the failed write off the buffer segment", "err", terr)
	}
	if serr := syncFile(path); serr != nil {
		b.unsynced(serr)
	}
}

// syncFile fsyncs a closed segment, so records written to it before a
// failure can still be reported durable.
func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// unsynced handles a failed fsync: the kernel may have dropped the dirty
// pages, so nothing pending may be reported durable. Each callback is told
// so (durable false): its input reads those lines again from their files
// (duplicates, never loss), and appends move to a new segment.
func (b *Buffer) unsynced(err error) {
	b.ev.DiskError("sync")
	b.cfg.Logger.Error("buffer fsync failed; records since the last sync will be read again from their files", "err", err, "batches", len(b.pending))
	for _, p := range b.pending {
		p.fn(false)
	}
	b.pending = nil
	if b.w != nil {
		b.w.Close()
		b.w = nil
	}
	b.closeSealed()
}

// closeSealed closes the sealed segment's writer, if there is one.
func (b *Buffer) closeSealed() error {
	if b.sealed == nil {
		return nil
	}
	err := b.sealed.Close()
	b.sealed = nil
	return err
}

// syncLocked fsyncs the sealed segment, if any, and the current one, and
// runs the callbacks they cover.
func (b *Buffer) syncLocked() error {
	b.waitSync()
	syncs := b.syncers()
	took, err := runSyncs(syncs)
	return b.afterSync(len(syncs), took, err, b.end())
}

// runSyncs runs the fsyncs of syncers in order, up to the first that
// fails, and reports how long they took.
func runSyncs(syncs []func() error) (time.Duration, error) {
	start := time.Now()
	for _, sync := range syncs {
		if err := sync(); err != nil {
			return 0, err
		}
	}
	return time.Since(start), nil
}

// afterSync records what n fsyncs from syncers did: when one failed the
// segments are let go (unsynced); otherwise the sealed segment is closed,
// the time they took observed, and the callbacks up to upto run.
func (b *Buffer) afterSync(n int, took time.Duration, err error, upto Position) error {
	if err != nil {
		b.unsynced(err)
		return fmt.Errorf("sync buffer segment: %w", err)
	}
	b.closeSealed()
	if n > 0 {
		b.ev.Synced(took)
	}
	b.durable(upto)
	return nil
}

// syncers returns the fsyncs that make every append so far durable: the
// sealed segment's first, then the current one's.
func (b *Buffer) syncers() []func() error {
	var out []func() error
	if b.sealed != nil {
		out = append(out, b.syncer(b.sealed))
	}
	if b.w != nil {
		out = append(out, b.syncer(b.w))
	}
	return out
}

// syncOutside fsyncs the current segment as syncLocked does, but lets go
// of the lock for the fsync itself: appends and reads go on while the disk
// works, which can take a while (FlushFileBuffers on a busy Windows disk).
// What closes or syncs the segment meanwhile waits for it (waitSync): a
// second fsync of the file could report success for pages the first one
// found lost, and closing the file would end the first. Appends made
// during the fsync wait for the next one.
func (b *Buffer) syncOutside() {
	b.waitSync()
	syncs := b.syncers()
	if len(syncs) == 0 {
		return
	}
	upto := b.end()
	b.syncing = true
	b.mu.Unlock()
	took, err := runSyncs(syncs)
	b.mu.Lock()
	b.syncing = false
	b.cond.Broadcast()
	// Nothing seals another segment while the fsync runs (rotate waits
	// for it), so the sealed one afterSync closes is the one just synced.
	if err := b.afterSync(len(syncs), took, err, upto); err != nil {
		b.cfg.Logger.Error("buffer sync failed", "err", err)
	}
}

// waitSync waits, with the lock held around it, until no syncOutside is
// in its fsync.
func (b *Buffer) waitSync() {
	for b.syncing {
		b.cond.Wait()
	}
}

// durable records that everything up to upto is synced, and runs the
// callbacks that covers.
func (b *Buffer) durable(upto Position) {
	if b.synced.Before(upto) {
		b.synced = upto
	}
	n := 0
	for n < len(b.pending) && !b.synced.Before(b.pending[n].upto) {
		b.pending[n].fn(true)
		n++
	}
	b.pending = append(b.pending[:0], b.pending[n:]...)
}

// loop syncs on the interval and saves cursors that moved.
func (b *Buffer) loop(ctx context.Context) {
	t := time.NewTicker(b.cfg.SyncEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-b.kick:
		}
		b.mu.Lock()
		if len(b.pending) > 0 || b.sealed != nil {
			b.syncOutside()
		}
		b.saveCursorsOutside()
		b.free()
		b.mu.Unlock()
	}
}

// Close syncs, saves cursors and stops the sync loop. Pending durable
// callbacks run if the final sync succeeds.
func (b *Buffer) Close() error {
	b.stop()
	<-b.loopDone
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil
	}
	b.closed = true
	b.cond.Broadcast()
	err := b.syncLocked()
	b.saveCursors()
	err = errors.Join(err, b.closeCursors(), b.closeSealed())
	if b.w != nil {
		err = errors.Join(err, b.w.Close())
		b.w = nil
	}
	return err
}
