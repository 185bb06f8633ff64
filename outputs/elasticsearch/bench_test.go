package elasticsearch

import (
	"testing"
	"time"

	"github.com/sluicelog/sluice/outputs/internal/sinktest"
	"github.com/sluicelog/sluice/record"
)

// The records of the Loki sink's encode benchmarks (the same generator and
// base time), so the numbers compare: Encode and, with gzip, the
// compression Send does once per request.
func benchmarkEncode(b *testing.B, compression string) {
	s := newSink(b, Config{URL: "http://127.0.0.1:1", Compression: compression, ClusterName: "bench"})
	recs := sinktest.BenchBatch(time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC), 10000)
	sinktest.BenchEncode(b, recs, func(recs []record.Record) (int, func()) {
		req := s.Encode(recs)
		return len(s.compress(req)), req.Release
	})
}

func BenchmarkEncodeNDJSON(b *testing.B) { benchmarkEncode(b, "none") }

func BenchmarkEncodeNDJSONGzip(b *testing.B) { benchmarkEncode(b, "gzip") }
