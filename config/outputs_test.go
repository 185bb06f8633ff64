package config

import (
	"slices"
	"strings"
	"testing"
)

// The keys of issue 10's sink behaviour: which statuses hold, and where
// Loki's structured metadata goes when the server refuses it.
func TestSinkSafetyKeys(t *testing.T) {
	const url = "outputs:\n  loki:\n    url: http://127.0.0.1:3100/loki/api/v1/push\n"
	for _, tc := range []struct {
		name    string
		yaml    string
		wantErr string
		hold    []string
		inLine  string
	}{
		{name: "defaults", yaml: url, hold: []string{"3xx", "401", "403", "404"}, inLine: "line"},
		{name: "set", yaml: url + "    hold_statuses: [401, 4xx, '308']\n    structured_metadata_fallback: drop\n",
			hold: []string{"401", "4xx", "308"}, inLine: "drop"},
		{name: "hold nothing", yaml: url + "    hold_statuses: []\n", hold: []string{}, inLine: "line"},
		{name: "5xx cannot hold", yaml: url + "    hold_statuses: [503]\n", wantErr: "outputs.loki.hold_statuses"},
		{name: "stdout too", yaml: "outputs:\n  stdout:\n    hold_statuses: [abc]\n", wantErr: "outputs.stdout.hold_statuses"},
		{name: "bad fallback", yaml: url + "    structured_metadata_fallback: keep\n", wantErr: "outputs.loki.structured_metadata_fallback"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse([]byte(tc.yaml))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one naming %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			l := c.Outputs.Loki
			if !slices.Equal(l.HoldStatuses, tc.hold) || (l.HoldStatuses == nil) != (tc.hold == nil) || l.StructuredMetadataFallback != tc.inLine {
				t.Fatalf("hold_statuses %q, structured_metadata_fallback %q", l.HoldStatuses, l.StructuredMetadataFallback)
			}
		})
	}
}

// A sink validated on its own names each bad value by its key within the
// sink, the way the Fluent Bit plugin's keys are named.
func TestSinkValidate(t *testing.T) {
	l := DefaultLoki()
	if err := l.Validate(); err == nil || !strings.HasPrefix(err.Error(), "url: ") {
		t.Errorf("loki without url: %v, want an error starting with url:", err)
	}
	l.URL, l.DeadLetter.Path, l.DeadLetter.MaxSize = "http://127.0.0.1:1/push", "/tmp/x", 10
	if err := l.Validate(); err == nil || err.Error() != "dead_letter.max_size: 10 is below the minimum of 1KiB" {
		t.Errorf("loki with a tiny dead letter: %v", err)
	}
	e := DefaultElasticsearch()
	e.URL, e.Compression = "http://127.0.0.1:1", "zstd"
	if err := e.Validate(); err == nil || err.Error() != `compression: "zstd" is not gzip or none` {
		t.Errorf("elasticsearch with zstd: %v", err)
	}
	e.Compression = "gzip"
	if err := e.Validate(); err != nil {
		t.Errorf("valid elasticsearch: %v", err)
	}
}
