package segment

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
)

const (
	// defaultWindow is the read buffer: a system call per thousand small
	// records, small enough to hold one per sink.
	defaultWindow = 256 << 10
	// maxKeptWindow is the largest read buffer kept once the large record
	// that needed it has been passed.
	maxKeptWindow = 4 << 20
)

// Reader reads the frames of one segment file in order.
//
// It returns only payloads whose CRC matches. Bytes that do not form a valid
// frame (a bad CRC, a length over MaxRecord, a frame that runs past the end
// of the file) are skipped up to the next position where a valid frame
// starts; the skipped bytes are counted by Skipped and their regions listed
// by Corruptions, and reading goes on. Err reports only I/O errors.
//
// With a limit (SetLimit), the Reader reads no frame that ends past it and
// reads no byte at or past it, so it can follow a segment while a Writer
// appends to it: a frame that does not fit below the limit is waited for,
// never reported. Without a limit, it reads to the end of the file, and a
// frame cut short there is a torn tail, skipped and reported: read a sealed
// segment (one no Writer appends to any more) without a limit, or a corrupt
// length near its end would look like a frame still being written and hide
// the frames behind it.
type Reader struct {
	f     *os.File
	dir   string
	index uint64

	buf    []byte // window of file bytes [bufOff, bufOff+len(buf))
	bufOff int64

	pos   int64 // offset of the next frame to look at
	limit int64 // no frame ending past it is read; negative for none
	seen  int64 // the file holds at least this many bytes
	eof   int64 // where a read found the end of the file since the limit last changed; -1 if none

	rec      []byte // current payload, aliasing buf
	off, end int64  // current frame

	skipped   int64
	corrupt   []*CorruptionErr
	resyncing bool // bytes from a recorded corruption on are being skipped
	err       error

	sums crcIndex // CRCs of prefixes, for resynchronising past long lengths
	side []byte   // buffer for reads away from the window
}

// OpenReader opens a segment for reading from offset (0 or HeaderSize for the first frame), after checking its header.
func OpenReader(dir string, index uint64, offset int64) (*Reader, error) {
	path := filepath.Join(dir, Name(index))
	if offset < 0 || (offset > 0 && offset < HeaderSize) {
		return nil, fmt.Errorf("open segment %s: offset %d is not a frame's", path, offset)
	}
	f, err := openFile(path, false)
	if err != nil {
		return nil, fmt.Errorf("open segment: %w", err)
	}
	if err := readHeader(f, dir, index); err != nil {
		f.Close()
		return nil, fmt.Errorf("open segment: %w", err)
	}
	return newReader(f, dir, index, max(offset, HeaderSize)), nil
}

// newReader reads f, whose header has been checked, from offset on, without a limit.
func newReader(f *os.File, dir string, index uint64, offset int64) *Reader {
	return &Reader{f: f, dir: dir, index: index, pos: offset, limit: -1, eof: -1, off: offset, end: offset}
}

// SetLimit makes the reader read no frame that ends past n (a size the Writer reported); a negative n removes the limit.
//
// n should be a value of Writer.Size, which always falls between frames.
// Remove the limit once the segment is sealed.
func (r *Reader) SetLimit(n int64) {
	if n = max(n, -1); n != r.limit {
		r.limit, r.eof = n, -1
	}
}

// Next advances to the next valid frame, skipping corrupt bytes; it returns false at the limit, at the end of the file or on an I/O error.
//
// After it returned false at the limit, Next may be called again once the
// limit has been raised.
func (r *Reader) Next() bool {
	r.rec = nil
	if r.err != nil || r.f == nil {
		return false
	}
	for {
		st, bad := r.frame()
		switch st {
		case frameOK:
			r.resyncing = false
			return true
		case frameStop:
			return false
		}
		if !r.resyncing {
			r.record(r.pos, bad)
			r.resyncing = true
		}
		if !r.scan() {
			return false
		}
	}
}

type frameStatus uint8

const (
	frameOK   frameStatus = iota // a valid frame was read
	frameStop                    // the limit, the end of the file or an I/O error
	frameBad                     // the frame at pos is corrupt
)

