//go:build bench && linux

package harness

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"text/template"
	"time"

	"github.com/sluicelog/sluice/internal/vlogs"
)

// stopTimeout is how long an agent gets to exit after SIGTERM.
const stopTimeout = 30 * time.Second

// agent is one log agent under test.
type agent interface {
	name() string
	// command prepares a run that ships the files include matches from
	// their first line to srv, keeping its state under dir.
	command(t *testing.T, include, dir string, srv *vlogs.Server) *exec.Cmd
}

// sluiceAgent runs sluice with its defaults but for the addresses: the
// disk buffer under data_dir, pod metadata from the API server for node.
type sluiceAgent struct {
	bin, kubeconfig, node string
}

func (sluiceAgent) name() string { return "sluice" }

func (a sluiceAgent) command(t *testing.T, include, dir string, srv *vlogs.Server) *exec.Cmd {
	t.Helper()
	data := filepath.Join(dir, "data")
	if err := os.Mkdir(data, 0o700); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf(`data_dir: %q
metrics: {address: "127.0.0.1:0"}
log: {format: text, level: warn}
inputs:
  files:
    include: [%q]
    read_from: head
kubernetes:
  enabled: "true"
  kubeconfig: %q
outputs:
  loki: {url: %q}
`, data, include, a.kubeconfig, srv.PushURL())
	path := filepath.Join(dir, "sluice.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"run", "-config", path}
	if prof := envPath("BENCH_PROFILE"); prof != "" {
		// BENCH_PROFILE=folder: a CPU and an allocation profile per run,
		// named after the case, for bench/profiles.
		if err := os.MkdirAll(prof, 0o755); err != nil {
			t.Fatal(err)
		}
		base := filepath.Join(prof, strings.NewReplacer("/", "-", " ", "_").Replace(strings.TrimPrefix(t.Name(), "TestTable/")))
		args = append(args, "-cpuprofile", base+".cpu.pprof", "-memprofile", base+".allocs.pprof")
	}
	cmd := exec.Command(a.bin, args...)
	cmd.Env = append(os.Environ(), "NODE_NAME="+a.node)
	return cmd
}

// otelcolAgent runs the OpenTelemetry Collector with the configuration
// bench/otelcol/config.yaml.tmpl renders: filelog in, OTLP/HTTP out to
// VictoriaLogs, no k8sattributes.
type otelcolAgent struct {
	bin  string
	tmpl *template.Template
}

// otelcolConfig is what the template may use.
type otelcolConfig struct {
	Include     string // glob of containers/*.log
	StartAt     string // "beginning"
	StorageDir  string // the file_storage extension's folder, for checkpoints
	Endpoint    string // VictoriaLogs' base URL; the template adds the OTLP path
	MetricsPort int    // the collector's own telemetry, on 127.0.0.1
}

func (otelcolAgent) name() string { return "otelcol" }

func (a otelcolAgent) command(t *testing.T, include, dir string, srv *vlogs.Server) *exec.Cmd {
	t.Helper()
	storage := filepath.Join(dir, "storage")
	if err := os.Mkdir(storage, 0o700); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	err := a.tmpl.Execute(&b, otelcolConfig{
		Include: include, StartAt: "beginning", StorageDir: storage,
		Endpoint: srv.URL(), MetricsPort: freePort(t),
	})
	if err != nil {
		t.Fatalf("render the collector's configuration: %v", err)
	}
	path := filepath.Join(dir, "otelcol.yaml")
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return exec.Command(a.bin, "--config", path)
}

// loadOtelcol finds the collector: $BENCH_OTELCOL, else what
// scripts/install-otelcol.sh prints (it builds the binary the first time),
// with the template at $BENCH_OTELCOL_TEMPLATE, else
// bench/otelcol/config.yaml.tmpl. It says why when there is none.
func loadOtelcol(t *testing.T) (otelcolAgent, string, error) {
	t.Helper()
	const script, defaultTmpl = "scripts/install-otelcol.sh", "bench/otelcol/config.yaml.tmpl"
	tmplPath := filepath.Join(repoRoot, defaultTmpl)
	if p := envPath("BENCH_OTELCOL_TEMPLATE"); p != "" {
		tmplPath = p
	}
	if _, err := os.Stat(tmplPath); errors.Is(err, os.ErrNotExist) && tmplPath == filepath.Join(repoRoot, defaultTmpl) {
		return otelcolAgent{}, "", fmt.Errorf("%s is missing", defaultTmpl)
	} else if err != nil {
		return otelcolAgent{}, "", fmt.Errorf("collector configuration: %w", err)
	}
	tmpl, err := template.New(filepath.Base(tmplPath)).Option("missingkey=error").ParseFiles(tmplPath)
	if err != nil {
		return otelcolAgent{}, "", err
	}
	bin := envPath("BENCH_OTELCOL")
	if bin == "" {
		if _, err := os.Stat(filepath.Join(repoRoot, script)); errors.Is(err, os.ErrNotExist) {
			return otelcolAgent{}, "", fmt.Errorf("%s is missing", script)
		}
		t.Logf("installing the OpenTelemetry Collector (%s; the first time it builds it, several minutes)", script)
		cmd := exec.Command("bash", script)
		cmd.Dir = repoRoot
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return otelcolAgent{}, "", fmt.Errorf("%s: %w\n%s", script, err, stderr.Bytes())
		}
		bin = strings.TrimSpace(string(out))
	}
	out, err := exec.Command(bin, "--version").Output()
	if err != nil {
		return otelcolAgent{}, "", fmt.Errorf("%s --version: %w", bin, err)
	}
	return otelcolAgent{bin: bin, tmpl: tmpl}, strings.TrimSpace(string(out)), nil
}

// freePort asks the kernel for a free loopback port.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// running is an agent process started by start.
type running struct {
	cmd    *exec.Cmd
	done   chan struct{}
	err    error // set once done is closed
	output string
}

// start runs cmd with its output in dir/agent.log; the process dies with
// the test binary.
func start(t *testing.T, cmd *exec.Cmd, dir string) *running {
	t.Helper()
	out, err := os.OpenFile(filepath.Join(dir, "agent.log"), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		out.Close()
		t.Fatalf("start %s: %v", cmd.Path, err)
	}
	r := &running{cmd: cmd, done: make(chan struct{}), output: out.Name()}
	go func() {
		r.err = cmd.Wait()
		out.Close()
		close(r.done)
	}()
	return r
}

// exited reports whether the process has ended, and how.
func (r *running) exited() (bool, error) {
	select {
	case <-r.done:
		return true, r.err
	default:
		return false, nil
	}
}

// stop sends SIGTERM and kills the process if it is still there after
// stopTimeout.
func (r *running) stop(t *testing.T) {
	t.Helper()
	if done, _ := r.exited(); done {
		return
	}
	if err := r.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Errorf("stop %s: %v", r.cmd.Path, err)
	}
	select {
	case <-r.done:
		if r.err != nil {
			t.Logf("%s after SIGTERM: %v", filepath.Base(r.cmd.Path), r.err)
		}
	case <-time.After(stopTimeout):
		_ = r.cmd.Process.Kill()
		<-r.done
		t.Errorf("%s still ran %v after SIGTERM: killed", r.cmd.Path, stopTimeout)
	}
}
