// Package metrics exposes sluice's counters as Prometheus metrics and serves
// /metrics, /healthz and /readyz. It implements the small event interfaces of
// the pipeline's stages, so those stages pick no metrics library.
package metrics

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Registry holds every sluice metric.
type Registry struct {
	Reg *prometheus.Registry

	lines, bytes      prometheus.Counter
	openFiles         prometheus.Gauge
	opened, rotations prometheus.Counter
	truncations       prometheus.Counter
	anomalies         *prometheus.CounterVec
	out               *outputMetrics
	enrichMisses      *prometheus.CounterVec
	kubeErrors        *prometheus.CounterVec
	kubePods          prometheus.Gauge
	kubeSynced        prometheus.Gauge
	replaceFailures   *prometheus.CounterVec
	joinedRecords     prometheus.Counter
	joinedLines       prometheus.Counter
	joinCuts          *prometheus.CounterVec
	parsed            *prometheus.CounterVec

	mu             sync.Mutex
	lastCheckpoint time.Time
}

// New creates the metrics and registers them with Go and process collectors.
func New() *Registry {
	m := &Registry{Reg: prometheus.NewRegistry()}
	c := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
	}
	m.lines = c("sluice_input_lines_total", "Records emitted by the file input.")
	m.bytes = c("sluice_input_bytes_total", "Bytes of file content consumed by the file input.")
	m.openFiles = prometheus.NewGauge(prometheus.GaugeOpts{Name: "sluice_input_files_open", Help: "File handles held open."})
	m.opened = c("sluice_input_files_opened_total", "File handles opened.")
	m.rotations = c("sluice_input_rotations_total", "Files drained and closed after rename, removal or copytruncate.")
	m.truncations = c("sluice_input_truncations_total", "Files that shrank below the read offset.")
	m.anomalies = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sluice_input_anomalies_total",
		Help: "Input that was not a clean line, by reason (kept as raw, cut, or dropped).",
	}, []string{"reason"})
	age := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "sluice_input_checkpoint_age_seconds",
		Help: "Seconds since the file checkpoint was last saved; -1 before the first save.",
	}, m.checkpointAge)
	m.Reg.MustRegister(m.lines, m.bytes, m.openFiles, m.opened, m.rotations, m.truncations, m.anomalies,
		age, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.out = newOutputMetrics(m.Reg)
	m.enrichMisses = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sluice_enrich_misses_total",
		Help: "Sources whose records went out without pod metadata, by reason.",
	}, []string{"reason"})
	m.kubeErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sluice_kubernetes_watch_errors_total",
		Help: "Failed lists and watches of the API server, by reason (forbidden, unauthorized, unreachable, other).",
	}, []string{"reason"})
	m.kubePods = prometheus.NewGauge(prometheus.GaugeOpts{Name: "sluice_kubernetes_pods_cached", Help: "Pods of this node in the metadata cache, deleted ones in their grace period included."})
	m.kubeSynced = prometheus.NewGauge(prometheus.GaugeOpts{Name: "sluice_kubernetes_synced", Help: "1 once the pod cache completed its first list."})
	m.replaceFailures = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sluice_file_replace_failures_total",
		Help: "State files that could not be replaced (temporary file, then a rename over the old one; on Windows retried for about a second while another process holds the file), by file: checkpoint, cursor (a buffer cursor written in place, that could not be written or fsynced), dead_letter (its rotation).",
	}, []string{"file"})
	m.joinedRecords = c("sluice_multiline_records_total", "Records made of more than one line by multiline joining.")
	m.joinedLines = c("sluice_multiline_lines_total", "Lines that went into those records.")
	m.joinCuts = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sluice_multiline_cuts_total",
		Help: "Events cut by a limit rather than ended by their rule, by limit (max_lines, max_bytes).",
	}, []string{"reason"})
	m.parsed = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sluice_parse_records_total",
		Help: "Records structured parsing looked at, by format (json, logmonitor, auto) and outcome (parsed, capped: fields past max_fields kept as one, not_this_format: kept as text, invalid: kept as text).",
	}, []string{"format", "outcome"})
	m.Reg.MustRegister(m.enrichMisses, m.kubeErrors, m.kubePods, m.kubeSynced, m.replaceFailures,
		m.joinedRecords, m.joinedLines, m.joinCuts, m.parsed)
	return m
}

// Read implements file.Events.
func (m *Registry) Read(lines, bytes int) {
	m.lines.Add(float64(lines))
	m.bytes.Add(float64(bytes))
}

// Opened implements file.Events.
func (m *Registry) Opened() { m.openFiles.Inc(); m.opened.Inc() }

// Closed implements file.Events.
func (m *Registry) Closed() { m.openFiles.Dec() }

// Rotated implements file.Events.
func (m *Registry) Rotated() { m.rotations.Inc() }

// Truncated implements file.Events.
func (m *Registry) Truncated() { m.truncations.Inc() }

// Anomaly implements file.Events.
func (m *Registry) Anomaly(reason string, n int) { m.anomalies.WithLabelValues(reason).Add(float64(n)) }

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
func (m *Registry) ReplaceFailed(file string) { m.replaceFailures.WithLabelValues(file).Inc() }

// Miss implements enrich.Events.
func (m *Registry) Miss(reason string) { m.enrichMisses.WithLabelValues(reason).Inc() }

// Joined implements parse.Events.
func (m *Registry) Joined(lines int) {
	m.joinedRecords.Inc()
	m.joinedLines.Add(float64(lines))
}

// Cut implements parse.Events.
func (m *Registry) Cut(reason string) { m.joinCuts.WithLabelValues(reason).Inc() }

// Parsed implements parse.Events.
func (m *Registry) Parsed(format, outcome string) { m.parsed.WithLabelValues(format, outcome).Inc() }

// WatchError implements podcache.Events.
func (m *Registry) WatchError(reason string) { m.kubeErrors.WithLabelValues(reason).Inc() }

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
