package segment

import (
	"fmt"
	"path/filepath"
)

// Repair makes a segment safe to append to after a crash and returns how many bytes it removed.
//
// It reads the whole segment and truncates it just after its last valid
// frame, removing a torn tail: a partial last frame, or trailing bytes that
// do not form a valid frame (a preallocated zeroed tail, say). Corrupt frames
// before the last valid one are left for readers to skip and are returned.
// A file shorter than the header or with a bad header is an error wrapping a
// *CorruptionErr: the caller deletes or quarantines the segment.
func Repair(dir string, index uint64) (truncated int64, corrupt []*CorruptionErr, err error) {
	path := filepath.Join(dir, Name(index))
	f, err := openFile(path, true)
	if err != nil {
		return 0, nil, fmt.Errorf("repair segment: %w", err)
	}
	defer func() {
		if cerr := f.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("repair segment %s: close: %w", path, cerr)
		}
	}()
	if err := readHeader(f, dir, index); err != nil {
		return 0, nil, fmt.Errorf("repair segment: %w", err)
	}

	r := newReader(f, dir, index, HeaderSize)
	good := int64(HeaderSize)
	for r.Next() {
		good = r.End()
	}
	if r.Err() != nil {
		return 0, nil, fmt.Errorf("repair segment: %w", r.Err())
	}
	for _, c := range r.Corruptions() {
		if c.Offset < good {
			corrupt = append(corrupt, c)
		}
	}

	fi, err := f.Stat()
	if err != nil {
		return 0, corrupt, fmt.Errorf("repair segment %s: %w", path, err)
	}
	if fi.Size() <= good {
		return 0, corrupt, nil
	}
	if err := f.Truncate(good); err != nil {
		return 0, corrupt, fmt.Errorf("repair segment %s: truncate to %d bytes: %w", path, good, err)
	}
	if err := dataSync(f); err != nil {
		return 0, corrupt, fmt.Errorf("repair segment %s: sync: %w", path, err)
	}
	return fi.Size() - good, corrupt, nil
}
