package main

import (
	"fmt"
	"log/slog"

	"github.com/sluicelog/sluice/config"
	"github.com/sluicelog/sluice/metrics"
	"github.com/sluicelog/sluice/outputs/loki"
)

func openLoki(c *config.Loki, m *metrics.Registry, ready *metrics.Readiness, log *slog.Logger) (namedSink, error) {
	lc := loki.Config{
		URL: c.URL, Encoding: c.Encoding, TenantID: c.TenantID,
		Labels: append([]string{}, c.Labels...), StaticLabels: c.StaticLabels, Headers: c.Headers,
		BearerTokenFile: c.BearerTokenFile, Timeout: c.Timeout, Logger: log.With("sink", "loki"),
		StructuredMetadataFallback: c.StructuredMetadataFallback,
		TLS:                        sinkTLS(c.TLS),
	}
	if a := c.BasicAuth; a != nil {
		lc.Username, lc.Password, lc.PasswordFile = a.Username, a.Password, a.PasswordFile
	}
	sink, err := loki.New(lc)
	if err != nil {
		return namedSink{}, fmt.Errorf("output loki: %w", err)
	}
	ns, err := runnerFor("loki", sink, c.Delivery, m, ready, log)
	ns.closers = append(ns.closers, sink.Close)
	return ns, err
}

// sinkTLS maps the tls keys onto the TLS settings every HTTP sink takes
// (loki.TLSConfig and elasticsearch.TLSConfig are one type).
func sinkTLS(t config.TLS) loki.TLSConfig {
	return loki.TLSConfig{
		CAFile: t.CAFile, CertFile: t.CertFile, KeyFile: t.KeyFile,
		ServerName: t.ServerName, InsecureSkipVerify: t.InsecureSkipVerify,
	}
}
