package main

import (
	"errors"
	"fmt"
	"io"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/svc"
	"golang.org/x/sys/windows/svc/eventlog"
	"golang.org/x/sys/windows/svc/mgr"

	"github.com/sluicelog/sluice/config"
	"github.com/sluicelog/sluice/internal/hostpath"
)

// stateWait bounds how long start and stop wait for the service to get
// there; stop adds the configured shutdown_timeout when it knows it.
const stateWait = 30 * time.Second

// manageService installs, removes, starts or stops the service through the
// service control manager; it needs an administrator.
func manageService(req serviceRequest, stdout io.Writer) error {
	m, err := mgr.Connect()
	if err != nil {
		return fmt.Errorf("connect to the service control manager (run as an administrator): %w", err)
	}
	defer m.Disconnect()
	if req.action == "install" {
		return installService(m, req, stdout)
	}
	s, err := m.OpenService(req.name)
	if err != nil {
		return fmt.Errorf("open service %s: %w", req.name, err)
	}
	defer s.Close()
	switch req.action {
	case "uninstall":
		if err := s.Delete(); err != nil {
			return fmt.Errorf("delete service %s: %w", req.name, err)
		}
		if err := eventlog.Remove(req.name); err != nil {
			return fmt.Errorf("service %s deleted, but not its event log source: %w", req.name, err)
		}
		fmt.Fprintf(stdout, "service %s uninstalled\n", req.name)
		return nil
	case "start":
		if err := s.Start(); err != nil {
			return fmt.Errorf("start service %s: %w", req.name, err)
		}
		return waitState(s, svc.Running, stateWait, stdout)
	default:
		if _, err := s.Control(svc.Stop); err != nil {
			return fmt.Errorf("stop service %s: %w", req.name, err)
		}
		wait := stateWait
		if req.config != "" {
			if cfg, err := config.Load(req.config); err == nil {
				wait += cfg.ShutdownTimeout
			}
		}
		return waitState(s, svc.Stopped, wait, stdout)
	}
}

// installService creates an automatic service that runs
// `sluice run -config FILE -service NAME` as LocalSystem, restarts it after a failure,
// registers its event log source, and gives it shutdown_timeout plus a
// margin at system shutdown (the pre-shutdown notification comes before
// the network goes, so the last batches can still be sent).
func installService(m *mgr.Mgr, req serviceRequest, stdout io.Writer) error {
	if req.config == "" {
		return errors.New("install: -config FILE is required: the service runs with it")
	}
	cfg, err := config.Load(hostpath.Resolve(req.config, hostpath.Read).Path)
	if err != nil {
		return fmt.Errorf("install: %w", err)
	}
	if s, err := m.OpenService(req.name); err == nil {
		s.Close()
		return fmt.Errorf("service %s is already installed: uninstall it first", req.name)
	}
	s, err := m.CreateService(req.name, req.exe, mgr.Config{
		DisplayName: "sluice log agent",
		Description: "Ships container and host log files to log stores (sluice run -config " + req.config + ").",
		StartType:   mgr.StartAutomatic,
	}, append(req.exeArgs, "run", "-config", req.config, "-service", req.name)...)
	if err != nil {
		return fmt.Errorf("create service %s: %w", req.name, err)
	}
	defer s.Close()
	undo := func(err error) error {
		if derr := s.Delete(); derr != nil {
			return fmt.Errorf("%w (and deleting the half-installed service failed: %v)", err, derr)
		}
		return err
	}
	restart := []mgr.RecoveryAction{{Type: mgr.ServiceRestart, Delay: 5 * time.Second}, {Type: mgr.ServiceRestart, Delay: 30 * time.Second}}
	if err := s.SetRecoveryActions(restart, 24*60*60); err != nil {
		return undo(fmt.Errorf("set restart on failure: %w", err))
	}
	if err := setPreshutdownTimeout(s, cfg.ShutdownTimeout+10*time.Second); err != nil {
		return undo(err)
	}
	if err := eventlog.InstallAsEventCreate(req.name, eventlog.Error|eventlog.Warning|eventlog.Info); err != nil {
		return undo(fmt.Errorf("register event log source %s: %w", req.name, err))
	}
	fmt.Fprintf(stdout, "service %s installed: %s run -config %s -service %s\n", req.name, req.exe, req.config, req.name)
	return nil
}

// setPreshutdownTimeout sets SERVICE_PRESHUTDOWN_INFO, a DWORD of
// milliseconds, which x/sys has no wrapper for.
func setPreshutdownTimeout(s *mgr.Service, d time.Duration) error {
	ms := uint32(d.Milliseconds())
	if err := windows.ChangeServiceConfig2(s.Handle, windows.SERVICE_CONFIG_PRESHUTDOWN_INFO, (*byte)(unsafe.Pointer(&ms))); err != nil {
		return fmt.Errorf("set the pre-shutdown timeout: %w", err)
	}
	return nil
}

// waitState polls the service until it reaches want or wait passes.
func waitState(s *mgr.Service, want svc.State, wait time.Duration, stdout io.Writer) error {
	names := map[svc.State]string{svc.Stopped: "stopped", svc.Running: "running"}
	deadline := time.Now().Add(wait)
	for {
		st, err := s.Query()
		if err != nil {
			return fmt.Errorf("query service %s: %w", s.Name, err)
		}
		if st.State == want {
			fmt.Fprintf(stdout, "service %s %s\n", s.Name, names[want])
			return nil
		}
		if st.State == svc.Stopped && want == svc.Running {
			return fmt.Errorf("service %s stopped while starting (exit code %d, service exit code %d): see its log file and the Application event log",
				s.Name, st.Win32ExitCode, st.ServiceSpecificExitCode)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("service %s not %s after %s (state %d)", s.Name, names[want], wait, st.State)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
