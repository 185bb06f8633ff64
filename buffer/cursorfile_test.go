package buffer

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"hash/crc32"
	"io/fs"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluicelog/sluice/internal/testdir"
)

// loadCursor reads a sink's cursor file as Open does, without keeping it
// open.
func loadCursor(dir, name string) (Position, bool, error) {
	f, pos, ok, err := openCursorFile(dir, name)
	if f != nil {
		f.close()
	}
	return pos, ok, err
}

// slotState is what one slot of a cursor file holds.
type slotState struct {
	seq uint64
	pos Position
	err error
}

func readSlots(t testing.TB, path string) [2]slotState {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out [2]slotState
	for i := range out {
		s := b[min(len(b), i*slotSize):min(len(b), i*slotSize+slotLen)]
		out[i].seq, out[i].pos, out[i].err = decodeSlot(s)
	}
	return out
}

// newestSlot is the valid slot with the highest sequence number.
func newestSlot(t testing.TB, path string) int {
	t.Helper()
	s := readSlots(t, path)
	if s[0].err != nil || (s[1].err == nil && s[1].seq > s[0].seq) {
		return 1
	}
	return 0
}

// mutateSlot applies fn to the bytes of one slot of a cursor file.
func mutateSlot(t testing.TB, path string, slot int, fn func([]byte)) {
	t.Helper()
	mutateFile(t, path, func(b []byte) []byte {
		fn(b[slot*slotSize : slot*slotSize+slotLen])
		return b
	})
}

// writeCursorFile makes a cursor file whose older slot holds durable and
// newer slot holds newer, written without a sync as a Commit does.
func writeCursorFile(t testing.TB, dir string, durable, newer Position) string {
	t.Helper()
	if err := os.MkdirAll(CursorDir(dir), 0o700); err != nil {
		t.Fatal(err)
	}
	f, _, _, err := openCursorFile(dir, "a")
	if err != nil {
		t.Fatal(err)
	}
	defer f.close()
	if err := f.create(); err != nil {
		t.Fatal(err)
	}
	for _, err := range []error{f.write(durable), f.sync(), f.write(newer)} {
		if err != nil {
			t.Fatal(err)
		}
	}
	return f.path
}

// TestCursorFileSlotFallback damages the newest slot of a cursor file in
// each row's way: loading must give the other slot's position, and the
// next save must go over the damaged slot, never over the good one.
func TestCursorFileSlotFallback(t *testing.T) {
	durable := Position{Segment: 3, Offset: 4000, Records: 20}
	newer := Position{Segment: 3, Offset: 9000, Records: 45}
	rows := []struct {
		name   string
		damage func([]byte)
	}{
		{"a bit flipped in the position", func(b []byte) { b[21] ^= 0x10 }},
		{"a bit flipped in the checksum", func(b []byte) { b[slotLen-1] ^= 0x01 }},
		{"torn: the second half zeroed", func(b []byte) { clear(b[slotLen/2:]) }},
		{"the highest sequence number with a bad checksum", func(b []byte) {
			encodeSlot(b, math.MaxUint64, Position{Segment: 9, Offset: 1 << 20})
			b[slotLen-2] ^= 0x80
		}},
		{"an unknown format version with a sound checksum", func(b []byte) {
			encodeSlot(b, math.MaxUint64, newer)
			binary.LittleEndian.PutUint32(b, cursorSlotFormat+1)
			binary.LittleEndian.PutUint32(b[slotLen-4:], crc32.Checksum(b[:slotLen-4], castagnoli))
		}},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			dir := testdir.New(t)
			path := writeCursorFile(t, dir, durable, newer)
			torn := newestSlot(t, path)
			if got := readSlots(t, path)[torn].pos; got != newer {
				t.Fatalf("fixture: newest slot holds %+v, want %+v", got, newer)
			}
			mutateSlot(t, path, torn, row.damage)
			f, pos, ok, err := openCursorFile(dir, "a")
			if err != nil || !ok || pos != durable {
				t.Fatalf("load = %+v, %v, %v; want the other slot's %+v", pos, ok, err, durable)
			}
			next := Position{Segment: 4, Offset: 100, Records: 1}
			err = errors.Join(f.write(next), f.sync(), f.close())
			if err != nil {
				t.Fatal(err)
			}
			s := readSlots(t, path)
			if s[torn].err != nil || s[torn].pos != next {
				t.Errorf("damaged slot after a save: %+v, %v; want %+v", s[torn].pos, s[torn].err, next)
			}
			if s[1-torn].err != nil || s[1-torn].pos != durable {
				t.Errorf("good slot after a save: %+v, %v; want it untouched at %+v", s[1-torn].pos, s[1-torn].err, durable)
			}
			if pos, ok, err := loadCursor(dir, "a"); err != nil || !ok || pos != next {
				t.Errorf("reload = %+v, %v, %v; want %+v", pos, ok, err, next)
			}
		})
	}
}

