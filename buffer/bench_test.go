package buffer

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sluicelog/sluice/buffer/codec"
	"github.com/sluicelog/sluice/buffer/segment"
	"github.com/sluicelog/sluice/internal/testdir"
	"github.com/sluicelog/sluice/record"
)

const (
	benchBatch = 1000 // records per Append, about what the file input sends
	benchBody  = 200  // bytes of each record's body
)

// benchSource is the file the benchmark's records come from, with a
// fingerprint of the usual KiB.
var benchSource = &record.Source{Dev: 2049, Ino: 131_073, Head: []byte(strings.Repeat("2026-11-26T00:54:07.123456789Z stdout F level=info msg=x\n", 19)[:1024])}

// benchRecords returns one batch of container log records with 200-byte
// bodies, numbered from seq, as the file input emits them.
func benchRecords(seq int) []record.Record {
	out := make([]record.Record, benchBatch)
	now := time.Now()
	for i := range out {
		body := fmt.Appendf(make([]byte, 0, benchBody), "level=info seq=%012d msg=", seq+i)
		for len(body) < benchBody {
			body = append(body, 'a'+byte(len(body)%26))
		}
		out[i] = record.Record{
			Time: now.Add(time.Duration(i)), Stream: "stdout", Body: body,
			Path: "/var/log/pods/default_web-7d9f8b6c5-x2x4z_0f3c1e2a/app/0.log", Offset: int64(seq+i) * 240,
			Source: benchSource, Next: int64(seq+i+1) * 240,
		}
	}
	return out
}

// frameBytes is what recs take in a segment: payloads and frame headers.
func frameBytes(recs []record.Record) int64 {
	var n int64
	var buf []byte
	for i := range recs {
		buf = codec.Append(buf[:0], &recs[i])
		n += int64(len(buf) + segment.FrameOverhead)
	}
	return n
}

func benchConfig(dir, fsync string) Config {
	// drop_oldest with the default sizes: the folder stays under 256 MiB
	// however long the benchmark runs, with no sink reading.
	return Config{Dir: dir, Fsync: fsync, OnFull: OnFullDropOldest, Sinks: []string{"a"}}
}

