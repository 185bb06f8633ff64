package loki

import (
	"testing"

	"github.com/sluicelog/sluice/outputs/internal/sinktest"
	"github.com/sluicelog/sluice/record"
)

const benchRecords = 10000

func benchmarkEncode(b *testing.B, encoding string) {
	s := newSink(b, Config{URL: "http://127.0.0.1:1/loki/api/v1/push", Encoding: encoding})
	sinktest.BenchEncode(b, sinktest.BenchBatch(at(0), benchRecords), func(recs []record.Record) (int, func()) {
		req := s.Encode(recs)
		return len(req.body), req.Release
	})
	// What the encoder keeps between batches to build a request's body.
	b.ReportMetric(float64(cap(s.enc.raw)+cap(s.enc.block)+cap(s.enc.metaEnc)), "wirebuf-B")
}

func BenchmarkEncodeProtobuf(b *testing.B) { benchmarkEncode(b, "protobuf") }

func BenchmarkEncodeJSON(b *testing.B) { benchmarkEncode(b, "json") }
