package loggen

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"time"
)

// Options are how a File writes.
type Options struct {
	Format Format
	// LineSize makes every line this long; 0 draws lengths from Mix,
	// seeded by the file's index.
	LineSize int
	Rotation Rotation
}

// File writes numbered lines to one container's 0.log and rotates it. It
// is not safe for concurrent use.
type File struct {
	index  int
	format Format
	sizes  Sizes
	rot    rotator
	f      *os.File
	w      *bufio.Writer
	size   int64 // bytes in the current 0.log
	bytes  int64 // bytes written in all
	seq    int
	buf    []byte
}

// Open appends to the 0.log at path as file number index.
func Open(path string, index int, o Options) (*File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	sizes := Fixed(o.LineSize)
	if o.LineSize == 0 {
		sizes = Mix(uint64(index))
	}
	format := o.Format
	if format == "" {
		format = CRI
	}
	return &File{
		index: index, format: format, sizes: sizes,
		rot: newRotator(o.Rotation, path),
		f:   f, w: bufio.NewWriterSize(f, 64<<10),
	}, nil
}

// Write appends n lines, rotating the file whenever it reaches MaxSize.
func (f *File) Write(n int) error {
	now := time.Now()
	for range n {
		f.buf = AppendLine(f.buf[:0], f.format, now, f.index, f.seq, f.sizes.Next())
		f.seq++
		if _, err := f.w.Write(f.buf); err != nil {
			return fmt.Errorf("write %s: %w", f.rot.path, err)
		}
		f.size += int64(len(f.buf))
		f.bytes += int64(len(f.buf))
		if f.rot.MaxSize > 0 && f.size >= f.rot.MaxSize {
			if err := f.rotate(); err != nil {
				return err
			}
		}
	}
	return nil
}

// rotate moves the full file aside and carries on in a new 0.log.
func (f *File) rotate() error {
	if err := f.w.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", f.rot.path, err)
	}
	f.rot.count++
	f.size = 0
	if f.rot.CopyTruncate {
		return f.rot.copyTruncate(f.f)
	}
	if err := f.f.Close(); err != nil {
		return err
	}
	if _, err := f.rot.kubelet.Rotate(); err != nil {
		return err
	}
	nf, err := os.OpenFile(f.rot.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	f.f = nf
	f.w.Reset(nf)
	return nil
}

// Flush writes buffered lines to the file.
func (f *File) Flush() error {
	if err := f.w.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", f.rot.path, err)
	}
	return nil
}

// Close flushes and closes the file.
func (f *File) Close() error {
	err := f.Flush()
	if cerr := f.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// Lines is how many lines were written; the next line's seq.
func (f *File) Lines() int { return f.seq }

// Bytes is how many bytes were written, over all rotations.
func (f *File) Bytes() int64 { return f.bytes }

// Rotations is how many times the file was rotated.
func (f *File) Rotations() int { return f.rot.count }

// tick is how often Pace writes and flushes at a set rate.
const tick = 20 * time.Millisecond

// Pace writes lines lines to each file, rate lines a second per file (as
// fast as it can when rate is 0), from one goroutine, flushing each tick
// so readers see lines as they are written. It stops early when ctx ends.
func Pace(ctx context.Context, files []*File, lines, rate int) error {
	start := time.Now()
	for written := 0; written < lines; {
		want := lines
		if rate > 0 {
			want = min(lines, int(time.Since(start).Seconds()*float64(rate)))
		}
		if n := want - written; n > 0 {
			for _, f := range files {
				if err := f.Write(n); err != nil {
					return err
				}
				if err := f.Flush(); err != nil {
					return err
				}
			}
			written = want
		}
		if written == lines {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(tick):
		}
	}
	return nil
}
