package buffer

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/sluicelog/sluice/internal/atomicfile"
)

// A cursor file (<sink>.pos) is saved in place, as databases save their
// meta pages: two fixed slots, each a whole copy of the position with a
// sequence number and a CRC-32C. A save writes the slot that does not hold
// the last fsynced copy, with one pwrite on a handle kept open, so a commit
// costs no open, rename or close; loading takes the valid slot with the
// highest sequence number, so a torn or garbled slot falls back to the
// other. Both slots bad is a corrupt cursor, as a bad JSON cursor was.
//
// The slots are a page (4 KiB) apart although each uses 40 bytes: the
// writeback of one slot then never rewrites the other's page, nor its
// physical sector on drives with 4 KiB sectors, so a power loss that
// garbles the sector being written cannot take the last durable slot with
// it. The file costs 8 KiB per sink.
const (
	slotSize         = 4096
	slotLen          = 40 // version, seq, segment, offset, records, CRC
	cursorFileSize   = 2 * slotSize
	cursorExt        = ".pos"
	cursorSlotFormat = 1
)

// cursorFile is one sink's cursor file, open from Open to Close once it
// exists. It is not safe for concurrent use; the buffer's lock guards it.
type cursorFile struct {
	f       *os.File // nil until the first save creates the file
	path    string
	created bool   // by a save since the last sync: its folder entry is not durable yet
	seq     uint64 // of the newest slot written
	last    int    // the slot written last
	durable int    // the slot holding the last fsynced copy: never overwritten
	buf     [slotLen]byte
}

func cursorPath(dir, name string) string {
	return filepath.Join(CursorDir(dir), name+cursorExt)
}

// openCursorFile opens a sink's cursor file, if there is one, and reads its
// position. ok is false when there is none or it was never written to; an
// error wrapping errCorruptCursor means neither slot holds a valid
// position; any other error means the file could not be read, and no
// cursorFile is returned.
func openCursorFile(dir, name string) (cf *cursorFile, pos Position, ok bool, err error) {
	cf = &cursorFile{path: cursorPath(dir, name)}
	f, err := os.OpenFile(cf.path, os.O_RDWR, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return cf, Position{}, false, nil
	}
	if err != nil {
		return nil, Position{}, false, err
	}
	cf.f = f
	var slots [2][slotLen]byte
	var n [2]int
	for i := range slots {
		n[i], err = f.ReadAt(slots[i][:], int64(i)*slotSize)
		if err != nil && !errors.Is(err, io.EOF) {
			f.Close()
			return nil, Position{}, false, err
		}
	}
	if unwritten(slots[0][:n[0]]) && unwritten(slots[1][:n[1]]) {
		// Created, then the process or the disk failed before the first
		// position was in: as good as missing, as the file was before.
		return cf, Position{}, false, nil
	}
	best := -1
	var seqs [2]uint64
	var poss [2]Position
	var why [2]error
	for i := range slots {
		seqs[i], poss[i], why[i] = decodeSlot(slots[i][:n[i]])
		if why[i] == nil && (best < 0 || seqs[i] > seqs[best]) {
			best = i
		}
	}
	if best < 0 {
		return cf, Position{}, false, fmt.Errorf("cursor %s is %w (slot 0: %v; slot 1: %v)", name, errCorruptCursor, why[0], why[1])
	}
	cf.seq, cf.last, cf.durable = seqs[best], best, best
	return cf, poss[best], true, nil
}

// unwritten reports whether a slot's bytes are what a new file holds.
func unwritten(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// decodeSlot checks and decodes one slot.
func decodeSlot(b []byte) (uint64, Position, error) {
	if len(b) < slotLen {
		return 0, Position{}, fmt.Errorf("%d of its %d bytes", len(b), slotLen)
	}
	if sum, want := crc32.Checksum(b[:slotLen-4], castagnoli), binary.LittleEndian.Uint32(b[slotLen-4:]); sum != want {
		return 0, Position{}, fmt.Errorf("checksum %08x, want %08x", want, sum)
	}
	if v := binary.LittleEndian.Uint32(b); v != cursorSlotFormat {
		return 0, Position{}, fmt.Errorf("format %d, want %d", v, cursorSlotFormat)
	}
	return binary.LittleEndian.Uint64(b[4:]), Position{
		Segment: binary.LittleEndian.Uint64(b[12:]),
		Offset:  int64(binary.LittleEndian.Uint64(b[20:])),
		Records: int64(binary.LittleEndian.Uint64(b[28:])),
	}, nil
}

// encodeSlot fills b (slotLen bytes) with p under sequence number seq.
func encodeSlot(b []byte, seq uint64, p Position) {
	binary.LittleEndian.PutUint32(b, cursorSlotFormat)
	binary.LittleEndian.PutUint64(b[4:], seq)
	binary.LittleEndian.PutUint64(b[12:], p.Segment)
	binary.LittleEndian.PutUint64(b[20:], uint64(p.Offset))
	binary.LittleEndian.PutUint64(b[28:], uint64(p.Records))
	binary.LittleEndian.PutUint32(b[slotLen-4:], crc32.Checksum(b[:slotLen-4], castagnoli))
}

// write saves p in the slot that does not hold the last fsynced copy: a
// killed process keeps it (the page cache does), a power loss may not, and
// then loading finds the fsynced copy intact. Writes between two syncs all
// go to the same slot, each with a higher sequence number.
func (cf *cursorFile) write(p Position) error {
	if err := cf.create(); err != nil {
		return err
	}
	slot := 1 - cf.durable
	cf.seq++
	encodeSlot(cf.buf[:], cf.seq, p)
	if _, err := cf.f.WriteAt(cf.buf[:], int64(slot)*slotSize); err != nil {
		return fmt.Errorf("write cursor %s: %w", cf.path, err)
	}
	cf.last = slot
	return nil
}

// create makes the file, 0600 (its folder is private too), at its fixed
// size, the first time a position is written.
func (cf *cursorFile) create() error {
	if cf.f != nil {
		return nil
	}
	f, err := os.OpenFile(cf.path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("create cursor %s: %w", cf.path, err)
	}
	if err := f.Truncate(cursorFileSize); err != nil {
		f.Close()
		return fmt.Errorf("size cursor %s: %w", cf.path, err)
	}
	cf.f, cf.created = f, true
	return nil
}

// sync makes the last write durable, and a file created since the last
// sync findable; that slot is then the one writes leave alone.
func (cf *cursorFile) sync() error {
	if err := cf.syncer()(); err != nil {
		return err
	}
	cf.synced()
	return nil
}

// syncer returns the fsync of sync without touching cf, so that it can run
// without the buffer's lock; synced then records what it made durable. No
// write may come between the two: it would go to the slot being synced.
func (cf *cursorFile) syncer() func() error {
	f, path, created := cf.f, cf.path, cf.created
	return func() error {
		if f == nil {
			return nil
		}
		if err := f.Sync(); err != nil {
			return fmt.Errorf("sync cursor %s: %w", path, err)
		}
		if created {
			return atomicfile.SyncDir(filepath.Dir(path))
		}
		return nil
	}
}

// synced records a successful fsync from syncer: the last slot written is
// durable, and the file is findable.
func (cf *cursorFile) synced() {
	if cf.f != nil {
		cf.created = false
		cf.durable = cf.last
	}
}

func (cf *cursorFile) close() error {
	if cf.f == nil {
		return nil
	}
	f := cf.f
	cf.f = nil
	return f.Close()
}
