//go:build bench && linux

package harness

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/sluicelog/sluice/bench/internal/loggen"
)

// workload is one case: the same files for every agent.
type workload struct {
	name, description string
	files             int
	perFile           int // lines in each file
	// rate is lines a second per file written while the agent runs; 0
	// writes every file before the agent starts, once for all agents.
	rate     int
	rotation loggen.Rotation
	// idle is a window after delivery over which the agent is measured
	// doing nothing.
	idle time.Duration
	// timeout bounds a run, from the agent's start.
	timeout time.Duration
}

// runs is how many times each agent runs w: repeat for a burst over
// files written beforehand, whose few seconds of CPU are one draw of a
// noisy machine; once for the minute-long steady case and the idle case,
// whose figures are a rate over a long window.
func (w workload) runs(repeat int) int {
	if w.rate == 0 && w.idle == 0 {
		return repeat
	}
	return 1
}

// lines is what every agent must deliver.
func (w workload) lines() int { return w.files * w.perFile }

// workloads are the cases of issue 15. Each is scaled by scale (the
// lines, not the files) for quick trial runs.
func workloads(scale float64) []workload {
	n := func(lines int) int { return max(1, int(float64(lines)*scale)) }
	return []workload{
		{
			name: "a", files: 4, perFile: n(250_000), timeout: 5 * time.Minute,
			description: "1,000,000 lines pre-written in 4 files, agent started after",
		},
		{
			name: "b", files: 50, perFile: n(12_000), rate: 200, timeout: 4 * time.Minute,
			// About 40 kB a second per file: four or five rotations in the
			// minute, so a reader that falls three behind loses lines.
			rotation:    loggen.Rotation{MaxSize: 512 << 10, MaxFiles: loggen.DefaultMaxFiles},
			description: "10,000 lines/s for 60 s over 50 files written while the agent runs, kubelet rotation at 512 KiB (max files 5)",
		},
		{
			name: "c", files: 1000, perFile: 5, idle: 30 * time.Second, timeout: 3 * time.Minute,
			description: "1,000 files of 5 lines, then 30 s idle: CPU per second and RSS over the idle window",
		},
		{
			name: "d", files: 100, perFile: n(10_000), timeout: 5 * time.Minute,
			description: "100 pods x 10,000 lines pre-written in 100 files (enrichment: each file's pod in the cache)",
		},
	}
}

// layout makes the files of w under root, for the pods in pods (file i
// belongs to pod i%len(pods), container c<i/len(pods)>), and opens them.
func layout(root string, w workload, pods []podRef) ([]*loggen.File, error) {
	files := make([]*loggen.File, w.files)
	for i := range files {
		p := pods[i%len(pods)]
		c := loggen.Container{
			Namespace: p.namespace, Pod: p.name, UID: p.uid,
			Name: fmt.Sprintf("c%d", i/len(pods)),
			ID:   fmt.Sprintf("%02x%062x", w.name[0], i),
		}
		path, err := c.Create(root)
		if err != nil {
			return nil, err
		}
		if files[i], err = loggen.Open(path, i, loggen.Options{Format: loggen.CRI, Rotation: w.rotation}); err != nil {
			return nil, err
		}
	}
	return files, nil
}

// write writes w's lines to files at w's rate and closes them.
func write(ctx context.Context, w workload, files []*loggen.File) error {
	err := loggen.Pace(ctx, files, w.perFile, w.rate)
	for _, f := range files {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	return err
}

// prewrite writes every file of w under root before any agent runs.
func prewrite(t *testing.T, root string, w workload, pods []podRef) {
	t.Helper()
	start := time.Now()
	files, err := layout(root, w, pods)
	if err != nil {
		t.Fatal(err)
	}
	if err := write(context.Background(), w, files); err != nil {
		t.Fatal(err)
	}
	var bytes int64
	for _, f := range files {
		bytes += f.Bytes()
	}
	t.Logf("case %s: wrote %d lines, %.1f MB in %d files in %v", w.name, w.lines(), float64(bytes)/1e6, w.files,
		time.Since(start).Round(time.Millisecond))
}
