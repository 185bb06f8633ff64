package main

import (
	"fmt"
	"log/slog"
	"maps"

	"github.com/sluicelog/sluice/config"
	"github.com/sluicelog/sluice/metrics"
	"github.com/sluicelog/sluice/outputs/elasticsearch"
)

func openElasticsearch(c *config.Elasticsearch, m *metrics.Registry, ready *metrics.Readiness, log *slog.Logger) (namedSink, error) {
	ec := elasticsearch.Config{
		URL: c.URL, CloudID: c.CloudID, Index: c.Index,
		ID: c.ID, Pipeline: c.Pipeline, Compression: c.Compression, Fields: maps.Clone(c.Fields),
		ClusterName: c.ClusterName, Headers: c.Headers,
		Auth:    elasticsearch.AuthConfig{APIKey: c.APIKey, APIKeyFile: c.APIKeyFile, BearerTokenFile: c.BearerTokenFile},
		Timeout: c.Timeout, Logger: log.With("sink", "elasticsearch"),
		TLS: sinkTLS(c.TLS),
	}
	// An index replaces data streams: the data_stream keys (defaults
	// included) apply only without one.
	if c.Index == "" {
		ec.DataStreamType, ec.DataStreamDataset, ec.DataStreamNamespace = c.DataStream.Type, c.DataStream.Dataset, c.DataStream.Namespace
	}
	if a := c.BasicAuth; a != nil {
		ec.Auth.Username, ec.Auth.Password, ec.Auth.PasswordFile = a.Username, a.Password, a.PasswordFile
	}
	sink, err := elasticsearch.New(ec)
	if err != nil {
		return namedSink{}, fmt.Errorf("output elasticsearch: %w", err)
	}
	ns, err := runnerFor("elasticsearch", sink, c.Delivery, m, ready, log)
	ns.closers = append(ns.closers, sink.Close)
	return ns, err
}
