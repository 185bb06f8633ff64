// Package results is the file a side-by-side benchmark run writes
// (bench/results/<date>.json) and bench/cmd/benchchart draws: the machine,
// the agents and their versions, and one row per case and agent.
package results

import (
	"encoding/json"
	"fmt"
	"os"
)

// Run is one benchmark run.
type Run struct {
	Date        string   `json:"date"`    // YYYY-MM-DD, UTC
	Command     string   `json:"command"` // how it was run
	Machine     Machine  `json:"machine"`
	Agents      []Agent  `json:"agents"`
	Cases       []Case   `json:"cases"`
	Rows        []Row    `json:"rows"`
	Notes       []string `json:"notes,omitempty"`
	WallSeconds float64  `json:"wall_seconds"` // the whole run, set-up included
}

// Machine is what the run ran on.
type Machine struct {
	CPU    string `json:"cpu"`
	Cores  int    `json:"cores"`
	Kernel string `json:"kernel"`
	Go     string `json:"go"`
}

// Agent is one log agent under test.
type Agent struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Note    string `json:"note,omitempty"`
}

// Case is one workload, the same for every agent.
type Case struct {
	Name        string `json:"name"` // short, as in the rows
	Description string `json:"description"`
	Lines       int    `json:"lines"` // lines every agent must deliver
	Files       int    `json:"files"`
}

// Row is one agent's figures in one case. CPU and RSS are the agent
// process's own, from /proc/<pid>, from its start until the server held
// every line (or the run gave up: then Delivered < Expected).
type Row struct {
	Case        string  `json:"case"`
	Agent       string  `json:"agent"`
	Expected    int     `json:"expected"`
	Delivered   int     `json:"delivered"`
	WallSeconds float64 `json:"wall_seconds"`
	CPUSeconds  float64 `json:"cpu_seconds"`
	PeakRSSMiB  float64 `json:"peak_rss_mib"`
	EndRSSMiB   float64 `json:"end_rss_mib"`
	// EndFileRSSMiB is the file-backed part of EndRSSMiB (RssFile): mostly
	// the agent's own binary, paged in as it runs.
	EndFileRSSMiB  float64 `json:"end_file_rss_mib"`
	LinesPerSecond float64 `json:"lines_per_second"`
	CPUPerMillion  float64 `json:"cpu_seconds_per_million_lines"`
	// IdleCPUPerSecond is CPU seconds per second over the idle window,
	// for cases that have one; EndRSSMiB is then taken at its end.
	IdleCPUPerSecond *float64 `json:"idle_cpu_seconds_per_second,omitempty"`
	// Rotations counts the rotations of files written during the run.
	Rotations int    `json:"rotations,omitempty"`
	Note      string `json:"note,omitempty"`
}

// Complete reports whether every expected line arrived.
func (r Row) Complete() bool { return r.Delivered >= r.Expected }

// Write stores r at path as indented JSON.
func Write(path string, r Run) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("encode results: %w", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	return nil
}

// Read loads a run Write stored.
func Read(path string) (Run, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Run{}, fmt.Errorf("read results: %w", err)
	}
	var r Run
	if err := json.Unmarshal(b, &r); err != nil {
		return Run{}, fmt.Errorf("decode results %s: %w", path, err)
	}
	return r, nil
}
