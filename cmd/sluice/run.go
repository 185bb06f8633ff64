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
	"github.com/sluicelog/sluice/enrich"
	"github.com/sluicelog/sluice/enrich/podmeta"
	"github.com/sluicelog/sluice/inputs/file"
	"github.com/sluicelog/sluice/inputs/file/glob"
	"github.com/sluicelog/sluice/internal/ctxsleep"
	"github.com/sluicelog/sluice/internal/memlimit"
	"github.com/sluicelog/sluice/metrics"
	"github.com/sluicelog/sluice/parse"
	"github.com/sluicelog/sluice/record"
)

// run wires inputs → buffer → outputs and returns after a clean shutdown:
// inputs stop when ctx is done, what they queued is appended, sinks get
// cfg.ShutdownTimeout to catch up, then the buffer is synced and closed (which
// makes the inputs' last records durable) and the checkpoint is saved last,
// so it covers everything the buffer holds.
func run(ctx context.Context, cfg config.Config, stdoutW, stderr io.Writer) error {
	log := newLogger(cfg.Log, stderr)
	gc := memlimit.SetGCPercent()
	lim, err := memlimit.Apply(int64(cfg.MemoryLimit))
	if err != nil {
		log.Warn("no memory limit set", "err", err)
	}
	log.Info("memory", "limit_bytes", lim.Bytes, "limit_from", lim.Source, "gc_percent", gc)
	fitToMemory(lim.Bytes, &cfg, log)
	m := metrics.New()
	ready := metrics.NewReadiness("buffer", "inputs", "outputs")
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
	keys, err := podmeta.NewKeys(cfg.Kubernetes.Fields)
	if err != nil {
		return fmt.Errorf("kubernetes.fields: %w", err)
	}
	tcfg := tailerConfig(cfg, log, m)
	tailer, err := file.New(tcfg)
	if err != nil {
		return err
	}
	sinks, err := openSinks(cfg.Outputs, stdoutW, m, ready, log)
	if err != nil {
		return err
	}
	defer closeSinks(sinks)
	opener := bufferOpener{
		cfg: bufferConfig(cfg, sinks, log, bufEvents), dataDir: cfg.DataDir, checkpoints: filepath.Dir(tcfg.CheckpointPath),
		log: log, ev: bufEvents, ready: ready,
	}
	buf, err := opener.open(ctx)
	if errors.Is(err, errStopped) {
		log.Info("sluice stopped before it could open its buffer")
		return nil
	}
	if err != nil {
		return err
	}
	bufRef.Store(buf)
	defer buf.Close()
	// The records the buffer holds tell how far each file got, which is
	// further than the checkpoint after a kill -9.
	tailer.Recover(recovered(buf.Resume()))

	// Everything below stops by the shutdown deadline at the latest.
	stopCtx, stopAll := context.WithCancel(context.Background())
	defer stopAll()
	pods, err := startPodCache(cfg.Kubernetes, keys, log, m, ready)
	if err != nil {
		return err
	}
	defer pods.stop()
	if wait := min(firstSyncWait, cfg.Kubernetes.WaitForPod); !pods.awaitFirstSync(ctx, wait) && ctx.Err() == nil {
		log.Warn("kubernetes: pod cache not synced yet; reading files, their lines wait for their pod as new files' do", "waited", wait)
	}
	enriched := make(chan *record.Batch)
	stage := enrich.NewStage(stageConfig(cfg.Kubernetes, pods.source, keys, log, m))
	go stage.Run(stopCtx, tailer.Out(), enriched)
	pcfg, err := parseConfig(cfg.Inputs.Files, pods.source, log, m)
	if err != nil {
		return err
	}
	if shaper := parse.NewStage(pcfg); shaper.Active() {
		parsed := make(chan *record.Batch)
		go shaper.Run(stopCtx, enriched, parsed)
		enriched = parsed
	}
	appended := make(chan struct{})
	go func() { defer close(appended); appendAll(stopCtx, buf, enriched, log) }()
	var sinkWG sync.WaitGroup
	for _, s := range sinks {
		r, err := buf.Reader(s.name)
		if err != nil {
			return err
		}
		sinkWG.Add(1)
		go func() {
			defer sinkWG.Done()
			defer r.Close()
			if err := s.run(stopCtx, bufferSource{r}); err != nil && !errors.Is(err, buffer.ErrClosed) {
				log.Error("output stopped", "sink", s.name, "err", err)
			}
		}()
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

// appendAll moves the enriched batches into the buffer. A batch is
// acknowledged to its input only when the buffer made it durable; a failed
// append (a full or broken disk) is retried, which holds the inputs back.
func appendAll(ctx context.Context, buf *buffer.Buffer, in <-chan *record.Batch, log *slog.Logger) {
	for b := range in {
		wait := 100 * time.Millisecond
		for {
			err := buf.Append(ctx, b.Records, b.Done)
			if err == nil {
				// The buffer holds a copy; the batch waits for the fsync only
				// to be acknowledged, and its bodies (the tailer's read
				// slabs) go back to the tailer now, not after that wait.
				b.Release()
				b.Records = nil
				break
			}
			if ctx.Err() != nil {
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
	return ctxsleep.Sleep(ctx, d+rand.N(d/2+1))
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
		IdleTimeout: f.IdleTimeout, RotateWait: f.RotateWait, ReleaseDeleted: f.ReleaseDeleted, CheckpointEvery: f.CheckpointEvery,
		CheckpointPath: filepath.Join(cfg.DataDir, "checkpoints", "files.json"),
		BatchSize:      f.BatchSize, Logger: log.With("input", "files"), Events: m,
	}
}

// nodeName is the node sluice runs on: the configured name, else NODE_NAME.
func nodeName(k config.Kubernetes) string {
	if k.NodeName != "" {
		return k.NodeName
	}
	return os.Getenv("NODE_NAME")
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
