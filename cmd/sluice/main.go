// Command sluice ships container logs from a Kubernetes node to log stores.
//
//	sluice run -config FILE       tail, enrich and ship until SIGTERM
//	sluice validate -config FILE  check a configuration and the files it names, without running
//	sluice service install|uninstall|start|stop -config FILE
//	                              manage the Windows service that runs sluice
//	sluice version                print the version
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"

	"github.com/sluicelog/sluice/config"
	"github.com/sluicelog/sluice/internal/hostpath"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	os.Exit(runMain(os.Args[1:], os.Stdout, os.Stderr))
}

func runMain(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: sluice run|validate|service|version [-config FILE]")
		return 2
	}
	switch args[0] {
	case "version":
		fmt.Fprintln(stdout, "sluice", version)
		return 0
	case "service":
		return serviceMain(args[1:], stdout, stderr)
	case "validate", "run":
	default:
		fmt.Fprintf(stderr, "sluice: unknown command %q (want run, validate, service or version)\n", args[0])
		return 2
	}
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "configuration file (YAML)")
	cpuProfile := fs.String("cpuprofile", "", "run: write a CPU profile of the whole run to this file")
	service := fs.String("service", "", "run: run as the Windows service of this name (what `sluice service install` sets)")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if *path == "" {
		fmt.Fprintln(stderr, "sluice: -config FILE is required")
		return 2
	}
	cfgPath := hostpath.Resolve(*path, hostpath.Read)
	cfg, err := config.Load(cfgPath.Path)
	if err == nil {
		err = checkParsers(cfg.Inputs.Files)
	}
	if err != nil {
		fmt.Fprintln(stderr, "sluice:", err)
		return 1
	}
	chosen := append([]pathChoice{{"-config", cfgPath}}, resolveConfigPaths(&cfg)...)
	if args[0] == "validate" {
		return validate(cfgPath.Path, cfg, stdout, stderr)
	}
	daemon := func(ctx context.Context, stdout, stderr io.Writer) error {
		logPathChoices(newLogger(cfg.Log, stderr), chosen)
		return run(ctx, cfg, stdout, stderr)
	}
	if code, ok := runAsService(*service, daemon, cfg, stderr); ok {
		return code
	}
	// SIGTERM is also what Go delivers on Windows for the console close and
	// shutdown events, so one path serves both platforms.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(stderr, "sluice: cpu profile:", err)
			return 1
		}
		defer f.Close()
		defer pprof.StopCPUProfile()
	}
	if err := daemon(ctx, stdout, stderr); err != nil {
		fmt.Fprintln(stderr, "sluice:", err)
		return 1
	}
	return 0
}
