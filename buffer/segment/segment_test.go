package segment

import (
	"bytes"
	"errors"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/sluicelog/sluice/internal/testdir"
)

func TestName(t *testing.T) {
	tests := []struct {
		index uint64
		name  string
	}{
		{0, "00000000000000000000.seg"},
		{42, "00000000000000000042.seg"},
		{math.MaxUint64, "18446744073709551615.seg"},
	}
	for _, tt := range tests {
		if got := Name(tt.index); got != tt.name {
			t.Errorf("Name(%d) = %q, want %q", tt.index, got, tt.name)
		}
		if got, ok := ParseName(tt.name); !ok || got != tt.index {
			t.Errorf("ParseName(%q) = %d, %v, want %d, true", tt.name, got, ok, tt.index)
		}
	}
}

func TestParseNameRejects(t *testing.T) {
	for _, name := range []string{
		"",
		"42.seg",
		"0000000000000000042.seg",   // 19 digits
		"000000000000000000042.seg", // 21 digits
		"18446744073709551616.seg",  // over uint64
		"+0000000000000000042.seg",
		"0000000000000000004a.seg",
		"00000000000000000042.SEG",
		"00000000000000000042.seg.tmp",
		"00000000000000000042.sex",
		"00000000000000000042",
	} {
		if index, ok := ParseName(name); ok {
			t.Errorf("ParseName(%q) = %d, true, want false", name, index)
		}
	}
}

func TestList(t *testing.T) {
	dir := testdir.New(t)
	for _, name := range []string{Name(20), Name(3), Name(1), "foo.seg", Name(7) + ".tmp", "checkpoint.json"} {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, Name(5)), 0o755); err != nil {
		t.Fatal(err)
	}
	got, err := List(dir)
	if err != nil {
		t.Fatal(err)
	}
	if want := []uint64{1, 3, 20}; !slices.Equal(got, want) {
		t.Fatalf("List = %v, want %v", got, want)
	}
	if _, err := List(filepath.Join(dir, "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("List of a missing folder: %v, want fs.ErrNotExist", err)
	}
}

// roundTripPayloads returns payloads of the sizes worth testing, including
// empty ones and ones larger than the reader's window.
func roundTripPayloads() [][]byte {
	rng := rand.New(rand.NewPCG(1, 2))
	sizes := []int{0, 1, 2, 7, 8, 9, 255, 256, 4096, 1 << 20, 0, 3, 300_000, 1, defaultWindow - FrameOverhead, defaultWindow}
	for range 500 {
		sizes = append(sizes, rng.IntN(10_000))
	}
	payloads := make([][]byte, len(sizes))
	for i, n := range sizes {
		payloads[i] = make([]byte, n)
		for j := range payloads[i] {
			payloads[i][j] = byte(rng.Uint32())
		}
	}
	return payloads
}

func TestRoundTrip(t *testing.T) {
	dir := testdir.New(t)
	payloads := roundTripPayloads()
	offs := writeSegment(t, dir, 42, payloads)

	res := readAll(t, dir, 42)
	if !equalRecords(res.recs, payloads) {
		t.Fatalf("read %d records, wrote %d, or their bytes differ", len(res.recs), len(payloads))
	}
	if !slices.Equal(res.offs, offs) {
		t.Fatalf("reader offsets differ from Append's")
	}
	if res.skipped != 0 || len(res.corrupt) != 0 {
		t.Fatalf("skipped %d bytes, corruptions at %v, want none", res.skipped, res.corrupt)
	}
	checkAgainstFile(t, readFile(t, dir, 42), res)

	// A reader opened at a frame's offset, as a cursor would, starts there.
	for _, k := range []int{0, 1, 9, 10, len(payloads) - 1} {
		r, err := OpenReader(dir, 42, offs[k])
		if err != nil {
			t.Fatal(err)
		}
		var from readResult
		drain(t, r, &from)
		r.Close()
		if !equalRecords(from.recs, payloads[k:]) {
			t.Fatalf("reading from offset %d (record %d): %d records, want %d", offs[k], k, len(from.recs), len(payloads)-k)
		}
	}
}

