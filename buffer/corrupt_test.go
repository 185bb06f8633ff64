package buffer

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sluicelog/sluice/buffer/codec"
	"github.com/sluicelog/sluice/buffer/segment"
	"github.com/sluicelog/sluice/internal/testdir"
	"github.com/sluicelog/sluice/record"
)

// corruptFixture is a closed buffer folder: several segments of numbered
// records (crashRecords) and the cursor of sink "a", committed a few records
// before the end of the third segment. A second sink, "keep", never reads,
// so no segment is freed. Its files are kept in memory so each test
// corrupts a fresh copy.
type corruptFixture struct {
	files     map[string][]byte // path relative to the folder → content
	segs      []uint64          // segment indexes, ascending
	frames    []fixtureFrame    // every record, in order
	total     int               // records written: 0..total-1
	committed int64             // the last record the sink committed
	cursor    Position
}

// fixtureFrame is where one record lies.
type fixtureFrame struct {
	seg      uint64
	off, end int64 // the frame, header included
	seq      int64
}

func fixtureConfig(dir string, ev Events) Config {
	return Config{Dir: dir, SegmentSize: 64 << 10, MaxBytes: 16 << 20, SyncEvery: 10 * time.Millisecond, Sinks: []string{"a", "keep"}, Events: ev}
}

// newCorruptFixture writes total records in batches of random size and
// commits up to the record back records before the end of the third segment.
func newCorruptFixture(t testing.TB, total, back int) *corruptFixture {
	t.Helper()
	dir := testdir.New(t)
	b, err := Open(fixtureConfig(dir, nil))
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(7, 7))
	for seq := 0; seq < total; {
		n := min(1+rng.IntN(150), total-seq)
		if err := b.Append(context.Background(), crashRecords(int64(seq), n), nil); err != nil {
			t.Fatal(err)
		}
		seq += n
	}
	fx := &corruptFixture{files: map[string][]byte{}, total: total}
	if fx.segs, err = segment.List(dir); err != nil {
		t.Fatal(err)
	}
	var dec codec.Decoder
	for _, idx := range fx.segs {
		dec.Reset() // sources are defined per segment
		r, err := segment.OpenReader(dir, idx, 0)
		if err != nil {
			t.Fatal(err)
		}
		for r.Next() {
			var rec record.Record
			if err := dec.Decode(r.Record(), &rec); err != nil {
				t.Fatal(err)
			}
			fx.frames = append(fx.frames, fixtureFrame{seg: idx, off: r.Offset(), end: r.End(), seq: rec.Offset})
		}
		r.Close()
	}
	if len(fx.frames) != total || len(fx.segs) < 6 {
		t.Fatalf("fixture: %d records in %d segments, want %d in at least 6", len(fx.frames), len(fx.segs), total)
	}
	last := -1 // the last record of the third segment
	for i, f := range fx.frames {
		if f.seg == fx.segs[2] {
			last = i
		}
	}
	fx.committed = fx.frames[last-back].seq
	r, _ := b.Reader("a")
	for got := int64(0); got <= fx.committed; {
		recs, pos, err := r.Read(context.Background(), int(fx.committed+1-got), 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		got += int64(len(recs))
		r.Commit(pos)
		fx.cursor = pos
	}
	r.Close()
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if want := fx.frames[last-back]; fx.cursor.Segment != want.seg || fx.cursor.Offset != want.end {
		t.Fatalf("fixture: cursor at %+v, want the end of record %d at %d:%d", fx.cursor, want.seq, want.seg, want.end)
	}
	err = walkFiles(dir, func(rel string, data []byte) { fx.files[rel] = data })
	if err != nil {
		t.Fatal(err)
	}
	return fx
}

func walkFiles(dir string, fn func(rel string, data []byte)) error {
	return filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		fn(rel, data)
		return nil
	})
}

