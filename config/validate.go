package config

import (
	"errors"
	"fmt"
)

// Validate reports every invalid value, each named by its YAML key.
func (c *Config) Validate() error {
	var errs []error
	bad := func(key string, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	f := c.Inputs.Files
	if len(f.Include) == 0 {
		bad("inputs.files.include", "at least one pattern is needed")
	}
	if f.ReadFrom != "head" && f.ReadFrom != "tail" {
		bad("inputs.files.read_from", "%q is not head or tail", f.ReadFrom)
	}
	switch f.Format {
	case "auto", "cri", "docker", "raw":
	default:
		bad("inputs.files.format", "%q is not auto, cri, docker or raw", f.Format)
	}
	if f.MaxLineSize < 1024 {
		bad("inputs.files.max_line_size", "%d is below the minimum of 1KiB", f.MaxLineSize)
	}
	positive := map[string]int64{
		"inputs.files.poll_interval":       int64(f.PollInterval),
		"inputs.files.discover_interval":   int64(f.DiscoverInterval),
		"inputs.files.max_open_files":      int64(f.MaxOpenFiles),
		"inputs.files.idle_timeout":        int64(f.IdleTimeout),
		"inputs.files.rotate_wait":         int64(f.RotateWait),
		"inputs.files.checkpoint_interval": int64(f.CheckpointEvery),
		"inputs.files.batch_size":          int64(f.BatchSize),
		"shutdown_timeout":                 int64(c.ShutdownTimeout),
	}
	f.validateParsers(bad)
	if c.MemoryLimit != 0 && c.MemoryLimit < minMemoryLimit {
		bad("memory_limit", "%d is below the minimum of 32MiB", c.MemoryLimit)
	}
	if f.ReleaseDeleted < 0 {
		bad("inputs.files.release_deleted_after", "must not be negative")
	}
	for _, key := range sortedKeys(positive) {
		if positive[key] <= 0 {
			bad(key, "must be positive")
		}
	}
	b := c.Buffer
	if b.Fsync != "interval" && b.Fsync != "always" {
		bad("buffer.fsync", "%q is not interval or always", b.Fsync)
	}
	if b.OnFull != "block" && b.OnFull != "drop_oldest" {
		bad("buffer.on_full", "%q is not block or drop_oldest", b.OnFull)
	}
	if b.SegmentSize < 64<<10 {
		bad("buffer.segment_size", "%d is below the minimum of 64KiB", b.SegmentSize)
	}
	if b.MaxSize < 2*b.SegmentSize {
		bad("buffer.max_size", "%d must hold at least two segments of %d", b.MaxSize, b.SegmentSize)
	}
	if b.FsyncInterval <= 0 {
		bad("buffer.fsync_interval", "must be positive")
	}
	if c.DataDir == "" {
		bad("data_dir", "must be set")
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		bad("log.level", "%q is not debug, info, warn or error", c.Log.Level)
	}
	if c.Log.Format != "json" && c.Log.Format != "text" {
		bad("log.format", "%q is not json or text", c.Log.Format)
	}
	c.Outputs.validate(bad)
	c.Kubernetes.validate(bad)
	return errors.Join(errs...)
}

// minMemoryLimit keeps a mistyped memory_limit from making the garbage
// collector run without pause: sluice's heap alone is several MiB.
const minMemoryLimit = 32 << 20
