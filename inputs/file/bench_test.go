package file

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// writeCRIFile writes n kubelet-like CRI lines of about 150 bytes.
func writeCRIFile(b *testing.B, path string, n int) int64 {
	var sb strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&sb, "2026-11-26T00:54:07.%09dZ stdout F level=info ts=2026-11-26T00:54:07Z caller=server.go:42 msg=\"request served\" path=/api/v1/items status=200 seq=%d\n", i, i)
	}
	if err := os.WriteFile(path, []byte(sb.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	return int64(sb.Len())
}

// BenchmarkTailCRI measures tail → parse → discard of one file, from open to
// the last acknowledged record.
func BenchmarkTailCRI(b *testing.B) {
	dir := b.TempDir()
	const lines = 200_000
	size := writeCRIFile(b, filepath.Join(dir, "0.log"), lines)
	b.SetBytes(size)
	b.ReportAllocs()
	b.ResetTimer()
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	start := time.Now()
	for i := 0; i < b.N; i++ {
		cfg := testConfig(dir)
		cfg.CheckpointPath = filepath.Join(dir, fmt.Sprintf("state-%d", i), "files.json")
		cfg.CheckpointEvery = time.Hour
		cfg.BatchSize = 1024
		drain(b, cfg, lines)
	}
	elapsed := time.Since(start)
	runtime.ReadMemStats(&ms1)
	b.ReportMetric(float64(lines*b.N)/elapsed.Seconds(), "lines/s")
	b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/float64(lines*b.N), "allocs/line")
}

// drain runs a Tailer until it has emitted want records, acknowledging each batch.
func drain(b *testing.B, cfg Config, want int) {
	tl, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); tl.Run(ctx) }()
	got := 0
	for batch := range tl.Out() {
		got += len(batch.Records)
		batch.Ack()
		if got >= want {
			cancel()
		}
	}
	wg.Wait()
	cancel()
}

// BenchmarkPollIdle measures one poll of 1,000 files that have no new data:
// the steady cost of a node full of quiet containers.
func BenchmarkPollIdle(b *testing.B) {
	tl, stop := idleTailer(b, 1000)
	defer stop()
	b.ReportAllocs()
	for b.Loop() {
		tl.poll()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1000, "ns/file")
}

// BenchmarkDiscoverIdle measures one discovery over 1,000 quiet files:
// pattern expansion plus the identity check of each idle file.
func BenchmarkDiscoverIdle(b *testing.B) {
	tl, stop := idleTailer(b, 1000)
	defer stop()
	b.ReportAllocs()
	for b.Loop() {
		tl.discover(false)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1000, "ns/file")
}

func idleTailer(b *testing.B, files int) (*Tailer, func()) {
	dir := b.TempDir()
	for i := 0; i < files; i++ {
		writeCRIFile(b, filepath.Join(dir, fmt.Sprintf("pod-%04d_ns_c-%064d.log", i, i)), 3)
	}
	cfg := testConfig(dir)
	cfg.MaxOpenFiles = 2 * files
	tl, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for batch := range tl.out {
			batch.Ack()
		}
	}()
	ctx := context.Background()
	tl.discover(true)
	for progressed := true; progressed || tl.batch.blocked(); {
		progressed, _ = tl.poll()
		for !tl.batch.flush() {
			tl.batch.wait(ctx, time.Millisecond)
		}
	}
	if tl.open != files {
		b.Fatalf("%d files open, want %d", tl.open, files)
	}
	tl.discover(false) // clears the fresh marks, so the next one stats every file
	return tl, func() {
		for _, r := range tl.readers {
			r.close(tl)
		}
		close(tl.out)
		<-done
	}
}
