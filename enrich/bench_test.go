package enrich

import (
	"context"
	"fmt"
	"runtime"
	"testing"

	"github.com/sluicelog/sluice/record"
)

// BenchmarkStageHit measures the Stage on pod cache hits, per record, through
// its channels as the pipeline runs it: batches of 512 records of one file,
// and batches from 16 files in turn.
func BenchmarkStageHit(b *testing.B) {
	const batch = 512
	pods := newFakePods()
	paths := make([]string, 16)
	for i := range paths {
		name := fmt.Sprintf("web-7d9f8c6b5-x%04d", i)
		u := fmt.Sprintf("7f5b3c1e-2d4a-4b6c-8e9f-0a1b2c3d%04d", i)
		paths[i] = fmt.Sprintf(`C:\var\log\pods\shop_%s_%s\nginx\0.log`, name, u)
		p := webPod()
		p.Name, p.UID = name, u
		pods.add(p)
	}
	for _, bb := range []struct {
		name  string
		paths []string
	}{
		{"one_file", paths[:1]},
		{"16_files", paths},
	} {
		b.Run(bb.name, func(b *testing.B) {
			s := NewStage(StageConfig{Node: "akswin000001", Pods: pods})
			in, out := make(chan *record.Batch, 4), make(chan *record.Batch, 4)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { defer close(done); s.Run(ctx, in, out) }()
			defer func() { cancel(); <-done }()
			batches := make([]*record.Batch, len(bb.paths))
			for i, p := range bb.paths {
				recs := make([]record.Record, batch)
				for j := range recs {
					recs[j].Path = p
				}
				batches[i] = record.NewBatch(recs, nil)
				in <- batches[i] // fill the path state: hits are what is measured
				<-out
			}
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			mallocs := ms.Mallocs
			n := 0
			for b.Loop() {
				bt := batches[n%len(batches)]
				for i := range bt.Records {
					bt.Records[i].Attrs = nil
				}
				in <- bt
				<-out
				n++
			}
			runtime.ReadMemStats(&ms)
			recs := float64(n * batch)
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/recs, "ns/record")
			b.ReportMetric(float64(ms.Mallocs-mallocs)/recs, "allocs/record")
		})
	}
}
