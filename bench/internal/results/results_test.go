package results

import (
	"path/filepath"
	"reflect"
	"testing"

	"github.com/sluicelog/sluice/internal/testdir"
)

func TestCombine(t *testing.T) {
	row := func(cpu, rss float64, delivered int) Row {
		return Row{Case: "a", Agent: "sluice", Expected: 10, Delivered: delivered, CPUPerMillion: cpu, PeakRSSMiB: rss}
	}
	tests := []struct {
		name     string
		runs     []Row
		wantCPU  float64
		wantRSS  float64
		wantRuns int
	}{
		{"one run", []Row{row(1.3, 29, 10)}, 1.3, 29, 1},
		{"median of three", []Row{row(1.5, 30, 10), row(1.1, 31, 10), row(1.2, 28, 10)}, 1.2, 28, 3},
		{"lower middle of four", []Row{row(1.4, 1, 10), row(1.1, 2, 10), row(1.3, 3, 10), row(1.2, 4, 10)}, 1.2, 4, 4},
		{"an incomplete run is shown", []Row{row(1.1, 30, 10), row(0.9, 25, 7), row(1.2, 31, 10), row(0.8, 24, 8)}, 0.9, 25, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Combine(tt.runs)
			if got.CPUPerMillion != tt.wantCPU || got.PeakRSSMiB != tt.wantRSS || got.Runs != tt.wantRuns {
				t.Fatalf("Combine: CPU %g, peak RSS %g, runs %d; want %g, %g, %d", got.CPUPerMillion, got.PeakRSSMiB, got.Runs,
					tt.wantCPU, tt.wantRSS, tt.wantRuns)
			}
			if len(tt.runs) == 1 {
				if got.CPUPerMillionRuns != nil || got.PeakRSSMiBRuns != nil {
					t.Fatalf("one run lists its runs: %v, %v", got.CPUPerMillionRuns, got.PeakRSSMiBRuns)
				}
				return
			}
			var cpu, rss []float64
			for _, r := range tt.runs {
				cpu, rss = append(cpu, r.CPUPerMillion), append(rss, r.PeakRSSMiB)
			}
			if !reflect.DeepEqual(got.CPUPerMillionRuns, cpu) || !reflect.DeepEqual(got.PeakRSSMiBRuns, rss) {
				t.Fatalf("runs listed: CPU %v, RSS %v; want %v, %v", got.CPUPerMillionRuns, got.PeakRSSMiBRuns, cpu, rss)
			}
		})
	}
}

// A combined run survives the file: what benchchart reads is what the
// harness wrote.
func TestWriteReadRuns(t *testing.T) {
	path := filepath.Join(testdir.New(t), "r.json")
	in := Run{Date: "2026-12-04", Rows: []Row{Combine([]Row{
		{Case: "a", Agent: "sluice", Expected: 1, Delivered: 1, CPUPerMillion: 1.2, PeakRSSMiB: 29},
		{Case: "a", Agent: "sluice", Expected: 1, Delivered: 1, CPUPerMillion: 1.1, PeakRSSMiB: 30},
	})}}
	if err := Write(path, in); err != nil {
		t.Fatal(err)
	}
	out, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, out) {
		t.Fatalf("read back %+v, wrote %+v", out, in)
	}
}
