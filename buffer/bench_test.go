package buffer

import (
	"context"
	"fmt"
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

// benchRecords returns one batch of container log records with 200-byte
// bodies, numbered from seq.
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

// BenchmarkReadCommit reads and commits 1,000 records per operation, as a
// sink's delivery loop does, from segments already written (and in the page
// cache); the buffer is refilled off the clock when it runs dry.
func BenchmarkReadCommit(b *testing.B) {
	cfg := benchConfig(testdir.New(b), FsyncInterval)
	cfg.OnFull = OnFullBlock
	buf, err := Open(cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer buf.Close()
	r, err := buf.Reader("a")
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
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