func TestAppendFramesWritesTheSameBytes(t *testing.T) {
	dir := testdir.New(t)
	payloads := roundTripPayloads()
	writeSegment(t, dir, 1, payloads)

	w, err := Create(dir, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	rest := payloads
	for _, n := range []int{1, 3, 0, 50, 7, 200, len(payloads)} {
		n = min(n, len(rest))
		before := w.Size()
		frames, ends := inPlace(rest[:n])
		if err := w.AppendFrames(frames, ends); err != nil {
			t.Fatal(err)
		}
		if w.Size() != before+int64(len(frames)) {
			t.Fatalf("AppendFrames of %d bytes moved Size from %d to %d", len(frames), before, w.Size())
		}
		rest = rest[n:]
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(readFile(t, dir, 1), readFile(t, dir, 2)) {
		t.Fatal("AppendFrames wrote other bytes than Append")
	}
}

func TestAppendFramesRefusesBadLayouts(t *testing.T) {
	dir := testdir.New(t)
	w, err := Create(dir, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	frames, ends := inPlace([][]byte{[]byte("one"), []byte("two")})
	for _, tc := range []struct {
		name   string
		frames []byte
		ends   []int
	}{
		{"ends short of the bytes", frames, ends[:1]},
		{"ends past the bytes", frames[:len(frames)-1], ends},
		{"no ends for the bytes", frames, nil},
		{"a frame shorter than its header", frames, []int{4, len(frames)}},
		{"ends going back", frames, []int{ends[1], ends[0], len(frames)}},
	} {
		if err := w.AppendFrames(tc.frames, tc.ends); err == nil {
			t.Errorf("%s: AppendFrames succeeded", tc.name)
		}
	}
	if w.Size() != HeaderSize {
		t.Fatalf("refused appends wrote: size %d", w.Size())
	}
	if err := w.AppendFrames(nil, nil); err != nil || w.Size() != HeaderSize {
		t.Fatalf("empty AppendFrames: %v, size %d", err, w.Size())
	}
	if err := w.AppendFrames(frames, ends); err != nil {
		t.Fatalf("the writer is unusable after refusals: %v", err)
	}
}

func TestWriterSize(t *testing.T) {
	dir := testdir.New(t)
	w, err := Create(dir, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if w.Index() != 1 || w.Size() != HeaderSize {
		t.Fatalf("new writer: index %d size %d, want 1 and %d", w.Index(), w.Size(), HeaderSize)
	}
	off, err := w.Append([]byte("hello"))
	if err != nil {
		t.Fatal(err)
	}
	if off != HeaderSize || w.Size() != HeaderSize+FrameOverhead+5 {
		t.Fatalf("after one append: offset %d size %d", off, w.Size())
	}
	if err := w.Sync(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, Name(1)))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() != w.Size() {
		t.Fatalf("file has %d bytes, Size says %d", fi.Size(), w.Size())
	}
}

func TestAppendTooLarge(t *testing.T) {
	dir := testdir.New(t)
	w, err := Create(dir, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	big := make([]byte, MaxRecord+1)
	if _, err := w.Append(big); err == nil {
		t.Fatal("Append of MaxRecord+1 bytes succeeded")
	}
	if frames, ends := inPlace([][]byte{[]byte("a"), big}); w.AppendFrames(frames, ends) == nil {
		t.Fatal("AppendFrames holding MaxRecord+1 bytes succeeded")
	}
	if w.Size() != HeaderSize {
		t.Fatalf("refused appends wrote: size %d", w.Size())
	}
	// The writer is still usable, and MaxRecord itself is allowed.
	if _, err := w.Append(big[:MaxRecord]); err != nil {
		t.Fatalf("Append of MaxRecord bytes: %v", err)
	}
	if _, err := w.Append([]byte("after")); err != nil {
		t.Fatal(err)
	}
	w.Close()
	res := readAll(t, dir, 1)
	if len(res.recs) != 2 || len(res.recs[0]) != MaxRecord || string(res.recs[1]) != "after" {
		t.Fatalf("read back %d records", len(res.recs))
	}
}

func TestCreateExisting(t *testing.T) {
	dir := testdir.New(t)
	writeSegment(t, dir, 3, [][]byte{[]byte("keep me")})
	if w, err := Create(dir, 3); !errors.Is(err, fs.ErrExist) {
		if err == nil {
			w.Close()
		}
		t.Fatalf("Create of an existing segment: %v, want fs.ErrExist", err)
	}
	if res := readAll(t, dir, 3); len(res.recs) != 1 {
		t.Fatal("Create of an existing segment damaged it")
	}
}

func TestOpenErrors(t *testing.T) {
	dir := testdir.New(t)
	if _, err := OpenReader(dir, 9, 0); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("OpenReader of a missing segment: %v, want fs.ErrNotExist", err)
	}
	if _, err := OpenForAppend(dir, 9); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("OpenForAppend of a missing segment: %v, want fs.ErrNotExist", err)
	}
	if _, _, err := Repair(dir, 9); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Repair of a missing segment: %v, want fs.ErrNotExist", err)
	}
	writeSegment(t, dir, 1, nil)
	for _, off := range []int64{-1, 1, HeaderSize - 1} {
		if r, err := OpenReader(dir, 1, off); err == nil {
			r.Close()
			t.Errorf("OpenReader at offset %d succeeded", off)
		}
	}
}

func TestClosed(t *testing.T) {
	dir := testdir.New(t)
	w, err := Create(dir, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := w.Append(nil); err == nil {
		t.Error("Append after Close succeeded")
	}
	if err := w.Sync(); err == nil {
		t.Error("Sync after Close succeeded")
	}
	r, err := OpenReader(dir, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if r.Next() {
		t.Error("Next after Close returned true")
	}
	if err := r.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestCorruptionErrMessage(t *testing.T) {
	err := error(&CorruptionErr{Segment: 42, Offset: 1234, Err: errors.New("crc mismatch")})
	if got, want := err.Error(), "corrupt segment 00000000000000000042.seg at offset 1234: crc mismatch"; got != want {
		t.Fatalf("Error() = %q, want %q", got, want)
	}
	wrapped := &CorruptionErr{Dir: "buf", Segment: 1, Err: fs.ErrInvalid}
	if !errors.Is(wrapped, fs.ErrInvalid) {
		t.Fatal("Unwrap does not reach the reason")
	}
	if got, want := wrapped.Error(), "corrupt segment "+filepath.Join("buf", Name(1))+" at offset 0: "+fs.ErrInvalid.Error(); got != want {
		t.Fatalf("Error() = %q, want %q", got, want)
	}
}

// TestRemoveWhileOpen removes a segment that a reader and a writer still
// hold, as drop_oldest and the end of a segment's life do. On Windows this
// needs FILE_SHARE_DELETE on every handle. The reader goes on reading what
// it opened.
func TestRemoveWhileOpen(t *testing.T) {
	dir := testdir.New(t)
	payloads := [][]byte{text(0, 100), text(1, 200), text(2, 300)}
	writeSegment(t, dir, 1, payloads)
	r, err := OpenReader(dir, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	w, err := OpenForAppend(dir, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if !r.Next() {
		t.Fatal("no first record")
	}
	path := filepath.Join(dir, Name(1))
	if err := os.Remove(path); err != nil {
		t.Fatalf("remove a segment held open: %v", err)
	}
	var res readResult
	drain(t, r, &res)
	if !equalRecords(res.recs, payloads[1:]) {
		t.Fatalf("after removal read %s", describe(res.recs))
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("removed segment still there once closed: %v", err)
	}
}

// A Reader given the window of the Reader before it reads into that
// memory, and reads the same records as one that made its own.
func TestSetWindowReusesTheBuffer(t *testing.T) {
	dir := testdir.New(t)
	payloads := roundTripPayloads()
	writeSegment(t, dir, 1, payloads[:len(payloads)/2])
	writeSegment(t, dir, 2, payloads[len(payloads)/2:])
	first, err := OpenReader(dir, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	var got readResult
	drain(t, first, &got)
	window := first.Window()
	first.Close()
	if cap(window) == 0 {
		t.Fatal("a Reader that read has no window")
	}
	second, err := OpenReader(dir, 2, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	second.SetWindow(window)
	drain(t, second, &got)
	if !equalRecords(got.recs, payloads) {
		t.Fatalf("read %d records through a reused window, want %d", len(got.recs), len(payloads))
	}
	if w := second.Window(); cap(w) > 0 && cap(w) <= maxKeptWindow && &w[:1][0] != &window[:1][0] {
		t.Fatal("the second Reader read into memory of its own, not the window it was given")
	}
}
