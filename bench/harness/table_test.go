//go:build bench && linux

package harness

import (
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/sluicelog/sluice/bench/internal/results"
)

// formatTable is the run as a Markdown table, with the machine and notes.
func formatTable(run results.Run) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\n%s, %d cores, Linux %s, %s; %s\n", run.Machine.CPU, run.Machine.Cores, run.Machine.Kernel,
		run.Machine.Go, run.Command)
	for _, a := range run.Agents {
		fmt.Fprintf(&b, "- %s %s: %s\n", a.Name, a.Version, a.Note)
	}
	for _, c := range run.Cases {
		fmt.Fprintf(&b, "- case %s: %s\n", c.Name, c.Description)
	}
	for _, n := range run.Notes {
		fmt.Fprintf(&b, "- %s\n", n)
	}
	b.WriteString("\n")
	tw := tabwriter.NewWriter(&b, 0, 0, 1, ' ', 0)
	fmt.Fprintln(tw, "| case\t| agent\t| delivered / expected\t| wall s\t| lines/s\t| CPU s\t| CPU s per M lines\t| peak RSS MiB\t| end RSS MiB\t| idle CPU s/s\t|")
	fmt.Fprintln(tw, "|---\t|---\t|---\t|---:\t|---:\t|---:\t|---:\t|---:\t|---:\t|---:\t|")
	for _, r := range run.Rows {
		idle := "–"
		if r.IdleCPUPerSecond != nil {
			idle = fmt.Sprintf("%.4f", *r.IdleCPUPerSecond)
		}
		delivered := fmt.Sprintf("%d / %d", r.Delivered, r.Expected)
		if !r.Complete() {
			delivered += " (incomplete: " + r.Note + ")"
		}
		fmt.Fprintf(tw, "| %s\t| %s\t| %s\t| %.1f\t| %.0f\t| %.2f\t| %s\t| %s\t| %.1f\t| %s\t|\n", r.Case, r.Agent, delivered,
			r.WallSeconds, r.LinesPerSecond, r.CPUSeconds, withRange("%.2f", r.CPUPerMillion, r.CPUPerMillionRuns),
			withRange("%.1f", r.PeakRSSMiB, r.PeakRSSMiBRuns), r.EndRSSMiB, idle)
	}
	tw.Flush()
	if slices.ContainsFunc(run.Rows, func(r results.Row) bool { return r.Runs > 1 }) {
		b.WriteString("\nRows of several runs are the median run by CPU per million lines; the range of every run's figure follows in brackets.\n")
	}
	fmt.Fprintf(&b, "\nwhole run: %.0f s\n", run.WallSeconds)
	return b.String()
}

// withRange prints v, and after it the range of runs when there are several.
func withRange(format string, v float64, runs []float64) string {
	s := fmt.Sprintf(format, v)
	if len(runs) > 1 {
		s += fmt.Sprintf(" ("+format+"–"+format+")", slices.Min(runs), slices.Max(runs))
	}
	return s
}

// formatRow is one row in a line, for the log as the run goes.
func formatRow(r results.Row) string {
	s := fmt.Sprintf("case %s, %s: %d of %d lines in %.1f s (%.0f lines/s), CPU %.2f s (%.2f s per M lines), peak RSS %.1f MiB, end RSS %.1f MiB (%.1f file-backed)",
		r.Case, r.Agent, r.Delivered, r.Expected, r.WallSeconds, r.LinesPerSecond, r.CPUSeconds, r.CPUPerMillion, r.PeakRSSMiB, r.EndRSSMiB, r.EndFileRSSMiB)
	if r.IdleCPUPerSecond != nil {
		s += fmt.Sprintf(", idle CPU %.4f s/s", *r.IdleCPUPerSecond)
	}
	if r.Rotations > 0 {
		s += fmt.Sprintf(", %d rotations", r.Rotations)
	}
	if r.Note != "" {
		s += " (" + r.Note + ")"
	}
	return s
}
