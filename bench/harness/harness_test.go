//go:build bench && linux

package harness

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/sluicelog/sluice/bench/internal/results"
	"github.com/sluicelog/sluice/internal/kubetest"
	"github.com/sluicelog/sluice/internal/vlogs"
)

const (
	repoRoot = "../.."
	// node is the node sluice runs on, and every pod's.
	node      = "bench-node"
	namespace = "bench"
	pods      = 100
	// containersPerPod covers case c's 1,000 files with 100 pods.
	containersPerPod = 10
	// poll is how often the server is asked how many lines it holds.
	poll = 400 * time.Millisecond
	// stall ends a run once the count has not moved for this long after
	// the last line was written: the rest is not coming.
	stall = 60 * time.Second
)

// podRef is what a file's kubelet path says of its pod.
type podRef struct{ namespace, name, uid string }

// envPath returns the path the environment variable name holds, a
// relative one taken from the repository's root, where make runs: go test
// runs the harness in its own folder, and BENCH_PROFILE=bench/profiles
// had written to bench/harness/bench/profiles.
func envPath(name string) string {
	p := os.Getenv(name)
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(repoRoot, p)
}

// TestTable runs every case (BENCH_CASES, say "a,c", picks some) for every
// agent (BENCH_AGENTS: sluice, otelcol or both; the collector runs when
// it is installed), prints a table and writes bench/results/<date>.json
// (BENCH_RESULTS names another folder). BENCH_SCALE=0.1 shrinks the line
// counts, for a trial. The burst cases run BENCH_RUNS times (5 unless set)
// per agent, and their rows are the median runs (results.Combine).
func TestTable(t *testing.T) {
	began := time.Now()
	scale := 1.0
	if s := os.Getenv("BENCH_SCALE"); s != "" {
		var err error
		if scale, err = strconv.ParseFloat(s, 64); err != nil || scale <= 0 {
			t.Fatalf("BENCH_SCALE=%q is not a positive number", s)
		}
	}
	var cases []workload
	for _, w := range workloads(scale) {
		if pick := os.Getenv("BENCH_CASES"); pick == "" || slices.Contains(strings.Split(pick, ","), w.name) {
			cases = append(cases, w)
		}
	}
	repeat := 5
	if s := os.Getenv("BENCH_RUNS"); s != "" {
		var err error
		if repeat, err = strconv.Atoi(s); err != nil || repeat < 1 {
			t.Fatalf("BENCH_RUNS=%q is not a positive whole number", s)
		}
	}
	want := strings.Split(os.Getenv("BENCH_AGENTS"), ",")
	if os.Getenv("BENCH_AGENTS") == "" {
		want = []string{"sluice", "otelcol"}
	}

	run := results.Run{
		Date:    began.UTC().Format("2006-01-02"),
		Command: "make bench (go test -tags bench -run TestTable ./bench/harness)",
		Machine: machine(),
	}
	if scale != 1 {
		run.Command += fmt.Sprintf(" with BENCH_SCALE=%g", scale)
	}
	if repeat != 5 {
		run.Command += fmt.Sprintf(" with BENCH_RUNS=%d", repeat)
	}
	api := kubetest.Start(t)
	refs := createPods(t, api)
	kubeconfig := api.Kubeconfig(t, api.AddUser(t, "sluice"))
	api.Grant(t, "sluice", []string{"get", "list", "watch"}, "pods")

	var agents []agent
	if slices.Contains(want, "sluice") {
		bin, version := buildSluice(t)
		agents = append(agents, sluiceAgent{bin: bin, kubeconfig: kubeconfig, node: node})
		run.Agents = append(run.Agents, results.Agent{Name: "sluice", Version: version,
			Note: "disk buffer (default), Loki push API, pod metadata from the API server (100 pods cached)"})
	}
	if slices.Contains(want, "otelcol") {
		peer, version, err := loadOtelcol(t)
		if err != nil {
			t.Logf("the OpenTelemetry Collector does not run: %v", err)
			run.Notes = append(run.Notes, fmt.Sprintf("OpenTelemetry Collector not run: %v", err))
		} else {
			agents = append(agents, peer)
			run.Agents = append(run.Agents, results.Agent{Name: "otelcol", Version: version,
				Note: "bench/otelcol/config.yaml.tmpl: file_log receiver with the container operator (pod fields from the path), " +
					"batch, OTLP/HTTP with a persistent blocking queue, file_storage checkpoints; no k8sattributes"})
		}
	} else {
		run.Notes = append(run.Notes, "OpenTelemetry Collector not run: BENCH_AGENTS="+os.Getenv("BENCH_AGENTS"))
	}
	if len(agents) == 0 {
		t.Fatalf("no agent to run (BENCH_AGENTS=%q)", os.Getenv("BENCH_AGENTS"))
	}

	for _, w := range cases {
		run.Cases = append(run.Cases, results.Case{Name: w.name, Description: w.description, Lines: w.lines(), Files: w.files})
		shared := ""
		if w.rate == 0 {
			shared = filepath.Join(t.TempDir(), "log")
			prewrite(t, shared, w, refs)
		}
		// The agents take turns, run after run, so that a slow spell of
		// the machine falls on both.
		rows := make([][]results.Row, len(agents))
		for range w.runs(repeat) {
			for i, a := range agents {
				t.Run(w.name+"/"+a.name(), func(t *testing.T) {
					row := runCase(t, w, a, shared, refs)
					t.Logf("%s", formatRow(row))
					rows[i] = append(rows[i], row)
				})
			}
		}
		for _, r := range rows {
			if len(r) > 0 {
				run.Rows = append(run.Rows, results.Combine(r))
			}
		}
		if shared != "" {
			os.RemoveAll(filepath.Dir(shared)) // hundreds of MB: not kept until the end
		}
	}
	run.WallSeconds = time.Since(began).Seconds()
	table := formatTable(run)
	fmt.Print(table)

	dir := filepath.Join(repoRoot, "bench", "results")
	if d := envPath("BENCH_RESULTS"); d != "" {
		dir = d
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, run.Date+".json")
	if err := results.Write(path, run); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s", path)
}