// materialize writes a fresh copy of the folder and returns it.
func (fx *corruptFixture) materialize(t testing.TB) string {
	t.Helper()
	dir := testdir.New(t)
	for rel, data := range fx.files {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func segPath(dir string, idx uint64) string { return filepath.Join(dir, segment.Name(idx)) }

func sinkCursorPath(dir string) string { return cursorPath(dir, "a") }

// framesOf returns the frames of one segment.
func (fx *corruptFixture) framesOf(idx uint64) []fixtureFrame {
	var out []fixtureFrame
	for _, f := range fx.frames {
		if f.seg == idx {
			out = append(out, f)
		}
	}
	return out
}

// intact reports which records are still whole on disk in dir: their
// segment file exists with its header and the frame's bytes unchanged.
func (fx *corruptFixture) intact(t testing.TB, dir string) []bool {
	t.Helper()
	files := map[uint64][]byte{}
	for _, idx := range fx.segs {
		data, err := os.ReadFile(segPath(dir, idx))
		if err == nil {
			files[idx] = data
		}
	}
	out := make([]bool, fx.total)
	for _, f := range fx.frames {
		data, ok := files[f.seg]
		orig := fx.files[segment.Name(f.seg)]
		out[f.seq] = ok && len(data) >= int(f.end) &&
			bytes.Equal(data[:segment.HeaderSize], orig[:segment.HeaderSize]) &&
			bytes.Equal(data[f.off:f.end], orig[f.off:f.end])
	}
	return out
}

// mutateFile applies fn to a file's content and writes it back.
func mutateFile(t testing.TB, path string, fn func([]byte) []byte) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, fn(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func truncateFile(t testing.TB, path string, size int64) {
	t.Helper()
	if err := os.Truncate(path, size); err != nil {
		t.Fatal(err)
	}
}

func randomBytes(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

// slotFields are the byte offsets of a cursor slot's position fields.
var slotFields = map[string]int{"segment": 12, "offset": 20, "records": 28}

// flipCursorBit flips, in each of the cursor file's given slots, one bit of
// field such that accept(the slot's position, the new value) holds: a
// plausible value that only the checksum can tell is wrong.
func flipCursorBit(t testing.TB, dir string, slots []int, field string, accept func(Position, int64) bool) string {
	t.Helper()
	path := sinkCursorPath(dir)
	var desc []string
	for _, slot := range slots {
		s := readSlots(t, path)[slot]
		if s.err != nil {
			t.Fatalf("fixture: cursor slot %d: %v", slot, s.err)
		}
		mutateSlot(t, path, slot, func(b []byte) {
			at := slotFields[field]
			v := binary.LittleEndian.Uint64(b[at:])
			for bit := range 63 {
				if nv := int64(v ^ 1<<bit); accept(s.pos, nv) {
					binary.LittleEndian.PutUint64(b[at:], uint64(nv))
					desc = append(desc, fmt.Sprintf("slot %d's %s %d → %d", slot, field, v, nv))
					return
				}
			}
			t.Fatalf("no single-bit flip of slot %d's %s fits: %+v", slot, field, s.pos)
		})
	}
	return strings.Join(desc, ", ")
}

// bothSlots and newest name the slots flipCursorBit damages.
func bothSlots(testing.TB, string) []int { return []int{0, 1} }

func newest(t testing.TB, dir string) []int { return []int{newestSlot(t, sinkCursorPath(dir))} }

// rewriteCursor saves p, fsynced, as sink a's newest cursor.
func rewriteCursor(t testing.TB, dir string, p Position) string {
	t.Helper()
	f, _, _, err := openCursorFile(dir, "a")
	if err != nil {
		t.Fatal(err)
	}
	if err := errors.Join(f.write(p), f.sync(), f.close()); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("cursor rewritten as %+v", p)
}

// corruptRow is one way to damage the closed buffer.
type corruptRow struct {
	name string
	// damage corrupts the folder and says what it did.
	damage func(t *testing.T, dir string, fx *corruptFixture, rng *rand.Rand) string
	// fromOldest: the cursor is unusable, so the sink must start at the
	// oldest record: every intact record comes back, committed ones too.
	fromOldest bool
	// counted: bytes the buffer had to skip or cut, so Events.Corrupt must
	// count something.
	counted bool
}

func corruptRows() []corruptRow {
	flipIn := func(t *testing.T, dir string, idx uint64, from, to int64, n int, rng *rand.Rand) string {
		var at []int64
		mutateFile(t, segPath(dir, idx), func(b []byte) []byte {
			for range n {
				off := from + rng.Int64N(min(to, int64(len(b)))-from)
				b[off] ^= 1 << rng.IntN(8)
				at = append(at, off)
			}
			return b
		})
		slices.Sort(at)
		return fmt.Sprintf("flipped bits of %s at %v", segment.Name(idx), at)
	}
	// insideFrame returns an offset strictly inside a random frame of idx.
	insideFrame := func(fx *corruptFixture, idx uint64, rng *rand.Rand) int64 {
		fs := fx.framesOf(idx)
		f := fs[rng.IntN(len(fs))]
		return f.off + 1 + rng.Int64N(f.end-f.off-1)
	}
	last := func(fx *corruptFixture) uint64 { return fx.segs[len(fx.segs)-1] }
	// The cursor is in fx.segs[2]; fx.segs[4] is a sealed segment after it.
	later := func(fx *corruptFixture) uint64 { return fx.segs[4] }
	return []corruptRow{
		{name: "flip bytes across all segments", counted: true,
			damage: func(t *testing.T, dir string, fx *corruptFixture, rng *rand.Rand) string {
				var desc []string
				for _, idx := range fx.segs {
					desc = append(desc, flipIn(t, dir, idx, segment.HeaderSize, 1<<62, 3, rng))
				}
				return fmt.Sprint(desc)
			}},
		{name: "flip one byte in a sealed segment after the cursor", counted: true,
			damage: func(t *testing.T, dir string, fx *corruptFixture, rng *rand.Rand) string {
				f := fx.framesOf(later(fx))[3]
				return flipIn(t, dir, f.seg, f.off+segment.FrameOverhead, f.end, 1, rng)
			}},
		{name: "flip bytes in the cursor's segment after the cursor", counted: true,
			damage: func(t *testing.T, dir string, fx *corruptFixture, rng *rand.Rand) string {
				return flipIn(t, dir, fx.cursor.Segment, fx.cursor.Offset, 1<<62, 2, rng)
			}},
		{name: "flip bytes in the last segment", counted: true,
			damage: func(t *testing.T, dir string, fx *corruptFixture, rng *rand.Rand) string {
				return flipIn(t, dir, last(fx), segment.HeaderSize, 1<<62, 3, rng)
			}},
		{name: "flip a byte of a sealed segment's header", counted: true,
			damage: func(t *testing.T, dir string, fx *corruptFixture, rng *rand.Rand) string {
				return flipIn(t, dir, later(fx), 0, segment.HeaderSize, 1, rng)
			}},
		{name: "truncate the last segment inside a frame", counted: true,
			damage: func(t *testing.T, dir string, fx *corruptFixture, rng *rand.Rand) string {
				off := insideFrame(fx, last(fx), rng)
				truncateFile(t, segPath(dir, last(fx)), off)
				return fmt.Sprintf("truncated %s to %d bytes", segment.Name(last(fx)), off)
			}},
		{name: "truncate a sealed segment inside a frame", counted: true,
			damage: func(t *testing.T, dir string, fx *corruptFixture, rng *rand.Rand) string {
				off := insideFrame(fx, later(fx), rng)
				truncateFile(t, segPath(dir, later(fx)), off)
				return fmt.Sprintf("truncated %s to %d bytes", segment.Name(later(fx)), off)
			}},
		{name: "truncate a sealed segment inside its header", counted: true,
			damage: func(t *testing.T, dir string, fx *corruptFixture, rng *rand.Rand) string {
				off := 1 + rng.Int64N(segment.HeaderSize-1)
				truncateFile(t, segPath(dir, later(fx)), off)
				return fmt.Sprintf("truncated %s to %d bytes", segment.Name(later(fx)), off)
			}},
		{name: "append garbage to the last segment", counted: true,
			damage: func(t *testing.T, dir string, fx *corruptFixture, rng *rand.Rand) string {
				g := randomBytes(rng, 1+rng.IntN(5000))
				mutateFile(t, segPath(dir, last(fx)), func(b []byte) []byte { return append(b, g...) })
				return fmt.Sprintf("appended %d random bytes to %s", len(g), segment.Name(last(fx)))
			}},
		{name: "append garbage to a sealed segment", counted: true,
			damage: func(t *testing.T, dir string, fx *corruptFixture, rng *rand.Rand) string {
				g := randomBytes(rng, 1+rng.IntN(5000))
				mutateFile(t, segPath(dir, later(fx)), func(b []byte) []byte { return append(b, g...) })
				return fmt.Sprintf("appended %d random bytes to %s", len(g), segment.Name(later(fx)))
			}},
		{name: "append half a frame to a sealed segment", counted: true,
			damage: func(t *testing.T, dir string, fx *corruptFixture, rng *rand.Rand) string {
				mutateFile(t, segPath(dir, later(fx)), func(b []byte) []byte { return append(b, 0x20, 0, 0, 0, 1, 2, 3) })
				return "appended 7 bytes of a frame header"
			}},
		{name: "zero-fill a region of a sealed segment after the cursor", counted: true,
			damage: func(t *testing.T, dir string, fx *corruptFixture, rng *rand.Rand) string {
				from := insideFrame(fx, later(fx), rng)
				n := 1 + rng.Int64N(8<<10)
				mutateFile(t, segPath(dir, later(fx)), func(b []byte) []byte {
					clear(b[from:min(int64(len(b)), from+n)])
					return b
				})
				return fmt.Sprintf("zeroed %d bytes of %s at %d", n, segment.Name(later(fx)), from)
			}},
		{name: "zero-fill the cursor's segment before the cursor", counted: true,
			damage: func(t *testing.T, dir string, fx *corruptFixture, rng *rand.Rand) string {
				from := fx.framesOf(fx.cursor.Segment)[1].off
				mutateFile(t, segPath(dir, fx.cursor.Segment), func(b []byte) []byte {
					clear(b[from:fx.cursor.Offset])
					return b
				})
				return fmt.Sprintf("zeroed %s from %d to the cursor at %d", segment.Name(fx.cursor.Segment), from, fx.cursor.Offset)
			}},
		{name: "a frame with a valid CRC and an undecodable payload", counted: true,
			damage: func(t *testing.T, dir string, fx *corruptFixture, rng *rand.Rand) string {
				f := fx.framesOf(later(fx))[2]
				mutateFile(t, segPath(dir, f.seg), func(b []byte) []byte {
					frame := b[f.off:f.end]
					frame[segment.FrameOverhead] = codec.VersionResume + 1
					sum := crc32.Update(0, crc32.MakeTable(crc32.Castagnoli), frame[:4])
					sum = crc32.Update(sum, crc32.MakeTable(crc32.Castagnoli), frame[segment.FrameOverhead:])
					binary.LittleEndian.PutUint32(frame[4:], sum)
					return b
				})
				return fmt.Sprintf("record %d rewritten with codec version %d and a matching CRC", f.seq, codec.VersionResume+1)
			}},
		{name: "delete a sealed segment after the cursor",
			damage: func(t *testing.T, dir string, fx *corruptFixture, rng *rand.Rand) string {
				if err := os.Remove(segPath(dir, later(fx))); err != nil {
					t.Fatal(err)
				}
				return "deleted " + segment.Name(later(fx))
			}},
		{name: "delete the oldest segment",
			damage: func(t *testing.T, dir string, fx *corruptFixture, rng *rand.Rand) string {
				if err := os.Remove(segPath(dir, fx.segs[0])); err != nil {
					t.Fatal(err)
				}
				return "deleted " + segment.Name(fx.segs[0])
			}},
		{name: "delete the cursor's segment", fromOldest: true,
			damage: func(t *testing.T, dir string, fx *corruptFixture, rng *rand.Rand) string {
				if err := os.Remove(segPath(dir, fx.cursor.Segment)); err != nil {
					t.Fatal(err)
				}
				return "deleted " + segment.Name(fx.cursor.Segment)
			}},
		{name: "delete the cursor file", fromOldest: true,
			damage: func(t *testing.T, dir string, fx *corruptFixture, rng *rand.Rand) string {
				if err := os.Remove(sinkCursorPath(dir)); err != nil {
					t.Fatal(err)
				}
				return "deleted the cursor"
			}},
		{name: "empty cursor file", fromOldest: true,
			damage: func(t *testing.T, dir string, fx *corruptFixture, rng *rand.Rand) string {
				truncateFile(t, sinkCursorPath(dir), 0)
				return "emptied the cursor"
			}},
		{name: "zero the whole cursor file", fromOldest: true,
			damage: func(t *testing.T, dir string, fx *corruptFixture, rng *rand.Rand) string {
				mutateFile(t, sinkCursorPath(dir), func(b []byte) []byte { clear(b); return b })
				return "zeroed the cursor, as a file created just before a crash"
			}},
		{name: "truncate the cursor file inside its first slot", fromOldest: true,
			damage: func(t *testing.T, dir string, fx *corruptFixture, rng *rand.Rand) string {
				n := 1 + rng.Int64N(slotLen-1)
				truncateFile(t, sinkCursorPath(dir), n)
				return fmt.Sprintf("cut the cursor to %d bytes", n)
			}},
		// A sink whose newest slot is damaged resumes from the other slot:
		// an earlier position, so it reads more, never less.
		{name: "truncate the cursor file inside its second slot",
			damage: func(t *testing.T, dir string, fx *corruptFixture, rng *rand.Rand) string {
				n := slotSize + rng.Int64N(slotLen)
				truncateFile(t, sinkCursorPath(dir), n)
				return fmt.Sprintf("cut the cursor to %d bytes", n)
			}},
		{name: "append garbage to the cursor file",
			damage: func(t *testing.T, dir string, fx *corruptFixture, rng *rand.Rand) string {
				g := randomBytes(rng, 1+rng.IntN(100))
				mutateFile(t, sinkCursorPath(dir), func(b []byte) []byte { return append(b, g...) })
				return fmt.Sprintf("appended %d random bytes to the cursor", len(g))
			}},
		{name: "random bytes over the newest cursor slot",
			damage: func(t *testing.T, dir string, fx *corruptFixture, rng *rand.Rand) string {
				slot := newest(t, dir)[0]
				mutateSlot(t, sinkCursorPath(dir), slot, func(b []byte) { copy(b, randomBytes(rng, slotLen)) })
				return fmt.Sprintf("overwrote cursor slot %d with random bytes", slot)
			}},
		{name: "flip the newest cursor slot's segment number to a later segment",
			damage: func(t *testing.T, dir string, fx *corruptFixture, rng *rand.Rand) string {
				return flipCursorBit(t, dir, newest(t, dir), "segment", func(p Position, v int64) bool {
					return uint64(v) > p.Segment && slices.Contains(fx.segs, uint64(v))
				})
			}},
		{name: "flip both cursor slots' segment numbers to later segments", fromOldest: true,
			damage: func(t *testing.T, dir string, fx *corruptFixture, rng *rand.Rand) string {
				return flipCursorBit(t, dir, bothSlots(t, dir), "segment", func(p Position, v int64) bool {
					return uint64(v) > p.Segment && slices.Contains(fx.segs, uint64(v))
				})
			}},
		{name: "flip both cursor slots' record counts past the segment's", fromOldest: true,
			damage: func(t *testing.T, dir string, fx *corruptFixture, rng *rand.Rand) string {
				return flipCursorBit(t, dir, bothSlots(t, dir), "records", func(p Position, v int64) bool {
					return v > int64(len(fx.framesOf(p.Segment)))
				})
			}},
		{name: "flip both cursor slots' offsets into later frames", fromOldest: true,
			damage: func(t *testing.T, dir string, fx *corruptFixture, rng *rand.Rand) string {
				return flipCursorBit(t, dir, bothSlots(t, dir), "offset", func(p Position, v int64) bool {
					return v > p.Offset && v < p.Offset+4096 && !fx.boundary(p.Segment, v)
				})
			}},
		// The two rows below write well-formed cursor files (a sound
		// checksum) whose position does not fit the segment.
		{name: "cursor offset inside the segment header", fromOldest: true,
			damage: func(t *testing.T, dir string, fx *corruptFixture, rng *rand.Rand) string {
				return rewriteCursor(t, dir, Position{Segment: fx.cursor.Segment, Offset: 4})
			}},
		{name: "cursor record count past its segment's",
			damage: func(t *testing.T, dir string, fx *corruptFixture, rng *rand.Rand) string {
				p := fx.cursor
				p.Records = 1_000_000
				return rewriteCursor(t, dir, p)
			}},
	}
}

// boundary reports whether off is where a frame of segment seg starts or ends.
func (fx *corruptFixture) boundary(seg uint64, off int64) bool {
	for _, f := range fx.frames {
		if f.seg == seg && (f.off == off || f.end == off) {
			return true
		}
	}
	return false
}

// TestCorruptionRecovery damages a closed buffer in each of the rows' ways,
// then opens it and reads everything its sink has left. Opening must
// succeed; every record read must be one that was written, whole, in order;
// every record still intact on disk after the committed one must come back
// (and, when the cursor is unusable, every intact record: the sink starts
// over at the oldest one); bytes skipped or cut must be counted; and the
// buffer must take and deliver new records afterwards.
func TestCorruptionRecovery(t *testing.T) {
	fx := newCorruptFixture(t, 3000, 4)
	t.Logf("fixture: %d records in segments %d..%d, cursor %+v after record %d",
		fx.total, fx.segs[0], fx.segs[len(fx.segs)-1], fx.cursor, fx.committed)
	for i, row := range corruptRows() {
		t.Run(row.name, func(t *testing.T) {
			dir := fx.materialize(t)
			desc := row.damage(t, dir, fx, rand.New(rand.NewPCG(uint64(i), 42)))
			t.Log(desc)
			checkRecovery(t, dir, fx, row)
		})
	}
}

func checkRecovery(t *testing.T, dir string, fx *corruptFixture, row corruptRow) {
	t.Helper()
	intact := fx.intact(t, dir)
	ev := &counting{}
	b, err := Open(fixtureConfig(dir, ev))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer b.Close()
	// New records after the damaged ones: the buffer must go on taking and
	// delivering, and the last of them tells the reading where to stop.
	next := int64(fx.total)
	if err := b.Append(context.Background(), crashRecords(next, 50), nil); err != nil {
		t.Fatalf("append after recovery: %v", err)
	}
	got, err := readThrough(b, "a", next+49, 10*time.Second)
	if err != nil {
		t.Fatalf("after %d records (%s): %v", len(got), span(got), err)
	}
	returned := make([]bool, fx.total+50)
	for i, r := range got {
		if err := checkCrashRecord(r); err != nil || r.Offset > next+49 {
			t.Fatalf("record %d read is not one that was written: %v (offset %d)", i, err, r.Offset)
		}
		if i > 0 && r.Offset <= got[i-1].Offset {
			t.Fatalf("record %d read after record %d", r.Offset, got[i-1].Offset)
		}
		returned[r.Offset] = true
	}
	from := fx.committed + 1
	if row.fromOldest {
		from = 0
	}
	var lost []int64
	nIntact := 0
	for seq := from; seq < next+50; seq++ {
		if seq >= next || intact[seq] {
			nIntact++
			if !returned[seq] {
				lost = append(lost, seq)
			}
		}
	}
	t.Logf("read %d records (%s); %d intact records from %d on, with the 50 appended after recovery; %d corrupt bytes counted",
		len(got), span(got), nIntact, from, ev.corrupt)
	if len(lost) > 0 {
		t.Errorf("%d records intact on disk were not read: %v", len(lost), clipSeqs(lost))
	}
	if row.counted && ev.corrupt == 0 {
		t.Errorf("bytes were damaged but Events.Corrupt counted nothing")
	}
}

// readThrough reads sink's records, without committing, until the record
// numbered last; the records are copies.
func readThrough(b *Buffer, sink string, last int64, timeout time.Duration) ([]record.Record, error) {
	r, err := b.Reader(sink)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var out []record.Record
	for {
		recs, _, err := r.Read(ctx, 10_000, 4<<20)
		if err != nil {
			return out, fmt.Errorf("record %d not read: %w", last, err)
		}
		for _, rec := range recs {
			rec.Body = bytes.Clone(rec.Body) // valid only until the next Read
			out = append(out, rec)
			if rec.Offset == last {
				return out, nil
			}
		}
	}
}

func clipSeqs(s []int64) string {
	if len(s) <= 10 {
		return fmt.Sprint(s)
	}
	return fmt.Sprintf("%v ... %v", s[:5], s[len(s)-5:])
}

// FuzzOpenCorrupt overwrites a region of the closed buffer's segments with
// the fuzzer's bytes at pos (counted over all segment files, end to end; the
// bytes may run past a file's end and lengthen it), then opens the buffer and
// reads everything, up to a record appended after the recovery. Nothing may
// panic, Open, the append and the reads must succeed, and every record read
// must decode to one that was written, in order.
func FuzzOpenCorrupt(f *testing.F) {
	fx := newCorruptFixture(f, 1800, 4)
	var sizes []int64
	var all int64
	for _, idx := range fx.segs {
		n := int64(len(fx.files[segment.Name(idx)]))
		sizes = append(sizes, n)
		all += n
	}
	f.Add([]byte{}, uint32(0))
	f.Add([]byte{0xff}, uint32(100))
	f.Add(make([]byte, 300), uint32(sizes[0]+200))
	f.Add([]byte("SLSG\x02"), uint32(sizes[0]))
	f.Add([]byte{0x20, 0, 0, 0, 1, 2, 3, 4}, uint32(fx.frames[10].off))
	f.Add(bytes.Repeat([]byte{0, 0, 0x40, 0}, 20), uint32(sizes[0]+sizes[1]+500))
	f.Add([]byte("garbage at the end of the last segment"), uint32(all-3))
	f.Fuzz(func(t *testing.T, data []byte, pos uint32) {
		dir := fx.materialize(t)
		at := int64(pos) % all
		for i, idx := range fx.segs {
			if at >= sizes[i] && i < len(fx.segs)-1 {
				at -= sizes[i]
				continue
			}
			mutateFile(t, segPath(dir, idx), func(b []byte) []byte {
				if need := at + int64(len(data)); need > int64(len(b)) {
					b = append(b, make([]byte, need-int64(len(b)))...)
				}
				copy(b[at:], data)
				return b
			})
			break
		}
		b, err := Open(fixtureConfig(dir, nil))
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		defer b.Close()
		last := int64(fx.total)
		if err := b.Append(context.Background(), crashRecords(last, 1), nil); err != nil {
			t.Fatalf("append after recovery: %v", err)
		}
		got, err := readThrough(b, "a", last, 10*time.Second)
		if err != nil {
			t.Fatalf("after %d records (%s): %v", len(got), span(got), err)
		}
		for i, r := range got {
			if err := checkCrashRecord(r); err != nil || r.Offset > last {
				t.Fatalf("record %d read is not one that was written: %v (offset %d)", i, err, r.Offset)
			}
			if i > 0 && r.Offset <= got[i-1].Offset {
				t.Fatalf("record %d read after record %d", r.Offset, got[i-1].Offset)
			}
		}
	})
}