// TestCursorFileWritesSpareTheDurableSlot: writes between two syncs all go
// to the slot the last sync did not cover, so a power loss before the next
// sync finds the fsynced position whole whatever became of those writes.
func TestCursorFileWritesSpareTheDurableSlot(t *testing.T) {
	dir := testdir.New(t)
	synced := Position{Segment: 1, Offset: 64, Records: 1}
	path := writeCursorFile(t, dir, synced, Position{Segment: 1, Offset: 128, Records: 2})
	f, _, _, err := openCursorFile(dir, "a")
	if err != nil {
		t.Fatal(err)
	}
	defer f.close()
	if err := errors.Join(f.write(synced), f.sync()); err != nil {
		t.Fatal(err)
	}
	durable := newestSlot(t, path)
	for i := range int64(5) {
		if err := f.write(Position{Segment: 1, Offset: 200 + i, Records: 3 + i}); err != nil {
			t.Fatal(err)
		}
		if s := readSlots(t, path)[durable]; s.err != nil || s.pos != synced {
			t.Fatalf("after unsynced write %d the fsynced slot holds %+v, %v; want %+v", i, s.pos, s.err, synced)
		}
	}
}

// TestCursorFileBothSlotsCorrupt: with no valid slot the load is the
// corrupt-cursor case, never a position.
func TestCursorFileBothSlotsCorrupt(t *testing.T) {
	dir := testdir.New(t)
	path := writeCursorFile(t, dir, Position{Segment: 1, Offset: 64}, Position{Segment: 1, Offset: 128})
	for slot := range 2 {
		mutateSlot(t, path, slot, func(b []byte) { b[14] ^= 0x01 })
	}
	pos, ok, err := loadCursor(dir, "a")
	if ok || !errors.Is(err, errCorruptCursor) {
		t.Fatalf("load = %+v, %v, %v; want the corrupt-cursor error", pos, ok, err)
	}
}

// TestCorruptCursorRestartsFromOldest: a cursor file with no valid slot is
// logged, and its sink reads again from the oldest record.
func TestCorruptCursorRestartsFromOldest(t *testing.T) {
	rows := []struct {
		name   string
		damage func(t *testing.T, path string)
	}{
		{"not a cursor file at all", func(t *testing.T, path string) {
			if err := os.WriteFile(path, []byte("{not json"), 0o644); err != nil {
				t.Fatal(err)
			}
		}},
		{"a bit flipped in each slot", func(t *testing.T, path string) {
			for slot := range 2 {
				mutateSlot(t, path, slot, func(b []byte) { b[22] ^= 0x04 })
			}
		}},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			dir := testdir.New(t)
			b := open(t, testConfig(dir, "a"))
			b.Append(context.Background(), recs(0, 50), nil)
			r, _ := b.Reader("a")
			readN(t, r, 50, true)
			r.Close()
			b.Close()
			row.damage(t, cursorPath(dir, "a"))
			cfg := testConfig(dir, "a")
			log := captureLog(&cfg)
			b2 := open(t, cfg)
			r2, _ := b2.Reader("a")
			defer r2.Close()
			checkSeq(t, readN(t, r2, 50, true), 0)
			b2.Close()
			if !strings.Contains(log.String(), "buffer cursor corrupt") {
				t.Errorf("nothing logged about the corrupt cursor:\n%s", log)
			}
		})
	}
}