// runCase runs agent a over w's files, from a fresh VictoriaLogs, and
// measures it. shared holds the files when they were written beforehand;
// otherwise they are written now, while the agent runs.
func runCase(t *testing.T, w workload, a agent, shared string, refs []podRef) results.Row {
	srv := vlogs.Start(t)
	dir := t.TempDir()
	root := shared
	rotations := 0 // set by writeLines before it returns
	var writeLines func(context.Context) error
	if root == "" {
		root = filepath.Join(dir, "log")
		files, err := layout(root, w, refs)
		if err != nil {
			t.Fatal(err)
		}
		writeLines = func(ctx context.Context) error {
			err := write(ctx, w, files)
			for _, f := range files {
				rotations += f.Rotations()
			}
			return err
		}
	}
	cmd := a.command(t, filepath.Join(root, "containers", "*.log"), dir, srv)

	row := results.Row{Case: w.name, Agent: a.name(), Expected: w.lines()}
	// What the run before left dirty (an agent's queue, a server's data,
	// the files just written) is written back now, not during this run.
	syscall.Sync()
	began := time.Now()
	p := start(t, cmd, dir)
	defer p.stop(t)
	pid := cmd.Process.Pid

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	written := make(chan error, 1)
	if writeLines == nil {
		written <- nil
	} else {
		go func() { written <- writeLines(ctx) }()
	}
	writing := true
	defer func() {
		if writing {
			cancel()
			<-written
		}
	}()

	last, moved := -1, time.Now()
	for {
		if writing {
			select {
			case err := <-written:
				writing = false
				moved = time.Now()
				if err != nil {
					t.Errorf("write the logs: %v", err)
				}
			default:
			}
		}
		n, err := srv.Count(ctx, "*", "")
		if err == nil && n != last {
			last, moved = n, time.Now()
		}
		if !writing && last >= row.Expected {
			break
		}
		if done, err := p.exited(); done {
			row.Note = fmt.Sprintf("exited early: %v (output in %s)", err, p.output)
			t.Error(row.Note)
			break
		}
		if time.Since(began) > w.timeout {
			row.Note = fmt.Sprintf("gave up after %v", w.timeout)
			break
		}
		if !writing && time.Since(moved) > stall {
			row.Note = fmt.Sprintf("no new line for %v", stall)
			break
		}
		time.Sleep(poll)
	}
	row.WallSeconds = time.Since(began).Seconds()
	row.Delivered = max(last, 0)
	if !writing {
		row.Rotations = rotations
	}
	s, err := sample(pid)
	if err != nil && row.Note == "" {
		t.Errorf("measure %s: %v", a.name(), err)
	}
	if w.idle > 0 && row.Complete() && err == nil {
		time.Sleep(w.idle)
		end, err := sample(pid)
		if err != nil {
			t.Errorf("measure %s after %v idle: %v", a.name(), w.idle, err)
		}
		idle := (end.cpu - s.cpu) / w.idle.Seconds()
		row.IdleCPUPerSecond = &idle
		s.rssMiB, s.peakMiB, s.fileMiB = end.rssMiB, end.peakMiB, end.fileMiB
	}
	row.CPUSeconds, row.PeakRSSMiB, row.EndRSSMiB, row.EndFileRSSMiB = s.cpu, s.peakMiB, s.rssMiB, s.fileMiB
	row.LinesPerSecond = float64(row.Delivered) / row.WallSeconds
	if row.Delivered > 0 {
		row.CPUPerMillion = row.CPUSeconds / (float64(row.Delivered) / 1e6)
	}
	if !row.Complete() {
		t.Logf("%s delivered %d of %d lines in case %s; its output: %s", a.name(), row.Delivered, row.Expected, w.name, p.output)
	}
	return row
}

