package main

import (
	"fmt"
	"log/slog"

	"github.com/sluicelog/sluice/config"
	"github.com/sluicelog/sluice/config/sinkconfig"
	"github.com/sluicelog/sluice/metrics"
	"github.com/sluicelog/sluice/outputs/elasticsearch"
)

func openElasticsearch(c *config.Elasticsearch, m *metrics.Registry, ready *metrics.Readiness, log *slog.Logger) (namedSink, error) {
	sink, err := elasticsearch.New(sinkconfig.Elasticsearch(c, log.With("sink", "elasticsearch")))
	if err != nil {
		return namedSink{}, fmt.Errorf("output elasticsearch: %w", err)
	}
	ns, err := runnerFor("elasticsearch", sink, c.Delivery, m, ready, log)
	ns.closers = append(ns.closers, sink.Close)
	return ns, err
}
