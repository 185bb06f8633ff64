package vlogs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sluicelog/sluice/internal/testdir"
	"github.com/sluicelog/sluice/internal/testtools"
)

// Version is the VictoriaLogs release these tests are written against;
// scripts/install-test-tools.sh installs it.
const Version = "v1.52.1"

const (
	// startTimeout bounds the wait for /health after the process starts.
	startTimeout = 30 * time.Second
	// stopTimeout is how long a SIGTERM gets before the process is killed.
	stopTimeout = 10 * time.Second
	// startAttempts covers the rare case where another process takes the
	// free port between our probe and VictoriaLogs' own listen.
	startAttempts = 3
	// tailLines is how much of the server's output a failed test shows.
	tailLines = 40
)

// errExited says the process ended before it answered /health.
var errExited = errors.New("victoria-logs exited before it was ready")

// Server is one VictoriaLogs process owned by one test. It listens on
// 127.0.0.1 only and keeps its data in a folder of the test's own, so
// parallel tests never share state. Stop and Restart call t.Fatal or t.Error,
// so call them from the test's goroutine; the query methods return errors
// and may be called from any goroutine.
type Server struct {
	t       testing.TB
	bin     string
	addr    string
	dataDir string
	logPath string
	client  *http.Client

	mu   sync.Mutex
	proc *process // nil while stopped
}

// process is one run of the binary; its done channel closes once Wait has
// returned, so err may be read after that.
type process struct {
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

// Start runs VictoriaLogs for the duration of the test and returns once it
// answers /health. When the binary cannot be found the test is skipped,
// or fails under CI=true, where a missing server must not pass silently.
func Start(t testing.TB) *Server {
	t.Helper()
	if platformSkip != "" {
		t.Skip(platformSkip)
	}
	bin, err := findBinary()
	if errors.Is(err, errNotFound) {
		msg := fmt.Sprintf("%v; run scripts/install-test-tools.sh (it installs VictoriaLogs %s) or set %s to the binary",
			err, Version, envBinary)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg + " (CI=true: a missing server is a failure)")
		}
		t.Skip(msg)
	}
	if err != nil {
		t.Fatal(err)
	}
	if v := binaryVersion(bin); v != Version {
		t.Logf("%s is VictoriaLogs %q, not %s: results may differ", bin, v, Version)
	}

	dir := testdir.New(t)
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.Proxy = nil
	s := &Server{
		t:       t,
		bin:     bin,
		dataDir: filepath.Join(dir, "data"),
		logPath: filepath.Join(dir, "victoria-logs.log"),
		client:  &http.Client{Transport: transport},
	}
	// Registered after testdir.New, so it runs first: the output is read
	// before the folder holding it is removed.
	t.Cleanup(s.cleanup)

	for attempt := 1; ; attempt++ {
		if s.addr, err = freeAddr(); err != nil {
			t.Fatalf("start VictoriaLogs: %v", err)
		}
		err = s.start()
		if err == nil {
			return s
		}
		if !errors.Is(err, errExited) || attempt == startAttempts {
			t.Fatalf("start VictoriaLogs: %v", err)
		}
		t.Logf("start VictoriaLogs on %s: %v; trying another port", s.addr, err)
	}
}

// URL is the server's base URL, such as http://127.0.0.1:41234.
func (s *Server) URL() string { return "http://" + s.addr }

// PushURL is the Loki push endpoint: JSON when Content-Type is
// application/json, snappy-compressed protobuf otherwise.
func (s *Server) PushURL() string { return s.URL() + "/insert/loki/api/v1/push" }

// Stop ends the server gracefully (SIGTERM, then a kill after stopTimeout).
// Data pushed before it is kept on disk. Stopping a stopped server does
// nothing.
func (s *Server) Stop() {
	s.t.Helper()
	s.mu.Lock()
	p := s.proc
	s.proc = nil
	s.mu.Unlock()
	if p == nil {
		return
	}
	if err := p.stop(); err != nil {
		s.t.Errorf("stop VictoriaLogs: %v", err)
	}
	// Connections to the old process are dead; the next request must dial.
	s.client.CloseIdleConnections()
}