// frame reads the frame at r.pos.
func (r *Reader) frame() (frameStatus, badFrame) {
	pos := r.pos
	if r.limit >= 0 && pos+FrameOverhead > r.limit {
		return frameStop, badFrame{}
	}
	w, ok := r.window(pos, FrameOverhead)
	if !ok {
		return frameStop, badFrame{}
	}
	if len(w) < FrameOverhead {
		if len(w) == 0 {
			return frameStop, badFrame{} // the end of the file
		}
		return frameBad, badFrame{kind: badShort, avail: int64(len(w))}
	}
	length, sum := frameHeader(w)
	if length > MaxRecord {
		return frameBad, badFrame{kind: badLength, length: length}
	}
	n := FrameOverhead + int(length)
	if r.limit >= 0 && pos+int64(n) > r.limit {
		return frameStop, badFrame{}
	}
	if len(w) < n {
		if w, ok = r.window(pos, n); !ok {
			return frameStop, badFrame{}
		}
		if len(w) < n {
			return frameBad, badFrame{kind: badTorn, length: length, avail: int64(len(w))}
		}
	}
	if frameCRC(w[:4], w[FrameOverhead:n]) != sum {
		return frameBad, badFrame{kind: badCRC}
	}
	r.rec = w[FrameOverhead:n:n]
	r.off, r.end, r.pos = pos, pos+int64(n), pos+int64(n)
	return frameOK, badFrame{}
}

// window returns the file's bytes from off on, at least n of them unless the
// file (below the limit) ends first. It returns false on an I/O error, which
// it keeps in r.err.
func (r *Reader) window(off int64, n int) ([]byte, bool) {
	if i := off - r.bufOff; i >= 0 && i+int64(n) <= int64(len(r.buf)) {
		return r.buf[i:], true
	}
	return r.fill(off, n)
}

// fill refills the window to start at off and hold at least n bytes, keeping
// what it already holds from off on.
func (r *Reader) fill(off int64, n int) ([]byte, bool) {
	var keep []byte
	if i := off - r.bufOff; i >= 0 && i < int64(len(r.buf)) {
		keep = r.buf[i:]
	}
	dst := r.buf[:cap(r.buf)]
	switch {
	case n > len(dst):
		dst = make([]byte, max(n, defaultWindow))
	case len(dst) > maxKeptWindow && n <= defaultWindow:
		dst = make([]byte, defaultWindow)
	}
	k := copy(dst, keep)
	from := off + int64(k)
	want := int64(len(dst) - k)
	if r.limit >= 0 {
		want = max(min(want, r.limit-from), 0)
	}
	m := 0
	if want > 0 {
		var err error
		m, err = r.f.ReadAt(dst[k:int64(k)+want], from)
		switch {
		case err == nil:
		case errors.Is(err, io.EOF):
			r.eof = from + int64(m)
		default:
			r.buf, r.bufOff = dst[:k], off
			r.err = fmt.Errorf("read segment %s at offset %d: %w", r.path(), from, err)
			return nil, false
		}
		r.seen = max(r.seen, from+int64(m))
	}
	r.buf, r.bufOff = dst[:k+m], off
	return r.buf, true
}

// record remembers the corruption found at off.
func (r *Reader) record(off int64, bad badFrame) {
	if len(r.corrupt) < maxCorruptions {
		r.corrupt = append(r.corrupt, &CorruptionErr{Dir: r.dir, Segment: r.index, Offset: off, Err: bad.err()})
	}
}

// skipTo moves past corrupt bytes up to off.
func (r *Reader) skipTo(off int64) {
	if off <= r.pos {
		return
	}
	r.skipped += off - r.pos
	r.pos = off
}

// Record returns the current payload, valid until the next call to Next.
func (r *Reader) Record() []byte { return r.rec }

// Offset returns the file offset at which the current frame starts.
func (r *Reader) Offset() int64 { return r.off }

// End returns the file offset just after the current frame, where the next one starts.
func (r *Reader) End() int64 { return r.end }

// Skipped returns how many corrupt bytes have been skipped so far.
func (r *Reader) Skipped() int64 { return r.skipped }

// Corruptions returns the corrupt regions skipped so far (at most 1024), in file order.
func (r *Reader) Corruptions() []*CorruptionErr { return slices.Clip(r.corrupt) }

// Err returns the I/O error that stopped the reader, if any; corruption is not an error.
func (r *Reader) Err() error { return r.err }

// SetWindow gives the Reader buf's memory to read into, such as the
// Window of the Reader of the segment before: a reader that moves from
// segment to segment then makes no new read buffer for each. It is
// ignored once the Reader has read.
func (r *Reader) SetWindow(buf []byte) {
	if r.buf == nil && cap(buf) <= maxKeptWindow {
		r.buf, r.bufOff = buf[:0], 0
	}
}

// Window returns the Reader's read buffer, for SetWindow of the next
// Reader once this one is closed; the current record points into it.
func (r *Reader) Window() []byte { return r.buf }

// Close closes the file; the current record is no longer valid.
func (r *Reader) Close() error {
	if r.f == nil {
		return nil
	}
	err := r.f.Close()
	r.f, r.buf, r.rec, r.side = nil, nil, nil, nil
	if err != nil {
		return fmt.Errorf("close segment %s: %w", r.path(), err)
	}
	return nil
}

func (r *Reader) path() string { return filepath.Join(r.dir, Name(r.index)) }
