package buffer

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/sluicelog/sluice/buffer/segment"
)

// UnreadableErr is a buffer file that recovery could not read for a reason
// other than proven corruption: an I/O error, a permission, a folder where
// a file should be. Such a file may hold records no sink has sent yet, so
// Open keeps it and fails rather than delete it; the operator decides.
type UnreadableErr struct {
	What string // "segment" or "cursor"
	Path string
	Err  error
}

// Error returns a message that names the file and what to do about it.
func (e *UnreadableErr) Error() string {
	return fmt.Sprintf("buffer %s %s cannot be read: %v; fix its permissions or the disk, or move it away: sluice will not delete it", e.What, e.Path, e.Err)
}

// Unwrap returns why the file could not be read.
func (e *UnreadableErr) Unwrap() error { return e.Err }

// errNotRegular is why an entry with a segment's name that is not a regular
// file (a folder, a symlink) cannot be read as a segment.
var errNotRegular = errors.New("not a regular file")

// recoverSegment repairs (when it is one of the two newest, which may have
// been written without an fsync) and measures one segment. A segment
// proven corrupt is removed, counted and reported as nil, nil; any other
// error is an *UnreadableErr and the file stays.
func (b *Buffer) recoverSegment(idx uint64, unsynced bool) (*segInfo, error) {
	if unsynced {
		cut, corrupt, err := segment.Repair(b.cfg.Dir, idx)
		if err != nil {
			return nil, b.discardCorrupt(idx, err)
		}
		if cut > 0 || len(corrupt) > 0 {
			b.cfg.Logger.Warn("buffer segment repaired", "segment", segment.Name(idx), "truncated_bytes", cut, "corrupt_frames", len(corrupt))
			b.ev.Corrupt(cut)
		}
	}
	s, err := b.measure(idx)
	if err != nil {
		return nil, b.discardCorrupt(idx, err)
	}
	return s, nil
}

// discardCorrupt removes segment idx if err proves it corrupt (its header is
// not a segment's: nothing in it can be read) and returns nil; for any
// other error it keeps the file and returns an *UnreadableErr.
func (b *Buffer) discardCorrupt(idx uint64, err error) error {
	if ce := (*segment.CorruptionErr)(nil); !errors.As(err, &ce) {
		return &UnreadableErr{What: "segment", Path: filepath.Join(b.cfg.Dir, segment.Name(idx)), Err: err}
	}
	b.cfg.Logger.Error("buffer segment corrupt, removed", "segment", segment.Name(idx), "err", err)
	b.ev.Corrupt(b.fileSize(idx))
	b.remove(idx)
	return nil
}

// checkSegmentEntries fails on an entry named like a segment that is not a
// regular file: segment.List passes over it, but it may be a segment moved
// or mounted there by someone, and a new segment of its index could not be
// created.
func checkSegmentEntries(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("list buffer segments: %w", err)
	}
	for _, e := range entries {
		if _, ok := segment.ParseName(e.Name()); ok && !e.Type().IsRegular() {
			return &UnreadableErr{What: "segment", Path: filepath.Join(dir, e.Name()), Err: notRegular(e)}
		}
	}
	return nil
}

// notRegular says what e is instead of a regular file.
func notRegular(e os.DirEntry) error {
	if e.IsDir() {
		return fmt.Errorf("%w: it is a folder", errNotRegular)
	}
	return fmt.Errorf("%w: its type is %v", errNotRegular, e.Type())
}
