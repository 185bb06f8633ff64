package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluicelog/sluice/buffer"
	"github.com/sluicelog/sluice/config"
	"github.com/sluicelog/sluice/inputs/file"
	"github.com/sluicelog/sluice/inputs/file/glob"
	"github.com/sluicelog/sluice/metrics"
	"github.com/sluicelog/sluice/outputs"
	"github.com/sluicelog/sluice/outputs/stdout"
	"github.com/sluicelog/sluice/record"
)

// run wires inputs → buffer → outputs and returns after a clean shutdown:
// inputs stop when ctx is done, what they queued is appended, sinks get
// cfg.ShutdownTimeout to catch up, then the buffer is synced and closed (which
// makes the inputs' last records durable) and the checkpoint is saved last,
// so it covers everything the buffer holds.
func run(ctx context.Context, cfg config.Config, stdoutW, stderr io.Writer) error {
	log := newLogger(cfg.Log, stderr)
	m := metrics.New()
	ready := metrics.NewReadiness("inputs", "outputs")
	var bufRef atomic.Pointer[buffer.Buffer]
	bufEvents := m.Buffer(func() buffer.Stats {
		if b := bufRef.Load(); b != nil {
			return b.Stats()
		}
		return buffer.Stats{}
	})
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
	sinks, closeSinks, err := openSinks(cfg.Outputs, stdoutW)
	if err != nil {
		return err
	}
	defer closeSinks()
	buf, err := buffer.Open(bufferConfig(cfg, sinks, log, bufEvents))
	if err != nil {
		return err
	}
	bufRef.Store(buf)
	defer buf.Close()

	// Everything below stops by the shutdown deadline at the latest.
	stopCtx, stopAll := context.WithCancel(context.Background())
	defer stopAll()
	appended := make(chan struct{})
	go func() { defer close(appended); appendAll(stopCtx, buf, tailer.Out(), log) }()
	var sinkWG sync.WaitGroup
	for _, s := range sinks {
		r, err := buf.Reader(s.name)
		if err != nil {
			return err
		}
		sinkWG.Add(1)
		go func() { defer sinkWG.Done(); defer r.Close(); deliver(stopCtx, s.name, s.sink, r, m, log) }()
	}
	ready.Set("outputs", "")
	ready.Set("inputs", "")
	log.Info("sluice started", "version", version, "include", cfg.Inputs.Files.Include)

	runErr := tailer.Run(ctx)
	deadline := time.AfterFunc(cfg.ShutdownTimeout, stopAll)
	defer deadline.Stop()
	<-appended
	waitDrained(stopCtx, buf)
	stopAll()
	sinkWG.Wait()
	if err := buf.Close(); err != nil {
		log.Error("close buffer", "err", err)
	}
	if err := tailer.Save(); err != nil {
		log.Error("save final checkpoint", "err", err)
	}
	log.Info("sluice stopped")
	return runErr
}

// appendAll moves the inputs' batches into the buffer. A batch is
// acknowledged to its input only when the buffer made it durable; a failed
// append (a full or broken disk) is retried, which holds the inputs back.
func appendAll(ctx context.Context, buf *buffer.Buffer, in <-chan *record.Batch, log *slog.Logger) {
	for b := range in {
		wait := 100 * time.Millisecond
		for {
			err := buf.Append(ctx, b.Records, b.Ack)
			if err == nil || ctx.Err() != nil {
				break
			}
			log.Warn("buffer append failed, retrying", "err", err, "wait", wait)
			if !pause(ctx, wait) {
				break
			}
			wait = min(wait*2, 10*time.Second)
		}
	}
}

// deliver sends what the buffer holds for one sink, committing its cursor
// only after the sink accepted a batch; a failed batch is retried with
// backoff, so a dead sink holds back only its own cursor.
func deliver(ctx context.Context, name string, sink outputs.Sink, r *buffer.Reader, m *metrics.Registry, log *slog.Logger) {
	for {
		recs, pos, err := r.Read(ctx, 1024, 1<<20)
		if err != nil {
			if ctx.Err() == nil && !errors.Is(err, buffer.ErrClosed) {
				log.Error("buffer read failed", "sink", name, "err", err)
			}
			return
		}
		wait := 100 * time.Millisecond
		for {
			err := sink.Send(ctx, recs)
			if err == nil {
				r.Commit(pos)
				m.Sent(name, len(recs))
				break
			}
			if ctx.Err() != nil {
				return
			}
			m.SendFailed(name)
			log.Warn("send failed, retrying", "sink", name, "records", len(recs), "err", err, "wait", wait)
			if !pause(ctx, wait) {
				return
			}
			wait = min(wait*2, 10*time.Second)
		}
	}
}

// waitDrained returns once every sink has committed everything, or ctx ends.
func waitDrained(ctx context.Context, buf *buffer.Buffer) {
	for ctx.Err() == nil {
		drained := true
		for _, l := range buf.Stats().Lag {
			drained = drained && l.Records == 0
		}
		if drained {
			return
		}
		pause(ctx, 20*time.Millisecond)
	}
}

// pause waits d plus jitter; false if ctx ended first.
func pause(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d + rand.N(d/2+1))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

type namedSink struct {
	name string
	sink outputs.Sink
}

func openSinks(c config.Outputs, stdoutW io.Writer) ([]namedSink, func(), error) {
	var sinks []namedSink
	closeAll := func() {}
	if c.Stdout != nil {
		s, closeFn, err := openStdout(c.Stdout, stdoutW)
		if err != nil {
			return nil, nil, err
		}
		sinks, closeAll = append(sinks, namedSink{"stdout", s}), closeFn
	}
	return sinks, closeAll, nil
}

func bufferConfig(cfg config.Config, sinks []namedSink, log *slog.Logger, ev buffer.Events) buffer.Config {
	b := cfg.Buffer
	dir := b.Path
	if dir == "" {
		dir = filepath.Join(cfg.DataDir, "buffer")
	}
	names := make([]string, len(sinks))
	for i, s := range sinks {
		names[i] = s.name
	}
	return buffer.Config{
		Dir: dir, SegmentSize: int64(b.SegmentSize), MaxBytes: int64(b.MaxSize),
		Fsync: b.Fsync, SyncEvery: b.FsyncInterval, OnFull: b.OnFull,
		Sinks: names, Events: ev, Logger: log.With("component", "buffer"),
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