// Restart stops the server if it runs and starts it again on the same
// address and data folder, returning once it answers /health.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	if err := s.start(); err != nil {
		s.t.Fatalf("restart VictoriaLogs on %s: %v", s.addr, err)
	}
}

// args are the flags of every run. -defaultMsgValue= keeps an empty line
// empty: by default VictoriaLogs stores a "missing _msg field" notice in
// its place. -search.maxQueryDuration=10m lets a test read back millions
// of rows on a loaded machine, where the default 30 s cut such a query.
func (s *Server) args() []string {
	return []string{
		"-httpListenAddr=" + s.addr,
		"-storageDataPath=" + s.dataDir,
		"-retentionPeriod=100y",
		"-futureRetention=1y",
		"-loki.disableMessageParsing",
		"-defaultMsgValue=",
		"-loggerLevel=WARN",
		"-search.maxQueryDuration=10m",
	}
}

// start runs the binary once and waits until it is healthy; on failure the
// process is gone when start returns.
func (s *Server) start() error {
	out, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("open output file: %w", err)
	}
	fmt.Fprintf(out, "=== %s %s\n", s.bin, strings.Join(s.args(), " "))
	cmd := exec.Command(s.bin, s.args()...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		out.Close()
		return fmt.Errorf("run %s: %w", s.bin, err)
	}
	p := &process{cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		out.Close()
		close(p.done)
	}()
	if err := s.waitHealthy(p); err != nil {
		if stopErr := p.stop(); stopErr != nil && !errors.Is(err, errExited) {
			err = fmt.Errorf("%w; then: %v", err, stopErr)
		}
		return err
	}
	s.mu.Lock()
	s.proc = p
	s.mu.Unlock()
	return nil
}

// waitHealthy polls /health until it answers OK, the process exits or
// startTimeout passes.
func (s *Server) waitHealthy(p *process) error {
	deadline := time.Now().Add(startTimeout)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		err := s.health()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not healthy after %v: %w", startTimeout, err)
		}
		select {
		case <-p.done:
			return fmt.Errorf("%w (%v)", errExited, p.err)
		case <-tick.C:
		}
	}
}

// health is one GET /health, which answers "OK" once storage is open.
func (s *Server) health() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL()+"/health", nil)
	if err != nil {
		return err
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 512))
	if err != nil {
		return fmt.Errorf("read /health: %w", err)
	}
	if resp.StatusCode != http.StatusOK || strings.TrimSpace(string(body)) != "OK" {
		return fmt.Errorf("/health: %s: %q", resp.Status, body)
	}
	return nil
}

// stop sends SIGTERM, waits, and kills after stopTimeout. VictoriaLogs
// exits 0 on SIGTERM, so any other exit is reported.
func (p *process) stop() error {
	select {
	case <-p.done:
		return p.exitErr()
	default:
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("send SIGTERM: %w", err)
	}
	timer := time.NewTimer(stopTimeout)
	defer timer.Stop()
	select {
	case <-p.done:
		return p.exitErr()
	case <-timer.C:
		_ = p.cmd.Process.Kill()
		<-p.done
		return fmt.Errorf("still running %v after SIGTERM: killed", stopTimeout)
	}
}

func (p *process) exitErr() error {
	if p.err != nil {
		return fmt.Errorf("victoria-logs exited: %w", p.err)
	}
	return nil
}

// cleanup stops the server and, when the test failed, shows the end of
// its output, which is where VictoriaLogs explains rejected or dropped data.
func (s *Server) cleanup() {
	s.Stop()
	s.client.CloseIdleConnections()
	if s.t.Failed() {
		s.t.Logf("last lines of VictoriaLogs output (%s):\n%s", s.addr, testtools.Tail(s.logPath, tailLines))
	}
}

// freeAddr asks the kernel for a free loopback port. It is free only until
// someone else takes it, hence the retries in Start.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	return addr, nil
}