// captureLog makes cfg's buffer log into the returned buffer, to be read
// once the buffer is closed (its sync loop logs too).
func captureLog(cfg *Config) *bytes.Buffer {
	var out bytes.Buffer
	cfg.Logger = slog.New(slog.NewTextHandler(&out, nil))
	return &out
}

// TestCursorMigratesFromJSON: a sink's cursor in the earlier version's
// <sink>.json is where the sink resumes; Open moves it into the sink's
// cursor file, fsynced, and removes the JSON file.
func TestCursorMigratesFromJSON(t *testing.T) {
	dir := testdir.New(t)
	b := open(t, testConfig(dir, "a"))
	b.Append(context.Background(), recs(0, 100), nil)
	r, _ := b.Reader("a")
	readN(t, r, 30, true)
	at := b.cursors["a"].committed
	readN(t, r, 70, true)
	r.Close()
	b.Close()
	// The folder as the earlier version left it: a JSON cursor 30 records in.
	if err := os.Remove(cursorPath(dir, "a")); err != nil {
		t.Fatal(err)
	}
	data, _ := json.Marshal(jsonCursor{Version: jsonCursorVersion, Pos: at, Check: at.check()})
	if err := os.WriteFile(jsonCursorPath(dir, "a"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	b2 := open(t, testConfig(dir, "a"))
	if _, err := os.Stat(jsonCursorPath(dir, "a")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the JSON cursor is still there after Open (%v)", err)
	}
	if pos, ok, err := loadCursor(dir, "a"); err != nil || !ok || pos != at {
		t.Errorf("cursor file after migration: %+v, %v, %v; want %+v", pos, ok, err, at)
	}
	r2, _ := b2.Reader("a")
	defer r2.Close()
	checkSeq(t, readN(t, r2, 70, true), 30)
}

// TestCorruptJSONCursorIsReplaced: a corrupt cursor of the earlier format
// is the corrupt-cursor case (logged, the sink starts at the oldest record)
// and is not left behind to be read again at the next start.
func TestCorruptJSONCursorIsReplaced(t *testing.T) {
	dir := testdir.New(t)
	b := open(t, testConfig(dir, "a"))
	b.Append(context.Background(), recs(0, 20), nil)
	b.Close()
	if err := os.WriteFile(jsonCursorPath(dir, "a"), []byte(`{"version":1,"position":{"segment":1,"offset":9`), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(dir, "a")
	log := captureLog(&cfg)
	b2 := open(t, cfg)
	if _, err := os.Stat(jsonCursorPath(dir, "a")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the corrupt JSON cursor is still there after Open (%v)", err)
	}
	r, _ := b2.Reader("a")
	checkSeq(t, readN(t, r, 20, true), 0)
	r.Close()
	b2.Close()
	if !strings.Contains(log.String(), "buffer cursor corrupt") {
		t.Errorf("nothing logged about the corrupt cursor:\n%s", log)
	}
}

// TestStaleCursorsRemoved: cursor files of a sink no longer configured, in
// either format, go at Open; the configured sink's stay.
func TestStaleCursorsRemoved(t *testing.T) {
	dir := testdir.New(t)
	b := open(t, testConfig(dir, "a", "gone"))
	b.Append(context.Background(), recs(0, 10), nil)
	for _, sink := range []string{"a", "gone"} {
		r, _ := b.Reader(sink)
		readN(t, r, 10, true)
		r.Close()
	}
	b.Close()
	stale := []string{cursorPath(dir, "gone"), jsonCursorPath(dir, "old"), jsonCursorPath(dir, "old") + ".tmp", jsonCursorPath(dir, "a") + ".tmp"}
	if _, ok, err := loadCursor(dir, "gone"); !ok || err != nil {
		t.Fatalf("fixture: sink gone's cursor: %v, %v", ok, err)
	}
	for _, p := range stale[1:] {
		if err := os.WriteFile(p, []byte("{}"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	open(t, testConfig(dir, "a")).Close()
	for _, p := range stale {
		if _, err := os.Stat(p); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s: %v; want it removed", filepath.Base(p), err)
		}
	}
	if _, ok, err := loadCursor(dir, "a"); !ok || err != nil {
		t.Errorf("the configured sink's cursor: %v, %v", ok, err)
	}
}
