// Package gzread reads kubelet's compressed rotated logs (`0.log.<time>.gz`)
// as if they were the file they were made from.
//
// kubelet gzips a rotated log at its next rotation and deletes the original,
// so a tailer that fell two rotations behind finds the rest of its file only
// in the `.gz`. A [File] answers ReadAt at offsets of the decompressed
// content, which is what the tailer's reader already asks of a plain file.
//
// Guarantees: reads that move forward, or step back within the last read's
// window (the tailer re-reads an unfinished line), decompress each byte
// once; an earlier offset restarts decompression from the start, which is
// correct but slow. Size comes from the gzip trailer, so it is known without
// decompressing. A corrupt stream is an error from ReadAt, never a panic.
//
// Known limitations: the trailer holds the size modulo 4 GiB (kubelet's
// containerLogMaxSize is far below it); a file with several gzip members
// reports the last member's size, and kubelet writes one member.
package gzread

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/klauspost/compress/gzip"
)

// File is an open `.gz` read at decompressed offsets. It is not safe for
// concurrent use: one tailer reader owns it.
type File struct {
	f    *os.File
	size int64
	br   *bufio.Reader
	zr   *gzip.Reader
	pos  int64  // decompressed offset of the end of win
	win  []byte // decompressed bytes before pos, kept for a step back
}

// Open opens the compressed file f (which File then owns and closes).
func Open(f *os.File) (*File, error) {
	size, err := trailerSize(f)
	if err != nil {
		return nil, err
	}
	g := &File{f: f, size: size, br: bufio.NewReaderSize(f, 64<<10)}
	if err := g.restart(); err != nil {
		return nil, err
	}
	return g, nil
}

// trailerSize reads ISIZE, the last four bytes of a gzip stream.
func trailerSize(f *os.File) (int64, error) {
	st, err := f.Stat()
	if err != nil {
		return 0, fmt.Errorf("stat %s: %w", f.Name(), err)
	}
	if st.Size() < 18 { // the smallest gzip stream: 10-byte header, empty deflate, 8-byte trailer
		return 0, fmt.Errorf("read %s: %w: %d bytes is too short for gzip", f.Name(), ErrCorrupt, st.Size())
	}
	var b [4]byte
	if _, err := f.ReadAt(b[:], st.Size()-4); err != nil {
		return 0, fmt.Errorf("read gzip trailer of %s: %w", f.Name(), err)
	}
	return int64(binary.LittleEndian.Uint32(b[:])), nil
}

// ErrCorrupt is wrapped by errors about a stream that is not valid gzip.
var ErrCorrupt = errors.New("corrupt gzip stream")

func (g *File) restart() error {
	if _, err := g.f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("rewind %s: %w", g.f.Name(), err)
	}
	g.br.Reset(g.f)
	var err error
	if g.zr == nil {
		g.zr, err = gzip.NewReader(g.br)
	} else {
		err = g.zr.Reset(g.br)
	}
	if err != nil {
		return fmt.Errorf("read %s: %w: %v", g.f.Name(), ErrCorrupt, err)
	}
	g.zr.Multistream(false)
	g.pos, g.win = 0, g.win[:0]
	return nil
}

// Size is the length of the decompressed content.
func (g *File) Size() int64 { return g.size }

// File is the compressed file's handle, for identity and deletion checks.
func (g *File) File() *os.File { return g.f }

// Close closes the compressed file.
func (g *File) Close() error { return g.f.Close() }

// ReadAt reads len(p) decompressed bytes from off. It returns io.EOF with
// fewer bytes at the end of the content, as os.File does.
func (g *File) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("read %s at %d: negative offset", g.f.Name(), off)
	}
	if start := g.pos - int64(len(g.win)); off < start {
		if err := g.restart(); err != nil {
			return 0, err
		}
	}
	// Keep only what lies at or after off, then decompress until p is
	// covered or the stream ends.
	if start := g.pos - int64(len(g.win)); off > start {
		drop := min(off-start, int64(len(g.win)))
		g.win = g.win[:copy(g.win, g.win[drop:])]
	}
	for g.pos < off {
		n, err := io.CopyN(io.Discard, g.zr, off-g.pos)
		g.pos += n
		if err != nil {
			return 0, g.readErr(err)
		}
	}
	if cap(g.win) < len(p) {
		g.win = append(make([]byte, 0, len(p)), g.win...)
	}
	var err error
	for len(g.win) < len(p) && err == nil {
		var n int
		n, err = g.zr.Read(g.win[len(g.win):len(p)])
		g.win = g.win[:len(g.win)+n]
		g.pos += int64(n)
	}
	n := copy(p, g.win)
	if err != nil {
		if err = g.readErr(err); err == io.EOF && n == len(p) {
			err = nil
		}
	}
	return n, err
}

// readErr keeps io.EOF as it is and names the file in anything else.
func (g *File) readErr(err error) error {
	if err == io.EOF {
		return io.EOF
	}
	return fmt.Errorf("decompress %s at %d: %w: %v", g.f.Name(), g.pos, ErrCorrupt, err)
}
