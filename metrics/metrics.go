// Package metrics exposes sluice's counters as Prometheus metrics and serves
// /metrics, /healthz and /readyz. It implements the small event interfaces of
// the pipeline's stages, so those stages pick no metrics library.
//
// It writes the Prometheus text format 0.0.4 itself, with the standard
// library only. DESIGN.md allows client_golang, but with it the daemon
// linked client_golang, client_model, expfmt, procfs and the protobuf
// runtime: 2.1 MB of the 16.8 MB stripped binary, all of it resident on
// every node (the whole binary is), for a few dozen counters. The Go
// runtime's and the process's metrics are read at scrape time from
// runtime/metrics and the operating system. Tests still parse what
// /metrics serves with client_golang's expfmt.
//
// Known limitations: /metrics serves the text format only, uncompressed
// (a few dozen kilobytes); of client_golang's Go and process collectors it
// keeps the families operators watch, not go_memstats_* in full, nor
// process_max_fds or the network counters.
package metrics

import (
	"io"
	"sync"
	"time"
)

// Registry holds every sluice metric.
type Registry struct {
	reg registry

	lines, bytes      *counter
	openFiles         *gauge
	opened, rotations *counter
	truncations       *counter
	anomalies         *counterVec
	out               *outputMetrics
	enrichMisses      *counterVec
	kubeErrors        *counterVec
	kubePods          *gauge
	kubeSynced        *gauge
	replaceFailures   *counterVec
	joinedRecords     *counter
	joinedLines       *counter
	joinCuts          *counterVec
	parsed            *counterVec

	mu             sync.Mutex
	lastCheckpoint time.Time
}

// New creates the metrics, with the Go runtime's and the process's.
func New() *Registry {
	m := &Registry{}
	c := func(name, help string) *counter {
		v := newCounterVec(name, help)
		m.reg.register(v)
		return v.with()
	}
	g := func(name, help string) *gauge {
		v := newGaugeVec(name, help)
		m.reg.register(v)
		return v.with()
	}
	vec := func(name, help string, labels ...string) *counterVec {
		v := newCounterVec(name, help, labels...)
		m.reg.register(v)
		return v
	}
	m.lines = c("sluice_input_lines_total", "Records emitted by the file input.")
	m.bytes = c("sluice_input_bytes_total", "Bytes of file content consumed by the file input.")
	m.openFiles = g("sluice_input_files_open", "File handles held open.")
	m.opened = c("sluice_input_files_opened_total", "File handles opened.")
	m.rotations = c("sluice_input_rotations_total", "Files drained and closed after rename, removal or copytruncate.")
	m.truncations = c("sluice_input_truncations_total", "Files that shrank below the read offset.")
	m.anomalies = vec("sluice_input_anomalies_total",
		"Input that was not a clean line, by reason (kept as raw, cut, or dropped).", "reason")
	m.reg.register(newGaugeFunc("sluice_input_checkpoint_age_seconds",
		"Seconds since the file checkpoint was last saved; -1 before the first save.", m.checkpointAge),
		runtimeCollector{}, processCollector{})
	m.out = newOutputMetrics(&m.reg)
	m.enrichMisses = vec("sluice_enrich_misses_total", "Sources whose records went out without pod metadata, by reason.", "reason")
	m.kubeErrors = vec("sluice_kubernetes_watch_errors_total",
		"Failed lists and watches of the API server, by reason (forbidden, unauthorized, unreachable, other).", "reason")
	m.kubePods = g("sluice_kubernetes_pods_cached", "Pods of this node in the metadata cache, deleted ones in their grace period included.")
	m.kubeSynced = g("sluice_kubernetes_synced", "1 once the pod cache completed its first list.")
	m.replaceFailures = vec("sluice_file_replace_failures_total",
		"State files that could not be replaced (temporary file, then a rename over the old one; on Windows retried for about a second while another process holds the file), by file: checkpoint, cursor (a buffer cursor written in place, that could not be written or fsynced), dead_letter (its rotation).", "file")
	m.joinedRecords = c("sluice_multiline_records_total", "Records made of more than one line by multiline joining.")
	m.joinedLines = c("sluice_multiline_lines_total", "Lines that went into those records.")
	m.joinCuts = vec("sluice_multiline_cuts_total",
		"Events cut by a limit rather than ended by their rule, by limit (max_lines, max_bytes).", "reason")
	m.parsed = vec("sluice_parse_records_total",
		"Records structured parsing looked at, by format (json, logmonitor, auto) and outcome (parsed, capped: fields past max_fields kept as one, not_this_format: kept as text, invalid: kept as text).", "format", "outcome")
	return m
}

// WriteText writes every metric in the Prometheus text format 0.0.4, as
// /metrics serves it.
func (m *Registry) WriteText(w io.Writer) error { return m.reg.write(w) }

// Read implements file.Events.
func (m *Registry) Read(lines, bytes int) {
	m.lines.Add(int64(lines))
	m.bytes.Add(int64(bytes))
}

// Opened implements file.Events.
func (m *Registry) Opened() { m.openFiles.Add(1); m.opened.Inc() }

// Closed implements file.Events.
func (m *Registry) Closed() { m.openFiles.Add(-1) }

// Rotated implements file.Events.
func (m *Registry) Rotated() { m.rotations.Inc() }

// Truncated implements file.Events.
func (m *Registry) Truncated() { m.truncations.Inc() }

// Anomaly implements file.Events.
func (m *Registry) Anomaly(reason string, n int) { m.anomalies.with(reason).Add(int64(n)) }

// CheckpointSaved implements file.Events.
func (m *Registry) CheckpointSaved(at time.Time) {
	m.mu.Lock()
	m.lastCheckpoint = at
	m.mu.Unlock()
}

// CheckpointFailed implements file.Events.
func (m *Registry) CheckpointFailed() { m.ReplaceFailed("checkpoint") }

// ReplaceFailed counts a state file that could not be replaced; file is a
// label value: checkpoint, cursor or dead_letter. The dead-letter file
// reports its failed rotations through it.
func (m *Registry) ReplaceFailed(file string) { m.replaceFailures.with(file).Inc() }

// Miss implements enrich.Events.
func (m *Registry) Miss(reason string) { m.enrichMisses.with(reason).Inc() }

// Joined implements parse.Events.
func (m *Registry) Joined(lines int) {
	m.joinedRecords.Inc()
	m.joinedLines.Add(int64(lines))
}

// Cut implements parse.Events.
func (m *Registry) Cut(reason string) { m.joinCuts.with(reason).Inc() }

// Parsed implements parse.Events.
func (m *Registry) Parsed(format, outcome string) { m.parsed.with(format, outcome).Inc() }

// WatchError implements podcache.Events.
func (m *Registry) WatchError(reason string) { m.kubeErrors.with(reason).Inc() }

// PodsCached implements podcache.Events.
func (m *Registry) PodsCached(n int) { m.kubePods.Set(float64(n)) }

// Synced implements podcache.Events.
func (m *Registry) Synced() { m.kubeSynced.Set(1) }

func (m *Registry) checkpointAge() float64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.lastCheckpoint.IsZero() {
		return -1
	}
	return time.Since(m.lastCheckpoint).Seconds()
}
