package e2e

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sluicelog/sluice/internal/testdir"
)

// env is one test's node: kubelet's pods folder, sluice's data folder, the
// output file and the configuration that ties them together. Several sluice
// runs may share one env, as restarts on a node do.
type env struct {
	t       *testing.T
	root    string
	pods    string // like /var/log/pods
	dataDir string
	outPath string // the stdout sink's file, appended by every run
	sink    string // where the stdout sink writes: outPath, or a FIFO in front of it
	cfgPath string
	addr    string   // metrics listener
	environ []string // added to sluice's environment
	// command makes the command that runs sluice with args; nil runs the
	// binary TestMain built.
	command func(args ...string) *exec.Cmd
	// hostPath is a path as sluice names it (see envOptions.hostPath).
	hostPath func(string) string
	// terminate asks sluice to shut down cleanly (see envOptions.terminate).
	terminate func(*os.Process) error
}

// envOptions adjusts the configuration.
type envOptions struct {
	// shared opens the folders to an unprivileged sluice: the tree is
	// readable by all, the output folder writable by all, and the data
	// folder is given to the user sluice runs as.
	shared bool
	// fifo makes the sink write to a FIFO, so the test decides when the
	// output moves (see env.holdSink); what passes is copied to outPath.
	fifo bool
	// loki, when set, is a Loki push URL: the only output is then a Loki
	// output pushing there, instead of the stdout sink, with lokiExtra
	// (", key: value" pairs) added to its settings.
	loki      string
	lokiExtra string
	// es, when set, is an Elasticsearch bulk base URL: an Elasticsearch
	// output sends there (as well as to loki, when both are set), with
	// esExtra added to its settings.
	es      string
	esExtra string
	// files is added under inputs.files: YAML lines indented by four
	// spaces, such as parsers; "{pods}" in it is the pods folder.
	files string
	// environ is added to sluice's environment, such as NODE_NAME=n1.
	environ []string
	// command and hostPath run another sluice: command makes the command
	// for args, hostPath turns a path of the test into one that sluice
	// understands (Z:\... for sluice.exe under Wine). nil: the binary
	// TestMain built, and paths as they are.
	command  func(args ...string) *exec.Cmd
	hostPath func(string) string
	// terminate asks sluice to shut down cleanly; nil sends SIGTERM.
	terminate func(*os.Process) error
}

