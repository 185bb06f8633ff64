package enrich

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/sluicelog/sluice/record"
)

// BenchmarkEnrich measures enrichment on cache hits, per record: a batch from
// one file (the common case), and batches interleaving 16 files so that every
// record goes to the map.
func BenchmarkEnrich(b *testing.B) {
	const batch = 512
	paths := make([]string, 16)
	for i := range paths {
		paths[i] = fmt.Sprintf(`C:\var\log\pods\shop_web-7d9f8c6b5-x%04d_%s\nginx\0.log`, i, uid)
	}
	for _, bb := range []struct {
		name  string
		paths []string
	}{
		{"one_path", paths[:1]},
		{"16_paths_interleaved", paths},
	} {
		b.Run(bb.name, func(b *testing.B) {
			e := New(Config{Node: "akswin000001"})
			recs := make([]record.Record, batch)
			for i := range recs {
				recs[i].Path = bb.paths[i%len(bb.paths)]
			}
			e.Enrich(recs) // fill the cache: hits are what is measured
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			mallocs := ms.Mallocs
			batches := 0
			for b.Loop() {
				for i := range recs {
					recs[i].Attrs = nil
				}
				e.Enrich(recs)
				batches++
			}
			runtime.ReadMemStats(&ms)
			n := float64(batches * batch)
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/n, "ns/record")
			b.ReportMetric(float64(ms.Mallocs-mallocs)/n, "allocs/record")
		})
	}
}
