//go:build unix

package main

import (
	"io"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/sluicelog/sluice/config"
	"github.com/sluicelog/sluice/internal/testdir"
	"github.com/sluicelog/sluice/metrics"
)

// TestStdoutFileIsPrivate: the stdout output's file holds every record, so
// sluice creates it 0600, whatever the umask lets through.
func TestStdoutFileIsPrivate(t *testing.T) {
	testdir.Umask(t, 0)
	path := filepath.Join(testdir.New(t), "out.jsonl")
	ns, err := openStdout(&config.Stdout{Path: path}, io.Discard, metrics.New(), metrics.NewReadiness("outputs"), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range ns.closers {
		c()
	}
	if got := testdir.Perm(t, path); got != 0o600 {
		t.Fatalf("mode %v, want -rw-------", got)
	}
}
