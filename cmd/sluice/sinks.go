package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/sluicelog/sluice/buffer"
	"github.com/sluicelog/sluice/config"
	"github.com/sluicelog/sluice/metrics"
	"github.com/sluicelog/sluice/outputs"
	"github.com/sluicelog/sluice/outputs/stdout"
	"github.com/sluicelog/sluice/record"
)

// namedSink is a configured output, ready to run against a source.
type namedSink struct {
	name    string
	run     func(ctx context.Context, src outputs.Source) error
	closers []func()
}

// openSinks builds every configured output; on error, what was opened is
// closed again.
func openSinks(c config.Outputs, stdoutW io.Writer, m *metrics.Registry, ready *metrics.Readiness, log *slog.Logger) (sinks []namedSink, err error) {
	defer func() {
		if err != nil {
			closeSinks(sinks)
		}
	}()
	if c.Stdout != nil {
		s, err := openStdout(c.Stdout, stdoutW, m, ready, log)
		if err != nil {
			return sinks, err
		}
		sinks = append(sinks, s)
	}
	if c.Loki != nil {
		s, err := openLoki(c.Loki, m, ready, log)
		if err != nil {
			return sinks, err
		}
		sinks = append(sinks, s)
	}
	if c.Elasticsearch != nil {
		s, err := openElasticsearch(c.Elasticsearch, m, ready, log)
		if err != nil {
			return sinks, err
		}
		sinks = append(sinks, s)
	}
	return sinks, nil
}

func closeSinks(sinks []namedSink) {
	for _, s := range sinks {
		for _, c := range s.closers {
			c()
		}
	}
}

// runnerFor wires one sink to the delivery settings, metrics, readiness
// notes and dead-letter file it was configured with.
func runnerFor[R outputs.Request](name string, sink outputs.Sink[R], d config.Delivery, m *metrics.Registry, ready *metrics.Readiness, log *slog.Logger) (namedSink, error) {
	ns := namedSink{name: name}
	hold, err := outputs.ParseStatusSet(d.HoldStatuses)
	if err != nil {
		return ns, fmt.Errorf("output %s: hold_statuses: %w", name, err)
	}
	var dead *outputs.DeadLetter
	if d.DeadLetter.Path != "" {
		if dead, err = outputs.OpenDeadLetter(d.DeadLetter.Path, int64(d.DeadLetter.MaxSize)); err != nil {
			return ns, fmt.Errorf("output %s: %w", name, err)
		}
		dead.ReplaceFailed = m.ReplaceFailed
		ns.closers = append(ns.closers, func() { dead.Close() })
	}
	rc := outputs.RunnerConfig{
		Name: name, Events: m.Output(name, ready), DeadLetter: dead, Logger: log.With("sink", name),
		Delivery: outputs.Delivery{
			BatchBytes: int(d.BatchSize), BatchRecords: d.BatchMaxRecords, BatchWait: d.BatchWait,
			MaxInFlight: d.MaxInFlight, MinBackoff: d.MinBackoff, MaxBackoff: d.MaxBackoff,
			HoldStatuses: hold,
		},
	}
	ns.run = func(ctx context.Context, src outputs.Source) error {
		return outputs.NewRunner(sink, src, rc).Run(ctx)
	}
	return ns, nil
}

func openStdout(c *config.Stdout, w io.Writer, m *metrics.Registry, ready *metrics.Readiness, log *slog.Logger) (namedSink, error) {
	var closers []func()
	if c.Path != "" {
		f, err := os.OpenFile(c.Path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
		if err != nil {
			return namedSink{}, fmt.Errorf("open stdout output file: %w", err)
		}
		w, closers = f, append(closers, func() { f.Close() })
	}
	ns, err := runnerFor("stdout", stdout.New(w), c.Delivery, m, ready, log)
	ns.closers = append(ns.closers, closers...)
	return ns, err
}

// bufferSource reads one sink's records from the disk buffer.
type bufferSource struct{ r *buffer.Reader }

// Trim implements outputs.Trimmer.
func (s bufferSource) Trim() { s.r.Trim() }

// Read implements outputs.Source.
func (s bufferSource) Read(ctx context.Context, maxRecords, maxBytes int, linger time.Duration) ([]record.Record, func(), error) {
	if err := s.r.Fill(ctx, int64(maxBytes), linger); err != nil {
		return nil, nil, err
	}
	recs, pos, err := s.r.Read(ctx, maxRecords, maxBytes)
	if err != nil {
		return nil, nil, err
	}
	return recs, func() { s.r.Commit(pos) }, nil
}
