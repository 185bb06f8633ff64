package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// daemonFunc runs sluice until ctx ends, logging to stderr; stdout is where
// the stdout output writes when it has no path.
type daemonFunc func(ctx context.Context, stdout, stderr io.Writer) error

// serviceName is the Windows service `sluice service` manages by default.
const serviceName = "sluice"

// errWindowsOnly is what `sluice service` says on other systems.
var errWindowsOnly = errors.New("`sluice service` manages a Windows service and works on Windows only; " +
	"on Linux run `sluice run -config FILE` under systemd or as a Kubernetes DaemonSet")

// serviceMain runs `sluice service install|uninstall|start|stop -config FILE`.
func serviceMain(args []string, stdout, stderr io.Writer) int {
	actions := map[string]bool{"install": true, "uninstall": true, "start": true, "stop": true}
	if len(args) == 0 || !actions[args[0]] {
		fmt.Fprintln(stderr, "usage: sluice service install|uninstall|start|stop [-config FILE] [-name NAME]")
		return 2
	}
	fs := flag.NewFlagSet("service "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "configuration file the service runs with (install: required)")
	name := fs.String("name", serviceName, "service name")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintln(stderr, "sluice: find the sluice executable:", err)
		return 1
	}
	req := serviceRequest{action: args[0], name: *name, exe: exe}
	if *path != "" {
		abs, err := filepath.Abs(*path)
		if err != nil {
			fmt.Fprintln(stderr, "sluice:", err)
			return 1
		}
		req.config = abs
	}
	if err := manageService(req, stdout); err != nil {
		fmt.Fprintln(stderr, "sluice service:", err)
		return 1
	}
	return 0
}

// serviceRequest is one `sluice service` command.
type serviceRequest struct {
	action string // install, uninstall, start or stop
	name   string
	config string // absolute; empty when not given
	exe    string // the program the service runs
	// exeArgs go before "run -config FILE" on the service's command line.
	exeArgs []string
}
