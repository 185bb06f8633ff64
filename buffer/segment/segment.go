// Package segment reads and writes the segment files of sluice's disk-backed
// ring buffer. The buffer package above it keeps the in-memory view, the
// cursors and the caps; this package only frames, writes, reads, checks and
// repairs files.
//
// A segment is a file named by its zero-padded index ([Name]) holding an
// 8-byte header (magic "SLSG", version 1, three zero bytes) and then frames:
// a 4-byte little-endian payload length, a 4-byte CRC32C (Castagnoli) of the
// length bytes followed by the payload, then the payload. A frame is never
// split across segments.
//
// It guarantees that:
//   - a [Reader] never returns a payload whose CRC does not match, whatever
//     the file holds, and never panics on a corrupt file;
//   - a corrupt frame in the middle of a segment costs only that frame: the
//     reader resynchronises at the next position where a valid frame starts,
//     counts the skipped bytes ([Reader.Skipped]) and records where
//     ([Reader.Corruptions]), so one bad sector does not lose the records
//     behind it;
//   - every [Writer.Append] and [Writer.AppendFrames] is one write call, so a
//     reader bounded by [Reader.SetLimit] to a size the writer reported sees
//     whole frames only;
//   - a crash can damage only what follows the last [Writer.Sync]: a torn
//     last frame, or zeroed or stale bytes where the file system had not
//     written the data yet; [Repair] cuts such a tail off, and readers skip
//     what lies before a valid frame;
//   - a record is durable once [Writer.Sync] has returned after its append;
//     [Create] syncs the new file's header and, on Unix, its folder entry.
//
// Known limitations:
//   - A record that happens to contain the bytes of a whole valid frame (a
//     segment file logged as a line, say) can be returned as a record of its
//     own when the reader resynchronises inside it after a corruption. CRCs
//     catch damage, not such look-alikes.
//   - A corrupt length field that claims a frame ending past the reader's
//     limit holds the reader at that frame until the limit passes the claimed
//     end (at most [MaxRecord] + [FrameOverhead] bytes later) or is removed
//     with SetLimit(-1): a frame that ends past the limit cannot be told from
//     one that is still being written. So a sealed segment is read without a
//     limit, and appending to a segment whose repair reported corruption in
//     the middle risks such a hold, where a new segment does not.
//   - Resynchronising over random bytes costs a few microseconds for each
//     position whose length field is plausible (about one position in 64), so
//     a segment overwritten with megabytes of random data is read at tens of
//     MB/s; text and zeroed regions are skipped at memory speed.
//   - [Reader.Corruptions] keeps the first 1024 corrupt regions of a segment;
//     [Reader.Skipped] counts the bytes of all of them.
//   - A Writer is not safe for concurrent use, except [Writer.Size], which may
//     be called from any goroutine. A Reader belongs to one goroutine.
//
// On Windows every file is opened with FILE_SHARE_READ, FILE_SHARE_WRITE and
// FILE_SHARE_DELETE, so a segment can be deleted while a reader still holds
// it; folder entries are not synced, since Windows cannot open a folder for
// FlushFileBuffers and NTFS journals them itself.
package segment

import (
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
)

const (
	// MaxRecord is the largest payload a frame may hold; longer lengths are corrupt.
	MaxRecord = 64 << 20
	// HeaderSize is the size of the header at the start of every segment file.
	HeaderSize = 8
	// FrameOverhead is the size of a frame's length and CRC fields.
	FrameOverhead = 8
)

const (
	version   = 1
	suffix    = ".seg"
	digits    = 20 // len("18446744073709551615")
	nameLen   = digits + len(suffix)
	magic     = "SLSG"
	headerStr = magic + "\x01\x00\x00\x00" // magic, version, reserved
)

// castagnoli is the CRC32C table; hash/crc32 uses the CPU's CRC instructions for it.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Name returns the file name of the segment with the given index.
func Name(index uint64) string {
	return fmt.Sprintf("%0*d%s", digits, index, suffix)
}

// ParseName returns the index of a segment file name, and false for any other name.
func ParseName(name string) (uint64, bool) {
	if len(name) != nameLen || !strings.HasSuffix(name, suffix) {
		return 0, false
	}
	num := name[:digits]
	for i := 0; i < len(num); i++ {
		if num[i] < '0' || num[i] > '9' {
			return 0, false
		}
	}
	index, err := strconv.ParseUint(num, 10, 64)
	if err != nil {
		return 0, false // more than fits in a uint64
	}
	return index, true
}

// List returns the indexes of the segment files in dir in ascending order; other entries are ignored.
func List(dir string) ([]uint64, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list segments: %w", err)
	}
	var indexes []uint64
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		if index, ok := ParseName(e.Name()); ok {
			indexes = append(indexes, index)
		}
	}
	slices.Sort(indexes)
	return indexes, nil
}

// checkHeader returns why hdr, the first bytes of a segment file, is not a
// valid header, or nil.
func checkHeader(hdr []byte) error {
	switch {
	case len(hdr) < HeaderSize:
		return fmt.Errorf("file of %d bytes is shorter than the %d-byte header", len(hdr), HeaderSize)
	case string(hdr[:len(magic)]) != magic:
		return fmt.Errorf("bad magic %q", hdr[:len(magic)])
	case hdr[len(magic)] != version:
		return fmt.Errorf("unsupported version %d", hdr[len(magic)])
	case !bytes.Equal(hdr[len(magic)+1:HeaderSize], []byte{0, 0, 0}):
		return fmt.Errorf("reserved header bytes % x are not zero", hdr[len(magic)+1:HeaderSize])
	}
	return nil
}

// readHeader reads and checks the header of the open segment file f.
func readHeader(f *os.File, dir string, index uint64) error {
	var hdr [HeaderSize]byte
	n, err := f.ReadAt(hdr[:], 0)
	if n == HeaderSize {
		err = nil
	} else if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("read header: %w", err)
	}
	if err := checkHeader(hdr[:n]); err != nil {
		return &CorruptionErr{Dir: dir, Segment: index, Offset: 0, Err: err}
	}
	return nil
}
