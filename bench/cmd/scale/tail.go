package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/sluicelog/sluice/config"
	"github.com/sluicelog/sluice/inputs/file"
	"github.com/sluicelog/sluice/inputs/file/glob"
)

type tailOptions struct {
	files          int
	window         time.Duration
	poll, discover time.Duration
	maxOpen        int
	profile        string // CPU profile of the idle window; none when empty
}

const linesPerFile = 5

// tailIdle writes the files, runs the tailer with the daemon's defaults
// until it has read every line, then measures it doing nothing else.
func tailIdle(o tailOptions) error {
	dir, err := os.MkdirTemp("", "sluice-scale-")
	if err != nil {
		return fmt.Errorf("make the log folder: %w", err)
	}
	defer os.RemoveAll(dir)
	start := time.Now()
	if err := writeKubeletTree(dir, o.files); err != nil {
		return err
	}
	fmt.Printf("tail: %d files written in %v under %s\n", o.files, time.Since(start).Round(time.Millisecond), dir)

	f := config.Default().Inputs.Files
	if o.poll > 0 {
		f.PollInterval = o.poll
	}
	if o.discover > 0 {
		f.DiscoverInterval = o.discover
	}
	if o.maxOpen == 0 {
		o.maxOpen = o.files + 16
	}
	ev := &file.Counts{}
	tl, err := file.New(file.Config{
		Include: []string{filepath.Join(dir, "containers", "*.log")}, Flavor: glob.Native,
		Format: f.Format, MaxLineSize: int(f.MaxLineSize), PollInterval: f.PollInterval,
		DiscoverInterval: f.DiscoverInterval, MaxOpenFiles: o.maxOpen, IdleTimeout: f.IdleTimeout,
		RotateWait: f.RotateWait, CheckpointEvery: f.CheckpointEvery, BatchSize: f.BatchSize,
		CheckpointPath: filepath.Join(dir, "data", "files.json"), Events: ev,
	})
	if err != nil {
		return fmt.Errorf("start the tailer: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = tl.Run(ctx) }()
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		for b := range tl.Out() {
			b.Ack()
		}
	}()
	defer func() { cancel(); <-done; <-drained }()

	want := o.files * linesPerFile
	start = time.Now()
	for ev.Snapshot().Lines < want {
		if time.Since(start) > 10*time.Minute {
			t := ev.Snapshot()
			return fmt.Errorf("read %d of %d lines in 10 minutes (%d files open, anomalies %v)", t.Lines, want, t.Open, t.Anomalies)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t := ev.Snapshot()
	fmt.Printf("tail: read %d lines of %d files in %v; %d open; poll %v, discover %v, max_open_files %d\n",
		t.Lines, o.files, time.Since(start).Round(time.Millisecond), t.Open, f.PollInterval, f.DiscoverInterval, o.maxOpen)
	time.Sleep(2 * time.Second) // the checkpoint of the last reads is written

	if o.profile != "" {
		pf, err := os.Create(o.profile)
		if err != nil {
			return fmt.Errorf("create the profile: %w", err)
		}
		defer pf.Close()
		if err := pprof.StartCPUProfile(pf); err != nil {
			return fmt.Errorf("start the profile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	cpu0, wall0 := cpuSeconds(), time.Now()
	time.Sleep(o.window)
	cpu1, wall1 := cpuSeconds(), time.Now()
	rss, hwm := procStatus("VmRSS"), procStatus("VmHWM")
	fmt.Printf("tail idle: %.4f CPU s per s over %v (%.2f ms per s); VmRSS %.1f MiB, VmHWM %.1f MiB\n",
		(cpu1-cpu0)/wall1.Sub(wall0).Seconds(), o.window, 1000*(cpu1-cpu0)/wall1.Sub(wall0).Seconds(), rss/1024, hwm/1024)
	heap := liveHeap()
	fmt.Printf("tail idle: live Go heap after GC %.1f MiB, %.0f B per file\n", float64(heap)/(1<<20), float64(heap)/float64(o.files))
	return nil
}

// writeKubeletTree writes n files the way kubelet lays them out:
// pods/<ns>_<pod>_<uid>/<container>/0.log, with the
// containers/<pod>_<ns>_<container>-<id>.log symlink the pattern matches.
func writeKubeletTree(dir string, n int) error {
	var body strings.Builder
	for i := range linesPerFile {
		fmt.Fprintf(&body, "2026-11-26T00:54:07.%09dZ stdout F level=info msg=\"request served\" status=200 seq=%d\n", i, i)
	}
	if err := os.MkdirAll(filepath.Join(dir, "containers"), 0o755); err != nil {
		return fmt.Errorf("make containers/: %w", err)
	}
	for i := range n {
		ns, pod, ctr := fmt.Sprintf("team-%d", i%5), fmt.Sprintf("checkout-7d9f8c6b5-%05x", i/2), fmt.Sprintf("c%d", i%2)
		uid := fmt.Sprintf("7f5b3c1e-2d4a-4b6c-8e9f-%012x", i/2)
		p := filepath.Join(dir, "pods", fmt.Sprintf("%s_%s_%s", ns, pod, uid), ctr, "0.log")
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return fmt.Errorf("make %s: %w", filepath.Dir(p), err)
		}
		if err := os.WriteFile(p, []byte(body.String()), 0o644); err != nil {
			return fmt.Errorf("write %s: %w", p, err)
		}
		link := filepath.Join(dir, "containers", fmt.Sprintf("%s_%s_%s-%064x.log", pod, ns, ctr, i))
		if err := os.Symlink(p, link); err != nil {
			return fmt.Errorf("link %s: %w", link, err)
		}
	}
	return nil
}
