package plugin

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/sluicelog/sluice/cmd/flb-sluice/internal/chunk/chunktest"
	"github.com/sluicelog/sluice/outputs/elasticsearch"
	"github.com/sluicelog/sluice/outputs/loki"
	"github.com/sluicelog/sluice/record"
)

// benchChunk is a chunk of n records as Fluent Bit's tail input and
// kubernetes filter make them: a ~120-byte line, stream, and the pod's
// metadata, in a few pods.
func benchChunk(n int) []byte {
	var w chunktest.Writer
	t0 := time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC)
	for i := range n {
		p := i % 8
		w.Event(t0.Add(time.Duration(i)*time.Millisecond), map[string]any{
			"log":    fmt.Sprintf("2026-12-04T00:00:00Z INFO request id=%08d path=/api/v1/items/%d status=200 took=%dms %s", i, i, i%97, strings.Repeat("x", 40)),
			"stream": "stdout",
			"kubernetes": map[string]any{
				"namespace_name": "shop", "pod_name": fmt.Sprintf("web-%d", p), "container_name": "app",
				"pod_id": fmt.Sprintf("8b0c5a2e-3f1d-4c6b-9a7e-2d4f6b8c0e%02d", p), "docker_id": fmt.Sprintf("4f1e9c2b7a3d5e6f80%02d", p),
				"container_image": "shop/web:1.2.3", "host": "node-7",
				"labels":      map[string]any{"app": "web", "pod-template-hash": "7d9f"},
				"annotations": map[string]any{"prometheus.io/scrape": "true"},
			},
		})
	}
	return w.B
}

// BenchmarkDecodeEncode measures a flush without the network: reading a
// chunk's events into records, then encoding them into one sink request.
// ns/record and allocs/record are per record; MB/s counts chunk bytes.
func BenchmarkDecodeEncode(b *testing.B) {
	const n = 1000
	data := benchChunk(n)
	in := &Instance{log: slog.New(slog.DiscardHandler), m: Mapping{logKeys: []string{"log", "message"}, format: formatLog}}
	lk, err := loki.New(loki.Config{URL: "http://127.0.0.1:1/loki/api/v1/push"})
	if err != nil {
		b.Fatal(err)
	}
	defer lk.Close()
	es, err := elasticsearch.New(elasticsearch.Config{URL: "http://127.0.0.1:1"})
	if err != nil {
		b.Fatal(err)
	}
	defer es.Close()
	for _, s := range []struct {
		name   string
		encode func(recs []record.Record) int
	}{
		{"decode-only", func([]record.Record) int { return 0 }},
		{"loki", func(recs []record.Record) int { r := lk.Encode(recs); n := r.Records(); r.Release(); return n }},
		{"elasticsearch", func(recs []record.Record) int { r := es.Encode(recs); n := r.Records(); r.Release(); return n }},
	} {
		b.Run(s.name, func(b *testing.B) {
			bt := new(batch)
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				bt.reset(data)
				in.decode(bt, "kube.var.log.containers.web")
				if len(bt.recs) != n {
					b.Fatalf("%d records", len(bt.recs))
				}
				s.encode(bt.recs)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/record")
		})
	}
}
