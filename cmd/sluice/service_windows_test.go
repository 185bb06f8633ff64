package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/svc/mgr"

	"github.com/sluicelog/sluice/internal/testdir"
)

// serviceChildArg makes the test binary run as sluice: the service the
// test installs starts this binary with it, since no sluice.exe is built
// inside the test.
const serviceChildArg = "sluice-service-child"

// runChildIfAsked runs sluice instead of the tests when the service
// control manager started this binary. It runs from TestMain, not init:
// Go holds callbacks from threads it did not create (the service's main
// function is one) until package initialization is over.
func runChildIfAsked() {
	if len(os.Args) > 1 && os.Args[1] == serviceChildArg {
		os.Exit(runMain(os.Args[2:], os.Stdout, os.Stderr))
	}
}

// underWine reports whether the test runs under Wine, whose ntdll exports
// wine_get_version.
func underWine() bool {
	return windows.NewLazySystemDLL("ntdll.dll").NewProc("wine_get_version").Find() == nil
}

// TestServiceInstallStartStop installs sluice as a service through the
// service control manager, starts it, sees it ship a line, stops it and
// uninstalls it. What Wine's service manager cannot show is not checked:
// Wine keeps no event log records (ReportEvent only traces), sends no
// system shutdown or pre-shutdown notifications, and does not apply
// restart-on-failure actions; those paths are the same cancel as a stop.
func TestServiceInstallStartStop(t *testing.T) {
	if !underWine() {
		t.Skip("installs a real service on this machine: runs under Wine only, whose service manager is a throwaway one")
	}
	t.Log("not shown under Wine: event log records, system shutdown and pre-shutdown notifications, restart on failure")
	dir := testdir.New(t)
	logs, dataDir := filepath.Join(dir, "logs"), filepath.Join(dir, "data")
	if err := os.Mkdir(logs, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(logs, "app.log"), []byte("hello from the service\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.jsonl")
	cfgPath := filepath.Join(dir, "sluice.yaml")
	cfg := fmt.Sprintf(`data_dir: %q
shutdown_timeout: 5s
metrics: {address: ""}
kubernetes: {enabled: "false"}
inputs: {files: {include: [%q], format: raw}}
outputs: {stdout: {path: %q}}
`, dataDir, filepath.Join(logs, "*.log"), out)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("sluice-test-%d", os.Getpid())
	req := func(action string) serviceRequest {
		return serviceRequest{action: action, name: name, config: cfgPath, exe: exe, exeArgs: []string{serviceChildArg}}
	}
	manage := func(action string) error {
		var stdout bytes.Buffer
		err := manageService(req(action), &stdout)
		t.Logf("service %s: %q, %v", action, stdout.String(), err)
		return err
	}
	// A run killed half-way leaves its service in the prefix's registry,
	// and Wine's process ids repeat from run to run.
	_ = manageService(req("stop"), io.Discard)
	_ = manageService(req("uninstall"), io.Discard)
	if err := manage("install"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = manageService(req("stop"), io.Discard)
		_ = manageService(req("uninstall"), io.Discard)
	})
	if err := manage("install"); err == nil || !strings.Contains(err.Error(), "already installed") {
		t.Errorf("a second install: %v, want already installed", err)
	}
	checkServiceConfig(t, name, cfgPath)

	if err := manage("start"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		b, _ := os.ReadFile(out)
		if bytes.Contains(b, []byte("hello from the service")) {
			break
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dataDir, serviceLogName))
			t.Fatalf("the service shipped nothing to %s in 30s; its log:\n%s", out, log)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := manage("stop"); err != nil {
		t.Fatal(err)
	}
	log, err := os.ReadFile(filepath.Join(dataDir, serviceLogName))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"msg":"sluice started"`, `"msg":"sluice stopped"`} {
		if !bytes.Contains(log, []byte(want)) {
			t.Errorf("service log lacks %s:\n%s", want, log)
		}
	}
	if err := manage("uninstall"); err != nil {
		t.Fatal(err)
	}
	if err := manage("start"); err == nil {
		t.Error("the uninstalled service started")
	}
}

// checkServiceConfig reads back what install registered.
func checkServiceConfig(t *testing.T, name, cfgPath string) {
	t.Helper()
	m, err := mgr.Connect()
	if err != nil {
		t.Fatal(err)
	}
	defer m.Disconnect()
	s, err := m.OpenService(name)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// QueryServiceConfig alone: mgr's Config also asks for the
	// description and more, which Wine does not answer ("Invalid level").
	var need uint32
	_ = windows.QueryServiceConfig(s.Handle, nil, 0, &need)
	buf := make([]byte, need)
	c := (*windows.QUERY_SERVICE_CONFIG)(unsafe.Pointer(&buf[0]))
	if err := windows.QueryServiceConfig(s.Handle, c, need, &need); err != nil {
		t.Fatal(err)
	}
	cmdline := windows.UTF16PtrToString(c.BinaryPathName)
	if !strings.Contains(cmdline, "run -config "+cfgPath+" -service "+name) || c.StartType != mgr.StartAutomatic {
		t.Errorf("service config: command line %q, start type %d", cmdline, c.StartType)
	}
}
