package main

import (
	"fmt"
	"log/slog"

	"github.com/sluicelog/sluice/config"
	"github.com/sluicelog/sluice/config/sinkconfig"
	"github.com/sluicelog/sluice/metrics"
	"github.com/sluicelog/sluice/outputs/loki"
)

func openLoki(c *config.Loki, m *metrics.Registry, ready *metrics.Readiness, log *slog.Logger) (namedSink, error) {
	sink, err := loki.New(sinkconfig.Loki(c, log.With("sink", "loki")))
	if err != nil {
		return namedSink{}, fmt.Errorf("output loki: %w", err)
	}
	ns, err := runnerFor("loki", sink, c.Delivery, m, ready, log)
	ns.closers = append(ns.closers, sink.Close)
	return ns, err
}
