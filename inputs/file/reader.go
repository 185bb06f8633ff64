package file

import (
	"errors"
	"io"
	"os"
	"time"

	"github.com/sluicelog/sluice/inputs/file/fingerprint"
	"github.com/sluicelog/sluice/inputs/file/gzread"
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
	f          *os.File     // nil while parked to bound open handles
	gz         *gzread.File // set when the rest of the file is read from kubelet's .gz of it; f is then the .gz
	off        int64        // next byte to read: everything before has been decoded
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
	readFailed bool      // a read error was logged for this file
	deletedAt  time.Time // when the held file was first seen deleted; zero while it is not
	headMoved  bool      // the head no longer matches fp: truncated, whatever the size says
	tail       int64     // bytes after off at the last end of file: a line without its newline yet

	src *record.Source // what records carry of id and fp; see source
}

// turn reads up to budget bytes, emitting batches. It reports whether any
// bytes were consumed. Nothing is read while earlier batches wait for the
// consumer or too many of this file's batches wait for acknowledgement.
func (r *reader) turn(t *Tailer, budget int) (progressed, more bool) {
	if r.f == nil || (r.pred != nil && r.pred.state != stateDone) || t.batch.blocked() || r.trk.full() {
		return false, false
	}
	if r.atEOF && r.gz == nil && !r.headMoved {
		// Read to its end, and poll's atEOF, just before, found nothing
		// new: an idle file costs no read and the tailer can let go of
		// its read buffer.
		return false, false
	}
	b := r.begin(t)
	consumed, eof := r.fill(t, b, budget)
	if !b.empty() {
		b.send(r.trk.sent(r.position(), r.size))
	}
	if consumed > 0 {
		r.lastData, r.fresh = r.dec.now, true
	}
	return consumed > 0, consumed > 0 && !eof
}

// fill reads and decodes until EOF, an incomplete line, budget, or a
// consumer that does not take the batches, and reports whether it stopped
// at the file's end rather than with more to read.
func (r *reader) fill(t *Tailer, b *batcher, budget int) (total int, eof bool) {
	for total < budget && !r.stopped(b) {
		buf := t.readBuf(false)
		n, err := r.readAt(buf, r.off)
		if err != nil && !errors.Is(err, io.EOF) {
			t.readError(r, err)
			return total, true
		}
		if total == 0 && n > 0 && r.headChanged(t) {
			// Truncated and written again, perhaps past the offset, since
			// the last turn: what lies at the offset is not the old file.
			r.headMoved, r.atEOF = true, true
			return 0, true
		}
		used, lines := r.decodeChunk(t, b, buf[:n])
		if used == 0 && n == len(buf) && len(buf) < t.bufSize {
			t.readBuf(true) // a line longer than the buffer: read it whole
			continue
		}
		total += used
		t.ev.Read(lines, used)
		if r.off+int64(n-used) > r.size {
			r.size = r.off + int64(n-used)
		}
		if r.stopped(b) {
			break // stopped in the middle of what was read: not the end
		}
		r.atEOF = n < len(buf) || used == 0
		if r.atEOF {
			r.tail = int64(n - used)
			return total, true
		}
	}
	return total, false
}

// stopped reports whether reading must pause: the consumer has not taken
// the last batch, or too many of this file's batches await acknowledgement.
func (r *reader) stopped(b *batcher) bool { return b.blocked() || r.trk.full() }

// readAt reads the file's content: the plain file, or the decompressed .gz.
func (r *reader) readAt(p []byte, off int64) (int, error) {
	if r.gz != nil {
		return r.gz.ReadAt(p, off)
	}
	return r.f.ReadAt(p, off)
}

// decodeChunk feeds the complete lines of data to the decoder, flushing full
// batches between lines, where the position is consistent. It stops early
// when the consumer does not take a batch, leaving the rest for later.
func (r *reader) decodeChunk(t *Tailer, b *batcher, data []byte) (int, int) {
	used, lines := 0, 0
	for {
		if !r.dec.splitting() {
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
			return used, lines
		}
		r.dec.feed(line, r.off, complete)
		r.off += int64(n)
		used += n
		lines++
		if b.full() {
			b.send(r.trk.sent(r.position(), r.size))
			if r.stopped(b) {
				return used, lines
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
func (r *reader) finishTail(t *Tailer) {
	if r.f == nil {
		return
	}
	r.flush(t, func() {
		// Most files end with their newline: the tail is read into the
		// buffer as it is, and only one longer than it needs room for a
		// whole line.
		buf := t.readBuf(false)
		n, err := r.readAt(buf[:min(len(buf), t.maxLine)], r.off)
		if n == len(buf) && n < t.maxLine {
			buf = t.readBuf(true)
			n, err = r.readAt(buf[:t.maxLine], r.off)
		}
		if err != nil && !errors.Is(err, io.EOF) {
			t.readError(r, err)
		}
		if n > 0 {
			b := &t.batch
			before := len(b.recs)
			r.dec.feedTail(buf[:n], r.off)
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
// so identity gets stronger as the file fills. A reader that has read
// nothing yet grows it too: a copytruncate that comes before its first read
// leaves the bytes it never read in a copy, which only a fingerprint of
// them can find.
func (r *reader) refreshFingerprint(size int) {
	if r.f == nil || r.gz != nil || r.fp.Covers(size) || (r.off > 0 && r.off <= int64(r.fp.Len())) {
		return
	}
	if fp, err := fingerprint.New(r.f, size); err == nil && fp.StartsWith(r.fp) {
		r.fp = fp
	}
}

// headChanged reports whether the file's first bytes no longer match its
// fingerprint: it was truncated (copytruncate) and has been written again,
// perhaps past the read offset, before a size check could notice.
func (r *reader) headChanged(t *Tailer) bool {
	n := r.fp.Len()
	if n == 0 || r.gz != nil || r.static || r.state != stateLive {
		return false
	}
	head := t.head[:n]
	got, err := r.f.ReadAt(head, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return false // a read error is handled by the read that follows
	}
	return !r.fp.Matches(head[:got])
}

func (r *reader) close(t *Tailer) {
	if r.f != nil {
		if r.gz != nil {
			r.gz.Close()
			r.gz = nil
		} else {
			r.f.Close()
		}
		r.f = nil
		t.open--
		t.ev.Closed()
	}
}

// flush runs fn with a fresh batch for r and sends what it emitted.
func (r *reader) flush(t *Tailer, fn func()) {
	b := r.begin(t)
	fn()
	if !b.empty() {
		b.send(r.trk.sent(r.position(), r.size))
	}
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
