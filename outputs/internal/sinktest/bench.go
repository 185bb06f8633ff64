package sinktest

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/sluicelog/sluice/record"
)

// BenchBatch is n records of a buffer read as the daemon would see it: 20
// pods with 2 containers each, kubelet-like lines of about 150 bytes, files
// interleaved in runs as the tailers fill the buffer.
func BenchBatch(base time.Time, n int) []record.Record {
	rng := rand.New(rand.NewPCG(1, 2))
	type file struct {
		path  string
		attrs []record.Attr
		src   *record.Source
	}
	var files []file
	for p := range 20 {
		for _, c := range []string{"app", "sidecar"} {
			pod := fmt.Sprintf("web-%d-7d9c5b6f4-x%03d", p, p)
			uid := fmt.Sprintf("5f1c2a3b-%04d-4e5f-9a8b-0c1d2e3f4a5b", p)
			files = append(files, file{
				path: fmt.Sprintf("/var/log/pods/default_%s_%s/%s/0.log", pod, uid, c),
				src:  &record.Source{Dev: 2049, Ino: uint64(1000 + len(files)), Head: fmt.Appendf(nil, "2026-06-01T12:00:00.000000000Z stdout F start %s\n", pod)},
				attrs: []record.Attr{
					{Key: "namespace", Value: "default"}, {Key: "pod", Value: pod}, {Key: "container", Value: c},
					{Key: "container_id", Value: fmt.Sprintf("containerd://%064x", p*2+len(c))}, {Key: "pod_uid", Value: uid},
				},
			})
		}
	}
	recs := make([]record.Record, 0, n)
	for len(recs) < n {
		f := files[rng.IntN(len(files))]
		for range 1 + rng.IntN(40) {
			i := len(recs)
			body := fmt.Sprintf("I0601 12:%02d:%02d.%06d       1 controller.go:%d] \"Successfully synced\" key=\"default/%s\" duration=\"%dms\" attempt=%d",
				i/60000%60, i/1000%60, i%1000*1000, 100+i%900, f.attrs[1].Value, i%250, i%7)
			recs = append(recs, record.Record{
				Time: base.Add(time.Duration(i) * 100 * time.Microsecond), Stream: "stdout", Body: []byte(body),
				Path: f.path, Offset: int64(i) * 160, Attrs: f.attrs, Source: f.src,
			})
			if len(recs) == n {
				break
			}
		}
	}
	return recs
}

// BenchEncode measures encode on recs: MB/s of bodies, allocations per
// record, records per second and the ratio of the bytes sent to the
// bodies. encode builds a request as the sink sends it (compressed) and
// returns its size on the wire and a release func; it is called once
// before timing, to warm the sink as a running one is.
func BenchEncode(b *testing.B, recs []record.Record, encode func([]record.Record) (wire int, release func())) {
	bodies := 0
	for i := range recs {
		bodies += len(recs[i].Body)
	}
	_, release := encode(recs)
	release()
	b.SetBytes(int64(bodies))
	b.ReportAllocs()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	wire := 0
	for b.Loop() {
		wire, release = encode(recs)
		release()
	}
	runtime.ReadMemStats(&after)
	records := float64(b.N) * float64(len(recs))
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/records, "allocs/record")
	b.ReportMetric(records/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(wire)/float64(bodies), "ratio")
}
