package segment

import (
	"fmt"
	"path/filepath"
)

// CorruptionErr says where in which segment file bytes were found that do not form a valid header or frame.
type CorruptionErr struct {
	Dir     string // folder of the segment file
	Segment uint64 // index of the segment file
	Offset  int64  // file offset of the header (0) or of the first bad frame
	Err     error  // what was wrong
}

// Error returns a message like "corrupt segment DIR/00000000000000000042.seg at offset 1234: crc mismatch".
func (e *CorruptionErr) Error() string {
	name := Name(e.Segment)
	if e.Dir != "" {
		name = filepath.Join(e.Dir, name)
	}
	return fmt.Sprintf("corrupt segment %s at offset %d: %v", name, e.Offset, e.Err)
}

// Unwrap returns the reason the bytes are corrupt.
func (e *CorruptionErr) Unwrap() error { return e.Err }

// maxCorruptions bounds the corrupt regions a Reader remembers, so a segment
// of nothing but bad frames cannot hold unbounded memory.
const maxCorruptions = 1024

// badFrame is why the frame at an offset is corrupt. It is a value so that
// finding one costs no allocation until it is recorded.
type badFrame struct {
	kind   badKind
	length uint32 // the length field (badLength, badTorn)
	avail  int64  // bytes of the frame in the file (badTorn)
}

type badKind uint8

const (
	badNone   badKind = iota
	badCRC            // the CRC does not match
	badLength         // the length is over MaxRecord
	badTorn           // the frame runs past the end of the file
	badShort          // fewer bytes than a frame header are left in the file
)

// err returns the reason as an error, for a CorruptionErr.
func (b badFrame) err() error {
	switch b.kind {
	case badCRC:
		return fmt.Errorf("crc mismatch")
	case badLength:
		return fmt.Errorf("impossible length %d (max %d)", b.length, MaxRecord)
	case badTorn:
		return fmt.Errorf("torn frame: %d of its %d bytes in the file", b.avail, int64(b.length)+FrameOverhead)
	case badShort:
		return fmt.Errorf("torn frame: %d trailing bytes, fewer than a frame header", b.avail)
	}
	return nil
}
