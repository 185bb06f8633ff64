package main

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sluicelog/sluice/buffer"
	"github.com/sluicelog/sluice/buffer/segment"
	"github.com/sluicelog/sluice/internal/private"
	"github.com/sluicelog/sluice/internal/testdir"
	"github.com/sluicelog/sluice/metrics"
)

func TestMain(m *testing.M) {
	runChildIfAsked()
	goleak.VerifyTestMain(m)
}

// diskErrors counts the buffer's DiskError events by operation.
type diskErrors struct {
	buffer.NopEvents
	mu  sync.Mutex
	ops map[string]int
}

func (d *diskErrors) DiskError(op string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.ops == nil {
		d.ops = map[string]int{}
	}
	d.ops[op]++
}

func (d *diskErrors) count(op string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.ops[op]
}

// testOpener opens a buffer in dir/data with its checkpoints beside it.
// The data folder is one sluice creates: under Wine the test's temporary
// folder lets Everyone read, which sluice refuses.
func testOpener(dir string, ev *diskErrors) bufferOpener {
	data := filepath.Join(dir, "data")
	return bufferOpener{
		cfg:         buffer.Config{Dir: filepath.Join(data, "buffer"), SegmentSize: 64 << 10, MaxBytes: 1 << 20, Sinks: []string{"s"}, Events: ev},
		dataDir:     data,
		checkpoints: filepath.Join(data, "checkpoints"),
		log:         slog.New(slog.DiscardHandler), ev: ev, ready: metrics.NewReadiness("buffer"),
	}
}

// TestOpenFailsFastOnLastingErrors: an error that no wait can cure is
// returned at the first attempt, so a wrong configuration still stops
// sluice at once rather than leaving it waiting.
func TestOpenFailsFastOnLastingErrors(t *testing.T) {
	rows := []struct {
		name  string
		setup func(t *testing.T, o *bufferOpener, dir string)
	}{
		{name: "no sink to read the buffer", setup: func(t *testing.T, o *bufferOpener, dir string) {
			o.cfg.Sinks = nil
		}},
		{name: "buffer path runs through a file", setup: func(t *testing.T, o *bufferOpener, dir string) {
			file := filepath.Join(dir, "file")
			if err := os.WriteFile(file, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			o.cfg.Dir = filepath.Join(file, "buffer")
		}},
		{name: "buffer path with a NUL byte", setup: func(t *testing.T, o *bufferOpener, dir string) {
			o.cfg.Dir = filepath.Join(dir, "buf\x00fer")
		}},
		{name: "a folder with a segment's name", setup: func(t *testing.T, o *bufferOpener, dir string) {
			if _, err := private.Dir(o.cfg.Dir); err != nil {
				t.Fatal(err)
			}
			if err := os.Mkdir(filepath.Join(o.cfg.Dir, segment.Name(1)), 0o700); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			dir := testdir.New(t)
			ev := &diskErrors{}
			o := testOpener(dir, ev)
			row.setup(t, &o, dir)
			// A retry would wait here until the context ends.
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			buf, err := o.open(ctx)
			if err == nil {
				buf.Close()
				t.Fatal("open succeeded")
			}
			t.Log(err)
			if errors.Is(err, errStopped) || ev.count("open") != 0 {
				t.Fatalf("open retried (%d failed attempts counted) a lasting error: %v", ev.count("open"), err)
			}
		})
	}
}

// wantRefused opens o and wants a *private.WeakError that says hint, at the
// first attempt: an operator must act, so nothing is retried.
func wantRefused(t *testing.T, o bufferOpener, ev *diskErrors, hint string) {
	t.Helper()
	buf, err := o.open(context.Background())
	if err == nil {
		buf.Close()
		t.Fatalf("sluice opened a buffer in %s", o.dataDir)
	}
	var weak *private.WeakError
	if !errors.As(err, &weak) || !strings.Contains(err.Error(), hint) || ev.count("open") != 0 {
		t.Fatalf("open = %v after %d retries, want a *private.WeakError saying %s, at once", err, ev.count("open"), hint)
	}
	t.Log(err)
}