// newEnv creates the folders and writes the configuration.
func newEnv(t *testing.T, o envOptions) *env {
	t.Helper()
	root := testdir.New(t)
	e := &env{
		t: t, root: root,
		pods:    filepath.Join(root, "pods"),
		dataDir: filepath.Join(root, "data"),
		outPath: filepath.Join(root, "out", "out.jsonl"),
		cfgPath: filepath.Join(root, "sluice.yaml"),
		addr:    freeAddr(t),
		environ: o.environ,
		command: o.command, hostPath: o.hostPath, terminate: o.terminate,
	}
	if e.hostPath == nil {
		e.hostPath = func(p string) string { return p }
	}
	if e.terminate == nil {
		e.terminate = terminate
	}
	e.sink = e.outPath
	for _, d := range []string{e.pods, filepath.Dir(e.outPath)} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// sluice refuses a data folder that others may read or that another
	// user owns.
	if err := os.Mkdir(e.dataDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if o.shared {
		for _, d := range []string{root, e.pods} {
			chmod(t, d, 0o755)
		}
		chmod(t, filepath.Dir(e.outPath), 0o777)
		giveToSluice(t, e.dataDir)
	}
	if o.fifo {
		e.sink = filepath.Join(root, "out", "sink.fifo")
		if err := makeFIFO(e.sink); err != nil {
			t.Fatalf("create FIFO: %v", err)
		}
	}
	cfg := fmt.Sprintf(`data_dir: %q
shutdown_timeout: 15s
metrics: {address: %q}
log: {format: text, level: info}
inputs:
  files:
    include: [%q]
    poll_interval: 50ms
    discover_interval: 200ms
    rotate_wait: 1s
    checkpoint_interval: 200ms
%soutputs:
`, e.hostPath(e.dataDir), e.addr, e.hostPath(filepath.Join(e.pods, "*", "*", "*.log")),
		strings.ReplaceAll(o.files, "{pods}", e.hostPath(e.pods)))
	if o.loki != "" {
		cfg += fmt.Sprintf("  loki: {url: %q%s}\n", o.loki, o.lokiExtra)
	}
	if o.es != "" {
		cfg += fmt.Sprintf("  elasticsearch: {url: %q%s}\n", o.es, o.esExtra)
	}
	if o.loki == "" && o.es == "" {
		cfg += fmt.Sprintf("  stdout: {path: %q}\n", e.hostPath(e.sink))
	}
	if err := os.WriteFile(e.cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return e
}

// container returns (and creates) the folder of one container's logs,
// pods/<ns>_<pod>_<uid>/<container>.
func (e *env) container(ns, pod, name string) string {
	e.t.Helper()
	dir := filepath.Join(e.pods, ns+"_"+pod+"_uid-"+pod, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		e.t.Fatal(err)
	}
	for d := dir; d != e.pods; d = filepath.Dir(d) {
		chmod(e.t, d, 0o755) // MkdirAll is subject to the umask
	}
	return dir
}

func chmod(t *testing.T, path string, mode os.FileMode) {
	t.Helper()
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

// freeAddr returns a loopback address with a port that was free just now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// sluice is one running sluice process.
type sluice struct {
	t       *testing.T
	env     *env
	cmd     *exec.Cmd
	logPath string
	client  *http.Client
	exited  chan struct{} // closed once Wait has returned
	state   *os.ProcessState
	// allowErrors are messages that checkLog accepts on a level=ERROR
	// line, for a test that provokes that error on purpose.
	allowErrors []string
}

// start runs `sluice run` on e's configuration; asNobody drops privileges
// (only when canDropPrivileges). Its log goes to a file of its own; the
// process is killed at the end of the test if it is still running.
func (e *env) start(asNobody bool) *sluice {
	e.t.Helper()
	logFile, err := os.CreateTemp(e.root, "sluice-*.log")
	if err != nil {
		e.t.Fatal(err)
	}
	defer logFile.Close()
	command := sluiceCommand
	if e.command != nil {
		command = e.command
	}
	cmd := command("run", "-config", e.hostPath(e.cfgPath))
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if len(e.environ) > 0 {
		if cmd.Env == nil {
			cmd.Env = os.Environ()
		}
		cmd.Env = append(cmd.Env, e.environ...)
	}
	configureCmd(cmd, asNobody)
	if err := cmd.Start(); err != nil {
		e.t.Fatalf("start sluice: %v", err)
	}
	s := &sluice{
		t: e.t, env: e, cmd: cmd, logPath: logFile.Name(), exited: make(chan struct{}),
		client: &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}},
	}
	go func() {
		defer close(s.exited)
		_ = cmd.Wait() // the exit status is kept in cmd.ProcessState
		s.state = cmd.ProcessState
	}()
	e.t.Cleanup(func() {
		if s.running() {
			_ = killHard(cmd.Process)
			<-s.exited
			if !e.t.Failed() {
				e.t.Errorf("sluice (pid %d) was still running at the end of the test; killed it", cmd.Process.Pid)
			}
		}
	})
	return s
}

func (s *sluice) pid() int { return s.cmd.Process.Pid }

func (s *sluice) running() bool {
	select {
	case <-s.exited:
		return false
	default:
		return true
	}
}

// waitReady waits until /readyz answers 200.
func (s *sluice) waitReady(timeout time.Duration) {
	s.t.Helper()
	waitFor(s.t, timeout, "sluice to be ready", func() (bool, error) {
		if !s.running() {
			return false, fmt.Errorf("sluice exited (%v) before it was ready; log:\n%s", s.state, s.logTail(30))
		}
		code, _, err := s.get("/readyz")
		return err == nil && code == http.StatusOK, nil
	})
}

// stop sends SIGTERM (or what env.terminate sends) and returns the exit
// code, failing the test if sluice does not exit within the deadline or
// dies by a signal.
func (s *sluice) stop(timeout time.Duration) int {
	s.t.Helper()
	if err := s.env.terminate(s.cmd.Process); err != nil {
		s.t.Fatalf("SIGTERM sluice: %v", err)
	}
	select {
	case <-s.exited:
	case <-time.After(timeout):
		_ = killHard(s.cmd.Process)
		<-s.exited
		s.t.Fatalf("sluice did not exit within %v of SIGTERM; log:\n%s", timeout, s.logTail(30))
	}
	if sig := exitSignal(s.state); sig != "" {
		s.t.Fatalf("sluice died by %s after SIGTERM; log:\n%s", sig, s.logTail(30))
	}
	s.checkLog()
	return s.state.ExitCode()
}

// kill stops sluice with SIGKILL and waits for it to be gone.
func (s *sluice) kill() {
	s.t.Helper()
	if err := killHard(s.cmd.Process); err != nil {
		s.t.Fatalf("SIGKILL sluice: %v", err)
	}
	<-s.exited
	if !s.state.Exited() && exitSignal(s.state) == "" {
		s.t.Fatalf("sluice state after SIGKILL: %v", s.state)
	}
	s.checkLog()
}

// checkLog fails the test if sluice's log shows a data race, a panic or an
// error (warnings are expected: bad input is logged at that level).
func (s *sluice) checkLog() {
	s.t.Helper()
	b, err := os.ReadFile(s.logPath)
	if err != nil {
		s.t.Fatal(err)
	}
	for _, bad := range []string{"WARNING: DATA RACE", "panic:", "fatal error:"} {
		if i := bytes.Index(b, []byte(bad)); i >= 0 {
			s.t.Errorf("sluice log shows %q:\n%s", bad, b[i:min(len(b), i+4000)])
		}
	}
	// An ERROR line fails the test unless the test allowed its message.
	off := 0
	for line := range bytes.Lines(b) {
		if bytes.Contains(line, []byte("level=ERROR")) && !s.allowedError(line) {
			s.t.Errorf("sluice log shows %q:\n%s", "level=ERROR", b[off:min(len(b), off+4000)])
			break
		}
		off += len(line)
	}
}

// allowedError reports whether an ERROR line holds one of s.allowErrors.
func (s *sluice) allowedError(line []byte) bool {
	for _, msg := range s.allowErrors {
		if bytes.Contains(line, []byte(msg)) {
			return true
		}
	}
	return false
}

// logTail returns the last n lines of sluice's log.
func (s *sluice) logTail(n int) string {
	b, err := os.ReadFile(s.logPath)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

func (s *sluice) get(path string) (int, []byte, error) {
	resp, err := s.client.Get("http://" + s.env.addr + path)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// metrics scrapes /metrics into series → value, a series written as in the
// text format: `name` or `name{label="value"}`.
func (s *sluice) metrics() (map[string]float64, error) {
	code, b, err := s.get("/metrics")
	if err != nil {
		return nil, err
	}
	if code != http.StatusOK {
		return nil, fmt.Errorf("/metrics: status %d", code)
	}
	return parseMetrics(b)
}

func parseMetrics(b []byte) (map[string]float64, error) {
	out := map[string]float64{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			return nil, fmt.Errorf("/metrics: odd line %q", line)
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			return nil, fmt.Errorf("/metrics: line %q: %w", line, err)
		}
		out[line[:i]] = v
	}
	return out, sc.Err()
}

// waitMetric waits until series reaches at least min.
func (s *sluice) waitMetric(series string, min float64, timeout time.Duration) {
	s.t.Helper()
	var last float64
	waitFor(s.t, timeout, fmt.Sprintf("%s >= %g", series, min), func() (bool, error) {
		m, err := s.metrics()
		if err != nil {
			return false, err
		}
		last = m[series]
		return last >= min, nil
	}, func() string { return fmt.Sprintf("%s = %g; sluice log:\n%s", series, last, s.logTail(20)) })
}

// anomaly names the series of one anomaly reason.
func anomaly(reason string) string {
	return `sluice_input_anomalies_total{reason="` + reason + `"}`
}

// summary renders the sluice_input_* series for a log line.
func summary(m map[string]float64) string {
	var parts []string
	for k, v := range m {
		if strings.HasPrefix(k, "sluice_input_") && !strings.Contains(k, "checkpoint_age") {
			parts = append(parts, fmt.Sprintf("%s=%g", strings.TrimPrefix(k, "sluice_input_"), v))
		}
	}
	slices.Sort(parts)
	return strings.Join(parts, " ")
}

// waitFor polls cond until it holds, failing the test after timeout or as
// soon as cond returns an error; on timeout, state (if not nil) says where
// things stood. The deadline bounds waiting; it is not a performance
// assertion.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() (bool, error), state ...func() string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, err := cond()
		if err != nil {
			t.Fatalf("waiting for %s: %v", what, err)
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			msg := fmt.Sprintf("gave up waiting for %s after %v", what, timeout)
			for _, f := range state {
				msg += "\n" + f()
			}
			t.Fatal(msg)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
