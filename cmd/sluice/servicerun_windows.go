package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"golang.org/x/sys/windows/svc"
	"golang.org/x/sys/windows/svc/eventlog"

	"github.com/sluicelog/sluice/config"
	"github.com/sluicelog/sluice/internal/private"
)

// Where a service's own log goes, and when it is rotated (once, at start).
const (
	serviceLogName = "sluice.log"
	serviceLogMax  = 10 << 20
)

// runAsService runs daemon as the service name under the service control
// manager, and reports whether it did: when name is set (the command line
// `sluice service install` registers says -service), or when Windows
// started sluice as a service without it (a service made by hand), as
// "sluice". A stop request or
// a (pre-)shutdown of the system cancels daemon's context, which is the
// same clean shutdown SIGTERM gives: stop reading, flush within
// shutdown_timeout, save checkpoints.
//
// A service has no console: sluice logs to <data_dir>\sluice.log and its
// warnings and errors, with the service's start and stop, also go to the
// Application event log under the service's name; the stdout output
// without a path writes to the log file too.
func runAsService(name string, daemon daemonFunc, cfg config.Config, stderr io.Writer) (int, bool) {
	if name == "" {
		if is, err := svc.IsWindowsService(); err != nil || !is {
			return 0, false
		}
		name = serviceName
	}
	h := &serviceHandler{daemon: daemon, cfg: cfg, name: name}
	if err := svc.Run(name, h); err != nil {
		fmt.Fprintln(stderr, "sluice: run as a service:", err)
		return 1, true
	}
	return int(h.exitCode), true
}

// serviceHandler is the svc.Handler that runs the daemon.
type serviceHandler struct {
	name     string // the service's, and its event log source's
	daemon   daemonFunc
	cfg      config.Config
	exitCode uint32
}

var _ svc.Handler = (*serviceHandler)(nil)

// Execute starts the daemon, reports Running, and on Stop, Shutdown or
// PreShutdown cancels it and waits for its clean exit, with a wait hint of
// shutdown_timeout plus a margin.
func (h *serviceHandler) Execute(_ []string, req <-chan svc.ChangeRequest, status chan<- svc.Status) (bool, uint32) {
	status <- svc.Status{State: svc.StartPending}
	logs, err := openServiceLogs(h.name, h.cfg.DataDir)
	if err != nil {
		reportStartFailure(h.name, err)
		h.exitCode = 1
		return true, h.exitCode
	}
	defer logs.Close()
	logs.event(eventInfo, fmt.Sprintf("sluice %s starting; log file %s", version, logs.path))

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- h.daemon(ctx, logs.file, logs) }()
	status <- svc.Status{State: svc.Running, Accepts: svc.AcceptStop | svc.AcceptShutdown | svc.AcceptPreShutdown}

	var runErr error
wait:
	for {
		select {
		case runErr = <-done:
			break wait
		case r := <-req:
			switch r.Cmd {
			case svc.Interrogate:
				status <- r.CurrentStatus
			case svc.Stop, svc.Shutdown, svc.PreShutdown:
				hint := h.cfg.ShutdownTimeout + 10*time.Second
				status <- svc.Status{State: svc.StopPending, WaitHint: uint32(hint.Milliseconds())}
				logs.event(eventInfo, fmt.Sprintf("sluice stopping (%s)", cmdName(r.Cmd)))
				cancel()
				runErr = <-done
				break wait
			}
		}
	}
	if runErr != nil {
		logs.event(eventError, "sluice stopped with an error: "+runErr.Error())
		fmt.Fprintln(logs.file, "sluice:", runErr)
		h.exitCode = 1
		return true, h.exitCode
	}
	logs.event(eventInfo, "sluice stopped")
	return false, 0
}

func cmdName(c svc.Cmd) string {
	switch c {
	case svc.Stop:
		return "service stop"
	case svc.Shutdown:
		return "system shutdown"
	default:
		return "system pre-shutdown"
	}
}

type eventLevel int

const (
	eventInfo eventLevel = iota
	eventWarning
	eventError
)

// serviceLogs is the service's log file and event log source. As an
// io.Writer it takes slog's lines, one record per Write (slog's handlers
// write each record whole): every line goes to the file, and a WARN or
// ERROR line also to the event log.
type serviceLogs struct {
	path string
	file io.Writer
	// closeFile closes what file writes to.
	closeFile func() error
	mu        sync.Mutex
	el        eventLog // nil when the source cannot be opened: the file still gets everything
}

// eventLog is the part of *eventlog.Log the service writes with.
type eventLog interface {
	Info(eid uint32, msg string) error
	Warning(eid uint32, msg string) error
	Error(eid uint32, msg string) error
	Close() error
}

var _ eventLog = (*eventlog.Log)(nil)

// openServiceLogs makes data_dir as sluice always does (private; see
// internal/private), then opens <data_dir>\sluice.log for appending,
// keeping the previous one as sluice.log.1 when it passed serviceLogMax.
func openServiceLogs(name, dataDir string) (*serviceLogs, error) {
	if _, err := private.Dir(dataDir); err != nil {
		return nil, err
	}
	path := filepath.Join(dataDir, serviceLogName)
	if st, err := os.Stat(path); err == nil && st.Size() > serviceLogMax {
		_ = os.Rename(path, path+".1") // on failure the file keeps growing, which is better than no log
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open the service log: %w", err)
	}
	l := &serviceLogs{path: path, file: f, closeFile: f.Close}
	if el, err := eventlog.Open(name); err == nil {
		l.el = el
	} else {
		fmt.Fprintf(f, "sluice: open event log source %s (reinstall the service to register it): %v\n", name, err)
	}
	return l, nil
}

// Write logs one record; event log failures are not the daemon's to see.
func (l *serviceLogs) Write(p []byte) (int, error) {
	n, err := l.file.Write(p)
	switch {
	case bytes.Contains(p, []byte(`"level":"ERROR"`)) || bytes.Contains(p, []byte("level=ERROR")):
		l.event(eventError, string(bytes.TrimSpace(p)))
	case bytes.Contains(p, []byte(`"level":"WARN"`)) || bytes.Contains(p, []byte("level=WARN")):
		l.event(eventWarning, string(bytes.TrimSpace(p)))
	}
	return n, err
}

// event writes msg to the event log, event id 1 (the source is registered
// with EventCreate.exe's messages, which print the text as given).
func (l *serviceLogs) event(level eventLevel, msg string) {
	if l.el == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	switch level {
	case eventError:
		_ = l.el.Error(1, msg)
	case eventWarning:
		_ = l.el.Warning(1, msg)
	default:
		_ = l.el.Info(1, msg)
	}
}

// Close closes the file and the event log source.
func (l *serviceLogs) Close() error {
	if l.el != nil {
		l.el.Close()
	}
	return l.closeFile()
}

// reportStartFailure tells the event log why the service could not even
// open its log file: nothing else would show it.
func reportStartFailure(name string, err error) {
	if el, oerr := eventlog.Open(name); oerr == nil {
		_ = el.Error(1, "sluice could not start: "+err.Error())
		el.Close()
	}
}
