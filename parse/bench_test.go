package parse

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sluicelog/sluice/inputs/file/glob"
	"github.com/sluicelog/sluice/parse/multiline"
	"github.com/sluicelog/sluice/record"
)

// benchText is a log of ordinary lines with a stack trace of the rule's
// language every tenth line.
func benchText(rule string) string {
	traces := map[string]string{
		"dotnet": "System.InvalidOperationException: Order 42 failed\n   at Shop.Orders.Place(Order order) in C:\\src\\Orders.cs:line 17\n   at Shop.Program.Main(String[] args) in C:\\src\\Program.cs:line 9",
		"java":   "java.lang.IllegalStateException: order 42\n\tat com.shop.Orders.place(Orders.java:42)\n\tat com.shop.Main.main(Main.java:9)",
		"python": "Traceback (most recent call last):\n  File \"/app/main.py\", line 3, in <module>\n    place(42)\nValueError: order 42",
		"go":     "panic: order 42\n\ngoroutine 1 [running]:\nmain.main()\n\t/app/main.go:7 +0x25",
		"ruby":   "app.rb:3:in 'place': order 42 failed (RuntimeError)\n\tfrom app.rb:7:in '<main>'",
	}
	var b strings.Builder
	for i := range 100 {
		if i%10 == 9 {
			b.WriteString(traces[rule])
		} else {
			b.WriteString("2026-12-04T10:00:00.123Z INFO  [worker-7] order 8812731 accepted for customer 42, total 119.90 EUR")
		}
		if i < 99 {
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// benchStage runs batches of recs through s and reports lines/s.
func benchStage(b *testing.B, s *Stage, recs []record.Record) {
	in, out := make(chan *record.Batch), make(chan *record.Batch, 16)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go s.Run(ctx, in, out)
	go func() {
		for bt := range out {
			bt.Ack()
		}
	}()
	batch := make([]record.Record, len(recs))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		copy(batch, recs)
		in <- record.NewBatch(batch, nil)
	}
	b.ReportMetric(float64(b.N*len(recs))/b.Elapsed().Seconds(), "lines/s")
}

func BenchmarkStage(b *testing.B) {
	pat, err := glob.Compile("/var/log/pods/shop_*/*/*.log", glob.Unix)
	if err != nil {
		b.Fatal(err)
	}
	for _, name := range append([]string{"none"}, multiline.Names...) {
		b.Run(name, func(b *testing.B) {
			rule := "dotnet"
			var p []Pattern
			if name != "none" {
				rule = name
				r, err := multiline.Parse(name, "")
				if err != nil {
					b.Fatal(err)
				}
				p = []Pattern{{Match: pat, Multiline: r, Limits: Limits{FlushTimeout: time.Hour}}}
			}
			benchStage(b, NewStage(Config{Patterns: p}), lines("stdout", 0, benchText(rule)))
		})
	}
}
