package segment

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/sluicelog/sluice/internal/testdir"
)

// benchSegmentSize is where the append benchmarks start a new segment, so a
// long run does not fill the disk.
const benchSegmentSize = 64 << 20

// rollingWriter appends to a series of segments in dir, removing each full one.
type rollingWriter struct {
	b   *testing.B
	dir string
	w   *Writer
}

func (rw *rollingWriter) writer() *Writer {
	if rw.w != nil && rw.w.Size() < benchSegmentSize {
		return rw.w
	}
	index := uint64(0)
	if rw.w != nil {
		index = rw.w.Index() + 1
		if err := rw.w.Close(); err != nil {
			rw.b.Fatal(err)
		}
		if err := os.Remove(filepath.Join(rw.dir, Name(rw.w.Index()))); err != nil {
			rw.b.Fatal(err)
		}
	}
	w, err := Create(rw.dir, index)
	if err != nil {
		rw.b.Fatal(err)
	}
	rw.w = w
	return w
}

func reportRecords(b *testing.B, perOp int) {
	b.ReportMetric(float64(b.N)*float64(perOp)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkAppend appends 256-byte records one write call each, without fsync.
func BenchmarkAppend(b *testing.B) {
	rw := &rollingWriter{b: b, dir: testdir.New(b)}
	defer func() { rw.w.Close() }()
	payload := text(1, 256)
	rw.writer()
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := rw.writer().Append(payload); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	reportRecords(b, 1)
}

// BenchmarkAppendFrames appends batches of 1,000 records of 256 bytes laid
// out in place, one write call each, without fsync.
func BenchmarkAppendFrames(b *testing.B) {
	rw := &rollingWriter{b: b, dir: testdir.New(b)}
	defer func() { rw.w.Close() }()
	batch := make([][]byte, 1000)
	for i := range batch {
		batch[i] = text(i, 256)
	}
	frames, ends := inPlace(batch)
	rw.writer()
	b.SetBytes(int64(len(batch) * 256))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if err := rw.writer().AppendFrames(frames, ends); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	reportRecords(b, len(batch))
}

// BenchmarkRead reads a 64 MiB segment of 256-byte records (from the page cache), over and over.
func BenchmarkRead(b *testing.B) {
	benchRead(b, 256, benchSegmentSize)
}

// BenchmarkReadLarge reads a segment of 64 KiB records.
func BenchmarkReadLarge(b *testing.B) {
	benchRead(b, 64<<10, benchSegmentSize)
}

func benchRead(b *testing.B, size, total int) {
	dir := testdir.New(b)
	w, err := Create(dir, 1)
	if err != nil {
		b.Fatal(err)
	}
	batch := make([][]byte, 1000)
	for i := range batch {
		batch[i] = text(i, size)
	}
	for w.Size() < int64(total) {
		if err := w.AppendFrames(inPlace(batch[:min(len(batch), max(1, (total-int(w.Size()))/size))])); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	r, err := OpenReader(dir, 1, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer func() { r.Close() }()
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	var n int
	for range b.N {
		if !r.Next() {
			if r.Err() != nil {
				b.Fatal(r.Err())
			}
			r.Close()
			if r, err = OpenReader(dir, 1, 0); err != nil {
				b.Fatal(err)
			}
			if !r.Next() {
				b.Fatal("empty segment")
			}
		}
		n += len(r.Record())
	}
	b.StopTimer()
	if n != b.N*size {
		b.Fatalf("read %d bytes, want %d", n, b.N*size)
	}
	reportRecords(b, 1)
}

// BenchmarkResyncRandom measures resynchronising over random bytes, the
// worst case: about one position in 64 holds a plausible length.
func BenchmarkResyncRandom(b *testing.B) {
	benchResync(b, func(i int) byte { return byte(uint32(i)*2654435761>>13 ^ uint32(i)>>7) })
}

// BenchmarkResyncZeros measures skipping a zeroed (preallocated or sparse) region.
func BenchmarkResyncZeros(b *testing.B) {
	benchResync(b, func(int) byte { return 0 })
}

// BenchmarkResyncText measures skipping over text, such as log lines after a corrupt frame header.
func BenchmarkResyncText(b *testing.B) {
	line := text(0, 1000)
	benchResync(b, func(i int) byte { return line[i%len(line)] })
}

// benchResync resynchronises over 4 MiB of the given bytes that follow the
// first frame of a 64 MiB segment, so that most plausible lengths fit in the
// file and must be checked.
func benchResync(b *testing.B, fill func(int) byte) {
	const region = 4 << 20
	data, _ := segmentBytes([][]byte{text(0, 100)})
	for i := range region {
		data = append(data, fill(i))
	}
	rest := make([][]byte, 60)
	for i := range rest {
		rest[i] = text(i+1, 1<<20)
	}
	tail, _ := segmentBytes(rest)
	data = append(data, tail[HeaderSize:]...)
	dir := testdir.New(b)
	writeFile(b, dir, 1, data)
	b.SetBytes(region)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		r, err := OpenReader(dir, 1, 0)
		if err != nil {
			b.Fatal(err)
		}
		if !r.Next() || !r.Next() || len(r.Record()) != 1<<20 || r.Skipped() != region {
			b.Fatalf("after the region: record of %d bytes, skipped %d, err %v", len(r.Record()), r.Skipped(), r.Err())
		}
		r.Close()
	}
}
