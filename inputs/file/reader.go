package file

import (
	"context"
	"errors"
	"io"
	"os"
	"time"

	"github.com/sluicelog/sluice/inputs/file/fingerprint"
	"github.com/sluicelog/sluice/inputs/file/osfile"
	"github.com/sluicelog/sluice/record"
)

type readerState int

const (
	stateLive     readerState = iota // the path still names this file
	stateDraining                    // renamed, removed or a truncated copy: read to the end, then close
	stateDone                        // closed for good
)

// reader tails one file. Only the tailer's goroutine touches it.
type reader struct {
	path       string // path it was discovered at (or the rotated path it drains)
	realPath   string
	id         osfile.ID
	fp         fingerprint.Fingerprint
	f          *os.File // nil while parked to bound open handles
	off        int64    // next byte to read: everything before has been decoded
	dec        decoder
	trk        *track
	state      readerState
	static     bool // a copy that no one writes: close at its end without waiting
	pred       *reader
	succ       *reader
	drainAt    time.Time // when draining started
	lastData   time.Time // last read that returned bytes
	atEOF      bool
	fresh      bool // read since the last discovery, so no stat is needed
	size       int64
	readFailed bool // a read error was logged for this file

	src *record.Source // what records carry of id and fp; see source
}

// turn reads up to budget bytes, emitting batches. It reports whether any
// bytes were consumed.
func (r *reader) turn(ctx context.Context, t *Tailer, budget int) (bool, error) {
	if r.f == nil || (r.pred != nil && r.pred.state != stateDone) {
		return false, nil
	}
	b := r.begin(t)
	consumed, err := r.fill(ctx, t, b, budget)
	if err == nil && !b.empty() {
		err = b.send(ctx, r.trk.sent(r.position()))
	}
	if consumed > 0 {
		r.lastData, r.fresh = r.dec.now, true
	}
	return consumed > 0, err
}

// fill reads and decodes until EOF, an incomplete line, or budget.
func (r *reader) fill(ctx context.Context, t *Tailer, b *batcher, budget int) (int, error) {
	total := 0
	for total < budget {
		n, err := r.f.ReadAt(t.buf, r.off)
		if err != nil && !errors.Is(err, io.EOF) {
			t.readError(r, err)
			return total, nil
		}
		used, lines, serr := r.decodeChunk(ctx, t, b, t.buf[:n])
		total += used
		t.ev.Read(lines, used)
		if serr != nil {
			return total, serr
		}
		r.atEOF = n < len(t.buf) || used == 0
		if r.atEOF {
			break
		}
	}
	return total, nil
}

// decodeChunk feeds the complete lines of data to the decoder, flushing full
// batches between lines, where the position is consistent.
func (r *reader) decodeChunk(ctx context.Context, t *Tailer, b *batcher, data []byte) (int, int, error) {
	used, lines := 0, 0
	for {
		if !r.dec.cont.active {
			// Skipped even without a newline after them, so a file of NULs
			// is consumed instead of waiting for a line end forever.
			if _, nul := trimNUL(data[used:]); nul > 0 {
				t.ev.Anomaly(SkipNULBytes, nul)
				r.off += int64(nul)
				used += nul
			}
		}
		line, n, complete, ok := nextLine(data[used:], t.maxLine)
		if !ok {
			return used, lines, nil
		}
		r.dec.feed(line, r.off, complete)
		r.off += int64(n)
		used += n
		lines++
		if b.full() {
			if err := b.send(ctx, r.trk.sent(r.position())); err != nil {
				return used, lines, err
			}
		}
	}
}

// position is the checkpointable state after what has been decoded so far.
// A file opened while short has a short fingerprint; it is grown here, before
// it is saved, because an empty one would match any content at restart.
func (r *reader) position() position {
	r.refreshFingerprint(fingerprint.DefaultSize)
	return position{fp: r.fp, offset: r.off, format: r.dec.format, partials: r.dec.snapshot(r.path)}
}

// finishTail emits a last line that never got its newline; called only when
// the file is drained for good, since a live writer may still finish it.
func (r *reader) finishTail(ctx context.Context, t *Tailer) error {
	if r.f == nil {
		return nil
	}
	return r.flush(ctx, t, func() {
		n, err := r.f.ReadAt(t.buf[:t.maxLine], r.off)
		if err != nil && !errors.Is(err, io.EOF) {
			t.readError(r, err)
		}
		if n > 0 {
			b := &t.batch
			before := len(b.recs)
			r.dec.feedTail(t.buf[:n], r.off)
			r.off += int64(n)
			if len(b.recs) > before {
				b.recs[len(b.recs)-1].Flags |= record.FlagNoNewline
			}
		}
		if r.succ != nil {
			r.dec.handOver(&r.succ.dec)
			r.succ.trk.setStart(r.succ.position())
		} else {
			r.dec.flushJoins()
		}
	})
}

// refreshFingerprint grows a short fingerprint once the file has more bytes,
// so identity gets stronger as the file fills.
func (r *reader) refreshFingerprint(size int) {
	if r.f == nil || r.fp.Covers(size) || r.off <= int64(r.fp.Len()) {
		return
	}
	if fp, err := fingerprint.New(r.f, size); err == nil && fp.StartsWith(r.fp) {
		r.fp = fp
	}
}

func (r *reader) close(t *Tailer) {
	if r.f != nil {
		r.f.Close()
		r.f = nil
		t.open--
		t.ev.Closed()
	}
}

// flush runs fn with a fresh batch for r and sends what it emitted.
func (r *reader) flush(ctx context.Context, t *Tailer, fn func()) error {
	b := r.begin(t)
	fn()
	if b.empty() {
		return nil
	}
	return b.send(ctx, r.trk.sent(r.position()))
}

// begin points the tailer's batcher at r. One batcher serves every file, so
// an idle turn allocates nothing.
func (r *reader) begin(t *Tailer) *batcher {
	b := &t.batch
	b.path, b.src, b.recs, b.bytes = r.path, r.source(), nil, 0
	r.dec.emit, r.dec.now = t.emit, time.Now()
	return b
}

// modTime is when r's file was last written, from the handle; zero if unknown.
func (r *reader) modTime() time.Time {
	if r.f == nil {
		return time.Time{}
	}
	st, err := r.f.Stat()
	if err != nil {
		return time.Time{}
	}
	return st.ModTime()
}
