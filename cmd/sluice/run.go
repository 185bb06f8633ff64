package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/sluicelog/sluice/config"
	"github.com/sluicelog/sluice/inputs/file"
	"github.com/sluicelog/sluice/inputs/file/glob"
	"github.com/sluicelog/sluice/metrics"
	"github.com/sluicelog/sluice/outputs"
	"github.com/sluicelog/sluice/outputs/stdout"
	"github.com/sluicelog/sluice/record"
)

// run wires inputs to outputs and returns after a clean shutdown: inputs stop
// when ctx is done, outputs get cfg.ShutdownTimeout to drain, and the
// checkpoint is saved last so it covers everything acknowledged.
func run(ctx context.Context, cfg config.Config, stdoutW, stderr io.Writer) error {
	log := newLogger(cfg.Log, stderr)
	m := metrics.New()
	ready := metrics.NewReadiness("inputs", "outputs")
	srvCtx, stopSrv := context.WithCancel(context.Background())
	defer stopSrv()
	if cfg.Metrics.Address != "" {
		ln, err := metrics.Listen(cfg.Metrics.Address)
		if err != nil {
			return err
		}
		log.Info("serving metrics", "address", ln.Addr().String())
		done := make(chan struct{})
		go func() {
			defer close(done)
			if err := metrics.Serve(srvCtx, ln, m, ready); err != nil {
				log.Error("metrics server stopped", "err", err)
			}
		}()
		defer func() { stopSrv(); <-done }()
	}
	tailer, err := file.New(tailerConfig(cfg, log, m))
	if err != nil {
		return err
	}
	sink, closeSink, err := openStdout(cfg.Outputs.Stdout, stdoutW)
	if err != nil {
		return err
	}
	defer closeSink()
	ready.Set("outputs", "")
	ready.Set("inputs", "")

	deliverCtx, stopDeliver := context.WithCancel(context.Background())
	defer stopDeliver()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		deliver(deliverCtx, "stdout", sink, tailer.Out(), m, log)
	}()
	log.Info("sluice started", "version", version, "include", cfg.Inputs.Files.Include)
	runErr := tailer.Run(ctx)
	// Inputs have stopped; give the sink a bounded time for what is queued.
	timer := time.AfterFunc(cfg.ShutdownTimeout, stopDeliver)
	wg.Wait()
	timer.Stop()
	if err := tailer.Save(); err != nil {
		log.Error("save final checkpoint", "err", err)
	}
	log.Info("sluice stopped")
	return runErr
}

// deliver sends every batch, retrying with backoff until it is accepted or
// ctx ends; only an accepted batch is acknowledged.
func deliver(ctx context.Context, name string, sink outputs.Sink, in <-chan *record.Batch, m *metrics.Registry, log *slog.Logger) {
	for b := range in {
		wait := 100 * time.Millisecond
		for {
			err := sink.Send(ctx, b.Records)
			if err == nil {
				b.Ack()
				m.Sent(name, len(b.Records))
				break
			}
			if ctx.Err() != nil {
				return
			}
			m.SendFailed(name)
			log.Warn("send failed, retrying", "sink", name, "records", len(b.Records), "err", err, "wait", wait)
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait + rand.N(wait/2)):
			}
			wait = min(wait*2, 10*time.Second)
		}
	}
}

func tailerConfig(cfg config.Config, log *slog.Logger, m *metrics.Registry) file.Config {
	f := cfg.Inputs.Files
	return file.Config{
		Include: f.Include, Exclude: f.Exclude, Flavor: glob.Native,
		ReadFromTail: f.ReadFrom == "tail", Format: f.Format, MaxLineSize: int(f.MaxLineSize),
		PollInterval: f.PollInterval, DiscoverInterval: f.DiscoverInterval, MaxOpenFiles: f.MaxOpenFiles,
		IdleTimeout: f.IdleTimeout, RotateWait: f.RotateWait, CheckpointEvery: f.CheckpointEvery,
		CheckpointPath: filepath.Join(cfg.DataDir, "checkpoints", "files.json"),
		BatchSize:      f.BatchSize, Logger: log.With("input", "files"), Events: m,
	}
}

func openStdout(c *config.Stdout, w io.Writer) (*stdout.Sink, func(), error) {
	if c.Path == "" {
		return stdout.New(w), func() {}, nil
	}
	f, err := os.OpenFile(c.Path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, nil, fmt.Errorf("open stdout output file: %w", err)
	}
	return stdout.New(f), func() { f.Close() }, nil
}

func newLogger(c config.Log, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.Level))
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}
