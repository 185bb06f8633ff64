package segment

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync/atomic"
)

// maxKeptScratch is the largest framing buffer a Writer keeps between appends.
const maxKeptScratch = 4 << 20

// errClosed is returned by a Writer's methods after Close.
var errClosed = errors.New("segment writer is closed")

// Writer appends frames to one segment file.
//
// Each Append or AppendFrames is a single write call of whole frames and Size
// moves past them only once it has returned, so a Reader limited to Size
// never sees part of a frame. Appended records are durable once Sync returns.
// After a failed write or sync the Writer refuses further appends: part of a
// frame may be in the file, or written data lost; close it, then Repair the
// segment or start a new one. A Writer is not safe for concurrent use,
// except Size.
type Writer struct {
	f       *os.File
	dir     string
	index   uint64
	size    atomic.Int64
	scratch []byte // the frame Append writes
	err     error  // sticky: no more appends
}

// Create creates segment index in dir, failing if it exists, and makes its header durable.
func Create(dir string, index uint64) (*Writer, error) {
	path := filepath.Join(dir, Name(index))
	f, err := createFile(path)
	if err != nil {
		return nil, fmt.Errorf("create segment: %w", err)
	}
	fail := func(what string, err error) (*Writer, error) {
		f.Close()
		os.Remove(path)
		return nil, fmt.Errorf("create segment %s: %s: %w", path, what, err)
	}
	if _, err := f.Write([]byte(headerStr)); err != nil {
		return fail("write header", err)
	}
	if err := dataSync(f); err != nil {
		return fail("sync", err)
	}
	if err := syncDir(dir); err != nil {
		return fail("sync folder", err)
	}
	w := &Writer{f: f, dir: dir, index: index}
	w.size.Store(HeaderSize)
	return w, nil
}

// OpenForAppend opens an existing segment, already repaired, to append at its end.
func OpenForAppend(dir string, index uint64) (*Writer, error) {
	path := filepath.Join(dir, Name(index))
	f, err := openFile(path, true)
	if err != nil {
		return nil, fmt.Errorf("open segment for append: %w", err)
	}
	if err := readHeader(f, dir, index); err != nil {
		f.Close()
		return nil, fmt.Errorf("open segment for append: %w", err)
	}
	end, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("open segment %s for append: %w", path, err)
	}
	w := &Writer{f: f, dir: dir, index: index}
	w.size.Store(end)
	return w, nil
}

// Index returns the index of the segment.
func (w *Writer) Index() uint64 { return w.index }

// Size returns the bytes written so far, header included; it is safe to call from any goroutine.
func (w *Writer) Size() int64 { return w.size.Load() }

// Append writes one frame of payload with a single write call and returns the frame's start offset.
func (w *Writer) Append(payload []byte) (offset int64, err error) {
	if w.err != nil {
		return 0, w.err
	}
	if len(payload) > MaxRecord {
		return 0, fmt.Errorf("append to segment %s: record of %d bytes is over the %d-byte maximum", w.path(), len(payload), MaxRecord)
	}
	frame := w.buffer(FrameOverhead + len(payload))
	putFrame(frame, payload)
	offset = w.size.Load()
	if err := w.write(frame); err != nil {
		return 0, err
	}
	return offset, nil
}

// AppendFrames writes frames a caller laid out in place with one write
// call: frame i is frames[ends[i-1]:ends[i]] (from 0 for the first), whose
// first FrameOverhead bytes are room for the header AppendFrames fills in.
// A caller that encodes its records straight into that layout saves a
// copy of every byte and a framing buffer the size of the batch. Nothing is
// written if a frame is shorter than its header or over MaxRecord, or if
// the last end is not len(frames).
func (w *Writer) AppendFrames(frames []byte, ends []int) error {
	if w.err != nil {
		return w.err
	}
	if len(ends) == 0 && len(frames) == 0 {
		return nil
	}
	if len(ends) == 0 || ends[len(ends)-1] != len(frames) {
		return fmt.Errorf("append to segment %s: frame ends do not cover the %d bytes given", w.path(), len(frames))
	}
	start := 0
	for i, end := range ends {
		n := end - start - FrameOverhead
		if n < 0 || n > MaxRecord {
			return fmt.Errorf("append to segment %s: record %d of the batch has %d bytes, not 0 to the %d-byte maximum", w.path(), i, n, MaxRecord)
		}
		start = end
	}
	start = 0
	for _, end := range ends {
		sealFrame(frames[start:end])
		start = end
	}
	return w.write(frames)
}

// buffer returns Append's scratch buffer resized to n bytes. It grows by
// at least half again, not to each larger frame's size, so frames that grow
// a little at a time do not each make a new buffer.
func (w *Writer) buffer(n int) []byte {
	if cap(w.scratch) < n {
		w.scratch = make([]byte, max(n, min(cap(w.scratch)*3/2, maxKeptScratch)))
	}
	return w.scratch[:n]
}

// write writes frames with one write call and moves Size past them.
func (w *Writer) write(frames []byte) error {
	_, err := w.f.Write(frames)
	if cap(w.scratch) > maxKeptScratch {
		w.scratch = nil
	}
	if err != nil {
		w.err = fmt.Errorf("write segment %s: %w", w.path(), err)
		return w.err
	}
	w.size.Add(int64(len(frames)))
	return nil
}

// Sync makes every frame appended so far durable (fdatasync on Linux, FlushFileBuffers on Windows).
func (w *Writer) Sync() error {
	if w.f == nil {
		return errClosed
	}
	if w.err != nil {
		return w.err
	}
	if err := dataSync(w.f); err != nil {
		// After a failed fsync the kernel may have dropped the dirty pages:
		// what was written since the last Sync cannot be trusted.
		w.err = fmt.Errorf("sync segment %s: %w", w.path(), err)
		return w.err
	}
	return nil
}

// Syncer returns a function that makes every frame appended before it
// returns durable, as Sync does, and that may run while other goroutines
// call the Writer's methods, even Close: it touches nothing of the Writer
// but its file, which a Close in the meantime closes only once the sync
// returned. It does not record a failure in the Writer, as Sync does: the
// caller that sees the error stops appending to this segment.
func (w *Writer) Syncer() func() error {
	f, err := w.f, w.err
	if f == nil {
		err = errClosed
	}
	return func() error {
		if err != nil {
			return err
		}
		if err := dataSync(f); err != nil {
			return fmt.Errorf("sync segment %s: %w", f.Name(), err)
		}
		return nil
	}
}

// Close closes the file without syncing it; call Sync first for durability.
func (w *Writer) Close() error {
	if w.f == nil {
		return nil
	}
	err := w.f.Close()
	w.f, w.scratch, w.err = nil, nil, errClosed
	if err != nil {
		return fmt.Errorf("close segment %s: %w", w.path(), err)
	}
	return nil
}

func (w *Writer) path() string { return filepath.Join(w.dir, Name(w.index)) }
