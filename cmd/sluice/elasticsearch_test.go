package main

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/sluicelog/sluice/config"
	"github.com/sluicelog/sluice/internal/testdir"
	"github.com/sluicelog/sluice/metrics"
)

// Every way the YAML can name an Elasticsearch target opens a sink: data
// streams by default, an index (the default data_stream keys then step
// aside, as the sink takes one or the other) and each kind of credentials.
func TestOpenElasticsearch(t *testing.T) {
	key := filepath.Join(testdir.New(t), "api-key")
	if err := os.WriteFile(key, []byte("aWQ6a2V5\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, yaml string }{
		{"data streams", "url: http://127.0.0.1:9200"},
		{"dated index", "url: http://127.0.0.1:9200\n    index: 'k8s-%{namespace}-%Y.%m.%d'"},
		{"api key file", "url: http://127.0.0.1:9200\n    api_key_file: " + key},
		{"basic auth", "url: http://127.0.0.1:9200\n    basic_auth: {username: u, password: p}\n    compression: gzip\n    id: none"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := config.Parse([]byte("outputs:\n  elasticsearch:\n    " + tc.yaml + "\n"))
			if err != nil {
				t.Fatal(err)
			}
			sinks, err := openSinks(c.Outputs, io.Discard, metrics.New(), metrics.NewReadiness(), slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			defer closeSinks(sinks)
			if len(sinks) != 1 || sinks[0].name != "elasticsearch" {
				t.Fatalf("sinks = %+v", sinks)
			}
		})
	}
}