// createPods makes the pods every file belongs to, bound to node, each
// with containers c0..c9, and returns them with their uids.
func createPods(t *testing.T, api *kubetest.Server) []podRef {
	t.Helper()
	refs := make([]podRef, pods)
	for i := range refs {
		name := fmt.Sprintf("web-%03d", i)
		p := api.CreatePod(t, namespace, name, node, func(p *corev1.Pod) {
			p.Labels = map[string]string{"app": "web", "bench": "true"}
			p.Spec.Containers = nil
			for c := range containersPerPod {
				p.Spec.Containers = append(p.Spec.Containers, corev1.Container{
					Name: fmt.Sprintf("c%d", c), Image: "example/app:1",
				})
			}
		})
		refs[i] = podRef{namespace: namespace, name: name, uid: string(p.UID)}
	}
	return refs
}

// buildSluice builds cmd/sluice as make build does, stamped with the
// commit, and returns the binary and its version. BENCH_SLUICE names a
// binary built elsewhere instead (an older commit, to compare), whose
// version is its file name.
func buildSluice(t *testing.T) (string, string) {
	t.Helper()
	if bin := envPath("BENCH_SLUICE"); bin != "" {
		abs, err := filepath.Abs(bin)
		if err != nil {
			t.Fatal(err)
		}
		return abs, filepath.Base(bin)
	}
	version := "dev"
	if out, err := exec.Command("git", "-C", repoRoot, "describe", "--tags", "--always").Output(); err == nil {
		version = strings.TrimSpace(string(out))
		// Results and profiles the last runs wrote do not make the code dirty.
		diff := exec.Command("git", "-C", repoRoot, "diff", "--quiet", "HEAD", "--", ".", ":(exclude)bench/results", ":(exclude)bench/profiles")
		if diff.Run() != nil {
			version += "-dirty"
		}
	}
	bin := filepath.Join(t.TempDir(), "sluice")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w -X main.version="+version, "-o", bin, "./cmd/sluice")
	cmd.Dir = repoRoot
	// Static, as make build and the image's binary are: a cgo build maps
	// libc, whose pages count in the RSS measured.
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build sluice: %v\n%s", err, out)
	}
	return bin, version
}

// machine describes this computer.
func machine() results.Machine {
	m := results.Machine{Cores: runtime.NumCPU(), Go: runtime.Version()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.Lines(string(b)) {
			if name, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(name) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	return m
}
