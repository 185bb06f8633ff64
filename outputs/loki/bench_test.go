package loki

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/sluicelog/sluice/record"
)

const benchRecords = 10000

// benchBatch is a buffer read as the daemon would see it: 20 pods with 2
// containers each, kubelet-like lines of about 150 bytes, files interleaved
// in runs as the tailers fill the buffer.
func benchBatch() []record.Record {
	rng := rand.New(rand.NewPCG(1, 2))
	type file struct {
		path  string
		attrs []record.Attr
	}
	var files []file
	for p := range 20 {
		for _, c := range []string{"app", "sidecar"} {
			pod := fmt.Sprintf("web-%d-7d9c5b6f4-x%03d", p, p)
			uid := fmt.Sprintf("5f1c2a3b-%04d-4e5f-9a8b-0c1d2e3f4a5b", p)
			files = append(files, file{
				path: fmt.Sprintf("/var/log/pods/default_%s_%s/%s/0.log", pod, uid, c),
				attrs: []record.Attr{
					{Key: "namespace", Value: "default"}, {Key: "pod", Value: pod}, {Key: "container", Value: c},
					{Key: "container_id", Value: fmt.Sprintf("containerd://%064x", p*2+len(c))}, {Key: "pod_uid", Value: uid},
				},
			})
		}
	}
	recs := make([]record.Record, 0, benchRecords)
	for len(recs) < benchRecords {
		f := files[rng.IntN(len(files))]
		for range 1 + rng.IntN(40) {
			i := len(recs)
			body := fmt.Sprintf("I0601 12:%02d:%02d.%06d       1 controller.go:%d] \"Successfully synced\" key=\"default/%s\" duration=\"%dms\" attempt=%d",
				i/60000%60, i/1000%60, i%1000*1000, 100+i%900, f.attrs[1].Value, i%250, i%7)
			recs = append(recs, record.Record{
				Time: at(0).Add(time.Duration(i) * 100 * time.Microsecond), Stream: "stdout", Body: []byte(body),
				Path: f.path, Offset: int64(i) * 160, Attrs: f.attrs,
			})
			if len(recs) == benchRecords {
				break
			}
		}
	}
	return recs
}

func benchmarkEncode(b *testing.B, encoding string) {
	recs := benchBatch()
	bodies := 0
	for i := range recs {
		bodies += len(recs[i].Body)
	}
	s := newSink(b, Config{URL: "http://127.0.0.1:1/loki/api/v1/push", Encoding: encoding})
	s.Encode(recs).Release() // warm the encoder, as a running sink is
	b.SetBytes(int64(bodies))
	b.ReportAllocs()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	compressed := 0
	for b.Loop() {
		req := s.Encode(recs)
		compressed = len(req.body)
		req.Release()
	}
	runtime.ReadMemStats(&after)
	records := float64(b.N) * benchRecords
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/records, "allocs/record")
	b.ReportMetric(records/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(compressed)/float64(bodies), "ratio")
}

func BenchmarkEncodeProtobuf(b *testing.B) { benchmarkEncode(b, "protobuf") }

func BenchmarkEncodeJSON(b *testing.B) { benchmarkEncode(b, "json") }
