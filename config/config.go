// Package config loads sluice's YAML configuration.
//
// Decoding is strict: an unknown key or a value of the wrong type is an error
// that names the key and its line, so a typo never silently falls back to a
// default on a production node. `${NAME}` in a value is replaced by the
// environment variable NAME after parsing; an unset variable is an error.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"go.yaml.in/yaml/v3"
)

// Config is the whole configuration file.
type Config struct {
	DataDir         string        `yaml:"data_dir"`
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
	// MemoryLimit is the Go runtime's soft memory limit; 0 takes 90 % of
	// the cgroup's or job object's limit when there is one.
	MemoryLimit ByteSize   `yaml:"memory_limit"`
	Log         Log        `yaml:"log"`
	Metrics     Metrics    `yaml:"metrics"`
	Inputs      Inputs     `yaml:"inputs"`
	Kubernetes  Kubernetes `yaml:"kubernetes"`
	Buffer      Buffer     `yaml:"buffer"`
	Outputs     Outputs    `yaml:"outputs"`
}

// Buffer configures the disk-backed buffer between inputs and outputs.
type Buffer struct {
	Path          string        `yaml:"path"` // default <data_dir>/buffer
	SegmentSize   ByteSize      `yaml:"segment_size"`
	MaxSize       ByteSize      `yaml:"max_size"`
	Fsync         string        `yaml:"fsync"` // interval or always
	FsyncInterval time.Duration `yaml:"fsync_interval"`
	OnFull        string        `yaml:"on_full"` // block or drop_oldest
}

// Log configures sluice's own logs.
type Log struct {
	Level  string `yaml:"level"`  // debug, info, warn, error
	Format string `yaml:"format"` // json or text
}

// Metrics configures the HTTP listener for /metrics, /healthz and /readyz.
type Metrics struct {
	Address string `yaml:"address"` // empty disables the listener
}

// Inputs lists the configured inputs.
type Inputs struct {
	Files Files `yaml:"files"`
}

// Files configures the file tailer.
type Files struct {
	Include          []string      `yaml:"include"`
	Exclude          []string      `yaml:"exclude"`
	ReadFrom         string        `yaml:"read_from"` // head or tail, for files first seen at start
	Format           string        `yaml:"format"`    // auto, cri, docker or raw
	MaxLineSize      ByteSize      `yaml:"max_line_size"`
	PollInterval     time.Duration `yaml:"poll_interval"`
	DiscoverInterval time.Duration `yaml:"discover_interval"`
	MaxOpenFiles     int           `yaml:"max_open_files"`
	IdleTimeout      time.Duration `yaml:"idle_timeout"`
	RotateWait       time.Duration `yaml:"rotate_wait"`
	ReleaseDeleted   time.Duration `yaml:"release_deleted_after"` // 0 keeps a deleted unread file until read
	CheckpointEvery  time.Duration `yaml:"checkpoint_interval"`
	BatchSize        int           `yaml:"batch_size"`
	Parsers          []Parser      `yaml:"parsers"` // per path pattern: multiline joining and parsing
	// DetectLogMonitor parses lines that start as LogMonitor's JSON does
	// ({"Source":) in files no parser or annotation gives a format.
	DetectLogMonitor bool `yaml:"detect_logmonitor"`
	JSON             JSON `yaml:"json"`
}

// JSON says how parse: json and LogMonitor's lines become attributes.
type JSON struct {
	Prefix    string `yaml:"prefix"`     // before the names of a JSON line's other fields; "" for none
	MaxDepth  int    `yaml:"max_depth"`  // nested objects deeper than this stay JSON text
	MaxFields int    `yaml:"max_fields"` // fields past this are kept together as one JSON text
	Time      bool   `yaml:"time"`       // a time/timestamp/ts field becomes the record's time
}

// Default returns the configuration used for keys the file leaves out.
func Default() Config {
	return Config{
		DataDir:         defaultDataDir,
		ShutdownTimeout: 20 * time.Second,
		Log:             Log{Level: "info", Format: "json"},
		Kubernetes:      defaultKubernetes(),
		Metrics:         Metrics{Address: "127.0.0.1:2020"},
		Buffer: Buffer{
			SegmentSize: 16 << 20, MaxSize: 256 << 20,
			Fsync: "interval", FsyncInterval: time.Second, OnFull: "block",
		},
		Inputs: Inputs{Files: Files{
			Include:          []string{defaultInclude},
			ReadFrom:         "head",
			Format:           "auto",
			MaxLineSize:      1 << 20,
			PollInterval:     250 * time.Millisecond,
			DiscoverInterval: time.Second,
			MaxOpenFiles:     1024,
			IdleTimeout:      5 * time.Minute,
			RotateWait:       time.Second,
			ReleaseDeleted:   defaultReleaseDeleted,
			CheckpointEvery:  time.Second,
			BatchSize:        1024,
			DetectLogMonitor: true,
			JSON:             JSON{Prefix: "json.", MaxDepth: 3, MaxFields: 64},
		}},
	}
}

// Load reads, expands and strictly decodes the file at path over the defaults.
func Load(path string) (Config, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("read config: %w", err)
	}
	cfg, err := Parse(raw)
	if err != nil {
		return Config{}, fmt.Errorf("config %s: %w", path, err)
	}
	return cfg, nil
}

// Parse decodes YAML text over the defaults and validates the result.
// `${NAME}` references are replaced in the parsed values (see expandTree),
// never in the text, so what the environment holds is never read as YAML.
func Parse(raw []byte) (Config, error) {
	cfg := Default()
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	// An empty file decodes as io.EOF and means "all defaults".
	if err := dec.Decode(&expandingDecode{cfg: &cfg}); err != nil && !errors.Is(err, io.EOF) {
		if u, ok := asUnset(err); ok {
			return Config{}, u
		}
		return Config{}, fmt.Errorf("decode: %w", nameKeys(err, raw))
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}
