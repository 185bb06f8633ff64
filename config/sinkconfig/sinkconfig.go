// Package sinkconfig maps the configuration of a sink (package config) onto
// the settings its output package takes. The daemon and the Fluent Bit
// plugin both use it, so a key means the same in the YAML file and in a
// Fluent Bit [OUTPUT] section.
package sinkconfig

import (
	"log/slog"
	"maps"

	"github.com/sluicelog/sluice/config"
	"github.com/sluicelog/sluice/outputs/elasticsearch"
	"github.com/sluicelog/sluice/outputs/loki"
)

// Loki gives the Loki sink's settings for c; log is the sink's logger.
func Loki(c *config.Loki, log *slog.Logger) loki.Config {
	lc := loki.Config{
		URL: c.URL, Encoding: c.Encoding, TenantID: c.TenantID,
		Labels: append([]string{}, c.Labels...), StaticLabels: c.StaticLabels, Headers: c.Headers,
		BearerTokenFile: c.BearerTokenFile, Timeout: c.Timeout, Logger: log,
		StructuredMetadataFallback: c.StructuredMetadataFallback,
		TLS:                        TLS(c.TLS),
	}
	if a := c.BasicAuth; a != nil {
		lc.Username, lc.Password, lc.PasswordFile = a.Username, a.Password, a.PasswordFile
	}
	return lc
}

// Elasticsearch gives the Elasticsearch sink's settings for c; log is the
// sink's logger.
func Elasticsearch(c *config.Elasticsearch, log *slog.Logger) elasticsearch.Config {
	ec := elasticsearch.Config{
		URL: c.URL, CloudID: c.CloudID, Index: c.Index,
		ID: c.ID, Pipeline: c.Pipeline, Compression: c.Compression, Fields: maps.Clone(c.Fields),
		ClusterName: c.ClusterName, Headers: c.Headers,
		Auth:    elasticsearch.AuthConfig{APIKey: c.APIKey, APIKeyFile: c.APIKeyFile, BearerTokenFile: c.BearerTokenFile},
		Timeout: c.Timeout, Logger: log,
		TLS: TLS(c.TLS),
	}
	// An index replaces data streams: the data_stream keys (defaults
	// included) apply only without one.
	if c.Index == "" {
		ec.DataStreamType, ec.DataStreamDataset, ec.DataStreamNamespace = c.DataStream.Type, c.DataStream.Dataset, c.DataStream.Namespace
	}
	if a := c.BasicAuth; a != nil {
		ec.Auth.Username, ec.Auth.Password, ec.Auth.PasswordFile = a.Username, a.Password, a.PasswordFile
	}
	return ec
}

// TLS maps the tls keys onto the TLS settings every HTTP sink takes
// (loki.TLSConfig and elasticsearch.TLSConfig are one type).
func TLS(t config.TLS) loki.TLSConfig {
	return loki.TLSConfig{
		CAFile: t.CAFile, CertFile: t.CertFile, KeyFile: t.KeyFile,
		ServerName: t.ServerName, InsecureSkipVerify: t.InsecureSkipVerify,
	}
}