// BenchmarkAppend appends batches of 1,000 records of about 200 bytes, with
// a durable callback as the file input passes, under each fsync policy. The
// bytes are those written to segments (frames, headers included).
func BenchmarkAppend(b *testing.B) {
	for _, fsync := range []string{FsyncInterval, FsyncAlways} {
		b.Run(fsync, func(b *testing.B) {
			buf, err := Open(benchConfig(testdir.New(b), fsync))
			if err != nil {
				b.Fatal(err)
			}
			defer buf.Close()
			batches := make([][]record.Record, 16)
			for i := range batches {
				batches[i] = benchRecords(i * benchBatch)
			}
			b.SetBytes(frameBytes(batches[0]))
			b.ReportAllocs()
			ctx := context.Background()
			durable := func(bool) {}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := buf.Append(ctx, batches[i%len(batches)], durable); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)*benchBatch/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// benchReader opens a buffer and sink a's Reader, both closed when b ends.
func benchReader(b *testing.B, cfg Config) (*Buffer, *Reader) {
	buf, err := Open(cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { buf.Close() })
	r, err := buf.Reader("a")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(r.Close)
	return buf, r
}

// BenchmarkReadCommit reads and commits 1,000 records per operation, as a
// sink's delivery loop does, from segments already written (and in the page
// cache); the buffer is refilled off the clock when it runs dry.
func BenchmarkReadCommit(b *testing.B) {
	cfg := benchConfig(testdir.New(b), FsyncInterval)
	cfg.OnFull = OnFullBlock
	buf, r := benchReader(b, cfg)
	batch := benchRecords(0)
	ctx := context.Background()
	avail := 0 // records appended and not read yet
	refill := func() {
		for range 64 {
			if err := buf.Append(ctx, batch, nil); err != nil {
				b.Fatal(err)
			}
		}
		avail += 64 * benchBatch
	}
	refill()
	b.SetBytes(frameBytes(batch))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if avail < benchBatch {
			b.StopTimer()
			refill()
			b.StartTimer()
		}
		for got := 0; got < benchBatch; {
			recs, pos, err := r.Read(ctx, benchBatch-got, 1<<20)
			if err != nil {
				b.Fatal(err)
			}
			got += len(recs)
			r.Commit(pos)
		}
		avail -= benchBatch
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)*benchBatch/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkCommit is one Commit within a segment, the call a sink makes
// after each accepted request: what saving the cursor costs on every
// commit, the sync loop's fsyncs included as they fall due.
func BenchmarkCommit(b *testing.B) {
	buf, r := benchReader(b, benchConfig(testdir.New(b), FsyncInterval))
	pos := buf.Stats().Durable
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		pos.Offset++
		pos.Records++
		r.Commit(pos)
	}
}

// fillBuffer writes about 256 MiB of benchRecords to a buffer in dir (the
// default cap, which drop_oldest keeps it under) and closes it.
func fillBuffer(b *testing.B, dir string) {
	buf, err := Open(benchConfig(dir, FsyncInterval))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for seq := 0; buf.Stats().Bytes < 250<<20; seq += benchBatch {
		if err := buf.Append(ctx, benchRecords(seq), nil); err != nil {
			b.Fatal(err)
		}
	}
	if err := buf.Close(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkOpenFull opens a buffer that holds 256 MiB (from the page
// cache): what a restart costs before the inputs start, Resume's scan
// included. The bytes are the buffer's.
func BenchmarkOpenFull(b *testing.B) {
	dir := testdir.New(b)
	fillBuffer(b, dir)
	var size int64
	b.ResetTimer()
	for b.Loop() {
		buf, err := Open(benchConfig(dir, FsyncInterval))
		if err != nil {
			b.Fatal(err)
		}
		size = buf.Stats().Bytes
		b.StopTimer()
		buf.Close()
		b.StartTimer()
	}
	b.SetBytes(size)
}

// BenchmarkResumeScan is Resume's share of BenchmarkOpenFull: the scan of
// 256 MiB of segments for each file's furthest restart offset.
func BenchmarkResumeScan(b *testing.B) {
	dir := testdir.New(b)
	fillBuffer(b, dir)
	buf, err := Open(benchConfig(dir, FsyncInterval))
	if err != nil {
		b.Fatal(err)
	}
	defer buf.Close()
	b.SetBytes(buf.Stats().Bytes)
	b.ResetTimer()
	for b.Loop() {
		buf.scanResume()
	}
	if len(buf.Resume()) != 1 {
		b.Fatalf("Resume = %v", buf.Resume())
	}
}

// BenchmarkAppendSlowDisk appends as BenchmarkAppend/interval does while
// every fsync takes 20 ms, a busy disk's (FlushFileBuffers on a loaded
// Windows node): the sync loop syncs every 10 ms without holding the
// lock, so appends go on meanwhile.
func BenchmarkAppendSlowDisk(b *testing.B) {
	// Segments large enough that a rotation, which waits for the fsync in
	// flight, is rare.
	buf := openSlowDisk(b, 256<<20)
	defer buf.Close()
	appendLoop(b, buf)
}

// openSlowDisk opens a buffer of segments of segSize on a disk where every
// fsync, of a segment or of a cursor file, takes 20 ms more, syncing every
// 10 ms.
func openSlowDisk(b *testing.B, segSize int64) *Buffer {
	cfg := benchConfig(testdir.New(b), FsyncInterval)
	cfg.SyncEvery, cfg.SegmentSize, cfg.MaxBytes = 10*time.Millisecond, segSize, 1<<30
	buf, err := Open(cfg)
	if err != nil {
		b.Fatal(err)
	}
	slow := func(sync func() error) func() error {
		return func() error {
			time.Sleep(20 * time.Millisecond)
			return sync()
		}
	}
	buf.mu.Lock()
	buf.syncer = func(w *segment.Writer) func() error { return slow(w.Syncer()) }
	buf.cursorSyncer = func(cf *cursorFile) func() error { return slow(cf.syncer()) }
	buf.mu.Unlock()
	return buf
}

// appendLoop appends batches of benchRecords to buf for the benchmark.
func appendLoop(b *testing.B, buf *Buffer) {
	batches := make([][]record.Record, 16)
	for i := range batches {
		batches[i] = benchRecords(i * benchBatch)
	}
	b.SetBytes(frameBytes(batches[0]))
	ctx := context.Background()
	durable := func(bool) {}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if err := buf.Append(ctx, batches[i%len(batches)], durable); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAppendReadSlowDisk appends while a sink reads and commits, on
// a disk where every fsync, of a segment or of a cursor file, takes 20 ms
// more: neither the sync loop's segment fsync nor its cursor fsyncs may
// stall the appends and reads meanwhile.
func BenchmarkAppendReadSlowDisk(b *testing.B) {
	buf := openSlowDisk(b, 256<<20)
	defer buf.Close()
	r, err := buf.Reader(buf.cfg.Sinks[0])
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		for {
			recs, pos, err := r.Read(ctx, benchBatch, 1<<20)
			if err != nil {
				return
			}
			if len(recs) > 0 {
				r.Commit(pos)
			}
		}
	}()
	defer func() { cancel(); <-readerDone; r.Close() }()
	appendLoop(b, buf)
}

// BenchmarkAppendPacedSlowDisk appends a batch every millisecond, below
// what the disk can sync, with every fsync 20 ms slower and the default
// 16 MiB segments, and reports the longest Append: a rotation's fsync of
// the segment it seals is what would make one wait.
func BenchmarkAppendPacedSlowDisk(b *testing.B) {
	buf := openSlowDisk(b, 16<<20)
	defer buf.Close()
	batches := make([][]record.Record, 16)
	for i := range batches {
		batches[i] = benchRecords(i * benchBatch)
	}
	b.SetBytes(frameBytes(batches[0]))
	ctx := context.Background()
	var longest time.Duration
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		<-tick.C
		start := time.Now()
		if err := buf.Append(ctx, batches[i%len(batches)], nil); err != nil {
			b.Fatal(err)
		}
		longest = max(longest, time.Since(start))
	}
	b.ReportMetric(float64(longest.Microseconds())/1000, "longest-append-ms")
}
