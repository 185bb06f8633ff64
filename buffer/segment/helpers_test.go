package segment

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// readResult is everything a Reader returned, copied out of its buffer.
type readResult struct {
	recs    [][]byte
	offs    []int64
	ends    []int64
	skipped int64
	corrupt []int64 // offsets of the corruptions
}

// drain reads r until Next returns false, adding to res.
func drain(t testing.TB, r *Reader, res *readResult) {
	t.Helper()
	for r.Next() {
		res.recs = append(res.recs, bytes.Clone(r.Record()))
		res.offs = append(res.offs, r.Offset())
		res.ends = append(res.ends, r.End())
	}
	if err := r.Err(); err != nil {
		t.Fatalf("read: %v", err)
	}
	res.skipped = r.Skipped()
	res.corrupt = res.corrupt[:0]
	for _, c := range r.Corruptions() {
		var ce *CorruptionErr
		if !errors.As(error(c), &ce) || ce.Segment != r.index || ce.Err == nil {
			t.Fatalf("corruption %v is not a complete *CorruptionErr", c)
		}
		res.corrupt = append(res.corrupt, ce.Offset)
	}
}

// readAll opens segment index in dir and reads it to its end without a limit.
func readAll(t testing.TB, dir string, index uint64) readResult {
	t.Helper()
	r, err := OpenReader(dir, index, 0)
	if err != nil {
		t.Fatalf("open reader: %v", err)
	}
	defer r.Close()
	var res readResult
	drain(t, r, &res)
	return res
}

// writeSegment creates segment index in dir holding payloads and returns the frames' offsets.
func writeSegment(t testing.TB, dir string, index uint64, payloads [][]byte) []int64 {
	t.Helper()
	w, err := Create(dir, index)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	offs := make([]int64, len(payloads))
	for i, p := range payloads {
		if offs[i], err = w.Append(p); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return offs
}

// segmentBytes returns the bytes of a segment holding payloads, without touching the disk.
func segmentBytes(payloads [][]byte) (data []byte, offs []int64) {
	data = []byte(headerStr)
	for _, p := range payloads {
		offs = append(offs, int64(len(data)))
		frame := make([]byte, FrameOverhead+len(p))
		putFrame(frame, p)
		data = append(data, frame...)
	}
	return data, offs
}

func writeFile(t testing.TB, dir string, index uint64, data []byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, Name(index)), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func readFile(t testing.TB, dir string, index uint64) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, Name(index)))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// checkAgainstFile fails unless every record res holds is a whole frame of
// data with a matching CRC, frames do not overlap and come in file order,
// and the frames, the skipped bytes and the header account for data exactly.
func checkAgainstFile(t testing.TB, data []byte, res readResult) {
	t.Helper()
	prevEnd := int64(HeaderSize)
	var framed int64
	for i, rec := range res.recs {
		off, end := res.offs[i], res.ends[i]
		if off < prevEnd || end != off+FrameOverhead+int64(len(rec)) || end > int64(len(data)) {
			t.Fatalf("record %d: frame [%d, %d) of a %d-byte payload after %d in a %d-byte file",
				i, off, end, len(rec), prevEnd, len(data))
		}
		frame := data[off:end]
		if n := binary.LittleEndian.Uint32(frame); int(n) != len(rec) {
			t.Fatalf("record %d at %d: length field %d, record of %d bytes", i, off, n, len(rec))
		}
		want := crc32.Update(crc32.Checksum(frame[:4], castagnoli), castagnoli, frame[FrameOverhead:])
		if got := binary.LittleEndian.Uint32(frame[4:]); got != want {
			t.Fatalf("record %d at %d: returned with CRC %08x, its bytes sum to %08x", i, off, got, want)
		}
		if !bytes.Equal(rec, frame[FrameOverhead:]) {
			t.Fatalf("record %d at %d differs from the file's bytes", i, off)
		}
		framed += end - off
		prevEnd = end
	}
	if got := int64(HeaderSize) + framed + res.skipped; got != int64(len(data)) {
		t.Fatalf("header %d + frames %d + skipped %d = %d, file has %d bytes",
			HeaderSize, framed, res.skipped, got, len(data))
	}
	for i := 1; i < len(res.corrupt); i++ {
		if res.corrupt[i] <= res.corrupt[i-1] {
			t.Fatalf("corruption offsets not increasing: %v", res.corrupt)
		}
	}
}

// text returns an n-byte ASCII payload that names record i.
func text(i, n int) []byte {
	var b bytes.Buffer
	for b.Len() < n {
		fmt.Fprintf(&b, "record %d says hello; ", i)
	}
	return b.Bytes()[:n]
}

func equalRecords(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

// describe summarises records for failure messages.
func describe(recs [][]byte) string {
	var b bytes.Buffer
	for i, r := range recs {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%d:%q", len(r), r[:min(len(r), 16)])
	}
	return "[" + b.String() + "]"
}

// inPlace lays payloads out as AppendFrames takes them: each after
// FrameOverhead bytes of room, which hold garbage to show they are filled in.
func inPlace(payloads [][]byte) ([]byte, []int) {
	var frames []byte
	var ends []int
	for _, p := range payloads {
		frames = append(frames, "GARBAGE!"...)
		frames = append(frames, p...)
		ends = append(ends, len(frames))
	}
	return frames, ends
}
