package main

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/sluicelog/sluice/config"
)

func TestFitDelivery(t *testing.T) {
	const MiB = 1 << 20
	for _, c := range []struct {
		name         string
		budget, size int64
		inFlight     int
		wantSize     int64
		wantInFlight int
	}{
		{"fits", 8 * MiB, 1 * MiB, 1, 1 * MiB, 1},
		{"batch halved first", 4 * MiB, 1 * MiB, 1, 512 << 10, 1},
		{"then requests in flight", 4 * MiB, 4 * MiB, 8, 256 << 10, 3},
		{"then the batch again", 1 * MiB, 1 * MiB, 4, 128 << 10, 1},
		{"never below the floor", 1 << 10, 1 * MiB, 4, 64 << 10, 1},
		{"a small batch stays", 1 << 10, 32 << 10, 1, 32 << 10, 1},
	} {
		size, n := fitDelivery(c.budget, c.size, c.inFlight)
		if size != c.wantSize || n != c.wantInFlight {
			t.Errorf("%s: fitDelivery(%d, %d, %d) = %d, %d; want %d, %d", c.name, c.budget, c.size, c.inFlight, size, n, c.wantSize, c.wantInFlight)
		}
	}
}

// A 64 MiB limit lowers a Loki sink set for 4 MiB batches with 8 in flight,
// logs it, and leaves the caller's configuration as written; no limit
// changes nothing.
func TestFitOutputs(t *testing.T) {
	loki := &config.Loki{URL: "http://loki/push"}
	loki.Delivery = config.DefaultDelivery()
	loki.BatchSize, loki.MaxInFlight = 4<<20, 8
	cfg := config.Config{Outputs: config.Outputs{Loki: loki}}
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))

	fitOutputs(0, &cfg.Outputs, log)
	if cfg.Outputs.Loki.BatchSize != 4<<20 || cfg.Outputs.Loki.MaxInFlight != 8 || logs.Len() != 0 {
		t.Fatalf("no limit: batch %d, in flight %d, log %q", cfg.Outputs.Loki.BatchSize, cfg.Outputs.Loki.MaxInFlight, logs.String())
	}
	o := cfg.Outputs
	fitOutputs(64<<20, &o, log)
	got := o.Loki
	if cost := int64(got.MaxInFlight+1) * int64(got.BatchSize) * requestCost; cost > 16<<20 {
		t.Errorf("64 MiB limit: batch %d × (%d + 1) costs %d, more than a quarter of the limit", got.BatchSize, got.MaxInFlight, cost)
	}
	if got.BatchSize != 256<<10 || got.MaxInFlight != 8 {
		t.Errorf("64 MiB limit: batch %d, in flight %d; want 262144, 8 (the batch is lowered first)", got.BatchSize, got.MaxInFlight)
	}
	if loki.BatchSize != 4<<20 || loki.MaxInFlight != 8 {
		t.Errorf("the caller's sink changed to batch %d, in flight %d", loki.BatchSize, loki.MaxInFlight)
	}
	if !strings.Contains(logs.String(), "output batches lowered to fit") || !strings.Contains(logs.String(), "sink=loki") {
		t.Errorf("log: %q", logs.String())
	}
}

// A 256 MiB limit lowers the default 64 MiB of held lines to 32 MiB; no
// limit changes nothing.
func TestFitToMemory(t *testing.T) {
	cfg := config.Default()
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	fitToMemory(0, &cfg, log)
	if cfg.Kubernetes.MaxHeldBytes != 64<<20 {
		t.Fatalf("no limit: max_held_bytes %d", cfg.Kubernetes.MaxHeldBytes)
	}
	fitToMemory(256<<20, &cfg, log)
	if cfg.Kubernetes.MaxHeldBytes != 32<<20 {
		t.Errorf("256 MiB limit: max_held_bytes %d, want %d", cfg.Kubernetes.MaxHeldBytes, 32<<20)
	}
	if !strings.Contains(logs.String(), "max_held_bytes lowered") {
		t.Errorf("log: %q", logs.String())
	}
}
