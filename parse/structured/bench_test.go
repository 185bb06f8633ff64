package structured

import (
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/sluicelog/sluice/record"
)

// benchLines runs Apply over the fixture's lines; each op is one line.
func benchLines(b *testing.B, f Format, lines []string) {
	p := newParser(b, Options{Time: true})
	bufs := make([][]byte, len(lines))
	size := 0
	for i, l := range lines {
		bufs[i] = []byte(l)
		size += len(l)
	}
	shared := []record.Attr{{Key: "namespace", Value: "shop"}, {Key: "pod", Value: "web-1"}}
	b.SetBytes(int64(size / len(lines)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r := record.Record{Body: bufs[i%len(bufs)], Attrs: shared}
		p.Apply(&r, f)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}

func BenchmarkApply(b *testing.B) {
	jsonLines := fixture(b, "json.txt")
	lmLines := fixture(b, "logmonitor.txt")
	plain := []string{"2026-12-04 04:20:01.123 INFO  [main] Shop.Orders: order 42 placed by u-1 in 12 ms"}
	b.Run("json", func(b *testing.B) { benchLines(b, JSON, jsonLines) })
	b.Run("logmonitor", func(b *testing.B) { benchLines(b, LogMonitor, lmLines) })
	b.Run("auto-logmonitor", func(b *testing.B) { benchLines(b, Auto, lmLines) })
	b.Run("json-on-text", func(b *testing.B) { benchLines(b, JSON, plain) })
	b.Run("auto-on-text", func(b *testing.B) { benchLines(b, Auto, plain) })
	b.Run("auto-on-app-json", func(b *testing.B) { benchLines(b, Auto, jsonLines) })
}

// BenchmarkEncodingJSONTokens only walks the tokens of the JSON fixture
// with encoding/json's Decoder.Token, building nothing: a floor for the
// cost of a flattener built on it, to compare with BenchmarkApply/json.
func BenchmarkEncodingJSONTokens(b *testing.B) {
	lines := fixture(b, "json.txt")
	size := 0
	for _, l := range lines {
		size += len(l)
	}
	b.SetBytes(int64(size / len(lines)))
	b.ReportAllocs()
	rd := strings.NewReader("")
	for i := 0; i < b.N; i++ {
		rd.Reset(lines[i%len(lines)])
		d := json.NewDecoder(rd)
		for {
			if _, err := d.Token(); err == io.EOF {
				break
			} else if err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}
