// Package results is the file a side-by-side benchmark run writes
// (bench/results/<date>.json) and bench/cmd/benchchart draws: the machine,
// the agents and their versions, and one row per case and agent.
package results

import (
	"cmp"
	"encoding/json"
	"fmt"
	"os"
	"slices"
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
	// Runs is how many times the agent ran the case (Combine); 0 or 1 is
	// one run. With more, CPUPerMillionRuns and PeakRSSMiBRuns hold every
	// run's figure, in the order they ran.
	Runs              int       `json:"runs,omitempty"`
	CPUPerMillionRuns []float64 `json:"cpu_seconds_per_million_lines_runs,omitempty"`
	PeakRSSMiBRuns    []float64 `json:"peak_rss_mib_runs,omitempty"`
}

// Combine makes one row of several runs of a case by one agent: the median
// run by CPU per million lines (of an even number, the lower of the middle
// two), with every run's CPU and peak RSS beside it. A run that did not
// deliver every line is the row instead, the first such: a loss is never
// hidden behind runs that had none. This machine's CPU moves by 15 % or
// more between runs, so one run is one draw; the median of several, with
// their range, is the figure to compare.
func Combine(runs []Row) Row {
	if len(runs) == 0 {
		return Row{}
	}
	order := make([]int, len(runs))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(runs[a].CPUPerMillion, runs[b].CPUPerMillion) })
	row := runs[order[(len(order)-1)/2]]
	if i := slices.IndexFunc(runs, func(r Row) bool { return !r.Complete() }); i >= 0 {
		row = runs[i]
	}
	row.Runs = len(runs)
	row.CPUPerMillionRuns, row.PeakRSSMiBRuns = nil, nil
	if len(runs) > 1 {
		for _, r := range runs {
			row.CPUPerMillionRuns = append(row.CPUPerMillionRuns, r.CPUPerMillion)
			row.PeakRSSMiBRuns = append(row.PeakRSSMiBRuns, r.PeakRSSMiB)
		}
	}
	return row
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
